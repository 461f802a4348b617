//! TEST STAND-INS for the V1 JSON serializer and the V2 binary frames,
//! which another part of the project implements behind the same
//! [`Serializer`] / [`ServerSerializer`] traits.
//!
//! They exist so that the session's replays of `v1_serializer.jsonl`,
//! `v1_binary.jsonl` and `binary.jsonl` run today. The gate functions
//! [`v1_codec`] and [`binary_codec`] pick the real serializers when they
//! are there: `binary_codec` switches by itself as soon as
//! [`V2Serializer`] encodes binary payloads; `v1_codec` is one line to change
//! once `V1Serializer` exists. Only what the replays need is implemented.

use bytes::Bytes;
use bytestring::ByteString;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::protocol::serializer::v2_json::{write_json_string, write_ref};
use crate::protocol::{
    DecodeError, EncodeError, Frame, Message, Payload, Ref, Serializer, ServerSerializer,
    V2Serializer,
};

/// The V1 codec for the replays: the stand-in until `V1Serializer` lands
/// (then: `(Box::new(V1Serializer::default()), Box::new(V1Serializer::default()))`).
pub(crate) fn v1_codec() -> (Box<dyn Serializer>, Box<dyn ServerSerializer>) {
    (Box::new(StandInV1), Box::new(StandInV1))
}

/// The V2 codec with binary frames: the real [`V2Serializer`] once it encodes
/// binary payloads, the stand-in until then.
pub(crate) fn binary_codec() -> (Box<dyn Serializer>, Box<dyn ServerSerializer>) {
    let probe = Message::new(None, Some(Ref::new("1")), "t", "e", Payload::binary(vec![1u8]));
    if Serializer::encode(&V2Serializer::default(), &probe).is_ok() {
        (Box::new(V2Serializer::default()), Box::new(V2Serializer::default()))
    } else {
        (Box::new(StandInBinary), Box::new(StandInBinary))
    }
}

#[derive(Debug)]
struct StandInV1;

#[derive(Deserialize)]
struct V1Frame<'a> {
    topic: String,
    event: String,
    #[serde(borrow)]
    payload: &'a RawValue,
    #[serde(rename = "ref", default)]
    r: Option<serde_json::Value>,
    #[serde(default)]
    join_ref: Option<serde_json::Value>,
}

fn v1_ref(v: Option<serde_json::Value>) -> Option<Ref> {
    match v? {
        serde_json::Value::String(s) => Some(Ref::new(s)),
        serde_json::Value::Number(n) => Some(Ref::number(n.to_string())),
        _ => None,
    }
}

fn v1_decode(frame: Frame) -> Result<Message, DecodeError> {
    let Frame::Text(text) = frame else {
        return Err(DecodeError::BinaryUnsupported { vsn: "1.0.0" });
    };
    let raw: V1Frame<'_> =
        serde_json::from_str(&text).map_err(|e| DecodeError::Json { reason: e.to_string() })?;
    let payload = Payload::Json(text.slice_ref(raw.payload.get()));
    Ok(Message::new(v1_ref(raw.join_ref), v1_ref(raw.r), raw.topic, raw.event, payload))
}

fn v1_encode(msg: &Message) -> Result<Frame, EncodeError> {
    let Payload::Json(payload) = &msg.payload else {
        return Err(EncodeError::Unsupported { what: "binary payload", vsn: "1.0.0" });
    };
    let mut out = String::from("{\"topic\":");
    write_json_string(&mut out, &msg.topic);
    out.push_str(",\"event\":");
    write_json_string(&mut out, &msg.event);
    out.push_str(",\"payload\":");
    out.push_str(payload);
    out.push_str(",\"ref\":");
    write_ref(&mut out, msg.r#ref.as_ref());
    out.push_str(",\"join_ref\":");
    write_ref(&mut out, msg.join_ref.as_ref());
    out.push('}');
    Ok(Frame::text(out))
}

impl Serializer for StandInV1 {
    fn vsn(&self) -> &'static str {
        "1.0.0"
    }
    fn encode(&self, msg: &Message) -> Result<Frame, EncodeError> {
        v1_encode(msg)
    }
    fn decode(&self, frame: Frame) -> Result<Message, DecodeError> {
        v1_decode(frame)
    }
}

impl ServerSerializer for StandInV1 {
    fn vsn(&self) -> &'static str {
        "1.0.0"
    }
    fn decode_client(&self, frame: Frame) -> Result<Message, DecodeError> {
        v1_decode(frame)
    }
    fn encode_server(&self, msg: &Message) -> Result<Frame, EncodeError> {
        v1_encode(msg)
    }
}

#[derive(Debug)]
struct StandInBinary;

/// Cuts `[len]`-prefixed fields out of a binary frame.
struct Cursor {
    bytes: Bytes,
    at: usize,
}

