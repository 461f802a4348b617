//! `rig-stress`: N clients × M topics on one rig engine against the
//! embedded server, through the fault proxy (and real packet loss in a
//! network namespace with `--loss`), with resets, stalls and server
//! restarts on a seeded schedule; checks invariants and writes a JSON report.
//!
//! # Design
//!
//! ```text
//!   host process                                       client half (same process, or a
//!   ────────────                                       `--role clients` child in the namespace)
//!   ServerSlot (rig-server, restarted on its port) ◄── proxy (rig-netsim) ◄── Engine: N sockets,
//!   schedule: reset_all / stall_for / restart ───────── fault marks ─────────► M stream:* + 1 room:* each
//!   report: server totals + proxy + clients' report ◄─ ClientsReport (JSON) ── Track per channel
//! ```
//!
//! * One process by default: server thread, proxy thread, one engine with
//!   every socket. When the open-files limit cannot hold every socket in
//!   one process, the client half moves to a child process, and the proxy
//!   is left out when no fault needs it ([`layout`]). With `--loss N` the
//!   clients must sit in a namespace whose
//!   input hook drops packets (the receiving side, see `rig::netsim::netns`),
//!   and a namespace is entered per process, so the host re-executes itself
//!   as `ip netns exec NS rig-stress --role clients ...` and talks to it in
//!   JSON lines ([`side`]). Without root or `nft`, `--loss` exits 2.
//! * Stream events are checked per *epoch* (one join) in [`track`]: gaps
//!   are losses, repeats duplicates, late fills reorders. What a fault cut
//!   (sent, never seen in any epoch) is counted from the server's own
//!   counter ([`report`]). The handlers use `Overflow::Block`, so the engine
//!   never drops; drops it did count are reported as drops, not loss.
//! * Pushes go through [`pushes::PushPath`]: `inbox:*` with `_rig_id`; the
//!   host looks every acknowledged id up in the server's push log.
//! * Time to recover: from the fault (a reset, the end of a stall, the
//!   restarted server listening) to the channel's first event after it,
//!   in a new join when the fault killed the connection.
//! * Resources: peak RSS (`VmHWM`) and CPU from `/proc`, % of one core.
//! * Exit codes: 0 every invariant held, 1 violations, 2 usage or
//!   environment error.

mod clients;
mod clock;
mod flags;
mod hist;
mod host;
mod layout;
mod progress;
mod pushes;
mod report;
mod report_html;
mod schedule;
mod series;
mod side;
mod stop;
mod sys;
mod track;

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use std::process::Command;

use rig::netsim::ProxyHandle;
use rig::netsim::netns::{LossyLink, NetnsError};

use crate::clients::Clients;
use crate::flags::{Config, Flags};
use crate::layout::Placement;
use crate::report::{HostParts, Report};
use crate::side::{ClientSide, Local, Remote};

/// Why the harness could not run (exit 2).
#[derive(Debug)]
struct Environment(String);

