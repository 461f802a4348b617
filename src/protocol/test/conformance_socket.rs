//! CONFORMANCE.md §1 Socket, S01–S18: construction, URL, connect,
//! disconnect, channels, pushes and the send buffer. Scenarios ported from phoenix.js
//! `assets/test/socket_test.js` (phoenixframework/phoenix, MIT), not its code.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::harness::{ENDPOINT, Harness, Scenario, count};
use crate::protocol::{
    Backoff, ChannelState, ConfigError, Event, Payload, SessionConfig, SocketState,
};

fn url(h: &Harness) -> String {
    h.session.wants_connect().expect("connecting").url().to_owned()
}

/// S01 defaults. Adapted: phoenix.js's longpoll timeout, `binaryType` and
/// logger have no counterpart (no LongPoll transport; binary payloads are
/// always bytes; logging goes through the `log` facade).
#[test]
fn s01_defaults_are_phoenix_js_defaults() {
    let mut h = Harness::new();
    let c = h.session.config();
    assert_eq!(c.timeout(), Duration::from_secs(10));
    assert_eq!(c.heartbeat_interval(), Duration::from_secs(30));
    assert_eq!(c.heartbeat_timeout(), Duration::from_secs(30));
    assert_eq!(c.reconnect_backoff(), &Backoff::reconnect());
    assert_eq!(c.rejoin_backoff(), &Backoff::rejoin());
    assert_eq!(c.serializer().vsn(), "2.0.0");
    assert_eq!((c.max_reconnect_attempts(), c.join_errors_fatal()), (None, false));
    assert_eq!(h.session.channels().count(), 0);
    assert_eq!(h.session.send_buffer_len(), 0);
    h.connect();
    assert_eq!(url(&h), format!("{ENDPOINT}/websocket?vsn=2.0.0"));
    h.open();
    assert!(h.session.ping(h.now()));
    assert_eq!(
        h.take_sent(),
        [r#"[null,"1","phoenix","heartbeat",{}]"#],
        "the ref counter starts at 0"
    );
}

/// S02 options override the defaults. Adapted: the transport and logger
/// options are JS-only; the serializer option is S46.
#[test]
fn s02_options_override_defaults() {
    let custom = Backoff::constant(Duration::from_secs(100));
    let backoff = custom.clone();
    let mut h = Harness::with(move |b| {
        b.timeout(Duration::from_secs(40))
            .heartbeat_interval(Duration::from_secs(60))
            .reconnect_backoff(backoff)
            .params([("one", "two")])
    });
    let c = h.session.config();
    assert_eq!(c.timeout(), Duration::from_secs(40));
    assert_eq!(
        (c.heartbeat_interval(), c.heartbeat_timeout()),
        (Duration::from_secs(60), Duration::from_secs(60))
    );
    assert_eq!(c.reconnect_backoff(), &custom);
    h.connect();
    assert_eq!(url(&h), format!("{ENDPOINT}/websocket?one=two&vsn=2.0.0"));
}

/// S03 params given as a function are evaluated each time the URL is built.
#[test]
fn s03_params_function_is_evaluated_on_every_connect() {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&calls);
    let mut h = Harness::with(move |b| {
        b.params_fn(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            vec![("n".to_owned(), n.to_string())]
        })
    });
    h.connect();
    assert_eq!(url(&h), format!("{ENDPOINT}/websocket?n=1&vsn=2.0.0"));
    h.open();
    h.close(Some(1006));
    assert!(h.step(), "reconnect timer");
    assert_eq!(url(&h), format!("{ENDPOINT}/websocket?n=2&vsn=2.0.0"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// S04 `<endpoint>/websocket?<params>&vsn=2.0.0`. Adapted: relative and
/// protocol-relative endpoints are rejected (there is no page to inherit a
/// scheme from); the suffix and the vsn rule stand.
#[test]
fn s04_endpoint_url_gets_websocket_suffix_params_and_vsn() {
    let mut h = Harness::with(|b| b.params([("token", "secret")]));
    h.connect();
    assert_eq!(url(&h), "ws://127.0.0.1:4000/socket/websocket?token=secret&vsn=2.0.0");
    for relative in ["/socket", "//example.org/chat"] {
        let err = SessionConfig::builder(relative).build().unwrap_err();
        assert!(matches!(err, ConfigError::InvalidEndpoint { .. }), "{relative}");
    }
    let mut h =
        Harness::from_config(SessionConfig::builder("wss://example.org/chat").build().unwrap());
    h.connect();
    assert_eq!(url(&h), "wss://example.org/chat/websocket?vsn=2.0.0");
}

/// S05 `connect()` asks the driver for a transport to the endpoint URL.
#[test]
fn s05_connect_asks_for_a_transport_to_the_endpoint_url() {
    let mut h = Harness::new();
    assert!(h.session.wants_connect().is_none());
    h.connect();
    assert_eq!(h.session.state(), SocketState::Connecting);
    assert_eq!(url(&h), format!("{ENDPOINT}/websocket?vsn=2.0.0"));
    assert_eq!(h.take_events(), [Event::Connecting { attempt: 0 }]);
}

/// S06 `connect()` is idempotent while a connection exists.
#[test]
fn s06_connect_is_idempotent() {
    let mut h = Harness::new();
    h.connect();
    let first = h.session.wants_connect().cloned();
    h.connect();
    assert_eq!(h.session.wants_connect().cloned(), first);
    h.open();
    h.connect();
    assert_eq!(h.session.state(), SocketState::Open);
    assert!(h.session.wants_connect().is_none());
    assert_eq!(count(&h.take_events(), |e| matches!(e, Event::Connecting { .. })), 1);
}

/// S07 open, close, error and message events fire for the matching
/// transport events, and messages come decoded.
#[test]
fn s07_transport_events_map_to_session_events() {
    let (mut h, ids) = Scenario::new().connected().joined("topic").build();
    h.server(r#"[null,null,"topic","event",{"x":"payload"}]"#);
    let events = h.take_events();
    let Some(Event::Message { channel, message }) = events.first() else { panic!("{events:?}") };
    assert_eq!(
        (*channel, &*message.event, message.payload.as_json()),
        (ids[0], "event", Some(r#"{"x":"payload"}"#))
    );
    h.close(Some(1001));
    assert!(h.take_events().contains(&Event::Closed { code: Some(1001), reason: "".into() }));
    h.step();
    assert_eq!(h.session.state(), SocketState::Connecting);
    let now = h.now();
    h.session.handle_error(now, crate::protocol::TransportError::failed("refused"));
    let events = h.take_events();
    assert!(events.iter().any(|e| matches!(e, Event::TransportError { .. })), "{events:?}");
    h.step();
    h.open();
    assert!(h.take_events().contains(&Event::Open));
}

/// S08 the auth token travels as a subprotocol; a token function is read
/// again on every reconnect.
#[test]
fn s08_auth_token_subprotocol_is_reread_on_reconnect() {
    let tokens = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&tokens);
    let mut h = Harness::with(move |b| {
        b.auth_token_fn(move || format!("token-{}", counter.fetch_add(1, Ordering::SeqCst)))
    });
    h.connect();
    // base64("token-0") = "dG9rZW4tMA==", sent without padding.
    assert_eq!(
        h.session.wants_connect().unwrap().protocols(),
        ["phoenix", "base64url.bearer.phx.dG9rZW4tMA"]
    );
    h.open();
    h.close(None);
    h.step();
    assert_eq!(
        h.session.wants_connect().unwrap().protocols(),
        ["phoenix", "base64url.bearer.phx.dG9rZW4tMQ"]
    );
    let plain = Harness::new();
    assert!(plain.session.wants_connect().is_none());
}

/// S09 `disconnect()` drops the connection and its completion is reported
/// once. Adapted: the "callback" is the single `Closed` event that follows
/// the driver's `handle_close`.
#[test]
fn s09_disconnect_removes_the_connection_once() {
    let (mut h, _) = Scenario::new().connected().build();
    let now = h.now();
    h.session.disconnect(now, 1000, "");
    assert_eq!(h.session.state(), SocketState::Closing);
    h.close(Some(1000));
    assert_eq!(h.session.state(), SocketState::Closed);
    assert!(h.session.wants_connect().is_none());
    let events = h.take_events();
    assert_eq!(count(&events, |e| matches!(e, Event::Closed { .. })), 1, "{events:?}");
    h.close(Some(1000));
    assert!(h.take_events().is_empty(), "a late close is ignored");
}

/// S10 `disconnect(code, reason)` hands both to the transport close.
#[test]
fn s10_disconnect_passes_code_and_reason() {
    let (mut h, _) = Scenario::new().connected().build();
    let now = h.now();
    h.session.disconnect(now, 1000, "reason");
    assert_eq!(h.take_events(), [Event::CloseTransport { code: 1000, reason: "reason".into() }]);
}

/// S11 `disconnect()` with no connection does nothing and does not fail.
#[test]
fn s11_disconnect_without_connection_is_harmless() {
    let mut h = Harness::new();
    let now = h.now();
    h.session.disconnect(now, 1000, "");
    assert_eq!(h.session.state(), SocketState::Closed);
    assert!(h.take_events().is_empty());
    assert_eq!(h.session.poll_timeout(), None);
}

/// S12 `connect()` during a pending teardown: the old transport's close must
/// not close the new one, one connection results. Adapted: the session has
/// one transport at a time, so it waits for the old one's `handle_close` and
/// then asks for the new one; the disconnect still completes (`Closed`).
#[test]
fn s12_connect_during_teardown_connects_after_the_close() {
    let (mut h, _) = Scenario::new().connected().build();
    let now = h.now();
    h.session.disconnect(now, 1000, "");
    h.connect();
    assert_eq!(h.session.state(), SocketState::Closing);
    assert!(h.session.wants_connect().is_none(), "not while the old transport exists");
    h.close(Some(1000));
    assert_eq!(h.session.state(), SocketState::Connecting);
    assert_eq!(h.session.wants_connect().map(|r| r.generation()), Some(2));
    h.open();
    let events = h.take_events();
    assert_eq!(count(&events, |e| matches!(e, Event::Closed { .. })), 1);
    assert_eq!(count(&events, |e| *e == Event::Open), 1);
    assert_eq!(h.session.state(), SocketState::Open);
}

/// S13 a second `disconnect()` during a pending teardown wins: everything
/// closes. Adapted: both disconnects complete with the one `Closed` event,
/// and the `connect()` made in between is cancelled.
#[test]
fn s13_second_disconnect_during_teardown_closes_everything() {
    let (mut h, _) = Scenario::new().connected().build();
    let now = h.now();
    h.session.disconnect(now, 1000, "first");
    h.connect();
    h.session.disconnect(now, 1000, "second");
    h.close(Some(1000));
    assert_eq!(h.session.state(), SocketState::Closed);
    assert!(h.session.wants_connect().is_none());
    assert_eq!(h.session.poll_timeout(), None);
    let events = h.take_events();
    assert_eq!(count(&events, |e| matches!(e, Event::CloseTransport { .. })), 1);
    assert_eq!(count(&events, |e| matches!(e, Event::Closed { .. })), 1);
}

/// S14 connection states, and `is_connected` only when open. Adapted: the
/// states come from the session's own lifecycle, not a `readyState`.
#[test]
fn s14_connection_states() {
    let mut h = Harness::new();
    let state = |h: &Harness| (h.session.state().as_str(), h.session.is_connected());
    assert_eq!(state(&h), ("closed", false));
    h.connect();
    assert_eq!(state(&h), ("connecting", false));
    h.open();
    assert_eq!(state(&h), ("open", true));
    let now = h.now();
    h.session.disconnect(now, 1000, "");
    assert_eq!(state(&h), ("closing", false));
    h.close(Some(1000));
    assert_eq!(state(&h), ("closed", false));
}

/// S15 `channel(topic, params)` registers a channel bound to the session.
#[test]
fn s15_channel_registers_with_topic_and_params() {
    let mut h = Harness::new();
    let ch = h.session.channel("topic", Payload::json(r#"{"one":"two"}"#));
    assert_eq!(h.session.channels().collect::<Vec<_>>(), [ch]);
    let info = h.session.channel_info(ch).unwrap();
    assert_eq!((info.topic(), info.state()), ("topic", ChannelState::Closed));
    h.connect_open();
    h.join(ch);
    assert_eq!(h.take_sent(), [r#"["1","1","topic","phx_join",{"one":"two"}]"#]);
}

/// S16 `remove(channel)` unregisters it, and its socket-level hooks: the
/// next socket open does not rejoin it.
#[test]
fn s16_remove_unregisters_the_channel_and_its_hooks() {
    let (mut h, ids) = Scenario::new().connected().errored("topic-1").joined("topic-2").build();
    h.close(Some(1006));
    assert!(h.session.remove(ids[0]));
    assert_eq!(h.session.channels().collect::<Vec<_>>(), [ids[1]]);
    h.step();
    h.open();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains(r#""topic-2","phx_join""#), "{sent:?}");
}

/// S17 a push on a joined channel is sent at once when connected.
#[test]
fn s17_push_sends_at_once_when_connected() {
    let (mut h, ids) = Scenario::new().connected().joined("topic").build();
    h.push(ids[0], "event", r#""payload""#);
    assert_eq!(h.take_sent(), [r#"["1","2","topic","event","payload"]"#]);
}

/// S18 while not connected, frames are buffered and later send the exact
/// same frame.
#[test]
fn s18_buffered_frames_send_the_same_frame_on_open() {
    let mut h = Harness::new();
    let ch = h.channel("topic");
    h.connect();
    h.join(ch);
    assert!(h.take_sent().is_empty());
    assert_eq!(h.session.send_buffer_len(), 1);
    h.open();
    assert_eq!(h.take_sent(), [r#"["1","1","topic","phx_join",{}]"#]);
}
