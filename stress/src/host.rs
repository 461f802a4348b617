//! The host half: the embedded server (restarted on the same port on
//! schedule), the fault proxy in front of it, and the fault schedule.
//!
//! ```text
//!   clients ──► proxy (latency, jitter; resets and stalls on schedule) ──► server 127.0.0.1:P
//!                 127.0.0.1:0, or the lossy link's host address              restarted on P
//! ```
//!
//! The server's counters die with each instance, so [`ServerSlot`] adds up
//! the stats of every instance it shut down.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rig::netsim::{DirectionFaults, Faults, Proxy, ProxyConfig, ProxyHandle, ProxyStats};
use std::sync::Arc;

use rig::server::{PushLog, Server, ServerConfig, ServerHandle};
use serde::Serialize;

use crate::clock;
use crate::flags::Config;
use crate::schedule::{self, FaultKind};
use crate::series::FaultMark;
use crate::side::ClientSide;
use crate::stop::Stop;

/// Resets and stalls are planned only when the layout has a proxy.
const NO_PROXY: &str = "a reset or stall was planned without a proxy";

/// How long a restart may retry binding the port the old instance held.
const REBIND: Duration = Duration::from_secs(5);

/// The server's totals over every instance (the `server` object of the report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ServerTotals {
    pub(crate) instances: u64,
    pub(crate) stream_events: u64,
    pub(crate) connections_accepted: u64,
    pub(crate) joins_ok: u64,
    pub(crate) joins_refused: u64,
    pub(crate) connections_lost: u64,
    pub(crate) dropped_slow: u64,
    pub(crate) closed_shutdown: u64,
    pub(crate) frames_in: u64,
    pub(crate) frames_out: u64,
}

/// The server, restartable on its port.
#[derive(Debug)]
pub(crate) struct ServerSlot {
    addr: SocketAddr,
    handle: Option<ServerHandle>,
    totals: ServerTotals,
    /// What the `inbox:*` channels recorded, across every instance.
    push_log: Arc<PushLog>,
    /// `--metrics`: each new instance is shown in place of the last.
    pub(crate) metrics: Option<rig::metrics::Metrics>,
}

impl ServerSlot {
    /// Starts the server on `addr` (port 0: a free one).
    pub(crate) fn start(addr: SocketAddr) -> Result<Self, String> {
        let push_log = Arc::new(PushLog::new());
        let config = ServerConfig::builder().addr(addr).push_log(Arc::clone(&push_log)).build();
        let handle = Server::start(config).map_err(|e| format!("cannot start the server: {e}"))?;
        let addr = handle.local_addr();
        let totals = ServerTotals { instances: 1, ..ServerTotals::default() };
        Ok(Self { addr, handle: Some(handle), totals, push_log, metrics: None })
    }

    /// Shows the server's counters in `metrics` (again after a restart).
    pub(crate) fn watch(&self, metrics: &rig::metrics::Metrics) {
        if let Some(handle) = &self.handle {
            metrics.watch_server(handle);
        }
    }

