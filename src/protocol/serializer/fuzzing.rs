//! Fuzz oracles, shared by the `fuzz/` targets and the seed replay test.
//!
//! Compiled only for tests and under `--cfg fuzzing` (cargo-fuzz sets it), as
//! quinn does, so the fuzz targets and `cargo test` run the same checks. Each
//! oracle feeds one input to the decoders of both directions and, when a
//! decoder accepts it, checks that encoding the message and decoding it again
//! gives the same message. A broken invariant panics: that is how a fuzzer
//! learns about it.
#![allow(
    clippy::panic,
    reason = "fuzz oracles report a broken invariant by panicking; never built into the library"
)]

use std::ops::Range;

use bytes::Bytes;
use bytestring::ByteString;

use super::{Serializer, ServerSerializer, V1Serializer, V2Serializer};
use crate::protocol::message::{Frame, Message, Payload, events};

/// Which decoders accepted an input.
///
/// # Examples
///
/// ```ignore
/// // Only built with `--cfg fuzzing`.
/// let accepted = rig::protocol::serializer::fuzzing::decode_v2_json(br#"[null,"1","phoenix","heartbeat",{}]"#);
/// assert!(accepted.as_server_frame && accepted.as_client_frame);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Accepted {
    /// `Serializer::decode` (a frame a server sent) accepted it.
    pub as_server_frame: bool,
    /// `ServerSerializer::decode_client` (a frame a client sent) accepted it.
    pub as_client_frame: bool,
}

impl Accepted {
    /// Whether either decoder accepted the input.
    ///
    /// # Examples
    ///
    /// ```ignore
    /// assert!(!rig::protocol::serializer::fuzzing::Accepted::default().any());
    /// ```
    #[must_use]
    pub fn any(self) -> bool {
        self.as_server_frame || self.as_client_frame
    }
}

/// `data` as a V2 text frame (skipped unless UTF-8).
///
/// # Examples
///
/// ```ignore
/// rig::protocol::serializer::fuzzing::decode_v2_json(b"[1,2");
/// ```
pub fn decode_v2_json(data: &[u8]) -> Accepted {
    let Ok(text) = std::str::from_utf8(data) else { return Accepted::default() };
    let ser = V2Serializer::default();
    let text = ByteString::from(text);
    let from_server = ser.decode(Frame::Text(text.clone()));
    let from_client = ser.decode_client(Frame::Text(text.clone()));
    // Text frames have one layout in both directions.
    assert_eq!(from_server, from_client, "V2 text decodes differently by direction: {text:?}");
    // The hand-read compact shape is a shortcut, never a different answer.
    let in_full = super::v2_json::decode_text_in_full(&text);
    assert_eq!(from_server, in_full, "V2 compact scan disagrees with serde_json: {text:?}");
    // Inside a buffer of several frames (as rig-io reads them), the same;
    // the default (V1's) agrees, and a text outside the buffer is copied.
    let buffer = ByteString::from(format!("[]{text}[]"));
    let inside = buffer.get(2..2 + text.len()).unwrap_or_default();
    assert_eq!(ser.decode_text_in(&buffer, inside), from_server, "V2 in a buffer: {text:?}");
    assert_eq!(ser.decode_text_in(&ByteString::new(), &text), from_server, "V2 copied: {text:?}");
    let v1 = V1Serializer::default();
    assert_eq!(v1.decode_text_in(&buffer, inside), v1.decode(Frame::Text(text.clone())));
    if let Ok(msg) = &from_server {
        assert_payload_shares(msg, text.as_bytes().as_ptr_range());
        let wire = encode_ok(ser.encode_server(msg), msg);
        assert_eq!(ser.decode(wire).as_ref(), Ok(msg), "V2 server roundtrip of {text:?}");
        let wire = encode_ok(ser.encode(msg), msg);
        assert_eq!(ser.decode_client(wire).as_ref(), Ok(msg), "V2 client roundtrip of {text:?}");
    }
    Accepted { as_server_frame: from_server.is_ok(), as_client_frame: from_client.is_ok() }
}

