//! `rig serve`: run the embedded Phoenix-compatible server until SIGINT/SIGTERM.

use std::io::Write as _;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::path::PathBuf;
use std::time::Duration;

use argh::FromArgs;
use rig::server::{Server, ServerConfig, TlsConfig};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Run the embedded Phoenix-compatible server (channels room:*, stream:*, presence:*).
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
}

pub(crate) fn run(args: ServeArgs) -> Result<(), String> {
    let addr = resolve(&args.addr)?;
    let mut config = ServerConfig::builder()
        .addr(addr)
        .idle_timeout(Duration::from_secs(args.idle_timeout.max(1)));
    if let Some(token) = args.token {
        config = config.token(token);
    }
    match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => {
            config = config.tls(TlsConfig::from_pem_files(cert, key).map_err(|e| e.to_string())?);
        }
        (None, None) => {}
        _ => return Err("--tls-cert and --tls-key must be given together".into()),
    }
    raise_open_files_limit();
    // Register the signals before announcing the address, so a signal sent
    // right after the line is seen always stops the server cleanly.
    let mut signals = Signals::new([SIGINT, SIGTERM])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let server = Server::start(config.build()).map_err(|e| e.to_string())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", server.url())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(stdout);
    if let Some(signal) = signals.forever().next() {
        log::info!("signal {signal}: shutting down");
    }
    server.shutdown();
    Ok(())
}

fn resolve(addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .map_err(|e| format!("bad --addr {addr:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("bad --addr {addr:?}: it resolves to no address"))
}

/// Many clients need many descriptors: raise the soft limit to the hard one.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => log::debug!("open files limit: {limit}"),
        Err(e) => log::warn!("cannot raise the open files limit: {e}"),
    }
}
