//! V1 JSON text frames: one JSON object per message.
//!
//! Phoenix selects it with `vsn=1.0.0`, and also when a client sends no `vsn`
//! at all. There are no binary frames in V1.

use std::fmt;

use bytestring::ByteString;
use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::json_write::{write_json_string, write_ref};
use super::v2_json::{decode_ref, decode_string};
use super::{DEFAULT_MAX_FRAME, Serializer, ServerSerializer};
use crate::protocol::error::{DecodeError, EncodeError, Field, json_type_name};
use crate::protocol::message::{Frame, Message, Payload};

/// The V1 serializer (`vsn=1.0.0`): one JSON object per text frame.
///
/// - [`Serializer::encode`] (client → server) writes the keys in the order
///   phoenix.js-era clients used, with `", "` and `": "` separators:
///   `{"topic": "room:a", "event": "phx_join", "payload": {}, "ref": "2", "join_ref": "2"}`.
///   `join_ref` is left out when it is `None`; `ref` is `null` when `None`.
/// - [`ServerSerializer::encode_server`] (server → client) writes what Phoenix
///   writes: compact, keys sorted, and no `join_ref` key at all:
///   `{"event":"phx_reply","payload":{..},"ref":"1","topic":"phoenix"}`.
/// - Both decoders accept an object with any key order and whitespace;
///   `topic`, `event`, `payload` and `ref` are required (as Phoenix requires
///   them), `join_ref` is optional, other keys are ignored, a key given twice
///   is [`DecodeError::DuplicateField`]. A V2 array is
///   [`DecodeError::Shape`]; a binary frame is
///   [`DecodeError::BinaryUnsupported`].
///
/// Payload text is written as given and decoded as a slice of the frame.
///
/// # Examples
///
/// ```
/// use rig::protocol::{Frame, Message, Payload, Ref, Serializer, ServerSerializer, V1Serializer};
///
/// let ser = V1Serializer::default();
/// let join = Message::new(Some(Ref::new("2")), Some(Ref::new("2")), "room:v1", "phx_join", Payload::empty());
/// assert_eq!(
///     ser.encode(&join)?,
///     Frame::text(r#"{"topic": "room:v1", "event": "phx_join", "payload": {}, "ref": "2", "join_ref": "2"}"#)
/// );
///
/// let shout = ser.decode(Frame::text(r#"{"event":"shout","payload":{"s":1},"ref":null,"topic":"room:v1"}"#))?;
/// assert_eq!((&shout.join_ref, &shout.r#ref), (&None, &None));
/// assert_eq!(ser.encode_server(&shout)?, Frame::text(r#"{"event":"shout","payload":{"s":1},"ref":null,"topic":"room:v1"}"#));
/// # Ok::<(), rig::protocol::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct V1Serializer {
    max_frame: usize,
}

impl Default for V1Serializer {
    fn default() -> Self {
        Self { max_frame: DEFAULT_MAX_FRAME }
    }
}

impl V1Serializer {
    /// The `vsn` query value.
    pub const VSN: &'static str = "1.0.0";

    /// A serializer that rejects frames longer than `max_frame` bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{DecodeError, Frame, Serializer, V1Serializer};
    /// let ser = V1Serializer::with_max_frame(4);
    /// assert_eq!(ser.decode(Frame::text("{ }  ")), Err(DecodeError::TooLarge { len: 5, max: 4 }));
    /// ```
    #[must_use]
    pub fn with_max_frame(max_frame: usize) -> Self {
        Self { max_frame }
    }

    fn decode_frame(&self, frame: Frame) -> Result<Message, DecodeError> {
        if frame.len() > self.max_frame {
            return Err(DecodeError::TooLarge { len: frame.len(), max: self.max_frame });
        }
        match frame {
            Frame::Text(text) => decode_object(&text),
            Frame::Binary(_) => Err(DecodeError::BinaryUnsupported { vsn: Self::VSN }),
        }
    }
}

