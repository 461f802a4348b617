//! The JSON report (`--json FILE`), its invariants and the summary line.
//!
//! Stream event accounting, over every server instance of the run:
//!
//! ```text
//!   expected      = events the server handed to connections (ServerStats::stream_events)
//!   delivered     = events that reached a checker in their epoch, each once
//!   lost          = seqs missing inside an epoch, minus the engine's counted drops
//!   dropped       = messages the engine dropped and counted (overflow)
//!   cut_by_fault  = expected - delivered - missing: sent into a connection a
//!                   fault (or the final leave) cut; never seen in any epoch
//! ```
//!
//! A violation is any of: lost, duplicated, reordered or stale events; more
//! events seen than the server sent; an acknowledged push the server did
//! not record; a push that never resolved or was left in an outbox; an
//! error reply; a
//! channel that never joined or never recovered after a fault; a payload the
//! checker could not read; a handler panic; no events at all.

use serde::Serialize;

use crate::clients::ClientsReport;
use crate::flags::Config;
use crate::hist::Percentiles;
use crate::host::{FaultCounts, ProxyTotals, ServerTotals};
use crate::layout::{Layout, Placement};
use crate::pushes::PushReport;
use crate::series::{Bucket, FaultMark, Sample};

/// The `events` object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Events {
    pub(crate) expected: u64,
    pub(crate) delivered: u64,
    pub(crate) lost: u64,
    pub(crate) dropped: u64,
    pub(crate) cut_by_fault: u64,
    pub(crate) duplicated: u64,
    pub(crate) reordered: u64,
    pub(crate) stale: u64,
    pub(crate) epochs: u64,
}

/// The `channels` object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Channels {
    pub(crate) total: u64,
    pub(crate) never_joined: u64,
    pub(crate) unrecovered: u64,
}

/// The `resources` object: this process, and the client process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Resources {
    /// Peak RSS of this process (server, proxy and, in-process, the engine), KiB.
    pub(crate) peak_rss_kb: u64,
    /// CPU of this process over the run, % of one core.
    pub(crate) cpu_pct: f64,
    /// Peak RSS of the process running the engine, KiB.
    pub(crate) clients_peak_rss_kb: u64,
    /// CPU of the process running the engine, % of one core.
    pub(crate) clients_cpu_pct: f64,
    /// CPU of the engine's threads alone (rig-io, rig-dns, rig-dispatch-N).
    pub(crate) engine_cpu_pct: f64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) config: Config,
    pub(crate) seed: u64,
    /// Where the clients ran: `in-process`, `child-process` (too many
    /// sockets for one process's open-files limit) or `namespace` (behind
    /// real loss).
    pub(crate) mode: Placement,
    /// Whether the connections went through the fault proxy (only when a
    /// proxy fault was asked for).
    pub(crate) proxy_used: bool,
    /// A signal ended the faulty phase early.
    pub(crate) interrupted: bool,
    pub(crate) wall_s: f64,
    pub(crate) faults: FaultCounts,
    pub(crate) pushes: PushReport,
    pub(crate) events: Events,
    pub(crate) channels: Channels,
    pub(crate) reconnects: u64,
    pub(crate) connections: u64,
    pub(crate) heartbeat_timeouts: u64,
    pub(crate) time_to_recover_us: Percentiles,
    pub(crate) latency_us: Percentiles,
    pub(crate) server: ServerTotals,
    pub(crate) proxy: ProxyTotals,
    /// Packets the namespace's rule dropped (namespace mode only).
    pub(crate) netns_dropped_packets: Option<u64>,
    pub(crate) resources: Resources,
    pub(crate) violations: Vec<String>,
    /// What the `--report` charts are drawn from.
    pub(crate) series: Series,
}

/// The `series` object: per-second samples, the faults on the same time
/// axis, and the latency and time-to-recover distributions.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub(crate) struct Series {
    pub(crate) per_second: Vec<Sample>,
    pub(crate) faults: Vec<FaultMark>,
    pub(crate) latency_us: Vec<Bucket>,
    pub(crate) time_to_recover_us: Vec<Bucket>,
}

/// What the server's push log says about the pushes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PushLogTotals {
    pub(crate) recorded: u64,
    pub(crate) duplicates: u64,
    /// Acknowledged pushes the log does not hold.
    pub(crate) unrecorded: u64,
}

