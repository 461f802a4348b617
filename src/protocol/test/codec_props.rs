//! Property tests for the serializers: no decoder panics on any input, and
//! every encoder/decoder pair roundtrips arbitrary messages.
//!
//! The "any input" properties run the fuzz oracles
//! ([`crate::protocol::serializer::fuzzing`]), so they also check that whatever
//! a decoder accepts re-encodes and decodes to the same message.

use proptest::prelude::*;
use serde_json::Value;

use crate::protocol::serializer::fuzzing;
use crate::protocol::{
    EncodeError, Field, Frame, Message, Payload, Ref, Serializer, ServerSerializer, V1Serializer,
    V2Serializer, events,
};

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig { cases: n, failure_persistence: None, ..ProptestConfig::default() }
}

/// Characters that exercise JSON escaping and multi-byte UTF-8.
const TRICKY: &[char] = &[
    '"', '\\', '/', '\n', '\r', '\t', '\u{0}', '\u{8}', '\u{c}', '\u{1f}', '\u{7f}', 'é', 'π', '☃',
    '\u{2028}', '\u{feff}', '\u{fffd}', '🚀', ':', ' ',
];

/// Turns random bytes into a string: ASCII bytes stay as they are (control
/// characters included), bytes 0x80..=0xEF pick a [`TRICKY`] character, and a
/// byte from 0xF0 up makes the next three bytes one arbitrary scalar value.
/// Mapping cheap byte vectors keeps 100 000 cases fast in debug builds, where
/// a per-character strategy is not.
fn chars_from(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    let mut bytes = data.iter().copied();
    while let Some(b) = bytes.next() {
        match b {
            0..=0x7f => out.push(char::from(b)),
            0x80..=0xef => out.push(TRICKY[usize::from(b) % TRICKY.len()]),
            _ => {
                let n = bytes.by_ref().take(3).fold(0u32, |n, b| n << 8 | u32::from(b));
                out.push(char::from_u32(n % 0x11_0000).unwrap_or('\u{fffd}'));
            }
        }
    }
    out
}

/// A topic, event or string ref of up to `max_bytes` input bytes: empty,
/// plain, escaped or unicode.
fn field_text(max_bytes: usize) -> impl Strategy<Value = String> {
    bytes(max_bytes).prop_map(|b| chars_from(&b))
}

/// A JSON ref: null, a string, or a JSON number as a peer could write it.
fn json_ref() -> impl Strategy<Value = Option<Ref>> {
    prop_oneof![
        Just(None),
        field_text(12).prop_map(|s| Some(Ref::new(s))),
        "-?(0|[1-9][0-9]{0,18})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,2})?"
            .prop_map(|n| Some(Ref::number(n))),
    ]
}

