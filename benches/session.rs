//! Session benchmark: the sans-IO core's inbound path, a round as rig-io
//! runs it during a burst: a read of 1000 event frames handed to
//! [`Session::handle_frame`] one by one (decode, topic routing, the
//! channel's join_ref check, an [`Event::Message`] queued), then every
//! event drained with [`Session::poll_event`]. No sockets, no threads: the
//! per-event cost of the protocol core alone. `rig_session_text_in` feeds
//! the same frames as rig-io does, slices of one buffer
//! ([`Session::handle_text`]).
//!
//! Baseline in the same group: `serde_value_route`, what a naive client does
//! with the same frames: `serde_json::Value` per frame, its topic looked up
//! in a map, the value queued and drained.
//!
//! Run with `cargo bench --bench session`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark fails loudly")]

use std::collections::{HashMap, VecDeque};
use std::hint::black_box;

use bytestring::ByteString;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rig::protocol::{Event, Frame, Payload, Session, SessionConfig};
use rig::time::Clock;

const ROUND: usize = 1000;

/// A session with `stream:x` joined, its join reply handled and its
/// events drained.
fn joined_session(clock: &Clock) -> Session {
    let config = SessionConfig::builder("ws://h/socket").build().unwrap();
    let mut session = Session::new(config, clock.now());
    let channel = session.channel("stream:x", Payload::empty());
    session.join(clock.now(), channel, None).unwrap();
    session.connect(clock.now());
    session.handle_open(clock.now());
    let reply = r#"["1","1","stream:x","phx_reply",{"status":"ok","response":{}}]"#;
    session.handle_frame(clock.now(), Frame::text(reply)).unwrap();
    while session.poll_event().is_some() {}
    session
}

/// Drains every event; how many were messages.
fn drain(session: &mut Session) -> usize {
    let mut messages = 0;
    while let Some(event) = session.poll_event() {
        messages += usize::from(matches!(event, Event::Message { .. }));
        black_box(&event);
    }
    messages
}

fn burst_round(c: &mut Criterion) {
    let (clock, _mock) = Clock::mock();
    let frames: Vec<Frame> = (0..ROUND)
        .map(|seq| {
            Frame::text(format!(
                r#"["1",null,"stream:x","event",{{"seq":{seq},"t":1795524420280334}}]"#
            ))
        })
        .collect();
    let mut group = c.benchmark_group("session/burst_round");
    group.throughput(Throughput::Elements(ROUND as u64));
    let mut session = joined_session(&clock);
    group.bench_function("rig_session", |b| {
        b.iter(|| {
            for frame in &frames {
                session.handle_frame(clock.now(), frame.clone()).unwrap();
            }
            assert_eq!(drain(&mut session), ROUND);
        });
    });
    // As rig-io feeds it: the read's frames back to back in one buffer,
    // each handed over as a slice of it.
    let texts: Vec<String> = frames
        .iter()
        .map(|f| match f {
            Frame::Text(text) => text.to_string(),
            Frame::Binary(_) => unreachable!("text only"),
        })
        .collect();
    // A shared handle, as rig-io's chunk makes (src/engine/io/frames.rs).
    let buffer = ByteString::from(texts.concat());
    let buffer = buffer.slice_ref(&buffer);
    group.bench_function("rig_session_text_in", |b| {
        b.iter(|| {
            let mut at = 0;
            for text in &texts {
                let frame = &buffer[at..at + text.len()];
                session.handle_text(clock.now(), &buffer, frame).unwrap();
                at += text.len();
            }
            assert_eq!(drain(&mut session), ROUND);
        });
    });
    let texts: Vec<String> = frames
        .iter()
        .map(|f| match f {
            Frame::Text(text) => text.to_string(),
            Frame::Binary(_) => unreachable!("text frames only"),
        })
        .collect();
    let channels: HashMap<String, usize> = [("stream:x".to_owned(), 0)].into();
    let mut queue = VecDeque::new();
    group.bench_function("serde_value_route", |b| {
        b.iter(|| {
            for text in &texts {
                let value: serde_json::Value = serde_json::from_str(text).unwrap();
                let topic = value.get(2).and_then(serde_json::Value::as_str).unwrap();
                let channel = *channels.get(topic).unwrap();
                queue.push_back((channel, value));
            }
            let mut messages = 0;
            while let Some(event) = queue.pop_front() {
                messages += 1;
                black_box(&event);
            }
            assert_eq!(messages, ROUND);
        });
    });
    group.finish();
}

criterion_group!(benches, burst_round);
criterion_main!(benches);