/// Everything the host measured besides the clients' report.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HostParts {
    pub(crate) layout: Layout,
    pub(crate) interrupted: bool,
    pub(crate) wall_s: f64,
    pub(crate) faults: FaultCounts,
    pub(crate) server: ServerTotals,
    pub(crate) push_log: PushLogTotals,
    pub(crate) proxy: ProxyTotals,
    pub(crate) netns_dropped_packets: Option<u64>,
    pub(crate) peak_rss_kb: u64,
    pub(crate) cpu_pct: f64,
}

impl Report {
    /// Puts the halves together and checks every invariant.
    pub(crate) fn build(config: Config, host: HostParts, clients: &ClientsReport) -> Self {
        let e = &clients.events;
        let events = Events {
            expected: host.server.stream_events,
            delivered: e.delivered,
            lost: e.missing.saturating_sub(clients.engine_drops),
            dropped: clients.engine_drops,
            cut_by_fault: host.server.stream_events.saturating_sub(e.delivered + e.missing),
            duplicated: e.duplicated,
            reordered: e.reordered,
            stale: e.stale,
            epochs: e.epochs,
        };
        let mut report = Self {
            seed: config.seed,
            config,
            mode: host.layout.clients,
            proxy_used: host.layout.proxy,
            interrupted: host.interrupted,
            wall_s: host.wall_s,
            faults: host.faults,
            pushes: PushReport {
                lost: clients.pushes.lost + host.push_log.unrecorded,
                recorded: host.push_log.recorded,
                duplicates: host.push_log.duplicates,
                ..clients.pushes
            },
            events,
            channels: Channels {
                total: clients.channels,
                never_joined: clients.never_joined,
                unrecovered: clients.unrecovered,
            },
            reconnects: clients.reconnects,
            connections: clients.connections,
            heartbeat_timeouts: clients.heartbeat_timeouts,
            time_to_recover_us: clients.recovery_us,
            latency_us: clients.latency_us,
            server: host.server,
            proxy: host.proxy,
            netns_dropped_packets: host.netns_dropped_packets,
            resources: Resources {
                peak_rss_kb: host.peak_rss_kb,
                cpu_pct: host.cpu_pct,
                clients_peak_rss_kb: clients.peak_rss_kb,
                clients_cpu_pct: clients.cpu_pct,
                engine_cpu_pct: clients.engine_cpu_pct,
            },
            violations: Vec::new(),
            series: Series {
                per_second: clients.series.clone(),
                faults: Vec::new(),
                latency_us: clients.latency_buckets.clone(),
                time_to_recover_us: clients.recovery_buckets.clone(),
            },
        };
        report.violations = violations(&report, clients);
        report
    }

    /// One line for stderr.
    pub(crate) fn summary(&self) -> String {
        let (e, p) = (&self.events, &self.pushes);
        format!(
            "rig-stress: seed={} {} clients x {} topics, {:.1}s: events expected {} delivered {} \
             lost {} cut {} dup {} reordered {}; pushes sent {} acked {} lost {} timeouts {}; \
             faults {}R/{}S/{}X, reconnects {}, recover p50 {:.1}ms p99 {:.1}ms, latency p50 \
             {:.2}ms p99 {:.2}ms; rss {} kB, cpu {}%; violations {}",
            self.seed,
            self.config.clients,
            self.config.topics,
            self.wall_s,
            e.expected,
            e.delivered,
            e.lost,
            e.cut_by_fault,
            e.duplicated,
            e.reordered,
            p.sent,
            p.acked,
            p.lost,
            p.timeouts,
            self.faults.resets,
            self.faults.stalls,
            self.faults.restarts,
            self.reconnects,
            self.time_to_recover_us.p50 as f64 / 1000.0,
            self.time_to_recover_us.p99 as f64 / 1000.0,
            self.latency_us.p50 as f64 / 1000.0,
            self.latency_us.p99 as f64 / 1000.0,
            self.resources.peak_rss_kb.max(self.resources.clients_peak_rss_kb),
            self.resources.cpu_pct,
            self.violations.len(),
        )
    }
}

