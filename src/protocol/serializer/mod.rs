//! Serializers: [`Message`] ⇄ WebSocket [`Frame`].
//!
//! | vsn     | serializer         | text frames                              | binary frames            |
//! |---------|--------------------|------------------------------------------|--------------------------|
//! | `2.0.0` | [`V2Serializer`]   | `[join_ref, ref, topic, event, payload]` | push / reply / broadcast |
//! | `1.0.0` | [`V1Serializer`]   | `{"topic","event","payload","ref",...}`  | not supported            |
//!
//! The binary layouts (V2; one-byte lengths counting UTF-8 bytes):
//!
//! ```text
//! client push  (kind 0): [0][jr_len][ref_len][topic_len][event_len]  jr ref topic event  payload
//! server push  (kind 0): [0][jr_len][topic_len][event_len]           jr topic event      payload
//! reply        (kind 1): [1][jr_len][ref_len][topic_len][status_len] jr ref topic status payload
//! broadcast    (kind 2): [2][topic_len][event_len]                   topic event         payload
//! ```
//!
//! A client uses [`Serializer`] (encode what it sends, decode what the server
//! sends); the embedded server uses [`ServerSerializer`] for the other
//! direction. The binary layouts differ by direction: a client push has a ref,
//! a server push has none, and only servers send replies and broadcasts.
//!
//! Decoders never panic, on any input: malformed frames give a
//! [`DecodeError`] that names what was wrong.

use std::fmt;

use bytestring::ByteString;

use super::error::{DecodeError, EncodeError};
use super::message::{Frame, Message};

#[cfg(test)]
mod conformance_tests;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzzing;
mod json_check;
pub(crate) mod json_write;
pub(crate) mod v1_json;
pub(crate) mod v2_binary;
pub(crate) mod v2_json;
mod v2_scan;

pub use v1_json::V1Serializer;
pub use v2_json::V2Serializer;

/// The client side of a serializer: encodes client messages, decodes server frames.
///
/// Implement it to plug in another wire format; the session only talks to
/// this trait.
///
/// # Examples
///
/// ```
/// use rig::protocol::{Frame, Message, Payload, Ref, Serializer, V2Serializer};
///
/// let ser = V2Serializer::default();
/// let hb = Message::new(None, Some(Ref::from_u64(1)), "phoenix", "heartbeat", Payload::empty());
/// assert_eq!(ser.encode(&hb)?, Frame::text(r#"[null,"1","phoenix","heartbeat",{}]"#));
///
/// let reply = ser.decode(Frame::text(r#"[null,"1","phoenix","phx_reply",{"response":{},"status":"ok"}]"#))?;
/// assert_eq!(reply.r#ref, Some(Ref::from_u64(1)));
/// # Ok::<(), rig::protocol::Error>(())
/// ```
pub trait Serializer: Send + Sync + fmt::Debug {
    /// The `vsn` query parameter that selects this format on the server.
    fn vsn(&self) -> &'static str;

    /// Encodes a message the client sends.
    ///
    /// # Errors
    ///
    /// [`EncodeError`] when the message cannot be represented (e.g. a binary
    /// header field over 255 bytes).
    fn encode(&self, msg: &Message) -> Result<Frame, EncodeError>;

    /// Decodes a frame the server sent.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] naming what was wrong with the frame.
    fn decode(&self, frame: Frame) -> Result<Message, DecodeError>;

    /// Decodes the text frame `text`, a slice of `buffer` (a driver that
    /// copies the frames of one read back to back into one buffer): the
    /// message's fields can share `buffer` without a count of their own on
    /// the frame. The default makes the frame and calls
    /// [`decode`](Self::decode); a `text` that is not inside `buffer` is
    /// copied.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] naming what was wrong with the frame.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytestring::ByteString;
    /// use rig::protocol::{Serializer, V2Serializer};
    ///
    /// let buffer = ByteString::from(r#"[null,null,"a","e",{}][null,null,"b","e",{}]"#);
    /// let second = V2Serializer::default().decode_text_in(&buffer, &buffer[22..])?;
    /// assert_eq!(&*second.topic, "b");
    /// # Ok::<(), rig::protocol::DecodeError>(())
    /// ```
    fn decode_text_in(&self, buffer: &ByteString, text: &str) -> Result<Message, DecodeError> {
        self.decode(Frame::Text(shared_slice(buffer, text)))
    }
}

/// `text` as a slice of `buffer` when it lies inside it, else a copy.
pub(crate) fn shared_slice(buffer: &ByteString, text: &str) -> ByteString {
    if lies_in(buffer, text) { buffer.slice_ref(text) } else { ByteString::from(text) }
}

/// Whether `text` lies inside `buffer`, so that `buffer.slice_ref` of it (or
/// of any part of it) cannot panic. Addresses compared as numbers: safe.
pub(crate) fn lies_in(buffer: &ByteString, text: &str) -> bool {
    let start = buffer.as_ptr() as usize;
    let at = text.as_ptr() as usize;
    at >= start && at + text.len() <= start + buffer.len()
}

/// The server side of a serializer: decodes client frames, encodes server messages.
///
/// # Examples
///
/// ```
/// use rig::protocol::{Frame, ServerSerializer, V2Serializer};
///
/// let ser = V2Serializer::default();
/// let join = ser.decode_client(Frame::text(r#"["1","1","room:a","phx_join",{}]"#))?;
/// assert_eq!(&*join.topic, "room:a");
/// # Ok::<(), rig::protocol::Error>(())
/// ```
pub trait ServerSerializer: Send + Sync + fmt::Debug {
    /// The `vsn` this serializer answers to.
    fn vsn(&self) -> &'static str;

    /// Decodes a frame a client sent.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] naming what was wrong with the frame.
    fn decode_client(&self, frame: Frame) -> Result<Message, DecodeError>;

    /// Encodes a message the server sends (a reply, push or broadcast).
    ///
    /// # Errors
    ///
    /// [`EncodeError`] when the message cannot be represented.
    fn encode_server(&self, msg: &Message) -> Result<Frame, EncodeError>;
}

/// The default limit on the size of one frame a decoder accepts: 8 MiB.
pub const DEFAULT_MAX_FRAME: usize = 8 << 20;
