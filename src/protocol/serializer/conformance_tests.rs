//! CONFORMANCE.md section 6 (Z01–Z09) and S45/S46, one test per behaviour.
//!
//! The expectations are ported from phoenix.js's serializer tests
//! (phoenixframework/phoenix, assets/test/serializer_test.*): same inputs,
//! same expected bytes; the code is ours.

use bytes::Bytes;

use super::{Serializer, ServerSerializer, V1Serializer, V2Serializer};
use crate::protocol::error::{DecodeError, EncodeError, Field};
use crate::protocol::message::{Frame, Message, Payload, Ref, events};

fn v2() -> V2Serializer {
    V2Serializer::default()
}

fn r(s: &str) -> Option<Ref> {
    Some(Ref::new(s))
}

fn binary_push(join_ref: &str, r#ref: &str, topic: &str, event: &str) -> Message {
    Message::new(
        Some(Ref::new(join_ref)),
        Some(Ref::new(r#ref)),
        topic,
        event,
        Payload::binary(vec![1u8]),
    )
}

fn encoded_bytes(msg: &Message) -> Vec<u8> {
    match v2().encode(msg).unwrap() {
        Frame::Binary(b) => b.to_vec(),
        Frame::Text(t) => panic!("expected a binary frame, got text {t:?}"),
    }
}

#[test]
fn z01_json_push_encodes_as_a_compact_array() {
    let msg = Message::new(r("0"), r("1"), "t", "e", Payload::json(r#"{"foo":1}"#));
    assert_eq!(v2().encode(&msg).unwrap(), Frame::text(r#"["0","1","t","e",{"foo":1}]"#));
}

#[test]
fn z02_json_decode_is_the_exact_inverse_of_encode() {
    let text = r#"["0","1","t","e",{"foo":1}]"#;
    let msg = v2().decode(Frame::text(text)).unwrap();
    assert_eq!(msg, Message::new(r("0"), r("1"), "t", "e", Payload::json(r#"{"foo":1}"#)));
    assert_eq!(v2().encode(&msg).unwrap(), Frame::text(text));
    // Both directions of the server side invert each other too.
    assert_eq!(v2().decode_client(v2().encode(&msg).unwrap()).unwrap(), msg);
    assert_eq!(v2().decode(v2().encode_server(&msg).unwrap()).unwrap(), msg);
}

#[test]
fn z03_binary_push_layout() {
    let bytes = encoded_bytes(&binary_push("0", "1", "t", "e"));
    assert_eq!(bytes, b"\x00\x01\x01\x01\x0101te\x01");
}

#[test]
fn z04_binary_push_variable_length_fields() {
    let bytes = encoded_bytes(&binary_push("10", "1", "top", "ev"));
    assert_eq!(bytes, b"\x00\x02\x01\x03\x02101topev\x01");
}

#[test]
fn z05_binary_server_push_has_no_ref() {
    let msg =
        v2().decode(Frame::binary(b"\x00\x03\x03\x0a123topsome-event\x01\x01".to_vec())).unwrap();
    assert_eq!(msg.join_ref, r("123"));
    assert_eq!(msg.r#ref, None);
    assert_eq!(&*msg.topic, "top");
    assert_eq!(&*msg.event, "some-event");
    assert_eq!(msg.payload, Payload::Binary(Bytes::from_static(b"\x01\x01")));
}

#[test]
fn z06_binary_reply_decodes_status_and_raw_response() {
    let msg =
        v2().decode(Frame::binary(b"\x01\x03\x02\x03\x0210012topok\x01\x01".to_vec())).unwrap();
    assert_eq!(msg.join_ref, r("100"));
    assert_eq!(msg.r#ref, r("12"));
    assert_eq!(&*msg.topic, "top");
    assert_eq!(&*msg.event, events::REPLY);
    assert_eq!(
        msg.payload,
        Payload::BinaryReply { status: "ok".into(), response: Bytes::from_static(b"\x01\x01") }
    );
}

#[test]
fn z07_binary_broadcast_has_null_refs() {
    let msg = v2().decode(Frame::binary(b"\x02\x03\x0atopsome-event\x01\x01".to_vec())).unwrap();
    assert_eq!((msg.join_ref, msg.r#ref), (None, None));
    assert_eq!(&*msg.topic, "top");
    assert_eq!(&*msg.event, "some-event");
    assert_eq!(msg.payload, Payload::Binary(Bytes::from_static(b"\x01\x01")));
}

#[test]
fn z08_binary_lengths_count_utf8_bytes() {
    assert_eq!(("🚀".len(), "room:café".len(), "π".len()), (4, 10, 2));
    let msg = binary_push("π", "1", "room:café", "🚀");
    let bytes = encoded_bytes(&msg);
    assert_eq!(&bytes[..5], &[0, 2, 1, 10, 4]);
    assert_eq!(&bytes[5..], "π1room:café🚀\x01".as_bytes());
    assert_eq!(v2().decode_client(Frame::binary(bytes)).unwrap(), msg);

    let broadcast = Message::new(None, None, "room:café", "🚀", Payload::binary(vec![]));
    let Frame::Binary(bytes) = v2().encode_server(&broadcast).unwrap() else { panic!() };
    assert_eq!(&bytes[..3], &[2, 10, 4]);
    assert_eq!(v2().decode(Frame::Binary(bytes)).unwrap(), broadcast);
}

#[test]
fn z09_binary_field_over_255_utf8_bytes_is_an_error_naming_it() {
    let ok = "x".repeat(255);
    let long = "x".repeat(256);
    // 128 characters, 256 bytes: lengths count bytes, not characters.
    let long_chars = "π".repeat(128);
    assert!(v2().encode(&binary_push(&ok, &ok, &ok, &ok)).is_ok());
    let too_long = |field, len| Err(EncodeError::FieldTooLong { field, len });
    assert_eq!(v2().encode(&binary_push(&long, "1", "t", "e")), too_long(Field::JoinRef, 256));
    assert_eq!(v2().encode(&binary_push("1", &long, "t", "e")), too_long(Field::Ref, 256));
    assert_eq!(v2().encode(&binary_push("1", "1", &long_chars, "e")), too_long(Field::Topic, 256));
    assert_eq!(v2().encode(&binary_push("1", "1", "t", &long)), too_long(Field::Event, 256));

    let reply = |status: &str| {
        Message::new(
            r("1"),
            r("2"),
            "t",
            events::REPLY,
            Payload::BinaryReply { status: status.into(), response: Bytes::new() },
        )
    };
    assert!(v2().encode_server(&reply(&ok)).is_ok());
    assert_eq!(v2().encode_server(&reply(&long)), too_long(Field::Status, 256));
    let broadcast = Message::new(None, None, &*long, "e", Payload::binary(vec![]));
    assert_eq!(v2().encode_server(&broadcast), too_long(Field::Topic, 256));

    let err = v2().encode(&binary_push("1", "1", "t", &long)).unwrap_err();
    assert_eq!(err.to_string(), "event is 256 bytes; binary frames allow at most 255");
}

#[test]
fn s45_default_encoder_and_decoder_invert_each_other() {
    let msg = Message::new(r("1"), r("2"), "topic", "join", Payload::json(r#"{"foo":"bar"}"#));
    let frame = v2().encode(&msg).unwrap();
    assert_eq!(frame, Frame::text(r#"["1","2","topic","join",{"foo":"bar"}]"#));
    assert_eq!(v2().decode(frame).unwrap(), msg);
}

/// A toy wire format, `ref|topic|event|payload`, to show that the session only
/// needs the trait.
#[derive(Debug)]
struct PipeSerializer;

impl Serializer for PipeSerializer {
    fn vsn(&self) -> &'static str {
        "pipe"
    }

    fn encode(&self, msg: &Message) -> Result<Frame, EncodeError> {
        let payload = msg
            .payload
            .as_json()
            .ok_or(EncodeError::Unsupported { what: "binary payload", vsn: "pipe" })?;
        let r#ref = msg.r#ref.as_ref().map_or("", Ref::as_str);
        Ok(Frame::text(format!("{ref}|{}|{}|{payload}", msg.topic, msg.event)))
    }

    fn decode(&self, frame: Frame) -> Result<Message, DecodeError> {
        let Frame::Text(text) = frame else {
            return Err(DecodeError::BinaryUnsupported { vsn: "pipe" });
        };
        let mut parts = text.splitn(4, '|');
        let mut next = |field| parts.next().ok_or(DecodeError::MissingField { field });
        let (r#ref, topic, event, payload) =
            (next(Field::Ref)?, next(Field::Topic)?, next(Field::Event)?, next(Field::Payload)?);
        let r#ref = (!r#ref.is_empty()).then(|| Ref::new(r#ref));
        Ok(Message::new(None, r#ref, topic, event, Payload::json(payload)))
    }
}

/// What a session does with whatever serializer it was given.
fn heartbeat_roundtrip(ser: &dyn Serializer) -> (Frame, Message) {
    let hb = Message::new(None, r("7"), "phoenix", events::HEARTBEAT, Payload::empty());
    let frame = ser.encode(&hb).unwrap();
    let decoded = ser.decode(frame.clone()).unwrap();
    (frame, decoded)
}

#[test]
fn s46_pluggable_serializer_through_dyn_serializer() {
    let serializers: [Box<dyn Serializer>; 3] = [
        Box::new(PipeSerializer),
        Box::new(V2Serializer::default()),
        Box::new(V1Serializer::default()),
    ];
    let frames: Vec<Frame> = serializers
        .iter()
        .map(|ser| {
            let (frame, decoded) = heartbeat_roundtrip(ser.as_ref());
            assert_eq!(decoded.r#ref, r("7"), "{}", ser.vsn());
            assert!(decoded.is_event(events::HEARTBEAT));
            frame
        })
        .collect();
    assert_eq!(
        frames,
        [
            Frame::text("7|phoenix|heartbeat|{}"),
            Frame::text(r#"[null,"7","phoenix","heartbeat",{}]"#),
            Frame::text(r#"{"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": "7"}"#),
        ]
    );
    assert_eq!(serializers.map(|s| s.vsn()), ["pipe", "2.0.0", "1.0.0"]);
}