/// Every invariant that did not hold, one sentence each.
fn violations(r: &Report, c: &ClientsReport) -> Vec<String> {
    let e = &r.events;
    let mut out = Vec::new();
    let mut check = |count: u64, what: &str| {
        if count > 0 {
            out.push(format!("{count} {what}"));
        }
    };
    check(e.lost, "stream events lost inside a join (gaps not explained by counted drops)");
    check(e.duplicated, "stream events duplicated");
    check(e.reordered, "stream events reordered");
    check(e.stale, "stream events of an old join delivered after a newer join's");
    check(
        (c.events.delivered + c.events.missing).saturating_sub(e.expected),
        "more stream events seen than the server sent",
    );
    check(r.pushes.lost, "acknowledged pushes the server did not record");
    check(r.pushes.unresolved, "pushes never resolved");
    check(r.pushes.error_replies, "pushes answered with an error");
    check(r.pushes.outbox_left, "pushes left in the outboxes after the run");
    check(r.channels.never_joined, "channels never delivered an event after the start");
    check(r.channels.unrecovered, "channels not recovered after the last fault");
    check(c.bad_payloads, "stream events the checker could not read");
    check(c.handler_panics, "handler panics");
    if e.delivered == 0 {
        out.push("no stream events delivered at all".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::Flags;
    use crate::track::TrackCounts;

    fn config() -> Config {
        let flags: Flags = argh::FromArgs::from_args(&["rig-stress"], &[]).unwrap();
        Config::from_flags(&flags, 1).unwrap()
    }

    fn host(stream_events: u64) -> HostParts {
        HostParts {
            layout: Layout { clients: Placement::InProcess, proxy: true },
            interrupted: false,
            wall_s: 1.0,
            faults: FaultCounts::default(),
            server: ServerTotals { stream_events, ..ServerTotals::default() },
            push_log: PushLogTotals::default(),
            proxy: ProxyTotals::default(),
            netns_dropped_packets: None,
            peak_rss_kb: 1,
            cpu_pct: 1.0,
        }
    }

    fn clients(delivered: u64, missing: u64) -> ClientsReport {
        ClientsReport {
            events: TrackCounts { delivered, missing, epochs: 1, ..TrackCounts::default() },
            ..ClientsReport::default()
        }
    }

    #[test]
    fn a_clean_run_has_no_violations_and_counts_cut_events() {
        let report = Report::build(config(), host(100), &clients(90, 0));
        assert_eq!(report.violations, Vec::<String>::new());
        assert_eq!((report.events.cut_by_fault, report.events.lost), (10, 0));
        let json = serde_json::to_value(&report).unwrap();
        for key in ["config", "seed", "pushes", "events", "latency_us", "violations"] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
    }

    #[test]
    fn a_gap_is_a_loss_unless_the_engine_counted_a_drop() {
        let report = Report::build(config(), host(100), &clients(90, 3));
        assert_eq!(report.events.lost, 3);
        assert!(
            report.violations[0].starts_with("3 stream events lost"),
            "{:?}",
            report.violations
        );
        let mut dropped = clients(90, 3);
        dropped.engine_drops = 3;
        assert!(Report::build(config(), host(100), &dropped).violations.is_empty());
    }

    #[test]
    fn an_acked_push_missing_from_the_push_log_is_lost() {
        let mut parts = host(100);
        parts.push_log = PushLogTotals { recorded: 9, duplicates: 0, unrecorded: 1 };
        let mut c = clients(100, 0);
        c.pushes.acked = 10;
        let report = Report::build(config(), parts, &c);
        assert_eq!((report.pushes.lost, report.pushes.recorded), (1, 9));
        assert_eq!(report.violations, ["1 acknowledged pushes the server did not record"]);
    }

    #[test]
    fn lost_pushes_unresolved_pushes_and_extra_events_are_violations() {
        let mut c = clients(120, 0);
        c.pushes.lost = 1;
        c.pushes.unresolved = 2;
        let v = Report::build(config(), host(100), &c).violations;
        assert_eq!(v.len(), 3, "{v:?}");
        assert!(v.iter().any(|s| s.starts_with("20 more stream events")));
        assert!(!Report::build(config(), host(0), &clients(0, 0)).violations.is_empty());
    }
}
