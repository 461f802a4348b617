//! CONFORMANCE.md §2 Channel, C25–C44: join errors, `phx_error`,
//! `phx_close`, messages, `canPush`, bindings. Scenarios ported from
//! phoenix.js `assets/test/channel_test.js` (phoenixframework/phoenix, MIT).

use super::harness::{Harness, Scenario, outcomes};
use crate::protocol::{
    Bindings, ChannelState, CloseReason, ErrorCause, Event, Payload, SocketState,
};

const TIMEOUT: u64 = 10_000;

/// C25 a join error is reported exactly once, even if the error comes again.
#[test]
fn c25_join_error_reported_once() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let join = h.join(ids[0]);
    h.reply("1", "error", r#"{"chan":"fail"}"#);
    h.reply("1", "error", r#"{"chan":"fail"}"#);
    let got = outcomes(&h.take_events(), join);
    assert!(
        matches!(&got[..], [Event::Reply { reply, .. }] if &*reply.status == "error"),
        "{got:?}"
    );
}

/// C26 error hooks bound after the error fire at once. Adapted: the `Reply`
/// event keeps the error outcome (status and response); a Rust push
/// resolves once, so there is nothing to bind later.
#[test]
fn c26_join_error_outcome_carries_the_response() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let join = h.join(ids[0]);
    h.reply("1", "error", r#"{"chan":"fail"}"#);
    let got = outcomes(&h.take_events(), join);
    let [Event::Reply { reply, .. }] = &got[..] else { panic!("{got:?}") };
    assert_eq!(reply.response.as_json(), Some(r#"{"chan":"fail"}"#));
}

/// C27 after a join error, no ok or timeout outcome follows.
#[test]
fn c27_no_ok_or_timeout_after_join_error() {
    let (mut h, ids) = Scenario::new().connected().channel("t").build();
    let join = h.join(ids[0]);
    h.advance_ms(TIMEOUT / 2);
    h.reply("1", "error", "{}");
    h.reply("1", "ok", "{}");
    h.advance_ms(TIMEOUT * 2);
    assert_eq!(outcomes(&h.take_events(), join).len(), 1);
}

/// C28 a join error clears the join timer.
#[test]
fn c28_join_error_clears_the_join_timer() {
    let (mut h, _) = Scenario::new().connected().joining("t").build();
    h.reply("1", "error", "{}");
    assert_eq!(h.session.timer_count(), 2, "heartbeat + rejoin, no join timeout");
    assert_eq!(h.session.refs_waiting(), 0);
}

/// C29 a join error sets the state to errored, not joined.
#[test]
fn c29_join_error_sets_errored() {
    let (mut h, ids) = Scenario::new().connected().joining("t").build();
    h.reply("1", "error", r#"{"reason":"unauthorized"}"#);
    assert_eq!(h.state(ids[0]), Some(ChannelState::Errored));
    let cause = ErrorCause::JoinRejected {
        status: "error".into(),
        response: Payload::json(r#"{"reason":"unauthorized"}"#),
    };
    assert!(h.take_events().contains(&Event::ChannelError { channel: ids[0], cause }));
}

/// C30 a join error does not flush the buffered pushes; they stay buffered.
#[test]
fn c30_join_error_keeps_pushes_buffered() {
    let (mut h, ids) = Scenario::new().connected().joining("t").build();
    h.push(ids[0], "event", "{}");
    h.reply("1", "error", "{}");
    assert_eq!(h.take_sent(), Vec::<String>::new());
    assert_eq!(h.session.channel_info(ids[0]).unwrap().buffered(), 1);
}

/// C31 `phx_error` sets the state to errored.
#[test]
fn c31_phx_error_sets_errored() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    h.server(r#"["1","1","t","phx_error",{}]"#);
    assert_eq!(h.state(ids[0]), Some(ChannelState::Errored));
}

/// C32 after `phx_error` the channel rejoins after 1000 ms, backing off
/// (1, 2, 5, 10 s) while attempts fail; a stale error for another join
/// does not schedule extra rejoins.
#[test]
fn c32_phx_error_rejoins_with_backoff_and_ignores_stale_errors() {
    let (mut h, _) = Scenario::new().connected().joined("t").build();
    h.server(r#"["1","1","t","phx_error",{}]"#);
    h.advance_ms(999);
    assert!(h.take_sent().is_empty());
    let mut times = Vec::new();
    for delay in [1, 2000, 5000, 10_000] {
        h.advance_ms(delay);
        let r = h.last_ref();
        assert_eq!(h.take_sent(), [format!(r#"["{r}","{r}","t","phx_join",{{}}]"#)]);
        times.push(h.elapsed().as_millis());
        h.reply(&r, "error", "{}");
    }
    assert_eq!(times, [1000, 3000, 8000, 18_000]);
    h.server(r#"["1","1","t","phx_error",{}]"#);
    assert_eq!(h.session.stats().stale_dropped, 1);
    h.advance_ms(9999);
    assert!(h.take_sent().is_empty(), "the stale error did not bring the rejoin forward");
}

/// C33 no rejoin while leaving or closed, even on a socket error.
#[test]
fn c33_no_rejoin_when_leaving_or_closed() {
    let (mut h, ids) = Scenario::new().connected().channel("never").joined("leaving").build();
    h.leave(ids[1]);
    h.server(r#"["1","1","leaving","phx_error",{}]"#);
    assert_eq!(h.state(ids[1]), Some(ChannelState::Leaving));
    let now = h.now();
    h.session.handle_error(now, crate::protocol::TransportError::failed("down"));
    h.clear();
    h.step();
    h.open();
    h.advance_ms(3000);
    let sent = h.take_sent();
    assert!(sent.iter().all(|f| !f.contains("phx_join")), "{sent:?}");
    assert_eq!(h.state(ids[0]), Some(ChannelState::Closed));
}

/// C34 error callbacks get the server payload, e.g. `{reason:"channel_crash"}`.
#[test]
fn c34_error_carries_the_server_payload() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    h.server(r#"["1","1","t","phx_error",{"reason":"channel_crash"}]"#);
    let cause = ErrorCause::Server { payload: Payload::json(r#"{"reason":"channel_crash"}"#) };
    assert!(h.take_events().contains(&Event::ChannelError { channel: ids[0], cause }));
}

/// C35 `phx_close` sets the state to closed.
#[test]
fn c35_phx_close_sets_closed() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    h.server(r#"["1","1","t","phx_close",{}]"#);
    let change = Event::ChannelState {
        channel: ids[0],
        from: ChannelState::Joined,
        to: ChannelState::Closed,
    };
    assert!(h.take_events().contains(&change));
}

/// C36 after `phx_close` the channel never rejoins, not even after a reconnect.
#[test]
fn c36_no_rejoin_after_phx_close() {
    let (mut h, _) = Scenario::new().connected().joined("t").build();
    h.server(r#"["1","1","t","phx_close",{}]"#);
    h.advance_ms(3000);
    h.close(Some(1006));
    h.step();
    h.open();
    h.advance_ms(20_000);
    assert!(h.take_sent().is_empty());
}

/// C37 `phx_close` fires the close callbacks: `ChannelClosed`.
#[test]
fn c37_phx_close_reports_channel_closed() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    h.server(r#"["1","1","t","phx_close",{}]"#);
    let events = h.take_events();
    assert_eq!(
        events.last(),
        Some(&Event::ChannelClosed { channel: ids[0], reason: CloseReason::Closed })
    );
}

/// C38 `phx_close` removes the channel from the session.
#[test]
fn c38_phx_close_removes_the_channel() {
    let (mut h, ids) = Scenario::new().connected().joined("t").joined("other").build();
    h.server(r#"["1","1","t","phx_close",{}]"#);
    assert_eq!(h.session.channels().collect::<Vec<_>>(), [ids[1]]);
}

/// C39 the default `onMessage` returns the payload unchanged. Adapted: the
/// `Message` event carries the payload bytes exactly as received.
#[test]
fn c39_message_payload_is_untouched() {
    let (mut h, _) = Scenario::new().connected().joined("t").build();
    let payload = r#"{ "one" : "two", "z":[1, 2.50, null] }"#;
    h.server(&format!(r#"[null,null,"t","event",{payload}]"#));
    let events = h.take_events();
    assert!(
        matches!(&events[..], [Event::Message { message, .. }] if message.payload.as_json() == Some(payload))
    );
}

/// C40 `can_push` is true only when the socket is connected and the
/// channel joined.
#[test]
fn c40_can_push_needs_open_socket_and_joined_channel() {
    let (mut h, ids) = Scenario::new().connected().joined("t").joining("u").build();
    assert!(h.session.can_push(ids[0]));
    assert!(!h.session.can_push(ids[1]));
    h.close(Some(1006));
    assert_eq!(h.session.state(), SocketState::Closed);
    assert!(!h.session.can_push(ids[0]));
    let mut fresh = Harness::new();
    let ch = fresh.channel("v");
    assert!(!fresh.session.can_push(ch));
}

/// C41 `on(event)` delivers only matching events. Adapted: the session
/// reports every message with its event name; [`Bindings`] selects the
/// handlers for one name.
#[test]
fn c41_bindings_deliver_only_matching_events() {
    let (mut h, _) = Scenario::new().connected().joined("t").build();
    let mut bindings = Bindings::new();
    bindings.on("event", "spy");
    bindings.on("other", "ignored");
    h.server(r#"[null,null,"t","event",{}]"#);
    let mut called = Vec::new();
    for e in h.take_events() {
        if let Event::Message { message, .. } = e {
            called.extend(
                bindings
                    .matching(&message.event)
                    .into_iter()
                    .filter_map(|r| bindings.get(r).copied()),
            );
        }
    }
    assert_eq!(called, ["spy"]);
}

/// C42 binding refs grow by one per `on()`.
#[test]
fn c42_binding_refs_grow_by_one() {
    let mut bindings = Bindings::new();
    let a = bindings.on("event1", ());
    let b = bindings.on("event2", ());
    assert_eq!(a.as_u64() + 1, b.as_u64());
}

/// C43 a callback that removes itself during dispatch does not stop the
/// others for that event.
#[test]
fn c43_off_during_dispatch_keeps_the_others() {
    let mut bindings = Bindings::new();
    let first = bindings.on("event", 1);
    bindings.on("event", 2);
    bindings.on("event", 3);
    let mut called = Vec::new();
    for r in bindings.matching("event") {
        let Some(handler) = bindings.get(r).copied() else { continue };
        called.push(handler);
        if r == first {
            bindings.off("event", Some(first));
        }
    }
    assert_eq!(called, [1, 2, 3]);
    assert_eq!(bindings.len(), 2);
}

/// C44 `off(event)` removes every callback of the event; `off(event, ref)`
/// only that one.
#[test]
fn c44_off_by_event_or_by_ref() {
    let mut bindings = Bindings::new();
    let one = bindings.on("event", 1);
    bindings.on("event", 2);
    bindings.on("other", 3);
    assert_eq!(bindings.off("event", Some(one)), 1);
    assert_eq!(bindings.matching("event").len(), 1);
    assert_eq!(bindings.off("event", None), 1);
    assert!(bindings.matching("event").is_empty());
    assert_eq!(bindings.matching("other").len(), 1);
}
