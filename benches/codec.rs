//! Codec benchmark: decode and encode of the messages a client sees most,
//! each group beside raw serde_json baselines over the same text, so the
//! result reads as a ratio:
//!
//! - `serde_value`: `serde_json::from_str::<serde_json::Value>` (a full parse
//!   into an owned tree, what a naive client does), and
//! - `serde_tuple_raw`: `serde_json::from_str::<(Option<&str>, Option<&str>,
//!   &str, &str, &RawValue)>` (borrowed envelope, payload left raw: the
//!   least work serde_json can do to split a V2 message).
//!
//! Encode groups compare with `serde_json::to_string` of the same borrowed
//! tuple. Binary groups (V2 kinds 0 and 1) have no text of their own, so their
//! baselines parse the JSON text of the same message: how much cheaper the
//! binary layout is than the text one.
//!
//! `codec/typed_broadcast` reads the broadcast into a borrowing struct:
//! rig's decode plus [`Message::decode`] against `serde_json::from_str` of
//! the same frame into a typed tuple; `rig_payload_decode_typed` is the
//! payload decode alone, on a message rig-io already decoded and routed,
//! against `serde_json::from_str` of the payload's text into the struct.
//! The group ends with a line of ratios measured in turn.
//!
//! Decoding takes a [`Frame`] by value; each iteration clones it (an atomic
//! reference count bump, no copy of the bytes).
//!
//! Run with `cargo bench --bench codec`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark fails loudly and prints its ratios"
)]

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use rig::protocol::{
    Frame, Message, Payload, Ref, Serializer, ServerSerializer, V1Serializer, V2Serializer,
};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The borrowed V2 envelope with the payload left raw.
type RawTuple<'a> = (Option<&'a str>, Option<&'a str>, &'a str, &'a str, &'a RawValue);

const STREAM_EVENT: &str = r#"["1",null,"stream:x","event",{"seq":123,"t":1795524420280334}]"#;
const REPLY: &str = r#"["1","2","room:lobby","phx_reply",{"response":{"n":1},"status":"ok"}]"#;
const BROADCAST: &str = r#"[null,null,"room:lobby","shout",{"text":"hello","user":"ann"}]"#;

/// A V2 text message whose payload is about 1 KiB of JSON.
fn payload_1k_text() -> String {
    let filler = "x".repeat(1000);
    format!(r#"["1",null,"stream:x","event",{{"seq":123,"blob":"{filler}"}}]"#)
}

/// The raw baselines over `text`, in the caller's group.
fn decode_baselines(group: &mut BenchmarkGroup<'_, WallTime>, text: &str) {
    group.bench_function("serde_value", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(text)).unwrap());
    });
    group.bench_function("serde_tuple_raw", |b| {
        b.iter(|| serde_json::from_str::<RawTuple<'_>>(black_box(text)).unwrap());
    });
}

/// A V2 text group: rig decode and encode, the serde baselines for both.
fn text_group(c: &mut Criterion, name: &str, text: &str) {
    let ser = V2Serializer::default();
    let frame = Frame::text(text.to_owned());
    let message = ser.decode(frame.clone()).unwrap();
    let mut group = c.benchmark_group(format!("codec/{name}"));
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("rig_v2_decode", |b| {
        b.iter(|| ser.decode(black_box(frame.clone())).unwrap());
    });
    decode_baselines(&mut group, text);
    group.bench_function("rig_v2_encode", |b| {
        b.iter(|| ser.encode_server(black_box(&message)).unwrap());
    });
    let tuple: RawTuple<'_> = serde_json::from_str(text).unwrap();
    group.bench_function("serde_tuple_raw_encode", |b| {
        b.iter(|| serde_json::to_string(black_box(&tuple)).unwrap());
    });
    group.finish();
}

/// A V2 binary group: decode and encode of `message` as a server frame,
/// baselines over the JSON text of the same message.
fn binary_group(c: &mut Criterion, name: &str, message: &Message, text_twin: &str) {
    let ser = V2Serializer::default();
    let frame = ser.encode_server(message).unwrap();
    assert!(matches!(frame, Frame::Binary(_)), "{name} must encode as a binary frame");
    assert_eq!(&ser.decode(frame.clone()).unwrap(), message, "{name} roundtrip");
    let mut group = c.benchmark_group(format!("codec/{name}"));
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function("rig_v2_binary_decode", |b| {
        b.iter(|| ser.decode(black_box(frame.clone())).unwrap());
    });
    decode_baselines(&mut group, text_twin);
    group.bench_function("rig_v2_binary_encode", |b| {
        b.iter(|| ser.encode_server(black_box(message)).unwrap());
    });
    group.finish();
}

/// A V1 object with the payload left raw: the least work serde_json can do
/// to split a V1 message.
#[derive(Deserialize)]
#[expect(dead_code, reason = "the fields are parsed, not read")]
struct RawV1<'a> {
    join_ref: Option<&'a str>,
    #[serde(rename = "ref")]
    r#ref: Option<&'a str>,
    topic: &'a str,
    event: &'a str,
    #[serde(borrow)]
    payload: &'a RawValue,
}

