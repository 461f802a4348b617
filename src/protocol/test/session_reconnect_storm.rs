//! Reconnect storms: a server that completes the WebSocket upgrade and then
//! breaks every connection (garbage, an oversized or masked frame) must not
//! get a fresh 10 ms backoff on every open. The backoff starts over only
//! once a connection proves healthy: a heartbeat or join reply, or
//! `healthy_after` open (gRPC's connection-backoff rule).

use std::time::Duration;

use super::harness::Harness;
use crate::protocol::Event;

/// The attempts of the reconnects scheduled since the last look.
fn scheduled(h: &mut Harness) -> Vec<u32> {
    h.take_events()
        .iter()
        .filter_map(|e| match e {
            Event::ReconnectScheduled { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect()
}

/// The delay until the next timer.
fn next_delay(h: &Harness) -> Duration {
    h.session.poll_timeout().expect("a timer is armed").saturating_duration_since(h.now())
}

/// Opens the connection the session asked for, lets it break at once,
/// and fires the reconnect timer; returns the attempt that was scheduled.
fn open_and_break(h: &mut Harness) -> Vec<u32> {
    h.open();
    h.close(Some(1002));
    let attempts = scheduled(h);
    h.step();
    attempts
}

#[test]
fn a_connection_that_breaks_before_proving_healthy_keeps_the_backoff_growing() {
    let mut h = Harness::new();
    h.connect();
    let mut delays = Vec::new();
    let mut attempts = Vec::new();
    for _ in 0..5 {
        h.open();
        h.close(Some(1002));
        attempts.extend(scheduled(&mut h));
        delays.push(next_delay(&h));
        h.step();
    }
    assert_eq!(attempts, [1, 2, 3, 4, 5]);
    assert_eq!(delays, [10, 50, 100, 150, 200].map(Duration::from_millis));
}

#[test]
fn failed_open_cycles_count_toward_max_reconnect_attempts() {
    let mut h = Harness::with(|b| b.max_reconnect_attempts(Some(3)));
    h.connect();
    let mut attempts = Vec::new();
    for _ in 0..3 {
        attempts.extend(open_and_break(&mut h));
    }
    assert_eq!(attempts, [1, 2, 3]);
    h.open();
    h.close(Some(1002));
    let events = h.take_events();
    assert!(events.contains(&Event::ReconnectGaveUp { attempts: 3 }), "{events:?}");
    assert_eq!(h.session.poll_timeout(), None, "no reconnect after giving up");
    assert_eq!(h.session.stats().connections, 4, "the first connect and three reconnects");
}

#[test]
fn a_heartbeat_reply_proves_health_and_starts_the_backoff_over() {
    let mut h = Harness::with(|b| b.max_reconnect_attempts(Some(3)));
    h.connect();
    for _ in 0..3 {
        open_and_break(&mut h);
    }
    h.open();
    assert!(h.session.ping(h.now()));
    h.collect();
    let r = h.last_ref();
    h.reply(&r, "ok", "{}");
    h.close(Some(1006));
    assert_eq!(scheduled(&mut h), [1]);
    assert_eq!(next_delay(&h), Duration::from_millis(10));
}

#[test]
fn a_join_reply_proves_health_even_an_error_reply() {
    let mut h = Harness::new();
    h.connect();
    open_and_break(&mut h);
    open_and_break(&mut h);
    let room = h.channel("room:a");
    h.join(room);
    h.open();
    let r = h.last_ref();
    h.reply(&r, "error", r#"{"reason":"no"}"#);
    h.close(Some(1006));
    assert_eq!(scheduled(&mut h), [1]);
}

#[test]
fn staying_open_for_healthy_after_starts_the_backoff_over_without_a_reply() {
    let mut h = Harness::with(|b| b.healthy_after(Duration::from_secs(2)));
    h.connect();
    open_and_break(&mut h);
    open_and_break(&mut h);
    h.open();
    h.advance(Duration::from_millis(1999));
    h.close(Some(1006));
    assert_eq!(scheduled(&mut h), [3], "1999 ms open is not yet healthy");
    h.step();
    h.open();
    h.advance(Duration::from_secs(2));
    h.close(Some(1006));
    assert_eq!(scheduled(&mut h), [1], "2 s open is healthy");
}

#[test]
fn a_user_connect_after_giving_up_starts_over() {
    let mut h = Harness::with(|b| b.max_reconnect_attempts(Some(1)));
    h.connect();
    open_and_break(&mut h);
    h.open();
    h.close(Some(1002));
    assert!(h.take_events().contains(&Event::ReconnectGaveUp { attempts: 1 }));
    h.connect();
    assert_eq!(open_and_break(&mut h), [1], "connect() starts the schedule over");
}