fn main() -> ExitCode {
    // argh has no version flag, and `rig --version` must not demand a subcommand.
    if std::env::args().nth(1).is_some_and(|a| a == "--version" || a == "-V") {
        let _ = writeln!(std::io::stdout(), "rig-stress {}", rig::VERSION);
        return ExitCode::SUCCESS;
    }
    let args: Vec<String> = std::env::args().collect();
    let name = args.first().map_or("rig-stress", String::as_str);
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let flags = match <Flags as argh::FromArgs>::from_args(&[name], &rest) {
        Ok(flags) => flags,
        Err(early) if early.status.is_ok() => {
            print_stdout(&early.output);
            return ExitCode::SUCCESS;
        }
        Err(early) => {
            eprintln!("{}", early.output);
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_flags(&flags, clock::unix_us()) {
        Ok(config) => config,
        Err(why) => {
            eprintln!("rig-stress: {why}");
            return ExitCode::from(2);
        }
    };
    let outcome = match flags.role.as_deref() {
        None => run(&config, &flags),
        Some("clients") => run_clients(&config, flags.url.as_deref()),
        Some(other) => Err(Environment(format!("unknown --role {other:?}"))),
    };
    match outcome {
        Ok(code) => code,
        Err(Environment(why)) => {
            eprintln!("rig-stress: {why}");
            ExitCode::from(2)
        }
    }
}

#[expect(clippy::print_stdout, reason = "--help goes to stdout")]
fn print_stdout(text: &str) {
    println!("{text}");
}

/// `--role clients`: the client half, driven by the host over stdin/stdout.
fn run_clients(config: &Config, url: Option<&str>) -> Result<ExitCode, Environment> {
    let url = url.ok_or_else(|| Environment("--role clients needs --url".into()))?;
    sys::raise_nofile(u64::from(config.clients) + 1024);
    stop::Stop::ignore_interrupt();
    let clients = Clients::start(config, url).map_err(Environment)?;
    side::serve(clients).map_err(Environment)?;
    Ok(ExitCode::SUCCESS)
}

/// Starts the client half where the layout puts it.
fn start_clients(
    config: &Config,
    placement: Placement,
    link: Option<&LossyLink>,
    url: &str,
) -> Result<Box<dyn ClientSide>, Environment> {
    let exe = || {
        std::env::current_exe()
            .map(|exe| exe.to_string_lossy().into_owned())
            .map_err(|e| Environment(format!("cannot find this program: {e}")))
    };
    let mut command = match (placement, link) {
        (Placement::InProcess, _) => {
            return Ok(Box::new(Local(Clients::start(config, url).map_err(Environment)?)));
        }
        (Placement::Namespace, Some(link)) => link.command(&exe()?),
        (Placement::Namespace, None) => {
            return Err(Environment("namespace placement without a lossy link".into()));
        }
        (Placement::ChildProcess, _) => Command::new(exe()?),
    };
    command.args(config.client_args(url));
    Ok(Box::new(Remote::spawn(command).map_err(Environment)?))
}

/// The host: server, proxy, schedule, and the client half.
fn run(config: &Config, flags: &Flags) -> Result<ExitCode, Environment> {
    // Opened first: a path that cannot be written fails before any connection.
    let mut html_file = match &flags.report {
        Some(path) => Some((
            std::fs::File::create(path).map_err(|e| {
                Environment(format!("cannot write the report to {}: {e}", path.display()))
            })?,
            path,
        )),
        None => None,
    };
    // Bound before anything starts: a bad address or a port in use exits 2.
    let metrics = rig::metrics::Metrics::new();
    let _metrics_listener = match &flags.metrics {
        Some(addr) => {
            let bad = |why: String| Environment(format!("bad --metrics {addr:?}: {why}"));
            let at = std::net::ToSocketAddrs::to_socket_addrs(addr.as_str())
                .map_err(|e| bad(e.to_string()))?
                .next()
                .ok_or_else(|| bad("it resolves to no address".into()))?;
            Some(metrics.serve(at).map_err(|e| bad(e.to_string()))?)
        }
        None => None,
    };
    // Before the first line: a test (or a user) may signal once it sees it.
    let stop = stop::Stop::install();
    eprintln!(
        "rig-stress: seed={} clients={} topics={} rate={} duration={}s",
        config.seed, config.clients, config.topics, config.rate, config.duration_s
    );
    let clients = u64::from(config.clients);
    let mut limit = sys::raise_nofile(clients.saturating_mul(4).saturating_add(1024));
    if let Some(cap) = flags.fd_limit {
        limit = limit.min(cap);
    }
    let wants_proxy = config.latency_ms > 0
        || config.jitter_ms > 0
        || config.reset_every_ms > 0
        || config.stall_every_ms > 0;
    let layout =
        layout::plan(clients, wants_proxy, config.loss_pct > 0, limit).map_err(Environment)?;
    let link = if config.loss_pct > 0 {
        match LossyLink::create(config.loss_pct) {
            Ok(link) => Some(link),
            Err(NetnsError::Unavailable(why)) => {
                return Err(Environment(format!("--loss needs a network namespace: {why}")));
            }
            Err(e) => return Err(Environment(format!("--loss: {e}"))),
        }
    } else {
        None
    };
    let started = clock::now();
    let cpu_at_start = sys::cpu_time();
    let host_ip = link.as_ref().map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |l| l.host_addr().into());
    // Behind a proxy the server stays on loopback; without one the
    // clients reach it directly (from the namespace: on the link).
    let server_ip = if layout.proxy { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { host_ip };
    let mut server = host::ServerSlot::start(SocketAddr::new(server_ip, 0)).map_err(Environment)?;
    if flags.metrics.is_some() {
        server.watch(&metrics);
        server.metrics = Some(metrics.clone());
    }
    let proxy = if layout.proxy {
        let listen = SocketAddr::new(host_ip, 0);
        Some(host::start_proxy(config, listen, server.addr()).map_err(Environment)?)
    } else {
        None
    };
    let target = proxy.as_ref().map_or_else(|| server.addr(), ProxyHandle::local_addr);
    let url = format!("ws://{target}/socket");
    log::info!("open files limit {limit}, layout {layout:?}, url {url}");
    let mut side = start_clients(config, layout.clients, link.as_ref(), &url)?;
    if flags.metrics.is_some() {
        side.watch(&metrics);
    }
    let never_joined = side.ready(Duration::from_secs(config.ramp_s)).map_err(Environment)?;
    if never_joined > 0 {
        eprintln!("rig-stress: {never_joined} channels had no event after {}s", config.ramp_s);
    }
    let mut marks = Vec::new();
    let faults =
        host::run_schedule(config, &mut server, proxy.as_ref(), side.as_mut(), &stop, &mut marks)
            .map_err(Environment)?;
    if stop.is_set() {
        eprintln!("rig-stress: interrupted; settling and reporting (again to quit at once)");
    }
    let unrecovered = side.settle(Duration::from_secs(config.settle_s)).map_err(Environment)?;
    if unrecovered > 0 {
        eprintln!("rig-stress: {unrecovered} channels not recovered after {}s", config.settle_s);
    }
    let clients = side.finish(Duration::from_secs(15)).map_err(Environment)?;
    let (server_totals, push_log) = server.finish();
    let push_log = report::PushLogTotals {
        recorded: push_log.recorded(),
        duplicates: push_log.duplicates(),
        unrecorded: pushes::unrecorded(&push_log, &clients.acked),
    };
    let proxy_totals = proxy.as_ref().map(|p| p.stats().into()).unwrap_or_default();
    let netns_dropped_packets = link.as_ref().and_then(|l| l.dropped_packets().ok());
    let wall = clock::now().saturating_duration_since(started);
    let cpu = sys::cpu_time();
    let host = HostParts {
        layout,
        interrupted: stop.is_set(),
        wall_s: (wall.as_secs_f64() * 10.0).round() / 10.0,
        faults,
        server: server_totals,
        push_log,
        proxy: proxy_totals,
        netns_dropped_packets,
        peak_rss_kb: sys::peak_rss_kb(),
        cpu_pct: sys::percent(cpu.process.saturating_sub(cpu_at_start.process), wall),
    };
    if let Some(proxy) = proxy {
        proxy.shutdown();
    }
    let mut report = Report::build(config.clone(), host, &clients);
    report.series.faults = marks;
    eprintln!("{}", report.summary());
    for violation in &report.violations {
        eprintln!("rig-stress: VIOLATION: {violation}");
    }
    if let Some(path) = &flags.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Environment(format!("cannot encode the report: {e}")))?;
        std::fs::write(path, json + "\n")
            .map_err(|e| Environment(format!("cannot write {}: {e}", path.display())))?;
    }
    if let Some((file, path)) = html_file.as_mut() {
        let html = report_html::render(&report).map_err(Environment)?;
        file.write_all(html.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| Environment(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(if report.violations.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
