//! CONFORMANCE.md §2 Channel, C01–C24: construction, join, the join push's
//! ok and timeout outcomes. Scenarios ported from phoenix.js
//! `assets/test/channel_test.js` (phoenixframework/phoenix, MIT).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::harness::{Harness, Scenario, count, outcomes};
use crate::protocol::{
    ChannelParams, ChannelState, CloseReason, ErrorCause, Event, Payload, SessionError,
};

const TIMEOUT: u64 = 10_000;

/// C01 a new channel is closed, keeps topic and params, inherits the socket
/// timeout, was never joined and buffers nothing.
#[test]
fn c01_new_channel_defaults() {
    let mut h = Harness::with(|b| b.timeout(Duration::from_millis(1234)));
    let ch = h.session.channel("topic", Payload::json(r#"{"one":"two"}"#));
    let info = h.session.channel_info(ch).unwrap();
    assert_eq!(
        (info.topic(), info.state(), info.joined_once()),
        ("topic", ChannelState::Closed, false)
    );
    assert_eq!(
        (info.timeout(), info.buffered(), info.join_ref()),
        (Duration::from_millis(1234), 0, None)
    );
}

/// C02 the join push is `phx_join` with the channel params as payload
/// (literal or function) and the socket timeout.
#[test]
fn c02_join_push_carries_params_and_socket_timeout() {
    let (mut h, _) =
        Scenario::new().config(|b| b.timeout(Duration::from_millis(1234))).connected().build();
    let fixed = h.session.channel("a", Payload::json(r#"{"one":"two"}"#));
    let computed =
        h.session.channel("b", ChannelParams::dynamic(|| Payload::json(r#"{"three":4}"#)));
    let join = h.join(fixed);
    h.join(computed);
    assert_eq!(
        h.take_sent(),
        [r#"["1","1","a","phx_join",{"one":"two"}]"#, r#"["2","2","b","phx_join",{"three":4}]"#]
    );
    h.advance_ms(1233);
    assert!(outcomes(&h.take_events(), join).is_empty());
    h.advance_ms(1);
    assert_eq!(outcomes(&h.take_events(), join).len(), 1, "timed out at the socket timeout");
}

/// C03 join params given as a function are read again for every attempt.
#[test]
fn c03_params_function_is_reread_on_rejoin() {
    let (mut h, _) = Scenario::new().connected().build();
    let n = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&n);
    let ch = h.session.channel(
        "t",
        ChannelParams::dynamic(move || {
            Payload::json(format!(r#"{{"n":{}}}"#, counter.fetch_add(1, Ordering::SeqCst)))
        }),
    );
    h.join(ch);
    h.reply("1", "ok", "{}");
    h.server(r#"["1","1","t","phx_error",{}]"#);
    h.advance_ms(1000);
    assert_eq!(
        h.take_sent(),
        [r#"["1","1","t","phx_join",{"n":0}]"#, r#"["2","2","t","phx_join",{"n":1}]"#]
    );
}

/// C04 `join()` sets the state to joining and marks the channel joined once.
#[test]
fn c04_join_sets_joining_and_joined_once() {
    let mut h = Harness::new();
    let ch = h.channel("t");
    h.join(ch);
    let info = h.session.channel_info(ch).unwrap();
    assert_eq!((info.state(), info.joined_once()), (ChannelState::Joining, true));
}

/// C05 a second `join()` on the same channel fails. Adapted: an error
/// value instead of a throw.
#[test]
fn c05_second_join_fails() {
    let mut h = Harness::new();
    let ch = h.channel("t");
    h.join(ch);
    let now = h.now();
    let err = h.session.join(now, ch, None).unwrap_err();
    assert_eq!(err, SessionError::AlreadyJoined { topic: "t".into() });
}

/// C06 `join()` sends one frame whose join_ref equals its ref.
#[test]
fn c06_join_frame_has_join_ref_equal_to_ref() {
    let (mut h, ids) = Scenario::new().connected().channel("topic").build();
    h.join(ids[0]);
    assert_eq!(h.take_sent(), [r#"["1","1","topic","phx_join",{}]"#]);
    assert_eq!(
        h.session.channel_info(ids[0]).unwrap().join_ref().map(|r| r.as_str().to_owned()),
        Some("1".to_owned())
    );
}

/// C07 `join(timeout)` overrides the join timeout.
#[test]
fn c07_join_timeout_override() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let now = h.now();
    let join = h.session.join(now, ids[0], Some(Duration::from_secs(2))).unwrap();
    h.advance_ms(1999);
    assert!(h.session.is_push_pending(join));
    h.advance_ms(1);
    assert_eq!(
        outcomes(&h.take_events(), join),
        [Event::PushTimeout { push: join, channel: ids[0] }]
    );
}

/// C08 joining a topic another channel holds makes that channel leave.
/// Real Phoenix wins over phoenix.js here: the server closes the old join
/// itself and sends `phx_close` for it (fixture `duplicate_join`), so no
/// `phx_leave` is sent; the old channel is `Leaving` until that close.
#[test]
fn c08_joining_a_held_topic_makes_the_other_channel_leave() {
    let (mut h, ids) = Scenario::new().connected().joined("room:dup").build();
    let newer = h.channel("room:dup");
    h.join(newer);
    assert_eq!(h.take_sent(), [r#"["2","2","room:dup","phx_join",{}]"#]);
    assert_eq!(h.state(ids[0]), Some(ChannelState::Leaving));
    h.reply("2", "ok", "{}");
    h.server(r#"["1","1","room:dup","phx_close",{}]"#);
    assert_eq!(h.state(ids[0]), None, "closed and removed");
    assert_eq!(h.state(newer), Some(ChannelState::Joined));
    assert!(
        h.take_events()
            .contains(&Event::ChannelClosed { channel: ids[0], reason: CloseReason::Superseded })
    );
}

/// C09 a join that succeeds before its timeout stays joined; nothing is resent.
#[test]
fn c09_ok_before_timeout_joins_without_resend() {
    let (mut h, ids) = Scenario::new().connected().joining("t").build();
    h.advance_ms(TIMEOUT / 2);
    h.reply("1", "ok", "{}");
    assert_eq!(h.state(ids[0]), Some(ChannelState::Joined));
    h.advance_ms(TIMEOUT);
    assert!(h.take_sent().is_empty());
}

/// C10 a join timeout sends `phx_leave` and times the join out; the join is
/// retried after the join timeout plus the rejoin backoff (1 s, 2 s, …);
/// a later ok joins. Frames: join, leave, join, leave, join.
#[test]
fn c10_join_timeout_leaves_and_retries_with_backoff() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let join = h.join(ids[0]);
    assert_eq!(h.take_sent(), [r#"["1","1","t","phx_join",{}]"#]);
    let mut at = Vec::new();
    for _ in 0..20 {
        if at.len() == 4 {
            break;
        }
        h.step();
        let sent = h.take_sent();
        if !sent.is_empty() {
            at.push((h.elapsed().as_millis(), sent));
        }
    }
    let events = h.take_events();
    assert_eq!(outcomes(&events, join), [Event::PushTimeout { push: join, channel: ids[0] }]);
    let leave = |jr: &str, r: &str| vec![format!(r#"["{jr}","{r}","t","phx_leave",{{}}]"#)];
    let join_frame = |r: &str| vec![format!(r#"["{r}","{r}","t","phx_join",{{}}]"#)];
    assert_eq!(
        at,
        [
            (10_000, leave("1", "2")),
            (11_000, join_frame("3")),
            (21_000, leave("3", "4")),
            (23_000, join_frame("5"))
        ]
    );
    h.reply("5", "ok", "{}");
    assert_eq!(h.state(ids[0]), Some(ChannelState::Joined));
    h.advance_ms(TIMEOUT);
    let sent = h.take_sent();
    assert!(sent.iter().all(|f| f.contains("heartbeat")), "nothing but heartbeats: {sent:?}");
}

/// C11 the socket opens late: the channel errors after the first join
/// timeout, then joins once the socket opens and the ok arrives.
#[test]
fn c11_socket_opening_late_joins_after_open() {
    let mut h = Harness::new();
    let ch = h.channel("t");
    h.join(ch);
    h.advance_ms(9000);
    assert_eq!(h.state(ch), Some(ChannelState::Joining));
    h.advance_ms(1000);
    assert_eq!(h.state(ch), Some(ChannelState::Errored));
    assert_eq!(h.session.send_buffer_len(), 0, "the stale join is not sent later");
    h.connect_open();
    assert_eq!(h.take_sent(), [r#"["2","2","t","phx_join",{}]"#]);
    h.reply("2", "ok", "{}");
    assert_eq!(h.state(ch), Some(ChannelState::Joined));
}

/// C12 only the socket is late (it opens within the join timeout): the join
/// completes; a duplicate ok is harmless.
#[test]
fn c12_socket_delay_within_timeout_still_joins() {
    let mut h = Harness::new();
    let ch = h.channel("t");
    h.join(ch);
    h.advance_ms(3000);
    h.connect();
    h.advance_ms(3000);
    h.open();
    assert_eq!(h.take_sent(), [r#"["1","1","t","phx_join",{}]"#]);
    h.reply("1", "ok", "{}");
    h.reply("1", "ok", "{}");
    assert_eq!(h.state(ch), Some(ChannelState::Joined));
    assert_eq!(h.session.stats().unmatched_replies, 1);
}

/// C13 an ok reply sets the state to joined.
#[test]
fn c13_ok_sets_joined() {
    let (mut h, ids) = Scenario::new().connected().joining("t").build();
    h.reply("1", "ok", "{}");
    assert_eq!(h.state(ids[0]), Some(ChannelState::Joined));
}

/// C14 ok hooks fire on ok, and at once when bound after the ok. Adapted: a
/// Rust push resolves once and the `Reply` event keeps its outcome; there is
/// nothing to bind later, and it is never reported twice.
#[test]
fn c14_ok_is_reported_once_with_its_outcome() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let join = h.join(ids[0]);
    h.reply("1", "ok", r#"{"chan":"reply"}"#);
    h.advance_ms(TIMEOUT * 2);
    let got = outcomes(&h.take_events(), join);
    assert!(matches!(&got[..], [Event::Reply { reply, .. }] if reply.is_ok()), "{got:?}");
    assert!(!h.session.is_push_pending(join));
}

/// C15 after ok, neither error nor timeout outcomes ever come, even past
/// the timeout.
#[test]
fn c15_no_error_or_timeout_after_ok() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let join = h.join(ids[0]);
    h.advance_ms(TIMEOUT / 2);
    h.reply("1", "ok", "{}");
    h.advance_ms(TIMEOUT * 2);
    let events = h.take_events();
    assert_eq!(outcomes(&events, join).len(), 1);
    assert_eq!(count(&events, |e| matches!(e, Event::ChannelError { .. })), 0);
}

/// C16 an ok reply clears the join timer.
#[test]
fn c16_ok_clears_the_join_timer() {
    let (mut h, _) = Scenario::new().connected().joining("t").build();
    assert_eq!(h.session.timer_count(), 2, "heartbeat + join timeout");
    h.reply("1", "ok", "{}");
    assert_eq!(h.session.timer_count(), 1, "heartbeat only");
}

/// C17 an ok reply records `{status:"ok", response}`. Adapted: the `Reply`
/// event carries both.
#[test]
fn c17_ok_carries_status_and_response() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let join = h.join(ids[0]);
    h.reply("1", "ok", r#"{"chan":"reply"}"#);
    let got = outcomes(&h.take_events(), join);
    let [Event::Reply { reply, .. }] = &got[..] else { panic!("{got:?}") };
    assert_eq!((&*reply.status, reply.response.as_json()), ("ok", Some(r#"{"chan":"reply"}"#)));
}

/// C18 an ok reply removes the `chan_reply_<ref>` binding. Adapted: no ref
/// waits for a reply afterwards.
#[test]
fn c18_ok_removes_the_reply_binding() {
    let (mut h, _) = Scenario::new().connected().joining("t").build();
    assert_eq!(h.session.refs_waiting(), 1);
    h.reply("1", "ok", "{}");
    assert_eq!(h.session.refs_waiting(), 0);
}

/// C19 an ok reply resets the rejoin backoff.
#[test]
fn c19_ok_resets_the_rejoin_backoff() {
    let (mut h, ids) = Scenario::new().connected().joining("t").build();
    h.reply("1", "error", "{}");
    h.advance_ms(1000);
    h.reply("2", "error", "{}");
    let wait = h.session.poll_timeout().unwrap().saturating_duration_since(h.now());
    assert_eq!(wait, Duration::from_secs(2), "second rejoin backs off to 2 s");
    h.advance_ms(2000);
    h.reply("3", "ok", "{}");
    assert_eq!(h.state(ids[0]), Some(ChannelState::Joined));
    h.server(r#"["3","3","t","phx_error",{}]"#);
    h.clear();
    h.advance_ms(1000);
    assert_eq!(h.take_sent(), [r#"["4","4","t","phx_join",{}]"#], "back to 1 s");
}

/// C20 an ok reply sends and empties the buffered pushes before the join's
/// outcome is reported.
#[test]
fn c20_ok_flushes_buffered_pushes_before_reporting() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let join = h.join(ids[0]);
    h.push(ids[0], "event", r#"{"foo":"bar"}"#);
    h.clear();
    h.reply("1", "ok", "{}");
    assert_eq!(h.take_sent(), [r#"["1","2","t","event",{"foo":"bar"}]"#]);
    assert_eq!(h.session.channel_info(ids[0]).unwrap().buffered(), 0);
    let events = h.take_events();
    assert!(
        matches!(events.last(), Some(Event::Reply { push, .. }) if *push == join),
        "{events:?}"
    );
}

/// C21 a join timeout sets the state to errored.
#[test]
fn c21_join_timeout_sets_errored() {
    let (mut h, ids) = Scenario::new().connected().joining("t").build();
    h.advance_ms(TIMEOUT);
    assert_eq!(h.state(ids[0]), Some(ChannelState::Errored));
    assert!(
        h.take_events()
            .contains(&Event::ChannelError { channel: ids[0], cause: ErrorCause::JoinTimeout })
    );
}

/// C22 a join timeout is reported exactly once, even as attempts keep
/// timing out.
#[test]
fn c22_join_timeout_reported_once() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let join = h.join(ids[0]);
    h.advance_ms(TIMEOUT * 5);
    let events = h.take_events();
    assert_eq!(outcomes(&events, join).len(), 1);
    assert!(
        count(&events, |e| matches!(e, Event::ChannelError { cause: ErrorCause::JoinTimeout, .. }))
            > 1
    );
}

/// C23 after a join timeout, a late ok or error reports nothing.
#[test]
fn c23_late_reply_after_timeout_is_ignored() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let join = h.join(ids[0]);
    h.advance_ms(TIMEOUT);
    h.clear();
    h.reply("1", "ok", "{}");
    h.reply("1", "error", "{}");
    assert!(h.take_events().is_empty());
    assert_eq!(h.state(ids[0]), Some(ChannelState::Errored));
    assert!(!h.session.is_push_pending(join));
}

/// C24 a join timeout schedules a rejoin.
#[test]
fn c24_join_timeout_schedules_rejoin() {
    let (mut h, _) = Scenario::new().connected().joining("t").build();
    h.advance_ms(TIMEOUT);
    h.clear();
    h.advance_ms(1000);
    assert_eq!(h.take_sent(), [r#"["3","3","t","phx_join",{}]"#]);
}