impl Serializer for V1Serializer {
    fn vsn(&self) -> &'static str {
        Self::VSN
    }

    fn encode(&self, msg: &Message) -> Result<Frame, EncodeError> {
        let payload = json_payload(msg)?;
        let mut out = String::with_capacity(msg.topic.len() + msg.event.len() + payload.len() + 80);
        out.push_str("{\"topic\": ");
        write_json_string(&mut out, &msg.topic);
        out.push_str(", \"event\": ");
        write_json_string(&mut out, &msg.event);
        out.push_str(", \"payload\": ");
        out.push_str(payload);
        out.push_str(", \"ref\": ");
        write_ref(&mut out, msg.r#ref.as_ref());
        if let Some(join_ref) = &msg.join_ref {
            out.push_str(", \"join_ref\": ");
            write_ref(&mut out, Some(join_ref));
        }
        out.push('}');
        Ok(Frame::Text(ByteString::from(out)))
    }

    fn decode(&self, frame: Frame) -> Result<Message, DecodeError> {
        self.decode_frame(frame)
    }
}

impl ServerSerializer for V1Serializer {
    fn vsn(&self) -> &'static str {
        Self::VSN
    }

    fn decode_client(&self, frame: Frame) -> Result<Message, DecodeError> {
        self.decode_frame(frame)
    }

    fn encode_server(&self, msg: &Message) -> Result<Frame, EncodeError> {
        let payload = json_payload(msg)?;
        let mut out = String::with_capacity(msg.topic.len() + msg.event.len() + payload.len() + 48);
        out.push_str("{\"event\":");
        write_json_string(&mut out, &msg.event);
        out.push_str(",\"payload\":");
        out.push_str(payload);
        out.push_str(",\"ref\":");
        write_ref(&mut out, msg.r#ref.as_ref());
        out.push_str(",\"topic\":");
        write_json_string(&mut out, &msg.topic);
        out.push('}');
        Ok(Frame::Text(ByteString::from(out)))
    }
}

fn json_payload(msg: &Message) -> Result<&str, EncodeError> {
    msg.payload.as_json().ok_or(EncodeError::Unsupported {
        what: "binary payload (V1 has no binary frames)",
        vsn: V1Serializer::VSN,
    })
}

/// Decodes a V1 object, sharing `text`'s buffer for every field.
fn decode_object(text: &ByteString) -> Result<Message, DecodeError> {
    let trimmed = text.trim_start();
    if !trimmed.starts_with('{') {
        // Say "not an object" for valid JSON of another type, "invalid JSON" otherwise.
        return match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => Err(DecodeError::Shape {
                expected: "a JSON object",
                got: json_type_name(trimmed).to_owned(),
            }),
            Err(e) => Err(DecodeError::json(&e)),
        };
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let raw = de.deserialize_map(ObjectVisitor).map_err(|e| DecodeError::json(&e))?;
    de.end().map_err(|e| DecodeError::json(&e))?;
    if let Some(field) = raw.duplicate {
        return Err(DecodeError::DuplicateField { field });
    }
    let topic = raw.topic.ok_or(DecodeError::MissingField { field: Field::Topic })?;
    let event = raw.event.ok_or(DecodeError::MissingField { field: Field::Event })?;
    let payload = raw.payload.ok_or(DecodeError::MissingField { field: Field::Payload })?;
    let r#ref = raw.r#ref.ok_or(DecodeError::MissingField { field: Field::Ref })?;
    Ok(Message {
        join_ref: match raw.join_ref {
            Some(join_ref) => decode_ref(text, join_ref, Field::JoinRef)?,
            None => None,
        },
        r#ref: decode_ref(text, r#ref, Field::Ref)?,
        topic: decode_string(text, topic, Field::Topic)?,
        event: decode_string(text, event, Field::Event)?,
        payload: Payload::Json(text.slice_ref(payload.get())),
    })
}

/// The raw values of a V1 object's known keys.
#[derive(Default)]
struct RawObject<'a> {
    topic: Option<&'a RawValue>,
    event: Option<&'a RawValue>,
    payload: Option<&'a RawValue>,
    r#ref: Option<&'a RawValue>,
    join_ref: Option<&'a RawValue>,
    /// The first key seen twice; reported after parsing so that JSON syntax
    /// errors and shape errors stay distinct.
    duplicate: Option<Field>,
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = RawObject<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a V1 message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut raw = RawObject::default();
        while let Some(key) = map.next_key::<Key>()? {
            let (slot, field) = match key {
                Key::Topic => (&mut raw.topic, Field::Topic),
                Key::Event => (&mut raw.event, Field::Event),
                Key::Payload => (&mut raw.payload, Field::Payload),
                Key::Ref => (&mut raw.r#ref, Field::Ref),
                Key::JoinRef => (&mut raw.join_ref, Field::JoinRef),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let value = map.next_value::<&'de RawValue>()?;
            if slot.replace(value).is_some() {
                raw.duplicate.get_or_insert(field);
            }
        }
        Ok(raw)
    }
}

