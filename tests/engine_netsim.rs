//! The engine through the fault proxy on links that are slow or chopped
//! but never broken: latency, jitter, a bandwidth cap, 1-byte writes, and
//! TLS through 1-byte writes. The connection must simply work: one
//! connection, no reconnect, every push answered `ok`, the stream
//! contiguous, nothing left open (see `netsim_util` for the set-up).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::time::Duration;

use rig::engine::Status;
use rig::netsim::{DirectionFaults, Faults, Periodic, Stalls};

use crate::netsim_check::PushTally;
use crate::netsim_util::{Link, Report, Setup};

/// How long the link is watched for trouble after the traffic.
const QUIET: Duration = Duration::from_millis(300);

/// Runs pushes and stream events over a steady but impaired link and
/// checks it never broke.
fn steady(setup: Setup) -> Report {
    let mut link = Link::start(setup);
    link.traffic(10, 40);
    link.traffic(10, 40);
    link.drain_status(QUIET);
    let broken = |s: &Status| {
        matches!(
            s,
            Status::Failed { .. } | Status::Closed { .. } | Status::Connecting { attempt: 1.. }
        )
    };
    assert!(!link.story.iter().any(broken), "the link broke: {:#?}", link.story);
    let health = link.socket.health();
    assert_eq!((health.connections, health.reconnects, health.heartbeat_timeouts), (1, 0, 0));
    assert!(health.heartbeat_rtt.is_some(), "heartbeats were answered: {health:?}");
    let report = link.finish();
    assert_eq!(report.pushes, PushTally { ok: 20, timeouts: 0, errors: 0 });
    assert_eq!(report.joins, 1, "{report:?}");
    assert!(report.events >= 85, "{report:?}");
    assert_eq!((report.proxy.connections, report.proxy.resets), (1, 0));
    report
}

#[test]
fn engine_netsim_latency_both_ways() {
    let faults =
        Faults::default().both(DirectionFaults::default().latency(Duration::from_millis(40)));
    steady(Setup::seed(1).faults(faults));
}

#[test]
fn engine_netsim_jitter_keeps_order() {
    // Each read waits 5 + U(0..=30) ms: later bytes never overtake.
    let faults = Faults::default().both(
        DirectionFaults::default()
            .latency(Duration::from_millis(5))
            .jitter(Duration::from_millis(30)),
    );
    steady(Setup::seed(2).faults(faults));
}

#[test]
fn engine_netsim_bandwidth_cap() {
    // About twice what the 200/s stream needs downstream; tight upstream.
    let faults = Faults::default()
        .downstream(DirectionFaults::default().bandwidth(32_000))
        .upstream(DirectionFaults::default().bandwidth(8_000));
    steady(Setup::seed(3).faults(faults));
}

#[test]
fn engine_netsim_one_byte_writes() {
    // Every frame, the upgrade included, arrives one byte per write.
    let faults = Faults::default().both(DirectionFaults::default().slice(1));
    let report = steady(Setup::seed(4).faults(faults));
    assert!(report.proxy.bytes_downstream > 0 && report.proxy.bytes_upstream > 0);
}

#[test]
fn engine_netsim_tls_through_one_byte_writes() {
    // wss: the TLS handshake and every record cut into 1-byte writes, plus
    // a little latency so pieces arrive apart.
    let faults = Faults::default()
        .both(DirectionFaults::default().slice(1).latency(Duration::from_millis(2)));
    steady(Setup::seed(5).faults(faults).tls());
}

#[test]
fn engine_netsim_recurring_short_stalls_both_ways() {
    // Scheduled (seeded) stalls of 100 ms about every 300 ms, far below the
    // heartbeat timeout: the link only hiccups.
    let stalls = Stalls {
        every: Periodic { every: Duration::from_millis(300), jitter: Duration::from_millis(50) },
        length: Duration::from_millis(100),
    };
    let faults = Faults::default().both(DirectionFaults::default().stalls(stalls));
    let report = steady(Setup::seed(6).faults(faults));
    assert!(report.proxy.stalls >= 2, "{report:?}");
}