/// A binary ref: null or a non-empty string (an empty field reads as null).
fn binary_ref() -> impl Strategy<Value = Option<Ref>> {
    prop_oneof![
        Just(None),
        field_text(40).prop_filter("non-empty", |s| !s.is_empty()).prop_map(|s| Some(Ref::new(s)))
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        field_text(10).prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((field_text(6), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Payload text, compact or pretty (whitespace must survive untouched).
fn json_payload() -> impl Strategy<Value = String> {
    (json_value(), any::<bool>()).prop_map(|(v, pretty)| {
        if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }
            .unwrap_or_default()
    })
}

fn json_message() -> impl Strategy<Value = Message> {
    (json_ref(), json_ref(), field_text(20), field_text(20), json_payload()).prop_map(
        |(jr, r, topic, event, payload)| Message::new(jr, r, topic, event, Payload::json(payload)),
    )
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

/// Inputs that look like frames, so decoding gets past the first byte.
fn frame_shaped_bytes() -> impl Strategy<Value = Vec<u8>> {
    (0u8..4, prop::collection::vec(0u8..12, 0..6), bytes(40)).prop_map(|(kind, lens, tail)| {
        let mut out = vec![kind];
        out.extend(lens);
        out.extend(tail);
        out
    })
}

fn frame_shaped_text() -> impl Strategy<Value = String> {
    let element = prop_oneof![
        json_value().prop_map(|v| v.to_string()),
        Just(String::new()),
        "[\\[\\]{}\",:0-9a-z\\\\ ]{0,6}",
    ];
    prop_oneof![
        prop::collection::vec(element.clone(), 0..7).prop_map(|e| format!("[{}]", e.join(","))),
        prop::collection::vec(
            (
                prop::sample::select(vec!["topic", "event", "payload", "ref", "join_ref", "x"]),
                element
            ),
            0..7
        )
        .prop_map(|kv| {
            let fields: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", fields.join(","))
        }),
    ]
}

proptest! {
    #![proptest_config(cases(100_000))]

    #[test]
    fn random_bytes_never_panic_any_decoder(data in bytes(48)) {
        fuzzing::decode_binary(&data);
        fuzzing::decode_v2_json(&data);
        fuzzing::decode_v1(&data);
    }

    #[test]
    fn random_utf8_never_panics_the_text_decoders(text in field_text(48)) {
        fuzzing::decode_v2_json(text.as_bytes());
        fuzzing::decode_v1(text.as_bytes());
    }
}

proptest! {
    #![proptest_config(cases(20_000))]

    #[test]
    fn frame_shaped_bytes_never_panic_and_roundtrip_when_accepted(data in frame_shaped_bytes()) {
        fuzzing::decode_binary(&data);
    }

}

proptest! {
    #![proptest_config(cases(5_000))]

    #[test]
    fn json_shaped_text_never_panics_and_roundtrips_when_accepted(text in frame_shaped_text()) {
        fuzzing::decode_v2_json(text.as_bytes());
        fuzzing::decode_v1(text.as_bytes());
    }
}

proptest! {
    #![proptest_config(cases(1_000))]

    #[test]
    fn v2_json_roundtrips_both_directions(msg in json_message()) {
        let ser = V2Serializer::default();
        let wire = ser.encode(&msg).unwrap();
        let Frame::Text(text) = &wire else { panic!("{wire:?}") };
        // What we write is JSON that any parser reads back to the same fields.
        let parsed: Vec<Value> = serde_json::from_str(text).unwrap();
        prop_assert_eq!(parsed.len(), 5);
        prop_assert_eq!(parsed[2].as_str(), Some(&*msg.topic));
        prop_assert_eq!(parsed[3].as_str(), Some(&*msg.event));
        // The compact frame takes the hand-read path: the same answer as serde_json.
        fuzzing::decode_v2_json(text.as_bytes());
        prop_assert_eq!(&ser.decode_client(wire.clone()).unwrap(), &msg);
        prop_assert_eq!(&ser.decode(ser.encode_server(&msg).unwrap()).unwrap(), &msg);
        prop_assert_eq!(ser.encode(&ser.decode_client(wire.clone()).unwrap()).unwrap(), wire);
    }

    #[test]
    fn v1_roundtrips_both_directions(msg in json_message()) {
        let ser = V1Serializer::default();
        let wire = ser.encode(&msg).unwrap();
        let Frame::Text(text) = &wire else { panic!("{wire:?}") };
        let parsed: serde_json::Map<String, Value> = serde_json::from_str(text).unwrap();
        prop_assert_eq!(parsed.get("topic").and_then(Value::as_str), Some(&*msg.topic));
        prop_assert_eq!(parsed.contains_key("join_ref"), msg.join_ref.is_some());
        prop_assert_eq!(&ser.decode_client(wire).unwrap(), &msg);
        let from_server = ser.decode(ser.encode_server(&msg).unwrap()).unwrap();
        prop_assert_eq!(from_server, Message { join_ref: None, ..msg });
    }

    #[test]
    fn v2_binary_client_push_roundtrips(
        jr in binary_ref(), r in binary_ref(), topic in field_text(60), event in field_text(60),
        payload in bytes(64),
    ) {
        let ser = V2Serializer::default();
        let msg = Message::new(jr, r, topic, event, Payload::binary(payload));
        let wire = ser.encode(&msg).unwrap();
        prop_assert!(matches!(wire, Frame::Binary(_)));
        prop_assert_eq!(ser.decode_client(wire).unwrap(), msg);
    }

    #[test]
    fn v2_binary_server_frames_roundtrip(
        shape in 0u8..3, jr in binary_ref(), r in binary_ref(), topic in field_text(60),
        event in field_text(60), payload in bytes(64),
    ) {
        let ser = V2Serializer::default();
        let msg = match shape {
            0 => Message::new(jr.or(Some(Ref::new("1"))), None, topic, event, Payload::binary(payload)),
            1 => Message::new(None, None, topic, event, Payload::binary(payload)),
            _ => Message::new(jr, r, topic, events::REPLY, Payload::BinaryReply {
                status: event.into(),
                response: payload.into(),
            }),
        };
        prop_assert_eq!(ser.decode(ser.encode_server(&msg).unwrap()).unwrap(), msg);
    }

    #[test]
    fn binary_encoding_fails_exactly_when_a_field_is_over_255_bytes(
        lens in prop::collection::vec(prop_oneof![0usize..4, 250usize..260], 4),
        wide in any::<bool>(),
    ) {
        // `wide` builds fields from 2-byte characters: the limit counts bytes.
        let text = |n: usize| if wide { "é".repeat(n / 2) + &"x".repeat(n % 2) } else { "x".repeat(n) };
        let some_ref = |n: usize| (n > 0).then(|| Ref::new(text(n)));
        let msg = Message::new(
            some_ref(lens[0]), some_ref(lens[1]), text(lens[2]), text(lens[3]),
            Payload::binary(vec![1u8]),
        );
        let fields = [Field::JoinRef, Field::Ref, Field::Topic, Field::Event];
        let expected = match fields.iter().zip(&lens).find(|(_, n)| **n > 255) {
            Some((&field, &len)) => Err(EncodeError::FieldTooLong { field, len }),
            None => Ok(()),
        };
        prop_assert_eq!(V2Serializer::default().encode(&msg).map(|_| ()), expected);
    }
}
