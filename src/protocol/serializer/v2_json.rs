//! V2 JSON text frames: `[join_ref, ref, topic, event, payload]`, and the
//! [`V2Serializer`] that also routes binary frames to [`super::v2_binary`].
//!
//! Decoding cuts every field out of the received text without copying (the
//! result shares the frame's buffer); only strings that contain JSON escapes
//! are unescaped into new buffers. The compact frame servers write is read
//! by hand ([`super::v2_scan`]); every other shape goes through serde_json.

use std::fmt;

use bytestring::ByteString;
use serde::de::{self, Deserializer as _, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::json_write::{json_string_len, ref_len, write_json_string, write_ref};
use super::{DEFAULT_MAX_FRAME, Serializer, ServerSerializer, v2_binary, v2_scan};
use crate::protocol::error::{DecodeError, EncodeError, Field, json_type_name};
use crate::protocol::message::{Frame, Message, Payload, Ref, events};

/// The V2 serializer (`vsn=2.0.0`, phoenix.js's default): JSON arrays in text
/// frames, and Phoenix's binary layouts for binary payloads.
///
/// Text frames: `[join_ref, ref, topic, event, payload]`, compact, refs as
/// JSON strings (or numbers, when a peer sent numbers), `null` for none; the
/// payload text is written exactly as given.
///
/// Binary frames (every length is one byte counting UTF-8 bytes; payload =
/// the rest of the frame):
///
/// ```text
/// client push  (kind 0): [0][jr_len][ref_len][topic_len][event_len]  jr ref topic event  payload
/// server push  (kind 0): [0][jr_len][topic_len][event_len]           jr topic event      payload
/// reply        (kind 1): [1][jr_len][ref_len][topic_len][status_len] jr ref topic status payload
/// broadcast    (kind 2): [2][topic_len][event_len]                   topic event         payload
/// ```
///
/// - [`Serializer::encode`]: [`Payload::Json`] → text; [`Payload::Binary`] →
///   client push. A header field over 255 bytes is
///   [`EncodeError::FieldTooLong`].
/// - [`Serializer::decode`]: text, or binary kinds 0 (server push, `ref` =
///   `None`), 1 (reply: event `phx_reply`, [`Payload::BinaryReply`]) and 2
///   (broadcast, both refs `None`).
/// - [`ServerSerializer::decode_client`]: text, or binary kind 0 with the
///   client's 5-byte header.
/// - [`ServerSerializer::encode_server`]: [`Payload::BinaryReply`] (event
///   `phx_reply`) → reply; [`Payload::Binary`] (any other event) → broadcast
///   when both refs are `None`, server push when only `join_ref` is set.
///
/// A `None` ref travels in binary frames as an empty field and decodes back
/// to `None`. Decoded fields share the frame's buffer.
///
/// # Examples
///
/// ```
/// use rig::protocol::{Frame, Message, Payload, Ref, Serializer, V2Serializer};
///
/// let ser = V2Serializer::default();
/// let msg = ser.decode(Frame::text(r#"[null,null,"room:a","shout",{"x":1}]"#))?;
/// assert_eq!(msg.payload.as_json(), Some(r#"{"x":1}"#));
///
/// let push = Message::new(Some(Ref::new("1")), Some(Ref::new("2")), "t", "e", Payload::binary(vec![7u8]));
/// assert_eq!(ser.encode(&push)?, Frame::binary(b"\x00\x01\x01\x01\x0112te\x07".to_vec()));
///
/// let server_push = ser.decode(Frame::binary(b"\x00\x01\x01\x011te\x07".to_vec()))?;
/// assert_eq!((server_push.join_ref, server_push.r#ref), (Some(Ref::new("1")), None));
/// # Ok::<(), rig::protocol::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct V2Serializer {
    max_frame: usize,
}

impl Default for V2Serializer {
    fn default() -> Self {
        Self { max_frame: DEFAULT_MAX_FRAME }
    }
}

impl V2Serializer {
    /// The `vsn` query value.
    pub const VSN: &'static str = "2.0.0";

