//! The engine through the fault proxy when the link breaks: stalls
//! shorter and longer than the heartbeat timeout, a blackhole (half-open),
//! resets (RST) and periodic flapping. After each fault the socket opens
//! again, both channels rejoin, the stream flows in a new join, every push
//! resolves exactly once, the stream is contiguous within each join, the
//! status stream tells each step, and no socket is left (`netsim_util`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::time::Duration;

use rig::engine::{ErrorKind, Status};
use rig::netsim::{Faults, Periodic, Schedule};

use crate::netsim_check::PushTally;
use crate::netsim_util::{
    HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT, Link, Setup, assert_reconnect_story, failed_with,
};

/// A stall the heartbeat rides out: far below [`HEARTBEAT_TIMEOUT`].
const SHORT_STALL: Duration = Duration::from_millis(150);

/// A stall the heartbeat must catch: well past interval + timeout.
fn long_stall() -> Duration {
    HEARTBEAT_INTERVAL + HEARTBEAT_TIMEOUT + Duration::from_millis(700)
}

fn broke(s: &Status) -> bool {
    matches!(s, Status::Failed { .. } | Status::Closed { .. } | Status::Connecting { attempt: 1.. })
}

#[test]
fn engine_netsim_short_stall_loses_nothing_and_keeps_the_connection() {
    let mut link = Link::start(Setup::seed(11));
    link.traffic(5, 20);
    link.proxy.stall_for(SHORT_STALL).unwrap();
    // Made during the stall: held by the proxy, answered after it.
    link.push_echoes(5);
    link.traffic(5, 60);
    link.drain_status(Duration::from_millis(300));
    assert!(!link.story.iter().any(broke), "{:#?}", link.story);
    let health = link.socket.health();
    assert_eq!((health.connections, health.reconnects, health.heartbeat_timeouts), (1, 0, 0));
    let report = link.finish();
    assert_eq!(report.pushes, PushTally { ok: 15, timeouts: 0, errors: 0 });
    assert_eq!(report.joins, 1, "the stream went on in its one join: {report:?}");
    assert_eq!((report.proxy.stalls, report.proxy.connections), (2, 1));
}

#[test]
fn engine_netsim_long_stall_is_a_heartbeat_timeout_then_a_rejoin() {
    let mut link = Link::start(Setup::seed(12));
    link.traffic(5, 20);
    assert_eq!(link.settle(), PushTally { ok: 5, timeouts: 0, errors: 0 });
    link.proxy.stall_for(long_stall()).unwrap();
    // Sent into the stall on the connection that dies: each resolves once,
    // by a reply or a typed error.
    link.push_echoes(3);
    let story = link.recovered();
    assert_reconnect_story(&story, ErrorKind::HeartbeatTimeout);
    let stalled = link.settle();
    assert_eq!(stalled.ok + stalled.timeouts + stalled.errors, 3, "{stalled:?}");
    link.traffic(5, 20);
    let health = link.socket.health();
    assert!(health.heartbeat_timeouts >= 1 && health.reconnects >= 1, "{health:?}");
    let report = link.finish();
    assert_eq!(report.pushes, PushTally { ok: 5, timeouts: 0, errors: 0 });
    assert!(report.joins >= 2, "{report:?}");
}

#[test]
fn engine_netsim_blackhole_is_detected_by_heartbeat_and_heals_when_lifted() {
    let mut link = Link::start(Setup::seed(13));
    link.traffic(5, 20);
    assert_eq!(link.settle().ok, 5);
    link.proxy.blackhole(true).unwrap();
    link.push_echoes(3);
    // Half-open: no RST, no FIN; only the missing heartbeat reply tells.
    link.until(failed_with(ErrorKind::HeartbeatTimeout));
    // While the blackhole lasts, reconnects reach the proxy but never get
    // an upgrade answer: they time out, and nothing opens.
    let during = link.statuses_for(Duration::from_millis(1200));
    assert!(!during.contains(&Status::Open), "{during:#?}");
    assert!(during.iter().any(failed_with(ErrorKind::Timeout)), "{during:#?}");
    assert!(link.proxy.stats().open_connections >= 1, "the proxy holds the half-open link");
    link.proxy.blackhole(false).unwrap();
    let story = link.recovered();
    assert!(story.iter().all(|s| !failed_with(ErrorKind::HeartbeatTimeout)(s)), "{story:#?}");
    let whole = link.story.clone();
    assert_reconnect_story(&whole, ErrorKind::HeartbeatTimeout);
    let blackholed = link.settle();
    assert_eq!(blackholed.ok + blackholed.timeouts + blackholed.errors, 3, "{blackholed:?}");
    link.traffic(5, 20);
    let report = link.finish();
    assert_eq!(report.pushes, PushTally { ok: 5, timeouts: 0, errors: 0 });
    assert!(report.proxy.connections >= 3, "retries went through the proxy: {report:?}");
}

#[test]
fn engine_netsim_reset_reconnects_rejoins_and_sends_buffered_pushes() {
    let mut link = Link::start(Setup::seed(14));
    link.traffic(5, 20);
    assert_eq!(link.settle().ok, 5);
    link.proxy.reset_all().unwrap();
    link.until(failed_with(ErrorKind::PeerClosed));
    // The engine knows the link is gone: these wait in the channel's
    // buffer and go out after the rejoin, each answered.
    link.push_echoes(5);
    let story = link.recovered();
    assert!(story.contains(&Status::Open), "{story:#?}");
    let whole = link.story.clone();
    assert_reconnect_story(&whole, ErrorKind::PeerClosed);
    assert_eq!(link.settle(), PushTally { ok: 5, timeouts: 0, errors: 0 });
    link.traffic(5, 20);
    let health = link.socket.health();
    assert_eq!((health.connections, health.reconnects), (2, 1), "{health:?}");
    let report = link.finish();
    assert_eq!(report.pushes, PushTally { ok: 5, timeouts: 0, errors: 0 });
    assert_eq!((report.proxy.resets, report.proxy.connections, report.joins), (1, 2, 2));
}