/// A V1 object key, identified without allocating (escaped keys included).
enum Key {
    Topic,
    Event,
    Payload,
    Ref,
    JoinRef,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match key {
            "topic" => Key::Topic,
            "event" => Key::Event,
            "payload" => Key::Payload,
            "ref" => Key::Ref,
            "join_ref" => Key::JoinRef,
            _ => Key::Other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Ref;

    fn dec(s: &str) -> Result<Message, DecodeError> {
        V1Serializer::default().decode(Frame::text(s.to_owned()))
    }

    #[test]
    fn decodes_any_key_order_and_whitespace() {
        let m = dec(" {\n\"ref\" : 3 ,\"payload\":[1, 2],\"join_ref\":\"1\",\"event\":\"e\",\"topic\":\"t\", \"x\": {\"y\": null}}\t")
            .unwrap();
        assert_eq!(m.join_ref, Some(Ref::new("1")));
        assert_eq!(m.r#ref, Some(Ref::number("3")));
        assert_eq!((&*m.topic, &*m.event), ("t", "e"));
        assert_eq!(m.payload.as_json(), Some("[1, 2]"));
    }

    #[test]
    fn escaped_keys_and_values_are_understood() {
        let m =
            dec(r#"{"top\u0069c":"room:\u00e9","event":"a\"b","payload":{},"ref":null}"#).unwrap();
        assert_eq!(&*m.topic, "room:é");
        assert_eq!(&*m.event, "a\"b");
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            dec(r#"[null,"9","phoenix","heartbeat",{}]"#),
            Err(DecodeError::Shape { expected: "a JSON object", got: "an array".into() })
        );
        assert!(matches!(dec("[1,"), Err(DecodeError::Json { .. })));
        assert!(matches!(dec("{\"topic\":"), Err(DecodeError::Json { .. })));
        assert!(matches!(dec(r#"{"topic":"t"} x"#), Err(DecodeError::Json { .. })));
        assert_eq!(
            dec(r#"{"event":"e","payload":{},"ref":null}"#),
            Err(DecodeError::MissingField { field: Field::Topic })
        );
        assert_eq!(
            dec(r#"{"topic":"t","event":"e","payload":{}}"#),
            Err(DecodeError::MissingField { field: Field::Ref })
        );
        assert_eq!(
            dec(r#"{"topic":"t","event":"e","ref":null}"#),
            Err(DecodeError::MissingField { field: Field::Payload })
        );
        assert_eq!(
            dec(r#"{"topic":"t","topic":"u","event":"e","payload":{},"ref":null}"#),
            Err(DecodeError::DuplicateField { field: Field::Topic })
        );
        assert!(matches!(
            dec(r#"{"topic":1,"event":"e","payload":{},"ref":null}"#),
            Err(DecodeError::FieldType { field: Field::Topic, .. })
        ));
        assert!(matches!(
            dec(r#"{"topic":"t","event":"e","payload":{},"ref":[]}"#),
            Err(DecodeError::FieldType { field: Field::Ref, .. })
        ));
        assert_eq!(
            V1Serializer::default().decode_client(Frame::binary(vec![0u8, 0, 0, 0, 0])),
            Err(DecodeError::BinaryUnsupported { vsn: "1.0.0" })
        );
    }

    #[test]
    fn binary_payloads_cannot_be_encoded() {
        let m = Message::new(None, None, "t", "e", Payload::binary(vec![1u8]));
        let ser = V1Serializer::default();
        assert!(matches!(ser.encode(&m), Err(EncodeError::Unsupported { vsn: "1.0.0", .. })));
        assert!(matches!(ser.encode_server(&m), Err(EncodeError::Unsupported { .. })));
    }

    #[test]
    fn server_encoding_drops_join_ref_and_keeps_numeric_refs() {
        let m =
            Message::new(Some(Ref::new("1")), Some(Ref::number("7")), "t", "e", Payload::empty());
        let out = V1Serializer::default().encode_server(&m).unwrap();
        assert_eq!(out, Frame::text(r#"{"event":"e","payload":{},"ref":7,"topic":"t"}"#));
    }
}