    /// A serializer that rejects frames longer than `max_frame` bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Frame, Serializer, V2Serializer};
    /// let ser = V2Serializer::with_max_frame(8);
    /// assert!(ser.decode(Frame::text(r#"[null,null,"t","e",{}]"#)).is_err());
    /// ```
    #[must_use]
    pub fn with_max_frame(max_frame: usize) -> Self {
        Self { max_frame }
    }

    fn check_len(&self, len: usize) -> Result<(), DecodeError> {
        if len > self.max_frame {
            return Err(DecodeError::TooLarge { len, max: self.max_frame });
        }
        Ok(())
    }

    fn decode_frame(&self, frame: Frame, from: Peer) -> Result<Message, DecodeError> {
        self.check_len(frame.len())?;
        match (frame, from) {
            (Frame::Text(text), _) => decode_text(&text),
            (Frame::Binary(bytes), Peer::Server) => v2_binary::decode_server_frame(&bytes),
            (Frame::Binary(bytes), Peer::Client) => v2_binary::decode_client_frame(&bytes),
        }
    }
}

/// Who sent a frame: the binary layouts differ by direction.
#[derive(Clone, Copy)]
enum Peer {
    Client,
    Server,
}

impl Serializer for V2Serializer {
    fn vsn(&self) -> &'static str {
        Self::VSN
    }

    fn encode(&self, msg: &Message) -> Result<Frame, EncodeError> {
        match msg.payload {
            Payload::Json(_) => encode_text(msg, Self::VSN).map(Frame::Text),
            _ => v2_binary::encode_client_push(msg, Self::VSN).map(Frame::Binary),
        }
    }

    fn decode(&self, frame: Frame) -> Result<Message, DecodeError> {
        self.decode_frame(frame, Peer::Server)
    }

    fn decode_text_in(&self, buffer: &ByteString, text: &str) -> Result<Message, DecodeError> {
        self.check_len(text.len())?;
        if super::lies_in(buffer, text) {
            decode_text_of(buffer, text)
        } else {
            decode_text(&ByteString::from(text))
        }
    }
}

impl ServerSerializer for V2Serializer {
    fn vsn(&self) -> &'static str {
        Self::VSN
    }

    fn decode_client(&self, frame: Frame) -> Result<Message, DecodeError> {
        self.decode_frame(frame, Peer::Client)
    }

    fn encode_server(&self, msg: &Message) -> Result<Frame, EncodeError> {
        match msg.payload {
            Payload::Json(_) => encode_text(msg, Self::VSN).map(Frame::Text),
            _ => v2_binary::encode_server_frame(msg, Self::VSN).map(Frame::Binary),
        }
    }
}

