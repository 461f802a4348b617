//! Every data frame of every real Phoenix transcript, through our serializers.
//!
//! - `in` rows (server → client): the client decoder accepts them, and the
//!   server encoder turns the decoded message back into the exact bytes
//!   Phoenix sent.
//! - `out` rows (client → server): the server-side decoder accepts them, and
//!   the client encoder gives back the exact bytes, except for the probes in
//!   [`OUT_EXCEPTIONS`], each listed with its reason.
//! - Binary rows carry a `decoded` description (kind, refs, topic,
//!   event/status, payload hex) that must match what we decode.
//!
//! The fuzz seeds in `fuzz/seeds/` are checked and replayed here too, so the
//! seed corpus runs on stable without cargo-fuzz.

use std::path::{Path, PathBuf};

use crate::protocol::serializer::fuzzing;
use crate::protocol::test::fixtures::{self, Row, Transcript};
use crate::protocol::{
    DecodeError, Frame, Message, Payload, Ref, Serializer, ServerSerializer, V1Serializer,
    V2Serializer, events,
};

/// What a listed `out` row must do instead of roundtripping byte for byte.
enum Expect {
    /// The server-side decoder refuses it with this error.
    Rejected(fn(&DecodeError) -> bool),
    /// It decodes with a numeric ref; our encoder writes it compactly.
    NumericRef { reencoded: &'static str },
}

/// `out` rows that are deliberately not what a client encoder produces.
struct Exception {
    file: &'static str,
    row: u32,
    why: &'static str,
    expect: Expect,
}

const OUT_EXCEPTIONS: &[Exception] = &[
    Exception {
        file: "malformed.jsonl",
        row: 3,
        why: "text that is not JSON (Phoenix closes with 1011)",
        expect: Expect::Rejected(|e| matches!(e, DecodeError::Json { .. })),
    },
    Exception {
        file: "malformed.jsonl",
        row: 7,
        why: "a V1 object sent to a V2 socket (Phoenix closes with 1011)",
        expect: Expect::Rejected(
            |e| matches!(e, DecodeError::Shape { expected: "a JSON array", got } if got == "map"),
        ),
    },
    Exception {
        file: "malformed.jsonl",
        row: 11,
        why: "an array of 4 elements (Phoenix closes with 1011)",
        expect: Expect::Rejected(|e| *e == DecodeError::Arity { got: 4 }),
    },
    Exception {
        file: "malformed.jsonl",
        row: 15,
        why: "a numeric ref written with spaces: accepted (Phoenix echoes the number)",
        expect: Expect::NumericRef { reencoded: r#"[null,1,"phoenix","heartbeat",{}]"# },
    },
    Exception {
        file: "malformed.jsonl",
        row: 23,
        why: "a binary frame of kind 7 (Phoenix closes with 1011)",
        expect: Expect::Rejected(|e| *e == DecodeError::UnknownKind { kind: 7 }),
    },
    Exception {
        file: "malformed.jsonl",
        row: 27,
        why: "a binary push header cut after 3 of its 5 bytes (Phoenix closes with 1011)",
        expect: Expect::Rejected(|e| *e == DecodeError::Truncated { need: 5, have: 3 }),
    },
    Exception {
        file: "v1_serializer.jsonl",
        row: 21,
        why: "a V2 array sent to a V1 socket (Phoenix closes with 1011)",
        expect: Expect::Rejected(
            |e| matches!(e, DecodeError::Shape { expected: "a JSON object", got } if got == "an array"),
        ),
    },
    Exception {
        file: "v1_binary.jsonl",
        row: 3,
        why: "a binary frame sent to a V1 socket (Phoenix closes with 1011)",
        expect: Expect::Rejected(|e| *e == DecodeError::BinaryUnsupported { vsn: "1.0.0" }),
    },
];

/// The serializer pair a transcript was recorded with.
fn codec(t: &Transcript) -> (Box<dyn Serializer>, Box<dyn ServerSerializer>) {
    if t.is_v1() {
        (Box::new(V1Serializer::default()), Box::new(V1Serializer::default()))
    } else {
        (Box::new(V2Serializer::default()), Box::new(V2Serializer::default()))
    }
}

fn exception(t: &Transcript, row: &Row) -> Option<&'static Exception> {
    OUT_EXCEPTIONS.iter().find(|e| e.file == t.name && e.row == row.i)
}

fn frame_rows<'a>(t: &'a Transcript, dir: &'a str) -> impl Iterator<Item = (&'a Row, Frame)> {
    t.rows.iter().filter(move |r| r.is_frame(dir)).filter_map(|r| Some((r, r.frame()?)))
}

