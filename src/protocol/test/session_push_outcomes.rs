//! Pushes whose channel errors or closes end at once, saying why, instead
//! of waiting for their timeout: the channel process that would reply is
//! gone. phoenix.js leaves such pushes to time out; rig's choice is
//! documented in `session/mod.rs` ("Differences from phoenix.js").

use super::harness::{Scenario, outcomes};
use crate::protocol::{AbandonReason, CloseReason, ErrorCause, Event, Payload, TransportReason};

#[test]
fn a_sent_push_ends_at_once_when_its_channel_crashes_on_the_server() {
    let (mut h, ids) = Scenario::new().connected().joined("room:a").build();
    let push = h.push(ids[0], "boom", "{}");
    h.server(r#"["1","1","room:a","phx_error",{}]"#);
    let events = h.take_events();
    let cause = ErrorCause::Server { payload: Payload::json("{}") };
    let want = Event::PushAbandoned {
        push,
        channel: ids[0],
        reason: AbandonReason::ChannelError(cause.clone()),
    };
    assert_eq!(outcomes(&events, push), [want], "{events:?}");
    assert_eq!(h.session.refs_waiting(), 0, "no reply binding is left behind");
    assert_eq!(AbandonReason::ChannelError(cause).to_string(), "the channel crashed on the server");
    h.session.check_timer_owners();
}

#[test]
fn a_sent_push_ends_at_once_when_the_connection_drops() {
    let (mut h, ids) = Scenario::new().connected().joined("room:a").build();
    let push = h.push(ids[0], "echo", "{}");
    h.close(Some(1006));
    let events = h.take_events();
    let reason =
        AbandonReason::ChannelError(ErrorCause::Transport(TransportReason::ConnectionClosed));
    assert_eq!(outcomes(&events, push), [Event::PushAbandoned { push, channel: ids[0], reason }]);
    h.session.check_timer_owners();
}

#[test]
fn a_buffered_push_waits_for_the_rejoin_as_in_phoenix_js() {
    let (mut h, ids) = Scenario::new().connected().errored("room:a").build();
    let push = h.push(ids[0], "echo", "{}");
    h.server(r#"["1","1","room:a","phx_error",{}]"#);
    assert!(outcomes(&h.take_events(), push).is_empty(), "not sent, so not abandoned");
    h.advance_ms(1000);
    let join = h.last_ref();
    h.reply(&join, "ok", "{}");
    let sent = h.take_sent();
    assert!(sent.iter().any(|f| f.contains(r#""echo""#)), "{sent:?}");
    let r = h.last_ref();
    h.reply(&r, "ok", r#"{"n":1}"#);
    assert!(matches!(&outcomes(&h.take_events(), push)[..], [Event::Reply { .. }]));
}

#[test]
fn a_sent_push_ends_as_channel_closed_on_phx_close() {
    let (mut h, ids) = Scenario::new().connected().joined("room:a").build();
    let push = h.push(ids[0], "close", "{}");
    h.server(r#"["1","1","room:a","phx_close",{}]"#);
    let events = h.take_events();
    let want = Event::PushAbandoned { push, channel: ids[0], reason: AbandonReason::ChannelClosed };
    assert_eq!(outcomes(&events, push), [want]);
    assert!(
        events.contains(&Event::ChannelClosed { channel: ids[0], reason: CloseReason::Closed })
    );
}