impl Cursor {
    fn take(&mut self, len: usize) -> Result<Bytes, DecodeError> {
        let end = self.at + len;
        let have = self.bytes.len();
        let out = self.bytes.get(self.at..end).ok_or(DecodeError::Truncated { need: end, have })?;
        let out = self.bytes.slice_ref(out);
        self.at = end;
        Ok(out)
    }
    fn lens<const N: usize>(&mut self) -> Result<[usize; N], DecodeError> {
        let head = self.take(N)?;
        Ok(std::array::from_fn(|i| usize::from(head[i])))
    }
    fn text(&mut self, len: usize) -> Result<ByteString, DecodeError> {
        let bytes = self.take(len)?;
        ByteString::try_from(bytes)
            .map_err(|_| DecodeError::Utf8 { field: crate::protocol::Field::Topic })
    }
    fn rest(&mut self) -> Bytes {
        self.bytes.slice(self.at.min(self.bytes.len())..)
    }
}

fn opt_ref(text: ByteString) -> Option<Ref> {
    (!text.is_empty()).then(|| Ref::new(text))
}

/// Server → client binary frames: push (0), reply (1), broadcast (2).
fn decode_server_binary(bytes: Bytes) -> Result<Message, DecodeError> {
    let mut c = Cursor { bytes, at: 1 };
    match c.bytes.first().copied() {
        Some(0) => {
            let [jr, topic, event] = c.lens::<3>()?;
            let (jr, topic, event) = (c.text(jr)?, c.text(topic)?, c.text(event)?);
            Ok(Message::new(opt_ref(jr), None, topic, event, Payload::Binary(c.rest())))
        }
        Some(1) => {
            let [jr, r, topic, status] = c.lens::<4>()?;
            let (jr, r, topic, status) = (c.text(jr)?, c.text(r)?, c.text(topic)?, c.text(status)?);
            let payload = Payload::BinaryReply { status, response: c.rest() };
            Ok(Message::new(opt_ref(jr), opt_ref(r), topic, "phx_reply", payload))
        }
        Some(2) => {
            let [topic, event] = c.lens::<2>()?;
            let (topic, event) = (c.text(topic)?, c.text(event)?);
            Ok(Message::new(None, None, topic, event, Payload::Binary(c.rest())))
        }
        Some(kind) => Err(DecodeError::UnknownKind { kind }),
        None => Err(DecodeError::Truncated { need: 1, have: 0 }),
    }
}

/// Client → server binary push (0).
fn decode_client_binary(bytes: Bytes) -> Result<Message, DecodeError> {
    let mut c = Cursor { bytes, at: 1 };
    let [jr, r, topic, event] = c.lens::<4>()?;
    let (jr, r, topic, event) = (c.text(jr)?, c.text(r)?, c.text(topic)?, c.text(event)?);
    Ok(Message::new(opt_ref(jr), opt_ref(r), topic, event, Payload::Binary(c.rest())))
}

fn encode_client_binary(msg: &Message, payload: &Bytes) -> Frame {
    let jr = msg.join_ref.as_ref().map_or("", Ref::as_str);
    let r = msg.r#ref.as_ref().map_or("", Ref::as_str);
    let fields = [jr.as_bytes(), r.as_bytes(), msg.topic.as_bytes(), msg.event.as_bytes()];
    let mut out = vec![0u8];
    out.extend(fields.iter().map(|f| u8::try_from(f.len()).unwrap_or(u8::MAX)));
    for f in fields {
        out.extend_from_slice(f);
    }
    out.extend_from_slice(payload);
    Frame::binary(out)
}

impl Serializer for StandInBinary {
    fn vsn(&self) -> &'static str {
        "2.0.0"
    }
    fn encode(&self, msg: &Message) -> Result<Frame, EncodeError> {
        match &msg.payload {
            Payload::Binary(payload) => Ok(encode_client_binary(msg, payload)),
            _ => Serializer::encode(&V2Serializer::default(), msg),
        }
    }
    fn decode(&self, frame: Frame) -> Result<Message, DecodeError> {
        match frame {
            Frame::Binary(bytes) => decode_server_binary(bytes),
            text => Serializer::decode(&V2Serializer::default(), text),
        }
    }
}

impl ServerSerializer for StandInBinary {
    fn vsn(&self) -> &'static str {
        "2.0.0"
    }
    fn decode_client(&self, frame: Frame) -> Result<Message, DecodeError> {
        match frame {
            Frame::Binary(bytes) => decode_client_binary(bytes),
            text => V2Serializer::default().decode_client(text),
        }
    }
    fn encode_server(&self, msg: &Message) -> Result<Frame, EncodeError> {
        V2Serializer::default().encode_server(msg)
    }
}
