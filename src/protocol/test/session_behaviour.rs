//! Session behaviours beyond the phoenix.js checklist: rig's own options
//! (give-up, fatal join errors, heartbeat timeout, jitter), the documented
//! differences from phoenix.js, and malformed input.

use std::time::Duration;

use super::harness::{Harness, Scenario, count, outcomes};
use crate::protocol::{
    AbandonReason, Backoff, ChannelState, CloseReason, DecodeError, EncodeError, ErrorCause, Event,
    Frame, Jitter, Message, Payload, RttKind, Serializer, Session, SessionError, SocketState,
    TransportReason, V2Serializer,
};

#[test]
fn session_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Session>();
}

#[test]
fn gives_up_after_max_reconnect_attempts() {
    let mut h = Harness::with(|b| b.max_reconnect_attempts(Some(2)));
    h.connect();
    for _ in 0..3 {
        let now = h.now();
        h.session.handle_error(now, crate::protocol::TransportError::failed("refused"));
        h.step();
    }
    let events = h.take_events();
    assert_eq!(count(&events, |e| matches!(e, Event::ReconnectScheduled { .. })), 2);
    assert!(events.contains(&Event::ReconnectGaveUp { attempts: 2 }));
    assert_eq!((h.session.state(), h.session.poll_timeout()), (SocketState::Closed, None));
    h.connect();
    assert_eq!(h.session.state(), SocketState::Connecting, "connect() starts over");
}

#[test]
fn heartbeat_reply_reports_rtt_and_rearms_one_interval_later() {
    let (mut h, _) = Scenario::new().connected().build();
    h.step();
    h.advance_ms(250);
    h.reply("1", "ok", "{}");
    assert_eq!(
        h.take_events(),
        [Event::Rtt { rtt: Duration::from_millis(250), kind: RttKind::Heartbeat }]
    );
    let next = h.session.poll_timeout().unwrap().saturating_duration_since(h.now());
    assert_eq!(next, Duration::from_secs(30));
}

#[test]
fn heartbeat_timeout_can_be_shorter_than_the_interval() {
    let (mut h, _) =
        Scenario::new().config(|b| b.heartbeat_timeout(Duration::from_secs(5))).connected().build();
    h.step();
    h.clear();
    h.advance_ms(4999);
    assert!(h.take_events().is_empty());
    h.advance_ms(1);
    assert!(
        h.take_events()
            .contains(&Event::CloseTransport { code: 1000, reason: "heartbeat timeout".into() })
    );
}

#[test]
fn decode_errors_are_returned_reported_and_counted() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    let now = h.now();
    let err = h.session.handle_frame(now, Frame::text("[1,2,3]")).unwrap_err();
    assert_eq!(err, DecodeError::Arity { got: 3 });
    assert_eq!(h.take_events(), [Event::DecodeError(err)]);
    // A reply whose payload is not a reply object: the push stays pending.
    let push = h.push(ids[0], "e", "{}");
    let bad = r#"["1","2","t","phx_reply","oops"]"#;
    assert!(h.session.handle_frame(now, Frame::text(bad)).is_err());
    assert!(h.session.is_push_pending(push));
    assert_eq!(h.session.stats().decode_errors, 2);
    h.reply("2", "ok", "{}");
    assert!(!h.session.is_push_pending(push), "the session went on");
}