#[test]
fn engine_netsim_flapping_recovers_every_time() {
    const CYCLES: usize = 3;
    const SEED: u64 = 15;
    let mut link = Link::start(Setup::seed(SEED));
    link.traffic(2, 10);
    let flap = Periodic { every: Duration::from_millis(400), jitter: Duration::from_millis(100) };
    let faults = Faults::default().reset_every(flap);
    // The seed fixes when the proxy resets: the same seed, the same ticks;
    // another seed, others.
    let ticks: Vec<Duration> = Schedule::new(SEED).resets(&faults).unwrap().take(CYCLES).collect();
    let again: Vec<Duration> = Schedule::new(SEED).resets(&faults).unwrap().take(CYCLES).collect();
    let other: Vec<Duration> =
        Schedule::new(SEED + 1).resets(&faults).unwrap().take(CYCLES).collect();
    assert_eq!(ticks, again);
    assert_ne!(ticks, other);
    let clock = rig::time::Clock::real();
    let set_at = clock.now();
    link.proxy.set_faults(faults).unwrap();
    for (cycle, tick) in ticks.iter().enumerate() {
        link.until(failed_with(ErrorKind::PeerClosed));
        // The k-th reset the engine sees is the proxy's k-th tick or a
        // later one (a tick finding no connection resets nothing): never
        // earlier than the seeded schedule says.
        let seen = clock.now() - set_at;
        assert!(seen >= *tick, "cycle {cycle}: reset seen at {seen:?}, scheduled at {tick:?}");
        link.push_echoes(2);
        let story = link.recovered();
        assert!(story.contains(&Status::Open), "cycle {cycle}: {story:#?}");
    }
    link.proxy.set_faults(Faults::default()).unwrap();
    // Flapping off: the link settles (a last reconnect may be under way).
    if link.socket.state() != rig::engine::ConnectionState::Open {
        link.recovered();
    }
    link.drain_status(Duration::from_millis(200));
    let whole = link.story.clone();
    assert_reconnect_story(&whole, ErrorKind::PeerClosed);
    let flapped = link.settle();
    assert_eq!(flapped.ok + flapped.timeouts + flapped.errors, 2 + 2 * CYCLES as u64);
    link.traffic(5, 20);
    let health = link.socket.health();
    assert!(health.reconnects >= CYCLES as u64, "{health:?}");
    let report = link.finish();
    assert_eq!(report.pushes, PushTally { ok: 5, timeouts: 0, errors: 0 });
    assert!(report.proxy.resets >= CYCLES as u64, "{report:?}");
    assert!(report.joins > CYCLES, "{report:?}");
}

/// The same seed and the same script give the same proxy counters, where
/// they do not depend on timing: connections, resets, stalls, upstream
/// failures. (Byte counts depend on how many heartbeats fit in the run, so
/// they differ between runs; the seeded fault schedule itself is checked
/// in `engine_netsim_flapping_recovers_every_time`.)
#[test]
fn engine_netsim_same_seed_same_script_same_counters() {
    let run = || {
        let jitter = rig::netsim::DirectionFaults::default().jitter(Duration::from_millis(10));
        let mut link = Link::start(Setup::seed(99).faults(Faults::default().both(jitter)));
        link.traffic(3, 10);
        link.proxy.reset_all().unwrap();
        link.recovered();
        link.proxy.stall_for(SHORT_STALL).unwrap();
        link.traffic(3, 10);
        let stats = link.finish().proxy;
        (stats.connections, stats.resets, stats.stalls, stats.upstream_failures)
    };
    let first = run();
    assert_eq!(first, (2, 1, 2, 0));
    assert_eq!(run(), first);
}

#[test]
fn engine_netsim_tls_reset_reconnects_and_rejoins_over_wss() {
    let mut link = Link::start(Setup::seed(16).tls());
    link.traffic(3, 10);
    link.proxy.reset_all().unwrap();
    link.until(failed_with(ErrorKind::PeerClosed));
    link.push_echoes(3);
    link.recovered();
    let whole = link.story.clone();
    assert_reconnect_story(&whole, ErrorKind::PeerClosed);
    link.traffic(3, 10);
    let report = link.finish();
    assert_eq!(report.pushes, PushTally { ok: 9, timeouts: 0, errors: 0 });
    assert_eq!((report.proxy.resets, report.proxy.connections), (1, 2));
}

#[test]
fn engine_netsim_refused_reconnects_fail_typed_until_the_proxy_listens_again() {
    let mut link = Link::start(Setup::seed(17));
    link.traffic(3, 10);
    link.proxy.set_faults(Faults::default().refuse(true)).unwrap();
    link.proxy.reset_all().unwrap();
    link.until(failed_with(ErrorKind::PeerClosed));
    // The server is up but unreachable: every attempt is refused, none opens.
    link.until(failed_with(ErrorKind::Connect));
    let refused = link.until(failed_with(ErrorKind::Connect)).to_vec();
    assert!(!refused.contains(&Status::Open), "{refused:#?}");
    link.push_echoes(3);
    link.proxy.set_faults(Faults::default()).unwrap();
    link.recovered();
    link.traffic(3, 10);
    let report = link.finish();
    assert_eq!(report.pushes, PushTally { ok: 9, timeouts: 0, errors: 0 });
    assert_eq!(report.proxy.connections, 2, "refused connects never reached the proxy: {report:?}");
}