/// Encodes `msg` as a V2 JSON array. The payload text is written as given.
pub(crate) fn encode_text(msg: &Message, vsn: &'static str) -> Result<ByteString, EncodeError> {
    let Payload::Json(payload) = &msg.payload else {
        return Err(EncodeError::Unsupported { what: "binary payload in a text frame", vsn });
    };
    // Exactly the frame's length: see `json_write`.
    let len = ref_len(msg.join_ref.as_ref())
        + ref_len(msg.r#ref.as_ref())
        + json_string_len(&msg.topic)
        + json_string_len(&msg.event)
        + payload.len()
        + 6;
    let mut out = String::with_capacity(len);
    out.push('[');
    write_ref(&mut out, msg.join_ref.as_ref());
    out.push(',');
    write_ref(&mut out, msg.r#ref.as_ref());
    out.push(',');
    write_json_string(&mut out, &msg.topic);
    out.push(',');
    write_json_string(&mut out, &msg.event);
    out.push(',');
    out.push_str(payload);
    out.push(']');
    Ok(ByteString::from(out))
}

/// Decodes a V2 JSON array, sharing `text`'s buffer for every field.
pub(crate) fn decode_text(text: &ByteString) -> Result<Message, DecodeError> {
    decode_text_of(text, text)
}

/// Decodes the V2 JSON array `text`, which lies inside `buffer` (the caller
/// checks: `slice_ref` panics otherwise): the fields are slices of `buffer`.
fn decode_text_of(buffer: &ByteString, text: &str) -> Result<Message, DecodeError> {
    if let Some(envelope) = v2_scan::scan(text) {
        let share = |field: &str| buffer.slice_ref(field);
        return Ok(Message {
            join_ref: envelope.join_ref.map(|r| Ref::from_str_in(r, false, || share(r))),
            r#ref: envelope.r#ref.map(|r| Ref::from_str_in(r, false, || share(r))),
            topic: share(envelope.topic),
            event: protocol_event(envelope.event).unwrap_or_else(|| share(envelope.event)),
            payload: Payload::Json(share(envelope.payload)),
        });
    }
    decode_text_in_full(&buffer.slice_ref(text))
}

/// [`decode_text`] for any shape serde_json reads: whitespace, escapes,
/// numeric refs; names the problem of a frame it refuses.
pub(crate) fn decode_text_in_full(text: &ByteString) -> Result<Message, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let raw = de.deserialize_any(FiveVisitor).map_err(|e| decode_error(&e))?;
    de.end().map_err(|e| DecodeError::json(&e))?;
    let [join_ref, r#ref, topic, event, payload] = raw.fields;
    Ok(Message {
        join_ref: decode_ref(text, join_ref, Field::JoinRef)?,
        r#ref: decode_ref(text, r#ref, Field::Ref)?,
        topic: decode_string(text, topic, Field::Topic)?,
        event: decode_string(text, event, Field::Event)?,
        payload: Payload::Json(text.slice_ref(payload.get())),
    })
}

/// The protocol's own event names as static strings: sharing them costs no
/// reference count on the frame's buffer, paid on rig-io and again on the
/// thread that drops the message.
fn protocol_event(event: &str) -> Option<ByteString> {
    // Every protocol name starts `phx_`, `presence_` or `heartbeat`: most
    // application events are settled by their first byte.
    if !matches!(event.as_bytes().first(), Some(b'p' | b'h')) {
        return None;
    }
    let name = match event {
        events::REPLY => events::REPLY,
        events::JOIN => events::JOIN,
        events::LEAVE => events::LEAVE,
        events::PRESENCE_DIFF => events::PRESENCE_DIFF,
        events::PRESENCE_STATE => events::PRESENCE_STATE,
        events::ERROR => events::ERROR,
        events::CLOSE => events::CLOSE,
        events::HEARTBEAT => events::HEARTBEAT,
        _ => return None,
    };
    Some(ByteString::from_static(name))
}

/// A ref from its raw JSON: a string, a number (kept as written) or null.
pub(crate) fn decode_ref(
    text: &ByteString,
    raw: &RawValue,
    field: Field,
) -> Result<Option<Ref>, DecodeError> {
    let s = raw.get();
    match s.as_bytes().first() {
        Some(b'n') => Ok(None),
        Some(b'"') => Ok(Some(Ref::new(unquote(text, s, field)?))),
        Some(b'-' | b'0'..=b'9') => Ok(Some(Ref::from_str_in(s, true, || text.slice_ref(s)))),
        _ => Err(DecodeError::FieldType {
            field,
            expected: "a string, a number or null",
            got: json_type_name(s),
        }),
    }
}

/// A JSON string field, sharing `text`'s buffer unless it has escapes.
pub(crate) fn decode_string(
    text: &ByteString,
    raw: &RawValue,
    field: Field,
) -> Result<ByteString, DecodeError> {
    let s = raw.get();
    if s.as_bytes().first() != Some(&b'"') {
        return Err(DecodeError::FieldType { field, expected: "a string", got: json_type_name(s) });
    }
    unquote(text, s, field)
}

/// The contents of the JSON string literal `s` (a slice of `text`).
pub(crate) fn unquote(text: &ByteString, s: &str, field: Field) -> Result<ByteString, DecodeError> {
    let inner = s.get(1..s.len().saturating_sub(1)).unwrap_or_default();
    if !inner.contains('\\') {
        return Ok(text.slice_ref(inner));
    }
    serde_json::from_str::<String>(s).map(ByteString::from).map_err(|_| DecodeError::FieldType {
        field,
        expected: "a string",
        got: "an invalid string",
    })
}

fn decode_error(err: &serde_json::Error) -> DecodeError {
    // FiveVisitor reports shape problems through `invalid_type`/`invalid_length`;
    // anything else is a syntax error.
    let msg = err.to_string();
    if let Some(rest) = msg.strip_prefix("invalid length ") {
        let got = rest.split(',').next().and_then(|n| n.parse().ok()).unwrap_or(0);
        return DecodeError::Arity { got };
    }
    if msg.starts_with("invalid type: ") {
        let got = msg
            .strip_prefix("invalid type: ")
            .and_then(|r| r.split(", expected").next())
            .unwrap_or("something else")
            .to_owned();
        return DecodeError::Shape { expected: "a JSON array", got };
    }
    DecodeError::json(err)
}

struct Five<'a> {
    fields: [&'a RawValue; 5],
}

struct FiveVisitor;

impl<'de> Visitor<'de> for FiveVisitor {
    type Value = Five<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of 5 elements")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut fields: [Option<&'de RawValue>; 5] = [None; 5];
        let mut n = 0usize;
        while let Some(value) = seq.next_element::<&'de RawValue>()? {
            if let Some(slot) = fields.get_mut(n) {
                *slot = Some(value);
            }
            n = n.saturating_add(1);
        }
        match fields {
            [Some(a), Some(b), Some(c), Some(d), Some(e)] if n == 5 => {
                Ok(Five { fields: [a, b, c, d, e] })
            }
            _ => Err(de::Error::invalid_length(n, &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Result<Message, DecodeError> {
        V2Serializer::default().decode(Frame::text(s.to_owned()))
    }

    #[test]
    fn decodes_every_field_and_null_refs() {
        let m = dec(r#"["1",null,"room:a","ev",{"a":[1,2]}]"#).unwrap();
        assert_eq!(m.join_ref, Some(Ref::new("1")));
        assert_eq!(m.r#ref, None);
        assert_eq!(&*m.topic, "room:a");
        assert_eq!(&*m.event, "ev");
        assert_eq!(m.payload.as_json(), Some(r#"{"a":[1,2]}"#));
    }

    #[test]
    fn numeric_refs_roundtrip_as_numbers() {
        let m = dec(r#"[null, 1, "phoenix", "heartbeat", {}]"#).unwrap();
        assert_eq!(m.r#ref, Some(Ref::number("1")));
        let out = V2Serializer::default().encode(&m).unwrap();
        assert_eq!(out, Frame::text(r#"[null,1,"phoenix","heartbeat",{}]"#));
    }

    #[test]
    fn escaped_strings_are_unescaped() {
        let m = dec(r#"[null,null,"room:\u00e9","a\"b",{}]"#).unwrap();
        assert_eq!(&*m.topic, "room:é");
        assert_eq!(&*m.event, "a\"b");
        let out = V2Serializer::default().encode(&m).unwrap();
        assert_eq!(out, Frame::text(r#"[null,null,"room:é","a\"b",{}]"#));
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(matches!(dec("not json at all"), Err(DecodeError::Json { .. })));
        assert_eq!(dec(r#"[null,"1","phoenix","heartbeat"]"#), Err(DecodeError::Arity { got: 4 }));
        assert_eq!(dec(r#"[1,2,3,4,5,6]"#), Err(DecodeError::Arity { got: 6 }));
        assert!(matches!(dec(r#"{"topic":"x"}"#), Err(DecodeError::Shape { .. })));
        assert_eq!(
            dec(r#"[null,null,1,"e",{}]"#),
            Err(DecodeError::FieldType {
                field: Field::Topic,
                expected: "a string",
                got: "a number"
            })
        );
        assert!(matches!(
            dec(r#"[{},null,"t","e",{}]"#),
            Err(DecodeError::FieldType { field: Field::JoinRef, .. })
        ));
        assert!(matches!(dec(r#"[null,null,"t","e",{}] x"#), Err(DecodeError::Json { .. })));
    }
}