#[test]
fn messages_with_a_stale_join_ref_are_dropped_and_counted() {
    let (mut h, _) = Scenario::new().connected().joined("t").build();
    h.server(r#"["7",null,"t","event",{}]"#);
    h.server(r#"[null,null,"nobody","event",{}]"#);
    assert!(h.take_events().is_empty());
    let stats = h.session.stats();
    assert_eq!((stats.stale_dropped, stats.unroutable), (1, 1));
}

#[test]
fn fatal_join_errors_close_the_channel_and_abandon_its_pushes() {
    let (mut h, ids) =
        Scenario::new().config(|b| b.join_errors_fatal(true)).connected().joining("t").build();
    let push = h.push(ids[0], "e", "{}");
    h.reply("1", "error", r#"{"reason":"unauthorized"}"#);
    let events = h.take_events();
    assert!(
        events
            .contains(&Event::ChannelClosed { channel: ids[0], reason: CloseReason::JoinRejected })
    );
    let abandoned =
        Event::PushAbandoned { push, channel: ids[0], reason: AbandonReason::ChannelClosed };
    assert_eq!(outcomes(&events, push), [abandoned]);
    h.advance_ms(60_000);
    assert!(h.take_sent().iter().all(|f| !f.contains("phx_join")), "never rejoined");
}

#[test]
fn remove_abandons_pending_pushes() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    let sent = h.push(ids[0], "e", "{}");
    h.close(Some(1006));
    let buffered = h.push(ids[0], "e", "{}");
    assert!(h.session.remove(ids[0]));
    let events = h.take_events();
    // The sent push ended when the connection closed under its channel.
    let lost =
        AbandonReason::ChannelError(ErrorCause::Transport(TransportReason::ConnectionClosed));
    let want_sent = Event::PushAbandoned { push: sent, channel: ids[0], reason: lost };
    assert_eq!(outcomes(&events, sent), [want_sent]);
    let want = Event::PushAbandoned {
        push: buffered,
        channel: ids[0],
        reason: AbandonReason::ChannelRemoved,
    };
    assert_eq!(outcomes(&events, buffered), [want]);
    assert!(
        events.contains(&Event::ChannelClosed { channel: ids[0], reason: CloseReason::Removed })
    );
    assert_eq!(h.session.timer_count(), 1, "only the reconnect timer is left");
}

#[test]
fn takeover_of_a_join_the_server_never_saw_closes_at_once() {
    let mut h = Harness::new();
    let old = h.channel("t");
    let old_join = h.join(old);
    let new = h.channel("t");
    h.join(new);
    let events = h.take_events();
    assert!(
        events.contains(&Event::ChannelClosed { channel: old, reason: CloseReason::Superseded })
    );
    assert!(matches!(&outcomes(&events, old_join)[..], [Event::PushAbandoned { .. }]));
    h.connect_open();
    assert_eq!(h.take_sent(), [r#"["2","2","t","phx_join",{}]"#], "only the new join goes out");
}

#[test]
fn leave_during_a_join_in_flight_closes_at_once_and_tells_the_server() {
    let (mut h, ids) = Scenario::new().connected().joining("t").build();
    let leave = h.leave(ids[0]);
    assert_eq!(h.take_sent(), [r#"["1","2","t","phx_leave",{}]"#]);
    assert_eq!(h.state(ids[0]), None);
    assert!(
        matches!(&outcomes(&h.take_events(), leave)[..], [Event::Reply { reply, .. }] if reply.is_ok())
    );
    h.reply("1", "ok", "{}");
    h.reply("2", "ok", "{}");
    assert_eq!(
        h.session.stats().unmatched_replies,
        1,
        "the late join reply; the leave reply is absorbed"
    );
}

#[test]
fn leave_of_an_errored_channel_closes_without_sending() {
    let (mut h, ids) = Scenario::new().connected().errored("t").build();
    h.leave(ids[0]);
    assert!(h.take_sent().is_empty());
    assert_eq!(h.state(ids[0]), None);
    let now = h.now();
    assert_eq!(
        h.session.leave(now, ids[0], None),
        Err(SessionError::UnknownChannel { channel: ids[0] })
    );
}

#[test]
fn disconnect_while_connecting_waits_for_the_driver_and_ignores_a_late_open() {
    let mut h = Harness::new();
    h.connect();
    let now = h.now();
    h.session.disconnect(now, 1000, "");
    assert_eq!(h.session.state(), SocketState::Closing);
    assert!(h.session.wants_connect().is_none());
    h.open();
    assert_eq!(h.session.state(), SocketState::Closing, "the aborted transport's open is ignored");
    h.close(None);
    assert_eq!((h.session.state(), h.session.poll_timeout()), (SocketState::Closed, None));
}

#[test]
fn reconnect_jitter_is_seeded() {
    let delays = |seed| {
        let mut h = Harness::with(move |b| {
            b.reconnect_backoff(Backoff::reconnect().jitter(Jitter::Full)).seed(seed)
        });
        h.connect();
        let mut out = Vec::new();
        for _ in 0..6 {
            let now = h.now();
            h.session.handle_error(now, crate::protocol::TransportError::failed("down"));
            let at = h.session.poll_timeout().unwrap();
            out.push(at.saturating_duration_since(h.now()));
            h.step();
        }
        out
    };
    assert_eq!(delays(1), delays(1));
    assert_ne!(delays(1), delays(2));
    let schedule = Backoff::reconnect();
    for (n, d) in (1u32..).zip(delays(3)) {
        // The wheel rounds deadlines up to the next millisecond.
        assert!(d <= schedule.base(n) + Duration::from_millis(1), "attempt {n}: {d:?}");
    }
}

#[derive(Debug)]
struct Refuses;

impl Serializer for Refuses {
    fn vsn(&self) -> &'static str {
        "2.0.0"
    }
    fn encode(&self, msg: &Message) -> Result<Frame, EncodeError> {
        if msg.is_event("big") {
            return Err(EncodeError::FieldTooLong {
                field: crate::protocol::Field::Event,
                len: 300,
            });
        }
        Serializer::encode(&V2Serializer::default(), msg)
    }
    fn decode(&self, frame: Frame) -> Result<Message, DecodeError> {
        Serializer::decode(&V2Serializer::default(), frame)
    }
}

#[test]
fn unencodable_pushes_fail_at_once_or_are_abandoned_at_flush() {
    let (mut h, ids) = Scenario::new()
        .config(|b| b.serializer(Refuses))
        .connected()
        .joined("t")
        .joining("u")
        .build();
    let now = h.now();
    let err = h.session.push(now, ids[0], "big", Payload::empty(), None).unwrap_err();
    assert!(matches!(err, SessionError::Encode(EncodeError::FieldTooLong { .. })));
    assert!(h.take_sent().is_empty());
    let buffered = h.push(ids[1], "big", "{}");
    h.reply("2", "ok", "{}");
    let events = h.take_events();
    assert!(matches!(
        &outcomes(&events, buffered)[..],
        [Event::PushAbandoned { reason: AbandonReason::Encode(_), .. }]
    ));
    assert_eq!(h.state(ids[1]), Some(ChannelState::Joined));
}

#[test]
fn messages_reach_only_the_current_channel_of_a_topic() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    let newer = h.channel("t");
    h.join(newer);
    h.reply("2", "ok", "{}");
    assert_eq!(h.state(ids[0]), Some(ChannelState::Leaving));
    h.clear();
    h.server(r#"[null,null,"t","shout",{}]"#);
    h.server(r#"["2",null,"t","push",{}]"#);
    h.server(r#"["1",null,"t","old",{}]"#);
    let to: Vec<_> = h
        .take_events()
        .into_iter()
        .map(|e| match e {
            Event::Message { channel, message } => (channel, message.event.to_string()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(to, [(newer, "shout".to_owned()), (newer, "push".to_owned())]);
}
