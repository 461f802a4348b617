//! CONFORMANCE.md §1 Socket, S19–S25: refs, heartbeat, flushing the send
//! buffer, open. Scenarios ported from phoenix.js `assets/test/socket_test.js`
//! (phoenixframework/phoenix, MIT), not its code.

use std::time::Duration;

use super::harness::{Harness, Scenario};
use crate::protocol::Event;

/// S19 refs are decimal strings from "1".
#[test]
fn s19_refs_are_decimal_strings_from_one() {
    let (mut h, _) = Scenario::new().connected().build();
    for _ in 0..3 {
        assert!(h.session.ping(h.now()));
    }
    h.collect();
    let refs: Vec<_> =
        h.history.iter().filter_map(|m| m.r#ref.clone()).map(|r| r.to_string()).collect();
    assert_eq!(refs, ["1", "2", "3"]);
}

/// S20 the ref counter wraps to "0" when it cannot grow.
#[test]
fn s20_ref_counter_wraps_to_zero() {
    let (mut h, _) = Scenario::new().connected().build();
    h.session.set_last_ref(u64::MAX);
    assert!(h.session.ping(h.now()));
    assert_eq!(h.take_sent(), [r#"[null,"0","phoenix","heartbeat",{}]"#]);
}

/// S21 an unanswered heartbeat closes the transport one heartbeat timeout
/// after it was sent: not at 10 s, but at 30 s.
#[test]
fn s21_unanswered_heartbeat_closes_after_one_interval() {
    let (mut h, _) = Scenario::new().connected().build();
    h.advance_ms(30_000);
    assert_eq!(h.take_sent().len(), 1, "heartbeat sent");
    h.clear();
    h.advance_ms(10_000);
    assert!(h.take_events().is_empty());
    h.advance_ms(20_000);
    let close = Event::CloseTransport { code: 1000, reason: "heartbeat timeout".into() };
    assert_eq!(h.take_events(), [close]);
    assert_eq!(h.session.stats().heartbeat_timeouts, 1);
}

/// S22 the heartbeat frame is exactly `[null,"<ref>","phoenix","heartbeat",{}]`.
#[test]
fn s22_heartbeat_frame_is_exact() {
    let (mut h, _) = Scenario::new().connected().build();
    assert!(h.step());
    assert_eq!(h.take_sent(), [r#"[null,"1","phoenix","heartbeat",{}]"#]);
}

/// S23 no heartbeat is written while the transport is not open.
#[test]
fn s23_no_heartbeat_while_not_open() {
    let mut h = Harness::new();
    h.connect();
    h.advance_ms(120_000);
    assert!(h.take_sent().is_empty());
    assert_eq!(h.session.send_buffer_len(), 0, "nothing buffered either");
    assert_eq!(h.session.poll_timeout(), None, "no heartbeat timer before open");
}

/// S24 flushing the send buffer sends every item in order and empties it.
#[test]
fn s24_flush_sends_buffered_items_in_order() {
    let mut h = Harness::new();
    let a = h.channel("a");
    let b = h.channel("b");
    h.join(a);
    h.join(b);
    assert_eq!(h.session.send_buffer_len(), 2);
    h.connect_open();
    assert_eq!(h.take_sent(), [r#"["1","1","a","phx_join",{}]"#, r#"["2","2","b","phx_join",{}]"#]);
    assert_eq!(h.session.send_buffer_len(), 0);
}

/// S25 on open: buffer flushed, open reported; the reconnect backoff
/// resets once the connection proves healthy (rig waits for a heartbeat or
/// join reply where phoenix.js resets at once; see `session_reconnect_storm`).
#[test]
fn s25_open_flushes_resets_reconnect_and_reports() {
    let mut h = Harness::new();
    h.connect_open();
    h.close(Some(1006));
    assert!(h.step());
    let now = h.now();
    h.session.handle_error(now, crate::protocol::TransportError::failed("down"));
    let delays: Vec<u32> = h
        .take_events()
        .iter()
        .filter_map(|e| match e {
            Event::ReconnectScheduled { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(delays, [1, 2]);
    h.step();
    h.open();
    assert!(h.take_events().contains(&Event::Open));
    assert!(h.session.ping(h.now()));
    h.collect();
    let r = h.last_ref();
    h.reply(&r, "ok", "{}");
    h.close(Some(1006));
    let events = h.take_events();
    assert!(
        events.iter().any(|e| matches!(e, Event::ReconnectScheduled { attempt: 1, .. })),
        "{events:?}"
    );
    let next = h.session.poll_timeout().unwrap();
    assert_eq!(next.saturating_duration_since(h.now()), Duration::from_millis(10));
}
