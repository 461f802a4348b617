//! CONFORMANCE.md §3 Push (P01–P08) and §4 Leave (L01–L04). Scenarios
//! ported from phoenix.js `assets/test/channel_test.js`
//! (phoenixframework/phoenix, MIT), not its code.

use std::time::Duration;

use super::harness::{Scenario, outcomes};
use crate::protocol::{ChannelState, CloseReason, Event, Payload, SessionError};

const TIMEOUT: u64 = 10_000;

/// P01 a push on a joined channel sends `{topic, event, payload, join_ref, ref}` at once.
#[test]
fn p01_push_on_joined_channel_sends_at_once() {
    let (mut h, ids) = Scenario::new().connected().joined("topic").build();
    h.push(ids[0], "event", r#"{"foo":"bar"}"#);
    assert_eq!(h.take_sent(), [r#"["1","2","topic","event",{"foo":"bar"}]"#]);
}

/// P02 a push made before the join completes is sent when the join returns ok.
#[test]
fn p02_push_before_join_is_sent_on_ok() {
    let (mut h, ids) = Scenario::new().connected().joining("topic").build();
    let push = h.push(ids[0], "event", r#"{"foo":"bar"}"#);
    assert!(h.take_sent().is_empty());
    h.advance_ms(TIMEOUT / 2);
    h.reply("1", "ok", "{}");
    assert_eq!(h.take_sent(), [r#"["1","2","topic","event",{"foo":"bar"}]"#]);
    assert!(h.session.is_push_pending(push));
}

/// P03 a push queued before a join that times out is never sent, even if
/// the join succeeds later.
#[test]
fn p03_push_queued_before_a_timed_out_join_is_never_sent() {
    let (mut h, ids) = Scenario::new().connected().joining("topic").build();
    let push = h.push(ids[0], "event", r#"{"foo":"bar"}"#);
    h.advance_ms(TIMEOUT);
    assert_eq!(outcomes(&h.take_events(), push), [Event::PushTimeout { push, channel: ids[0] }]);
    h.advance_ms(1000);
    let r = h.last_ref();
    h.reply(&r, "ok", "{}");
    assert_eq!(h.state(ids[0]), Some(ChannelState::Joined));
    let sent = h.take_sent();
    assert!(sent.iter().all(|f| !f.contains(r#""event""#)), "{sent:?}");
}

/// P04 a push uses the channel timeout: nothing at half of it, a timeout
/// once it has elapsed.
#[test]
fn p04_push_uses_the_channel_timeout() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    let push = h.push(ids[0], "event", "{}");
    h.advance_ms(TIMEOUT / 2);
    assert!(outcomes(&h.take_events(), push).is_empty());
    h.advance_ms(TIMEOUT / 2);
    assert_eq!(outcomes(&h.take_events(), push), [Event::PushTimeout { push, channel: ids[0] }]);
}

/// P05 a per-push timeout overrides the channel timeout.
#[test]
fn p05_per_push_timeout_overrides() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    let now = h.now();
    let push = h
        .session
        .push(now, ids[0], "event", Payload::empty(), Some(Duration::from_millis(TIMEOUT * 2)))
        .unwrap();
    h.advance_ms(TIMEOUT);
    assert!(outcomes(&h.take_events(), push).is_empty());
    h.advance_ms(TIMEOUT);
    assert_eq!(outcomes(&h.take_events(), push).len(), 1);
}

/// P06 a push that got ok never times out.
#[test]
fn p06_ok_push_never_times_out() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    let push = h.push(ids[0], "event", "{}");
    h.advance_ms(TIMEOUT / 2);
    h.reply("2", "ok", "{}");
    h.advance_ms(TIMEOUT * 2);
    let got = outcomes(&h.take_events(), push);
    assert!(matches!(&got[..], [Event::Reply { reply, .. }] if reply.is_ok()), "{got:?}");
}

/// P07 pushing on a channel that was never joined fails. Adapted: an error
/// value instead of a throw.
#[test]
fn p07_push_before_join_fails() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let now = h.now();
    let err = h.session.push(now, ids[0], "event", Payload::empty(), None).unwrap_err();
    assert_eq!(err, SessionError::NotJoined { topic: "t".into() });
}

/// P08 buffered pushes do not leak reply bindings: one per sent push after
/// the flush, none once each is answered.
#[test]
fn p08_buffered_pushes_leave_no_bindings_behind() {
    let (mut h, ids) = Scenario::new().connected().joining("t").build();
    for n in 0..3 {
        h.push(ids[0], "event", &format!(r#"{{"n":{n}}}"#));
    }
    assert_eq!(h.session.refs_waiting(), 1, "only the join waits");
    h.reply("1", "ok", "{}");
    assert_eq!(h.session.refs_waiting(), 3);
    for r in ["2", "3", "4"] {
        h.reply(r, "ok", "{}");
    }
    assert_eq!(h.session.refs_waiting(), 0);
}

/// L01 `leave()` sends `{topic, event:"phx_leave", payload:{}, ref, join_ref}`.
#[test]
fn l01_leave_frame() {
    let (mut h, ids) = Scenario::new().connected().joined("topic").build();
    h.leave(ids[0]);
    assert_eq!(h.take_sent(), [r#"["1","2","topic","phx_leave",{}]"#]);
}

/// L02 a leave ok removes the channel; the other channels stay.
#[test]
fn l02_leave_ok_removes_only_that_channel() {
    let (mut h, ids) = Scenario::new().connected().joined("topic").channel("another").build();
    h.leave(ids[0]);
    h.reply("2", "ok", "{}");
    assert_eq!(h.session.channels().collect::<Vec<_>>(), [ids[1]]);
}

/// L03 a leave ok sets the state to closed.
#[test]
fn l03_leave_ok_sets_closed() {
    let (mut h, ids) = Scenario::new().connected().joined("topic").build();
    let leave = h.leave(ids[0]);
    h.reply("2", "ok", "{}");
    let events = h.take_events();
    let closed = Event::ChannelState {
        channel: ids[0],
        from: ChannelState::Leaving,
        to: ChannelState::Closed,
    };
    assert!(events.contains(&closed));
    assert!(events.contains(&Event::ChannelClosed { channel: ids[0], reason: CloseReason::Left }));
    assert!(matches!(&outcomes(&events, leave)[..], [Event::Reply { reply, .. }] if reply.is_ok()));
}

/// L04 (skipped in phoenix.js, implemented here): the state is leaving until
/// the reply; a leave timeout closes the channel; `leave(timeout)` is honoured.
#[test]
fn l04_leaving_until_reply_or_timeout() {
    let (mut h, ids) = Scenario::new().connected().joined("a").joined("b").build();
    let leave = h.leave(ids[0]);
    assert_eq!(h.state(ids[0]), Some(ChannelState::Leaving));
    h.advance_ms(TIMEOUT - 1);
    assert_eq!(h.state(ids[0]), Some(ChannelState::Leaving));
    h.advance_ms(1);
    assert_eq!(h.state(ids[0]), None, "closed by the leave timeout");
    assert_eq!(
        outcomes(&h.take_events(), leave),
        [Event::PushTimeout { push: leave, channel: ids[0] }]
    );

    let now = h.now();
    let leave = h.session.leave(now, ids[1], Some(Duration::from_millis(TIMEOUT * 2))).unwrap();
    h.advance_ms(TIMEOUT);
    assert_eq!(h.state(ids[1]), Some(ChannelState::Leaving));
    h.advance_ms(TIMEOUT);
    assert_eq!(h.state(ids[1]), None);
    assert_eq!(outcomes(&h.take_events(), leave).len(), 1);
}
