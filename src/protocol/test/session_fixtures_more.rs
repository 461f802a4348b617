//! Transcript replays, continued: presence, streams, the server idle
//! timeout, malformed frames, and a check that every transcript is covered.

use super::fixtures;
use super::harness::count;
use super::replay::Replay;
use crate::protocol::{Event, Payload, SessionConfigBuilder, SocketState};

fn secret(b: SessionConfigBuilder) -> SessionConfigBuilder {
    b.params([("token", "secret")])
}

fn messages(events: &[Event]) -> Vec<(String, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message { message, .. } => {
                Some((message.event.to_string(), message.join_ref.as_ref().map(|r| r.to_string())))
            }
            _ => None,
        })
        .collect()
}

/// Connection A's URL puts `user_id` after `vsn`; phoenix.js (and the
/// session) always put `vsn` last. Exception: A's upgrade row is not
/// replayed; the session connects with the same params in phoenix.js order.
#[test]
fn presence_replays() {
    let mut a = Replay::v2("presence.jsonl", "A", |b| {
        b.params([("token", "secret"), ("user_id", "alice")])
    });
    a.h.connect();
    let url = a.session().wants_connect().map(|r| r.url().to_owned());
    assert_eq!(
        url.as_deref(),
        Some("ws://127.0.0.1:4000/socket/websocket?token=secret&user_id=alice&vsn=2.0.0")
    );
    a.h.open();
    let lobby = a.channel_from(2);
    a.act(2, |s, now| s.join(now, lobby, None).unwrap());
    a.feed_all(&[3, 4, 5]);

    let mut b = Replay::v2("presence.jsonl", "B", secret);
    b.connect(6);
    let bob = b.channel_from(7);
    b.act(7, |s, now| s.join(now, bob, None).unwrap());
    b.feed_all(&[8, 9, 10]);
    a.feed(11).unwrap();
    let update = b.act(13, |s, now| {
        s.push(now, bob, "update", Payload::json(r#"{"status":"busy"}"#), None).unwrap()
    });
    b.feed_all(&[14, 15]);
    a.feed(16).unwrap();
    b.close(18);
    a.feed(19).unwrap();
    a.close(20);

    let diff = ("presence_diff".to_owned(), None);
    let state = ("presence_state".to_owned(), Some("1".to_owned()));
    assert_eq!(
        messages(&a.events()),
        [diff.clone(), state.clone(), diff.clone(), diff.clone(), diff.clone()]
    );
    let b_events = b.events();
    assert_eq!(messages(&b_events), [diff.clone(), state, diff]);
    assert!(super::harness::outcomes(&b_events, update).len() == 1);
}

#[test]
fn stream_replays() {
    let mut r = Replay::v2("stream.jsonl", "A", secret);
    r.connect(1);
    let small = r.channel_from(2);
    r.act(2, |s, now| s.join(now, small, None).unwrap());
    r.feed_all(&[3, 4, 5, 6, 7, 8, 9]);
    let burst = r.channel_from(10);
    r.act(10, |s, now| s.join(now, burst, None).unwrap());
    r.feed_all(&[11, 12, 13, 14, 15, 16, 17]);
    r.close(18);
    let events = r.events();
    let seqs: Vec<(u64, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message { channel, message } => {
                let v: serde_json::Value = serde_json::from_str(message.payload.as_json()?).ok()?;
                let n = v.get("seq").or_else(|| v.get("count"))?.as_u64()?;
                Some((channel.as_u64(), format!("{}{n}", message.event)))
            }
            _ => None,
        })
        .collect();
    let want =
        |ch: u64| (1..=5).map(move |n| (ch, format!("event{n}"))).chain([(ch, "done5".to_owned())]);
    assert_eq!(seqs, want(small.as_u64()).chain(want(burst.as_u64())).collect::<Vec<_>>());
}

/// The short socket closes a silent client after 2 s with 1002; that is not
/// a normal close, so the session reconnects. The default socket's 60 s idle
/// timeout is beaten by the 30 s heartbeat.
#[test]
fn idle_timeout_replays() {
    let mut r = Replay::new(
        "idle_timeout.jsonl",
        "A",
        "ws://127.0.0.1:4000/short",
        Box::new(crate::protocol::V2Serializer::default()),
        super::replay::Compare::Exact,
        secret,
    );
    r.connect(1);
    let first_timer = r.session().poll_timeout().unwrap();
    assert_eq!(
        first_timer.saturating_duration_since(r.h.now()).as_secs(),
        30,
        "heartbeat well inside 60 s"
    );
    r.server_close(3);
    let events = r.events();
    assert!(events.contains(&Event::Closed { code: Some(1002), reason: "".into() }));
    assert_eq!(count(&events, |e| matches!(e, Event::ReconnectScheduled { attempt: 1, .. })), 1);
}

/// Every case sends a frame a client never sends (not JSON, a V2 object, 4
/// elements, a numeric ref, ref "99" out of sequence, binary garbage): all
/// are exceptions. What the session must handle is the server side: the
/// 1011 closes (reconnect) and the reply with a numeric ref (no panic,
/// counted as unmatched).
#[test]
fn malformed_replays() {
    for (conn, http, out, close) in
        [("A", 2, 3, 4), ("B", 6, 7, 8), ("C", 10, 11, 12), ("E", 22, 23, 24), ("F", 26, 27, 28)]
    {
        let mut r = Replay::v2("malformed.jsonl", conn, secret);
        r.connect(http);
        r.act_buffered(out, |_, _| ());
        r.server_close(close);
        let events = r.events();
        assert!(events.contains(&Event::Closed { code: Some(1011), reason: "".into() }), "{conn}");
        assert_eq!(count(&events, |e| matches!(e, Event::ReconnectScheduled { .. })), 1, "{conn}");
    }
    let mut d = Replay::v2("malformed.jsonl", "D", secret);
    d.connect(14);
    d.feed(16).unwrap();
    d.feed(19).unwrap();
    d.close(20);
    assert_eq!(d.session().stats().unmatched_replies, 2);
    assert_eq!(d.session().state(), SocketState::Closed);
}

/// A new transcript must get a replay: this list is every file replayed.
#[test]
fn every_transcript_is_replayed() {
    let replayed = [
        "binary.jsonl",
        "close.jsonl",
        "connect_heartbeat.jsonl",
        "connect_refused.jsonl",
        "crash_rejoin.jsonl",
        "duplicate_join.jsonl",
        "echo_reply_push.jsonl",
        "idle_timeout.jsonl",
        "join_variants.jsonl",
        "malformed.jsonl",
        "presence.jsonl",
        "slow_push.jsonl",
        "stream.jsonl",
        "v1_binary.jsonl",
        "v1_serializer.jsonl",
    ];
    let names: Vec<String> = fixtures::all().into_iter().map(|t| t.name).collect();
    assert_eq!(names, replayed);
}