#[test]
fn every_in_row_decodes_and_reencodes_byte_for_byte() {
    let mut checked = 0;
    for t in fixtures::all() {
        let (client, server) = codec(&t);
        for (row, frame) in frame_rows(&t, "in") {
            let at = format!("{} row {}", t.name, row.i);
            let msg = client.decode(frame.clone()).unwrap_or_else(|e| panic!("{at}: {e}"));
            let again = server.encode_server(&msg).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(again, frame, "{at}: {msg:?}");
            checked += 1;
        }
    }
    assert!(checked >= 90, "only {checked} in rows");
}

#[test]
fn every_out_row_decodes_and_reencodes_byte_for_byte_except_listed_probes() {
    let mut checked = 0;
    let mut exceptions_seen = 0;
    for t in fixtures::all() {
        let (client, server) = codec(&t);
        for (row, frame) in frame_rows(&t, "out") {
            let at = format!("{} row {}", t.name, row.i);
            let decoded = server.decode_client(frame.clone());
            match exception(&t, row) {
                None => {
                    let msg = decoded.unwrap_or_else(|e| panic!("{at}: {e}"));
                    let again = client.encode(&msg).unwrap_or_else(|e| panic!("{at}: {e}"));
                    assert_eq!(again, frame, "{at}: {msg:?}");
                    checked += 1;
                }
                Some(Exception { expect: Expect::Rejected(is_expected), why, .. }) => {
                    let err = decoded.expect_err(&at);
                    assert!(is_expected(&err), "{at} ({why}): unexpected error {err:?}");
                    exceptions_seen += 1;
                }
                Some(Exception { expect: Expect::NumericRef { reencoded }, why, .. }) => {
                    let msg = decoded.unwrap_or_else(|e| panic!("{at} ({why}): {e}"));
                    assert_eq!(msg.r#ref, Some(Ref::number("1")), "{at}");
                    assert!(msg.r#ref.as_ref().is_some_and(Ref::is_number));
                    assert_eq!(client.encode(&msg).unwrap(), Frame::text(*reencoded), "{at}");
                    exceptions_seen += 1;
                }
            }
        }
    }
    assert_eq!(exceptions_seen, OUT_EXCEPTIONS.len(), "an exception names no frame row");
    assert!(checked >= 63, "only {checked} out rows");
}

#[test]
fn rejected_probes_are_the_ones_phoenix_closed_with_1011() {
    for t in fixtures::all() {
        for (pos, row) in t.rows.iter().enumerate() {
            let Some(e) = exception(&t, row) else { continue };
            let reply = t.rows.iter().skip(pos + 1).find(|r| r.dir == "in" && r.conn == row.conn);
            let closed = reply.is_some_and(|r| r.opcode.as_deref() == Some("close"));
            let rejected = matches!(e.expect, Expect::Rejected(_));
            assert_eq!(closed, rejected, "{} row {}: {}", t.name, row.i, e.why);
            if closed {
                assert_eq!(reply.and_then(|r| r.code), Some(1011), "{} row {}", t.name, row.i);
            }
        }
    }
}

#[test]
fn binary_rows_match_their_decoded_descriptions() {
    let mut checked = 0;
    for t in fixtures::all() {
        let (client, server) = codec(&t);
        for row in t.rows.iter().filter(|r| r.opcode.as_deref() == Some("binary")) {
            let at = format!("{} row {}", t.name, row.i);
            let (Some(Frame::Binary(bytes)), Some(desc)) = (row.frame(), &row.decoded) else {
                panic!("{at}: a binary row without bytes or description");
            };
            let decoded = match row.dir.as_str() {
                "in" => client.decode(Frame::Binary(bytes.clone())),
                _ => server.decode_client(Frame::Binary(bytes.clone())),
            };
            if desc["undecodable"] == true || t.is_v1() {
                assert!(decoded.is_err(), "{at}: {decoded:?}");
                continue;
            }
            let msg = decoded.unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_description(&at, desc, bytes.first().copied(), &msg);
            checked += 1;
        }
    }
    assert!(checked >= 11, "only {checked} binary rows");
}

fn assert_description(at: &str, desc: &serde_json::Value, kind: Option<u8>, msg: &Message) {
    let text = |key: &str| desc.get(key).and_then(|v| v.as_str());
    let a_ref = |key: &str| text(key).filter(|s| !s.is_empty()).map(Ref::new);
    assert_eq!(desc["kind"].as_u64(), kind.map(u64::from), "{at}: kind byte");
    assert_eq!(msg.join_ref, a_ref("join_ref"), "{at}: join_ref");
    assert_eq!(msg.r#ref, a_ref("ref"), "{at}: ref");
    assert_eq!(Some(&*msg.topic), text("topic"), "{at}: topic");
    let payload = match (&msg.payload, text("status")) {
        (Payload::BinaryReply { status, response }, Some(expected)) => {
            assert_eq!(&**status, expected, "{at}: status");
            assert!(msg.is_event(events::REPLY), "{at}: event");
            assert_eq!(desc["kind_name"], "reply", "{at}");
            response
        }
        (Payload::Binary(bytes), None) => {
            assert_eq!(Some(&*msg.event), text("event"), "{at}: event");
            bytes
        }
        (other, status) => panic!("{at}: payload {other:?} with status {status:?}"),
    };
    let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(Some(hex.as_str()), text("payload_hex"), "{at}: payload");
}

// ---- fuzz seeds ---------------------------------------------------------------

const SEED_TARGETS: [&str; 3] = ["decode_v2_json", "decode_binary", "decode_v1"];

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds")
}

/// The seed file a fixture frame row must have: `<target>/<transcript>.<row>`.
fn seed_path(t: &Transcript, row: &Row, frame: &Frame) -> PathBuf {
    let target = match frame {
        Frame::Binary(_) => "decode_binary",
        Frame::Text(_) if t.is_v1() => "decode_v1",
        Frame::Text(_) => "decode_v2_json",
    };
    let stem = t.name.trim_end_matches(".jsonl");
    seeds_dir().join(target).join(format!("{stem}.{}", row.i))
}

fn frame_bytes(frame: &Frame) -> &[u8] {
    match frame {
        Frame::Text(text) => text.as_bytes(),
        Frame::Binary(bytes) => bytes,
    }
}

/// Every fixture frame is a seed of the target that decodes its kind of
/// frame. Run with `RIG_WRITE_SEEDS=1` to write missing seed files.
#[test]
fn fuzz_seeds_cover_every_fixture_frame() {
    let write = std::env::var_os("RIG_WRITE_SEEDS").is_some();
    let mut missing = Vec::new();
    for t in fixtures::all() {
        for row in t.rows.iter().filter(|r| r.is_frame("in") || r.is_frame("out")) {
            let Some(frame) = row.frame() else { continue };
            let path = seed_path(&t, row, &frame);
            if std::fs::read(&path).ok().as_deref() == Some(frame_bytes(&frame)) {
                continue;
            }
            if write {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, frame_bytes(&frame)).unwrap();
            } else {
                missing.push(path);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "missing or stale seeds (RIG_WRITE_SEEDS=1 writes them): {missing:?}"
    );
}

fn seed_files(target: &str) -> Vec<PathBuf> {
    let dir = seeds_dir().join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or_default()
}

/// A fuzz target's body.
type Oracle = fn(&[u8]) -> fuzzing::Accepted;

/// Replays the committed corpus through every oracle (the fuzz targets run
/// the same functions): no panic, no broken roundtrip. Fixture seeds must be
/// accepted by their own target's decoders, hand-written `malformed-*` seeds
/// must be refused by them.
#[test]
fn every_fuzz_seed_replays_through_the_oracles() {
    let oracles: [(&str, Oracle); 3] = [
        ("decode_v2_json", fuzzing::decode_v2_json),
        ("decode_binary", fuzzing::decode_binary),
        ("decode_v1", fuzzing::decode_v1),
    ];
    assert_eq!(oracles.map(|(n, _)| n), SEED_TARGETS);
    for (target, own_oracle) in oracles {
        // The probes Phoenix refused; a V1 socket's binary probe is a valid V2
        // push, so the binary target accepts it (its oracle checks V1 refuses it).
        let probes: Vec<String> = OUT_EXCEPTIONS
            .iter()
            .filter(|e| matches!(e.expect, Expect::Rejected(_)))
            .filter(|e| !(e.file.starts_with("v1_") && target == "decode_binary"))
            .map(|e| format!("{}.{}", e.file.trim_end_matches(".jsonl"), e.row))
            .collect();
        let files = seed_files(target);
        assert!(files.len() >= 5, "{target}: only {} seeds", files.len());
        for path in &files {
            let data = std::fs::read(path).unwrap();
            for (_, oracle) in oracles {
                oracle(&data);
            }
            let accepted = own_oracle(&data).any();
            let should_accept =
                !name(path).starts_with("malformed-") && !probes.iter().any(|p| p == name(path));
            assert_eq!(accepted, should_accept, "{target}/{}", name(path));
        }
    }
}
