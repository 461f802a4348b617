//! CONFORMANCE.md §1 Socket, S26–S49: closes, errors, reconnects, routing,
//! ping, serializers and the browser-only items. Scenarios ported from
//! phoenix.js `assets/test/socket_test.js` (phoenixframework/phoenix, MIT).

use std::time::Duration;

use super::harness::{Harness, Scenario, count};
use crate::protocol::{
    ChannelState, DecodeError, EncodeError, ErrorCause, Event, Frame, Message, Payload, Ref,
    RttKind, Serializer, SocketState, TransportError, TransportReason, V2Serializer,
};

fn transport_errors(events: &[Event]) -> Vec<TransportReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ChannelError { cause: ErrorCause::Transport(r), .. } => Some(*r),
            _ => None,
        })
        .collect()
}

fn reconnects(events: &[Event]) -> usize {
    count(events, |e| matches!(e, Event::ReconnectScheduled { .. }))
}

/// S26 a heartbeat timeout errors joined channels with
/// `{source:"transport", reason:"heartbeat_timeout"}`, then reconnects.
#[test]
fn s26_heartbeat_timeout_errors_channels_with_transport_source() {
    let (mut h, ids) = Scenario::new().connected().joined("room:a").build();
    h.advance_ms(60_000);
    let events = h.take_events();
    let cause = ErrorCause::Transport(TransportReason::HeartbeatTimeout);
    assert!(events.contains(&Event::ChannelError { channel: ids[0], cause: cause.clone() }));
    let payload = cause.to_payload();
    assert_eq!(payload.as_json(), Some(r#"{"source":"transport","reason":"heartbeat_timeout"}"#));
    assert_eq!(h.state(ids[0]), Some(ChannelState::Errored));
    h.close(Some(1000));
    assert_eq!(reconnects(&h.take_events()), 1, "reconnect even though the close code is 1000");
}

/// S27 a close with code 1000 does not schedule a reconnect.
#[test]
fn s27_close_1000_does_not_reconnect() {
    let (mut h, _) = Scenario::new().connected().build();
    h.close(Some(1000));
    assert_eq!(reconnects(&h.take_events()), 0);
    assert_eq!(h.session.poll_timeout(), None);
}

/// S28 an abnormal close (1006) schedules a reconnect.
#[test]
fn s28_abnormal_close_reconnects() {
    let (mut h, _) = Scenario::new().connected().build();
    h.close(Some(1006));
    assert_eq!(reconnects(&h.take_events()), 1);
    assert!(h.step());
    assert_eq!(h.session.state(), SocketState::Connecting);
}

/// S29 any close code other than 1000 (e.g. 1001) schedules a reconnect.
#[test]
fn s29_other_close_codes_reconnect() {
    for code in [Some(1001), Some(1002), Some(1011), None] {
        let (mut h, _) = Scenario::new().connected().build();
        h.close(code);
        assert_eq!(reconnects(&h.take_events()), 1, "{code:?}");
    }
}

/// S30 an explicit disconnect never schedules a reconnect, whatever the
/// close code.
#[test]
fn s30_explicit_disconnect_never_reconnects() {
    let (mut h, _) = Scenario::new().connected().build();
    let now = h.now();
    h.session.disconnect(now, 1000, "");
    h.close(Some(1006));
    assert_eq!(reconnects(&h.take_events()), 0);
    assert_eq!(h.session.poll_timeout(), None);
}

/// S31 after a clean disconnect and a new connect, a failed connection
/// reconnects again: the clean flag does not stick.
#[test]
fn s31_clean_flag_does_not_stick() {
    let (mut h, _) = Scenario::new().connected().build();
    let now = h.now();
    h.session.disconnect(now, 1000, "");
    h.close(Some(1000));
    h.connect();
    h.close(Some(1001));
    assert_eq!(reconnects(&h.take_events()), 1);
}

/// S32 the close event carries the close code and reason.
#[test]
fn s32_close_event_carries_code_and_reason() {
    let (mut h, _) = Scenario::new().connected().build();
    let now = h.now();
    h.session.handle_close(now, Some(4001), "going away");
    assert!(
        h.take_events().contains(&Event::Closed { code: Some(4001), reason: "going away".into() })
    );
}

/// S33 a transport close errors joining and joined channels with
/// `connection_closed`.
#[test]
fn s33_close_errors_joining_and_joined_channels() {
    let (mut h, ids) = Scenario::new().connected().joining("a").joined("b").build();
    h.close(Some(1006));
    let events = h.take_events();
    assert_eq!(transport_errors(&events), [TransportReason::ConnectionClosed; 2]);
    assert_eq!(
        (h.state(ids[0]), h.state(ids[1])),
        (Some(ChannelState::Errored), Some(ChannelState::Errored))
    );
    assert_eq!(
        h.session.channel_info(ids[0]).unwrap().join_ref(),
        None,
        "the join attempt was reset"
    );
}

/// S34 a transport close does not error channels that left or are closed.
#[test]
fn s34_close_spares_left_and_closed_channels() {
    let (mut h, ids) = Scenario::new().connected().channel("never").joined("leaving").build();
    h.leave(ids[1]);
    assert_eq!(h.state(ids[1]), Some(ChannelState::Leaving));
    h.clear();
    h.close(Some(1006));
    assert!(transport_errors(&h.take_events()).is_empty());
    assert_eq!(h.state(ids[0]), Some(ChannelState::Closed));
    assert_eq!(h.state(ids[1]), Some(ChannelState::Leaving));
}

/// S35 no heartbeat is sent after an explicit disconnect, even after a full
/// interval (the driver has not reported the close yet).
#[test]
fn s35_no_heartbeat_after_disconnect() {
    let (mut h, _) = Scenario::new().connected().build();
    let now = h.now();
    h.session.disconnect(now, 1000, "");
    h.advance_ms(30_000);
    assert!(h.take_sent().is_empty());
}

/// S36 no heartbeat timeout fires after an explicit disconnect.
#[test]
fn s36_no_heartbeat_timeout_after_disconnect() {
    let (mut h, _) = Scenario::new().connected().build();
    h.advance_ms(30_000);
    assert_eq!(h.take_sent().len(), 1);
    let now = h.now();
    h.session.disconnect(now, 1000, "");
    h.clear();
    h.advance_ms(60_000);
    assert!(h.take_events().is_empty());
    assert_eq!(h.session.stats().heartbeat_timeouts, 0);
}

/// S37 error events carry the error and the number of connections
/// established before. Adapted: there is no transport class to pass.
#[test]
fn s37_error_event_carries_error_and_established_count() {
    let mut h = Harness::new();
    h.connect();
    h.clear();
    let now = h.now();
    let error = TransportError::failed("connection refused");
    h.session.handle_error(now, error.clone());
    assert_eq!(
        h.take_events().first(),
        Some(&Event::TransportError { error: error.clone(), established: 0 })
    );
    h.step();
    h.open();
    let now = h.now();
    h.session.handle_error(now, error.clone());
    assert_eq!(
        h.take_events().into_iter().find(|e| matches!(e, Event::TransportError { .. })),
        Some(Event::TransportError { error, established: 1 })
    );
}

/// S38 a transport error errors joining channels (opened or never opened)
/// and joined channels with `connection_error`.
#[test]
fn s38_error_errors_joining_and_joined_channels() {
    let mut h = Harness::new();
    let early = h.channel("early");
    h.join(early);
    h.connect();
    let now = h.now();
    h.session.handle_error(now, TransportError::failed("down"));
    assert_eq!(transport_errors(&h.take_events()), [TransportReason::ConnectionError]);
    assert_eq!(h.session.send_buffer_len(), 0, "the buffered join went with its attempt");

    let (mut h, _) = Scenario::new().connected().joining("a").joined("b").build();
    let now = h.now();
    h.session.handle_error(now, TransportError::failed("reset"));
    assert_eq!(transport_errors(&h.take_events()), [TransportReason::ConnectionError; 2]);
}

/// S39 a transport error does not error a channel that has left.
#[test]
fn s39_error_spares_a_channel_that_left() {
    let (mut h, ids) = Scenario::new().connected().joined("a").build();
    h.leave(ids[0]);
    h.clear();
    let now = h.now();
    h.session.handle_error(now, TransportError::failed("down"));
    assert!(transport_errors(&h.take_events()).is_empty());
}

/// S40 `[JS-only]` in phoenix.js, an error callback that swaps the transport
/// before any connection spares the channels. Adapted: rig has no transport
/// fallback; an error for a transport the session no longer has (it is
/// closed) is reported but errors nothing and schedules nothing. A fallback
/// transport would be the engine's to add.
#[test]
fn s40_error_without_a_transport_errors_nothing() {
    let mut h = Harness::new();
    let ch = h.channel("a");
    h.join(ch);
    h.clear();
    let now = h.now();
    h.session.handle_error(now, TransportError::failed("stale"));
    let events = h.take_events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(h.state(ch), Some(ChannelState::Joining));
    assert_eq!(h.session.state(), SocketState::Closed);
}

/// S41 an inbound frame reaches the channels of its topic and no other,
/// with its event, payload, ref and join_ref.
#[test]
fn s41_frames_route_by_topic() {
    let (mut h, ids) = Scenario::new().connected().joined("topic").joined("off-topic").build();
    h.server(r#"[null,"ref","topic","event","payload"]"#);
    let events = h.take_events();
    assert_eq!(events.len(), 1, "{events:?}");
    let Event::Message { channel, message } = &events[0] else { panic!("{events:?}") };
    assert_eq!(*channel, ids[0]);
    assert_eq!((&*message.event, message.payload.as_json()), ("event", Some(r#""payload""#)));
    assert_eq!((message.r#ref.clone(), message.join_ref.clone()), (Some(Ref::new("ref")), None));
}

/// S42 the decoded message has `join_ref: null` when absent. Adapted: the
/// socket-level message callback is the `Message` event.
#[test]
fn s42_message_join_ref_is_none_when_absent() {
    let (mut h, _) = Scenario::new().connected().joined("topic").build();
    h.server(r#"[null,null,"topic","event",{}]"#);
    let events = h.take_events();
    assert!(matches!(&events[..], [Event::Message { message, .. }] if message.join_ref.is_none()));
}

/// S43 `ping()` sends a heartbeat when connected, returns true, and reports
/// the round-trip time when the reply arrives.
#[test]
fn s43_ping_reports_round_trip_time() {
    let (mut h, _) = Scenario::new().connected().build();
    assert!(h.session.ping(h.now()));
    assert_eq!(h.take_sent(), [r#"[null,"1","phoenix","heartbeat",{}]"#]);
    h.advance_ms(100);
    h.reply("1", "ok", "{}");
    let rtt = Event::Rtt { rtt: Duration::from_millis(100), kind: RttKind::Ping };
    assert_eq!(h.take_events(), [rtt]);
}

/// S44 `ping()` returns false when not connected.
#[test]
fn s44_ping_is_false_when_not_connected() {
    let mut h = Harness::new();
    assert!(!h.session.ping(h.now()));
    h.connect();
    assert!(!h.session.ping(h.now()));
    assert!(h.take_sent().is_empty());
}

/// S45 the default encoder writes `["1","2","topic","join",{"foo":"bar"}]`
/// and the decoder inverts it.
#[test]
fn s45_default_codec_roundtrips() {
    let ser = V2Serializer::default();
    let msg = Message::new(
        Some(Ref::new("1")),
        Some(Ref::new("2")),
        "topic",
        "join",
        Payload::json(r#"{"foo":"bar"}"#),
    );
    let frame = ser.encode(&msg).unwrap();
    assert_eq!(frame, Frame::text(r#"["1","2","topic","join",{"foo":"bar"}]"#));
    assert_eq!(ser.decode(frame).unwrap(), msg);
}

#[derive(Debug)]
struct Shouting;

impl Serializer for Shouting {
    fn vsn(&self) -> &'static str {
        "9.9.9"
    }
    fn encode(&self, msg: &Message) -> Result<Frame, EncodeError> {
        let mut loud = msg.clone();
        loud.event = loud.event.to_uppercase().into();
        V2Serializer::default().encode(&loud)
    }
    fn decode(&self, frame: Frame) -> Result<Message, DecodeError> {
        V2Serializer::default().decode(frame)
    }
}

/// S46 a custom encoder/decoder is honoured. Adapted: a pluggable
/// [`Serializer`]; its vsn goes in the URL and every frame goes through it.
#[test]
fn s46_custom_serializer_is_honoured() {
    let (mut h, ids) =
        Scenario::new().config(|b| b.serializer(Shouting)).connected().joined("t").build();
    assert!(h.history.iter().any(|m| &*m.event == "PHX_JOIN"));
    h.push(ids[0], "hi", "{}");
    assert_eq!(h.take_sent(), [r#"["1","2","t","HI",{}]"#]);
    let mut fresh = Harness::with(|b| b.serializer(Shouting));
    fresh.connect();
    assert!(fresh.session.wants_connect().unwrap().url().ends_with("vsn=9.9.9"));
}

/// S47 `[JS-only]` a socket that never connected does not reconnect on a
/// visibility change. Adapted: a session that was never connected arms no
/// timer and stays closed however much time passes.
#[test]
fn s47_never_connected_session_never_reconnects() {
    let mut h = Harness::new();
    let ch = h.channel("a");
    h.join(ch);
    h.advance_ms(600_000);
    assert_eq!(h.session.state(), SocketState::Closed);
    assert!(h.session.wants_connect().is_none());
    assert_eq!(count(&h.take_events(), |e| matches!(e, Event::Connecting { .. })), 0);
}

/// S48 `[JS-only]` after an unclean close, becoming visible reconnects at
/// once; after a clean close it does not. Adapted: the engine's "wake up"
/// is `connect()`: during a scheduled reconnect it connects at once, and
/// after a clean close no reconnect is pending.
#[test]
fn s48_connect_during_backoff_connects_at_once() {
    let (mut h, _) = Scenario::new()
        .config(|b| {
            b.reconnect_backoff(crate::protocol::Backoff::constant(Duration::from_secs(60)))
        })
        .connected()
        .build();
    h.close(Some(1006));
    h.connect();
    assert_eq!(h.session.state(), SocketState::Connecting);
    assert_eq!(h.session.wants_connect().map(|r| r.attempt()), Some(0));
    h.open();
    let now = h.now();
    h.session.disconnect(now, 1000, "");
    h.close(Some(1000));
    h.clear();
    h.advance_ms(120_000);
    assert_eq!(h.session.state(), SocketState::Closed);
    assert!(h.take_events().is_empty());
}

/// S49 `[JS-only]` LongPoll fallback after a primary transport failure.
/// Adapted: rig has no LongPoll; a failing transport is retried on the same
/// endpoint with the reconnect backoff. A fallback transport would be the
/// engine's to add.
#[test]
fn s49_failing_transport_is_retried_with_backoff() {
    let mut h = Harness::new();
    h.connect();
    let mut delays = Vec::new();
    for _ in 0..4 {
        let now = h.now();
        h.session.handle_error(now, TransportError::failed("connect failed"));
        let at = h.session.poll_timeout().unwrap();
        delays.push(at.saturating_duration_since(h.now()).as_millis());
        h.step();
        assert!(h.session.wants_connect().unwrap().url().ends_with("/socket/websocket?vsn=2.0.0"));
    }
    assert_eq!(delays, [10, 50, 100, 150]);
}
