//! The Phoenix message model: `[join_ref, ref, topic, event, payload]`.
//!
//! Every field is a cheap, shareable slice (`ByteString` / `Bytes`): a decoder
//! cuts topic, event and payload out of the received frame without copying, and
//! a message can be cloned and sent to other threads for the cost of a few
//! reference-count increments.

use std::fmt;

use bytes::Bytes;
use bytestring::ByteString;

/// Event names with a meaning in the protocol.
pub mod events {
    /// Join a channel.
    pub const JOIN: &str = "phx_join";
    /// Leave a channel.
    pub const LEAVE: &str = "phx_leave";
    /// A reply to a push, correlated by `ref`.
    pub const REPLY: &str = "phx_reply";
    /// The server-side channel crashed.
    pub const ERROR: &str = "phx_error";
    /// The server-side channel stopped.
    pub const CLOSE: &str = "phx_close";
    /// Socket keep-alive on topic [`super::PHOENIX_TOPIC`].
    pub const HEARTBEAT: &str = "heartbeat";
    /// Full presence state.
    pub const PRESENCE_STATE: &str = "presence_state";
    /// Incremental presence change.
    pub const PRESENCE_DIFF: &str = "presence_diff";
}

pub use super::message_ref::Ref;

/// The topic that carries socket-level traffic (heartbeats).
pub const PHOENIX_TOPIC: &str = "phoenix";

/// The body of a message.
///
/// # Examples
///
/// ```
/// use rig::protocol::Payload;
///
/// let p = Payload::json(r#"{"a":1}"#);
/// assert_eq!(p.as_json(), Some(r#"{"a":1}"#));
/// assert!(Payload::binary(vec![1u8, 2]).as_json().is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload {
    /// Raw JSON text, exactly as received or to be sent.
    Json(ByteString),
    /// The bytes of a binary frame's payload.
    Binary(Bytes),
    /// A binary reply (V2 binary kind 1): the status and the raw response bytes.
    BinaryReply {
        /// The reply status, e.g. `ok` or `error`.
        status: ByteString,
        /// The response bytes.
        response: Bytes,
    },
}

impl Payload {
    /// A JSON payload from its text. The text is not checked here; the peer
    /// (or [`serde_json`]) will reject it if it is not JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = rig::protocol::Payload::json("{}");
    /// assert_eq!(p.as_json(), Some("{}"));
    /// ```
    pub fn json(text: impl Into<ByteString>) -> Self {
        Self::Json(text.into())
    }

    /// The empty JSON object `{}`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::Payload::empty().as_json(), Some("{}"));
    /// ```
    #[must_use]
    pub fn empty() -> Self {
        Self::Json(ByteString::from_static("{}"))
    }

    /// A binary payload.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = rig::protocol::Payload::binary(vec![0u8, 1, 2]);
    /// assert!(p.is_binary());
    /// ```
    pub fn binary(bytes: impl Into<Bytes>) -> Self {
        Self::Binary(bytes.into())
    }

    /// The JSON text, if this is a JSON payload.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::Payload::json("[1]").as_json(), Some("[1]"));
    /// ```
    #[must_use]
    pub fn as_json(&self) -> Option<&str> {
        match self {
            Self::Json(text) => Some(text),
            _ => None,
        }
    }

    /// Whether the payload travels in a binary frame.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rig::protocol::Payload::empty().is_binary());
    /// ```
    #[must_use]
    pub fn is_binary(&self) -> bool {
        !matches!(self, Self::Json(_))
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(text) => write!(f, "{}", &**text),
            Self::Binary(bytes) => write!(f, "<binary {bytes:02x?}>"),
            Self::BinaryReply { status, response } => {
                write!(f, "<binary reply {:?} {response:02x?}>", &**status)
            }
        }
    }
}

/// One Phoenix message: `[join_ref, ref, topic, event, payload]`.
///
/// # Examples
///
/// ```
/// use rig::protocol::{Message, Payload, Ref};
///
/// let join = Message::new(Some(Ref::from_u64(1)), Some(Ref::from_u64(1)), "room:lobby", "phx_join", Payload::empty());
/// assert_eq!(&*join.topic, "room:lobby");
/// assert!(join.is_event("phx_join"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// The ref of the join that this message belongs to (`None` = null).
    pub join_ref: Option<Ref>,
    /// The ref that correlates a push with its reply (`None` = null).
    pub r#ref: Option<Ref>,
    /// The channel topic, e.g. `room:lobby`, or `phoenix` for heartbeats.
    pub topic: ByteString,
    /// The event name.
    pub event: ByteString,
    /// The body.
    pub payload: Payload,
}

impl Message {
    /// Builds a message from its five fields.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Message, Payload};
    /// let m = Message::new(None, None, "room:a", "shout", Payload::json(r#"{"x":1}"#));
    /// assert!(m.join_ref.is_none());
    /// ```
    pub fn new(
        join_ref: Option<Ref>,
        r#ref: Option<Ref>,
        topic: impl Into<ByteString>,
        event: impl Into<ByteString>,
        payload: Payload,
    ) -> Self {
        Self { join_ref, r#ref, topic: topic.into(), event: event.into(), payload }
    }

    /// Whether the event name equals `event`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Message, Payload};
    /// let m = Message::new(None, None, "t", "e", Payload::empty());
    /// assert!(m.is_event("e") && !m.is_event("f"));
    /// ```
    #[must_use]
    pub fn is_event(&self, event: &str) -> bool {
        &*self.event == event
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:?}, {:?}, {:?}, {:?}, {:?}]",
            self.join_ref, self.r#ref, &*self.topic, &*self.event, self.payload
        )
    }
}

/// A WebSocket data frame, as serializers consume and produce them.
///
/// # Examples
///
/// ```
/// use rig::protocol::Frame;
/// assert!(matches!(Frame::text("[]"), Frame::Text(_)));
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Frame {
    /// A text frame (always UTF-8).
    Text(ByteString),
    /// A binary frame.
    Binary(Bytes),
}

impl Frame {
    /// A text frame.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::Frame::text("x").len(), 1);
    /// ```
    pub fn text(text: impl Into<ByteString>) -> Self {
        Self::Text(text.into())
    }

    /// A binary frame.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::Frame::binary(vec![1u8]).len(), 1);
    /// ```
    pub fn binary(bytes: impl Into<Bytes>) -> Self {
        Self::Binary(bytes.into())
    }

    /// The frame's length in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::protocol::Frame::text("").is_empty());
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Binary(b) => b.len(),
        }
    }

    /// Whether the frame is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rig::protocol::Frame::text("[]").is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