/// `data` as a V2 binary frame, from either side; also checks V1 refuses it.
///
/// # Examples
///
/// ```ignore
/// rig::protocol::serializer::fuzzing::decode_binary(&[2, 1, 1, b't', b'e']);
/// ```
pub fn decode_binary(data: &[u8]) -> Accepted {
    let bytes = Bytes::copy_from_slice(data);
    let ser = V2Serializer::default();
    let from_server = ser.decode(Frame::Binary(bytes.clone()));
    let from_client = ser.decode_client(Frame::Binary(bytes.clone()));
    // A push or broadcast named `phx_reply` decodes, but a server may only
    // send a reply as a BinaryReply (with a status), so it does not re-encode.
    let status_less_reply = from_server
        .as_ref()
        .is_ok_and(|m| m.is_event(events::REPLY) && matches!(m.payload, Payload::Binary(_)));
    if let (Ok(msg), false) = (&from_server, status_less_reply) {
        assert_payload_shares(msg, bytes.as_ptr_range());
        // Every decoded field came with a one-byte length, so it re-encodes.
        let wire = encode_ok(ser.encode_server(msg), msg);
        // A server push with an empty join_ref reads as a broadcast; all other
        // frames re-encode to the very same bytes.
        if data.get(..2) != Some(&[0, 0][..]) {
            assert_eq!(wire, Frame::Binary(bytes.clone()), "server frame re-encodes differently");
        }
        assert_eq!(ser.decode(wire).as_ref(), Ok(msg), "binary server roundtrip of {data:02x?}");
    }
    if let Ok(msg) = &from_client {
        assert_payload_shares(msg, bytes.as_ptr_range());
        let wire = encode_ok(ser.encode(msg), msg);
        assert_eq!(wire, Frame::Binary(bytes.clone()), "client push re-encodes differently");
    }
    let v1 = V1Serializer::default();
    assert!(v1.decode(Frame::Binary(bytes.clone())).is_err(), "V1 accepted a binary frame");
    assert!(v1.decode_client(Frame::Binary(bytes)).is_err(), "V1 accepted a binary frame");
    Accepted { as_server_frame: from_server.is_ok(), as_client_frame: from_client.is_ok() }
}

/// `data` as a V1 text frame (skipped unless UTF-8).
///
/// # Examples
///
/// ```ignore
/// rig::protocol::serializer::fuzzing::decode_v1(br#"{"topic":"t"}"#);
/// ```
pub fn decode_v1(data: &[u8]) -> Accepted {
    let Ok(text) = std::str::from_utf8(data) else { return Accepted::default() };
    let ser = V1Serializer::default();
    let text = ByteString::from(text);
    let from_server = ser.decode(Frame::Text(text.clone()));
    let from_client = ser.decode_client(Frame::Text(text.clone()));
    assert_eq!(from_server, from_client, "V1 decodes differently by direction: {text:?}");
    if let Ok(msg) = &from_client {
        assert_payload_shares(msg, text.as_bytes().as_ptr_range());
        let wire = encode_ok(ser.encode(msg), msg);
        assert_eq!(ser.decode_client(wire).as_ref(), Ok(msg), "V1 client roundtrip of {text:?}");
        // Phoenix's V1 server never writes a join_ref.
        let without_join_ref = Message { join_ref: None, ..msg.clone() };
        let wire = encode_ok(ser.encode_server(msg), msg);
        assert_eq!(ser.decode(wire), Ok(without_join_ref), "V1 server roundtrip of {text:?}");
    }
    Accepted { as_server_frame: from_server.is_ok(), as_client_frame: from_client.is_ok() }
}

fn encode_ok<E: std::fmt::Debug>(result: Result<Frame, E>, msg: &Message) -> Frame {
    match result {
        Ok(frame) => frame,
        Err(e) => panic!("a decoded message must encode again: {msg:?}: {e:?}"),
    }
}

/// Decoding must not copy the payload: it points into the frame's buffer.
fn assert_payload_shares(msg: &Message, frame: Range<*const u8>) {
    let payload: &[u8] = match &msg.payload {
        Payload::Json(text) => text.as_bytes(),
        Payload::Binary(bytes) | Payload::BinaryReply { response: bytes, .. } => bytes,
    };
    // An empty slice may be a fresh static empty buffer; nothing was copied.
    if !payload.is_empty() {
        assert!(frame.contains(&payload.as_ptr()), "payload was copied out of the frame: {msg:?}");
    }
}