fn v1_group(c: &mut Criterion) {
    let text = r#"{"join_ref":"1","ref":null,"topic":"stream:x","event":"event","payload":{"seq":123,"t":1795524420280334}}"#;
    let ser = V1Serializer::default();
    let frame = Frame::text(text);
    let message = ser.decode(frame.clone()).unwrap();
    let mut group = c.benchmark_group("codec/v1_stream_event");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("rig_v1_decode", |b| {
        b.iter(|| ser.decode(black_box(frame.clone())).unwrap());
    });
    group.bench_function("serde_value", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(text)).unwrap());
    });
    group.bench_function("serde_struct_raw", |b| {
        b.iter(|| serde_json::from_str::<RawV1<'_>>(black_box(text)).unwrap());
    });
    group.bench_function("rig_v1_encode", |b| {
        b.iter(|| ser.encode_server(black_box(&message)).unwrap());
    });
    group.finish();
}

/// The broadcast's payload as an application reads it, text borrowed.
#[derive(Deserialize)]
#[expect(dead_code, reason = "the fields are parsed, not read")]
struct Shout<'a> {
    text: &'a str,
    user: &'a str,
}

/// The same V2 envelope with the payload typed: what serde_json alone does
/// to reach a `Shout`.
type TypedTuple<'a> = (Option<&'a str>, Option<&'a str>, &'a str, &'a str, Shout<'a>);

/// Typed decode: rig's envelope decode then `Message::decode` into a
/// borrowing struct, against one `serde_json::from_str` of the same frame
/// into the typed tuple; and the payload decode alone against
/// `serde_json::from_str` of the payload's text (in the frame) into the
/// struct. Prints the ratios of medians taken in turn after the group.
fn typed_group(c: &mut Criterion) {
    let ser = V2Serializer::default();
    let frame = Frame::text(BROADCAST);
    // What a consumer's thread pays: rig-io has decoded the envelope (it
    // routes by topic and event), the handler decodes the payload.
    let decoded = ser.decode(frame.clone()).unwrap();
    let payload_text = decoded.payload.as_json().unwrap();
    let mut runs: [(&str, &dyn Fn()); 4] = [
        ("rig_v2_decode_typed", &|| {
            let message = ser.decode(black_box(frame.clone())).unwrap();
            message.decode::<Shout<'_>>().map(|_| ()).unwrap();
        }),
        ("serde_tuple_typed", &|| {
            serde_json::from_str::<TypedTuple<'_>>(black_box(BROADCAST)).unwrap();
        }),
        ("rig_payload_decode_typed", &|| {
            black_box(&decoded).decode::<Shout<'_>>().map(|_| ()).unwrap();
        }),
        ("serde_payload_typed", &|| {
            serde_json::from_str::<Shout<'_>>(black_box(payload_text)).unwrap();
        }),
    ];
    let mut group = c.benchmark_group("codec/typed_broadcast");
    group.throughput(Throughput::Bytes(BROADCAST.len() as u64));
    for (name, run) in &runs {
        group.bench_function(*name, |b| b.iter(run));
    }
    group.finish();
    let medians = medians_in_turn(&mut runs);
    println!(
        "codec/typed_broadcast ratios (medians of 9 rounds taken in turn): frame to struct, \
         rig/serde_json {:.2}x ({:.0} vs {:.0} ns); payload to struct, rig/serde_json {:.2}x \
         ({:.0} vs {:.0} ns); rig's payload decode / serde_json's whole frame {:.2}x",
        medians[0] / medians[1],
        medians[0],
        medians[1],
        medians[2] / medians[3],
        medians[2],
        medians[3],
        medians[2] / medians[1],
    );
}

/// Nanoseconds per call of each run: 9 rounds, each timing 100,000 calls
/// of every run in turn, the median round of each.
#[expect(clippy::disallowed_methods, reason = "a benchmark measures wall time")]
fn medians_in_turn(runs: &mut [(&str, &dyn Fn())]) -> Vec<f64> {
    const ROUNDS: usize = 9;
    const CALLS: u32 = 100_000;
    let mut times = vec![Vec::with_capacity(ROUNDS); runs.len()];
    for _ in 0..ROUNDS {
        for ((_, run), times) in runs.iter().zip(&mut times) {
            let start = std::time::Instant::now();
            for _ in 0..CALLS {
                run();
            }
            times.push(start.elapsed().as_secs_f64() * 1e9 / f64::from(CALLS));
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[ROUNDS / 2]
        })
        .collect()
}

fn codec(c: &mut Criterion) {
    text_group(c, "stream_event", STREAM_EVENT);
    text_group(c, "reply", REPLY);
    text_group(c, "broadcast", BROADCAST);
    text_group(c, "payload_1k", &payload_1k_text());

    let body = br#"{"seq":123,"t":1795524420280334}"#.to_vec();
    let push = Message::new(
        Some(Ref::from_u64(1)),
        None,
        "stream:x",
        "event",
        Payload::binary(body.clone()),
    );
    binary_group(c, "v2_binary_push", &push, STREAM_EVENT);
    let reply = Message::new(
        Some(Ref::from_u64(1)),
        Some(Ref::from_u64(2)),
        "room:lobby",
        "phx_reply",
        Payload::BinaryReply { status: "ok".into(), response: body.into() },
    );
    binary_group(c, "v2_binary_reply", &reply, REPLY);
    v1_group(c);
    typed_group(c);
}

criterion_group!(benches, codec);
criterion_main!(benches);
