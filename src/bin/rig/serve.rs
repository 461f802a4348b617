//! `rig serve`: run the embedded Phoenix-compatible server until SIGINT/SIGTERM.
//!
//! stdout gets exactly one line, `listening on ws://HOST:PORT/socket`. stderr
//! gets a live status line (see [`status`]) unless `--quiet`, and one summary
//! line at exit. The status costs the server nothing: this main thread reads
//! the server's lock-free counters while it waits for a signal.

mod status;

use std::io::{IsTerminal as _, Write as _};
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::PathBuf;
use std::time::Duration;

use argh::FromArgs;
use mio::{Events, Interest, Poll, Token};
use rig::server::{Server, ServerConfig, ServerHandle, TlsConfig};
use rig::time::{Clock, Instant};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;

use self::status::StatusLine;
use crate::exit::{FAILED, Failure};
use crate::ranges::Range;

/// How often the status line is sampled.
const STATUS_EVERY: Duration = Duration::from_secs(1);

/// Run the embedded Phoenix-compatible server (channels room:*, presence:*, and stream:*
/// with join params rate, count, mode=burst, pace=frame: one frame per event, on time).
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "serve")]
pub(crate) struct ServeArgs {
    /// address to listen on (default 127.0.0.1:4000; port 0 picks a free port)
    #[argh(option, default = "String::from(\"127.0.0.1:4000\")")]
    addr: String,
    /// require this token (query `token=` or the bearer subprotocol)
    #[argh(option)]
    token: Option<String>,
    /// PEM certificate chain: serve wss:// (needs --tls-key)
    #[argh(option)]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert
    #[argh(option)]
    tls_key: Option<PathBuf>,
    /// close connections silent for this many seconds (default 60)
    #[argh(option, default = "60")]
    idle_timeout: u64,
    /// largest WebSocket message accepted from a client, in bytes; a larger
    /// one closes the connection with 1009 (default 8000000, as Phoenix on Bandit)
    #[argh(option, default = "8_000_000")]
    max_frame_size: usize,
    /// no live status line on stderr (the summary at exit is still printed)
    #[argh(switch, short = 'q')]
    quiet: bool,
    /// serve the server's counters as OpenMetrics at http://ADDR/metrics
    /// (for Prometheus; e.g. 127.0.0.1:9464)
    #[argh(option)]
    metrics: Option<String>,
}

/// Runs `rig serve`: a bad flag is a usage error (exit 2), a server that
/// cannot start or run exits 1.
pub(crate) fn run(args: ServeArgs) -> Result<(), Failure> {
    let config = server_config(&args)?;
    // Bound before the server starts: a bad address or a port in use is a
    // usage error, before anything is served.
    let metrics = rig::metrics::Metrics::new();
    let _listener = match &args.metrics {
        Some(addr) => {
            let at = resolve_flag("--metrics", addr).map_err(Failure::usage)?;
            Some(metrics.serve(at).map_err(|e| Failure::usage(e.to_string()))?)
        }
        None => None,
    };
    serve(config, args.quiet, &metrics).map_err(|message| Failure::new(FAILED, message))
}

/// The checked server configuration from the flags.
fn server_config(args: &ServeArgs) -> Result<ServerConfig, Failure> {
    let addr = resolve(&args.addr).map_err(Failure::usage)?;
    let idle_timeout = Range::secs(1).check("--idle-timeout", args.idle_timeout)?;
    let mut config = ServerConfig::builder()
        .addr(addr)
        .idle_timeout(Duration::from_secs(idle_timeout))
        .max_frame(args.max_frame_size)
        // Room for a reply echoing the largest message, and never less
        // than the library's default.
        .max_outgoing(args.max_frame_size.saturating_mul(2).max(16 << 20));
    if let Some(token) = &args.token {
        config = config.token(token.clone());
    }
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = TlsConfig::from_pem_files(cert, key)
                .map_err(|e| Failure::usage(format!("bad --tls-cert or --tls-key: {e}")))?;
            config = config.tls(tls);
        }
        (None, None) => {}
        _ => return Err(Failure::usage("--tls-cert and --tls-key must be given together")),
    }
    Ok(config.build())
}