    /// Where the server listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            let s = handle.shutdown_with_stats();
            let t = &mut self.totals;
            t.stream_events += s.stream_events;
            t.connections_accepted += s.connections_accepted;
            t.joins_ok += s.joins_ok;
            t.joins_refused += s.joins_refused;
            t.connections_lost += s.connections_lost;
            t.dropped_slow += s.dropped_slow;
            t.closed_shutdown += s.closed_shutdown;
            t.frames_in += s.frames_in;
            t.frames_out += s.frames_out;
        }
    }

    /// Shuts the server down, waits `down`, starts it again on the same port.
    pub(crate) fn restart(&mut self, down: Duration) -> Result<(), String> {
        self.stop();
        clock::sleep(down);
        let deadline = clock::now() + REBIND;
        loop {
            let config =
                ServerConfig::builder().addr(self.addr).push_log(Arc::clone(&self.push_log));
            match Server::start(config.build()) {
                Ok(handle) => {
                    if let Some(metrics) = &self.metrics {
                        metrics.watch_server(&handle);
                    }
                    self.handle = Some(handle);
                    self.totals.instances += 1;
                    return Ok(());
                }
                Err(e) if clock::now() >= deadline => {
                    return Err(format!("cannot restart the server on {}: {e}", self.addr));
                }
                Err(_) => clock::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Shuts the server down for good; the totals of every instance and
    /// the push log they shared.
    pub(crate) fn finish(mut self) -> (ServerTotals, Arc<PushLog>) {
        self.stop();
        (self.totals, Arc::clone(&self.push_log))
    }
}

/// Starts the proxy on `listen` in front of `upstream`, with the run's
/// latency and jitter in both directions.
pub(crate) fn start_proxy(
    config: &Config,
    listen: SocketAddr,
    upstream: SocketAddr,
) -> Result<ProxyHandle, String> {
    let direction = DirectionFaults::default()
        .latency(Duration::from_millis(config.latency_ms))
        .jitter(Duration::from_millis(config.jitter_ms));
    let proxy_config = ProxyConfig::builder(upstream)
        .listen(listen)
        .faults(Faults::default().both(direction))
        .seed(config.seed)
        .build();
    Proxy::start(proxy_config).map_err(|e| format!("cannot start the proxy: {e}"))
}

/// Faults injected (the `faults` object of the report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct FaultCounts {
    pub(crate) resets: u64,
    pub(crate) stalls: u64,
    pub(crate) restarts: u64,
    /// Planned faults not started because the faulty phase was over by
    /// their turn (the ones before them ran late).
    pub(crate) skipped: u64,
}

/// Runs the faulty phase: `config.duration()` of scheduled faults, each
/// told to `side` when it happens (a stall when it ends); a signal ends it
/// early. It ends at `config.duration()` whatever is still planned: a
/// fault takes time of its own (a restart keeps the server down for
/// `--restart-down`, then waits for the port), so faults may fall behind
/// their plan, and the rest of a plan that fell behind is skipped, not run
/// after the phase. Stalls in progress are still seen to their end (at
/// most `--stall-for`), so recovery from them is measured. Each fault is
/// also put on `marks`, timed from the phase's start.
pub(crate) fn run_schedule(
    config: &Config,
    server: &mut ServerSlot,
    proxy: Option<&ProxyHandle>,
    side: &mut dyn ClientSide,
    stop: &Stop,
    marks: &mut Vec<FaultMark>,
) -> Result<FaultCounts, String> {
    let ms = Duration::from_millis;
    let plan = schedule::plan(
        config.seed,
        config.duration(),
        &[
            (FaultKind::Reset, ms(config.reset_every_ms)),
            (FaultKind::Stall, ms(config.stall_every_ms)),
            (FaultKind::Restart, ms(config.restart_server_every_ms)),
        ],
    );
    let stall = ms(config.stall_for_ms);
    let start = clock::now();
    let end = start + config.duration();
    let mut counts = FaultCounts::default();
    if config.loss_pct > 0 {
        // The namespace drops packets from before the clients start to the
        // end of the run; the mark spans the faulty phase.
        marks.push(FaultMark::new("loss", start, start, Some(end)));
    }
    // Stalls in progress: when each ends (then recovery is measured).
    let mut stall_ends: Vec<Instant> = Vec::new();
    let mut faults = plan.into_iter().peekable();
    loop {
        let phase_over = clock::now() >= end;
        let next_fault = if phase_over { None } else { faults.peek().map(|p| start + p.at) };
        let next_end = stall_ends.iter().min().copied();
        let next = match (next_fault, next_end) {
            (Some(f), Some(e)) => f.min(e),
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => break,
        };
        stop.sleep(next.saturating_duration_since(clock::now()));
        if stop.is_set() {
            return Ok(counts);
        }
        let now = clock::now();
        if next_end.is_some_and(|e| e <= now) {
            stall_ends.retain(|e| *e > now);
            side.fault(FaultKind::Stall)?;
            continue;
        }
        let Some(planned) = faults.next() else { continue };
        log::info!("fault at {:?}: {}", planned.at, planned.kind.name());
        let at = clock::now();
        match planned.kind {
            FaultKind::Reset => {
                proxy.ok_or(NO_PROXY)?.reset_all().map_err(|e| e.to_string())?;
                counts.resets += 1;
                marks.push(FaultMark::new("reset", start, at, None));
                side.fault(FaultKind::Reset)?;
            }
            FaultKind::Stall => {
                proxy.ok_or(NO_PROXY)?.stall_for(stall).map_err(|e| e.to_string())?;
                counts.stalls += 1;
                stall_ends.push(clock::now() + stall);
                marks.push(FaultMark::new("stall", start, at, Some(at + stall)));
            }
            FaultKind::Restart => {
                server.restart(ms(config.restart_down_ms))?;
                counts.restarts += 1;
                marks.push(FaultMark::new("restart", start, at, Some(clock::now())));
                side.fault(FaultKind::Restart)?;
            }
        }
    }
    counts.skipped = u64::try_from(faults.count()).unwrap_or(u64::MAX);
    if counts.skipped > 0 {
        log::warn!(
            "{} planned faults skipped: the faulty phase ended before their turn",
            counts.skipped
        );
    }
    stop.sleep(end.saturating_duration_since(clock::now()));
    Ok(counts)
}

/// The proxy's counters for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ProxyTotals {
    pub(crate) connections: u64,
    pub(crate) resets: u64,
    pub(crate) stalls: u64,
    pub(crate) upstream_failures: u64,
}

impl From<ProxyStats> for ProxyTotals {
    fn from(s: ProxyStats) -> Self {
        Self {
            connections: s.connections,
            resets: s.resets,
            stalls: s.stalls,
            upstream_failures: s.upstream_failures,
        }
    }
}