fn serve(config: ServerConfig, quiet: bool, metrics: &rig::metrics::Metrics) -> Result<(), String> {
    raise_open_files_limit();
    // Register the signals before announcing the address, so a signal sent
    // right after the line is seen always stops the server cleanly.
    let mut signals = SignalWait::new()?;
    let server = Server::start(config).map_err(|e| e.to_string())?;
    metrics.watch_server(&server);
    let clock = Clock::real();
    let started = clock.now();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", server.url())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(stdout);
    let mut status = (!quiet).then(|| StatusLine::new(std::io::stderr().is_terminal(), started));
    let signal = watch(&server, &mut signals, &clock, status.as_mut())?;
    log::info!("signal {signal}: shutting down");
    let stats = server.shutdown_with_stats();
    // stderr may be gone (a closed pipe): the server stopped cleanly anyway.
    let mut stderr = std::io::stderr().lock();
    if let Some(status) = status.as_mut() {
        let _ = status.clear(&mut stderr);
    }
    let uptime = clock.now().saturating_duration_since(started);
    let _ = writeln!(stderr, "{}", status::summary(&stats, uptime));
    Ok(())
}

/// Waits for a signal; until then samples the server's counters every
/// [`STATUS_EVERY`] into `status` (when there is one). Returns the signal.
fn watch(
    server: &ServerHandle,
    signals: &mut SignalWait,
    clock: &Clock,
    mut status: Option<&mut StatusLine>,
) -> Result<i32, String> {
    let mut next_sample = clock.now() + STATUS_EVERY;
    loop {
        let timeout = status.is_some().then(|| next_sample.saturating_duration_since(clock.now()));
        if let Some(signal) = signals.wait(timeout)? {
            return Ok(signal);
        }
        let now = clock.now();
        if let Some(status) = status.as_mut().filter(|_| now >= next_sample) {
            // A status line that cannot be written is not worth stopping for.
            let _ = status.sample(server.stats(), now, &mut std::io::stderr().lock());
            next_sample = later_tick(next_sample, now);
        }
    }
}

/// The first tick after `now` on the `STATUS_EVERY` grid from `tick`
/// (ticks missed while the machine was busy are skipped, not replayed).
fn later_tick(tick: Instant, now: Instant) -> Instant {
    let mut next = tick + STATUS_EVERY;
    if next <= now {
        next = now + STATUS_EVERY;
    }
    next
}

/// SIGINT and SIGTERM, waited for with a timeout on a mio poller.
struct SignalWait {
    poll: Poll,
    events: Events,
    signals: Signals,
}

impl SignalWait {
    const SIGNALS: Token = Token(0);

    fn new() -> Result<Self, String> {
        let fail = |e: std::io::Error| format!("cannot install signal handlers: {e}");
        let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(fail)?;
        let poll = Poll::new().map_err(fail)?;
        poll.registry().register(&mut signals, Self::SIGNALS, Interest::READABLE).map_err(fail)?;
        Ok(Self { poll, events: Events::with_capacity(4), signals })
    }

    /// The first pending signal, waiting at most `timeout` (`None`: forever).
    fn wait(&mut self, timeout: Option<Duration>) -> Result<Option<i32>, String> {
        if let Some(signal) = self.signals.pending().next() {
            return Ok(Some(signal));
        }
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot wait for signals: {e}")),
        }
        Ok(self.signals.pending().next())
    }
}

fn resolve(addr: &str) -> Result<SocketAddr, String> {
    resolve_flag("--addr", addr)
}

fn resolve_flag(flag: &str, addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .map_err(|e| format!("bad {flag} {addr:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("bad {flag} {addr:?}: it resolves to no address"))
}

/// Many clients need many descriptors: raise the soft limit to the hard one.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => log::debug!("open files limit: {limit}"),
        Err(e) => log::warn!("cannot raise the open files limit: {e}"),
    }
}
