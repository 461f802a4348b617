//! serde in and out of payloads: [`Payload::from_serde`] and
//! `From<serde_json::Value>` build JSON payloads; [`Payload::decode`],
//! [`Message::decode`], [`Reply::decode`] and
//! [`Presence::decode_metas`](super::presence::Presence::decode_metas) read them
//! into any `T: Deserialize`, borrowing from the frame when `T` holds
//! `&str` (no copy of the text) and owning when it does not. Binary payloads
//! stay bytes: decoding one is a [`PayloadError::Binary`].
//!
//! In scope: the conversion and its error ([`PayloadError`], naming the
//! message and carrying serde's message, line and column). Out of scope:
//! the envelope (the serializers decode that; the payload stays raw text).

use bytestring::ByteString;
use serde::{Deserialize, Serialize};

use super::message::{Message, Payload};
use super::reply::Reply;

/// A payload that could not be read into (or made from) the type asked for.
///
/// # Examples
///
/// ```
/// use rig::protocol::{Message, Payload, PayloadError};
///
/// let m = Message::new(None, None, "room:a", "shout", Payload::json(r#"{"text":1}"#));
/// #[derive(serde::Deserialize, Debug)]
/// struct Shout { #[allow(dead_code)] text: String }
/// let err = m.decode::<Shout>().unwrap_err();
/// assert!(matches!(&err, PayloadError::Json { line: 1, column: 9, .. }), "{err:?}");
/// assert_eq!(err.to_string(), r#"event "shout" on room:a: invalid type: integer `1`, expected a string at line 1 column 9"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The JSON does not fit the type (or is not JSON). Not fatal: the
    /// message is still there to read as text ([`Payload::as_json`]).
    #[error("{context}: {message} at line {line} column {column}")]
    Json {
        /// Which payload: `event "shout" on room:a`, `reply error`, `presence meta 0`, `payload`.
        context: String,
        /// serde's message, without the position.
        message: String,
        /// 1-based line in the payload text (0 when decoded from a value).
        line: usize,
        /// 1-based column in the payload text (0 when decoded from a value).
        column: usize,
    },
    /// The payload is binary; read its bytes rather than decode it.
    #[error("{context}: a binary payload, not JSON")]
    Binary {
        /// Which payload.
        context: String,
    },
    /// The value could not be written as JSON (a map with non-string keys,
    /// a `Serialize` impl that fails).
    #[error("cannot encode {type_name} as JSON: {message}")]
    Encode {
        /// The Rust type given.
        type_name: &'static str,
        /// serde's message.
        message: String,
    },
}

impl PayloadError {
    /// A decode error from serde_json, its position split off the message.
    pub(crate) fn json(context: impl Into<String>, err: &serde_json::Error) -> Self {
        let (line, column) = (err.line(), err.column());
        let text = err.to_string();
        let position = format!(" at line {line} column {column}");
        let message = text.strip_suffix(&position).map_or_else(|| text.clone(), str::to_owned);
        Self::Json { context: context.into(), message, line, column }
    }
}

/// Decodes JSON `text` (borrowed for as long as `T` needs it).
fn decode_text<'de, T: Deserialize<'de>>(
    text: &'de str,
    context: impl FnOnce() -> String,
) -> Result<T, PayloadError> {
    serde_json::from_str(text).map_err(|e| PayloadError::json(context(), &e))
}

impl Payload {
    /// A JSON payload written from any `T: Serialize`.
    ///
    /// # Errors
    ///
    /// [`PayloadError::Encode`] when serde_json refuses the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::Payload;
    /// #[derive(serde::Serialize)]
    /// struct Msg<'a> { body: &'a str }
    /// let p = Payload::from_serde(&Msg { body: "hi" })?;
    /// assert_eq!(p.as_json(), Some(r#"{"body":"hi"}"#));
    /// # Ok::<(), rig::protocol::PayloadError>(())
    /// ```
    pub fn from_serde<T: Serialize + ?Sized>(value: &T) -> Result<Self, PayloadError> {
        serde_json::to_string(value).map(|text| Self::Json(ByteString::from(text))).map_err(|e| {
            PayloadError::Encode { type_name: std::any::type_name::<T>(), message: e.to_string() }
        })
    }

    /// Reads the JSON payload into `T`, borrowing from it where `T` holds
    /// references (`&str`, `&RawValue`, `Cow<str>`), owning otherwise.
    ///
    /// # Errors
    ///
    /// [`PayloadError::Json`] when the text does not fit `T`,
    /// [`PayloadError::Binary`] for a binary payload.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::Payload;
    /// #[derive(serde::Deserialize)]
    /// struct Shout<'a> { user: &'a str, n: u32 }
    /// let p = Payload::json(r#"{"user":"ann","n":2}"#);
    /// let shout: Shout<'_> = p.decode()?; // `user` points into the frame
    /// assert_eq!((shout.user, shout.n), ("ann", 2));
    /// let owned: serde_json::Value = p.decode()?;
    /// assert_eq!(owned["n"], 2);
    /// # Ok::<(), rig::protocol::PayloadError>(())
    /// ```
    pub fn decode<'de, T: Deserialize<'de>>(&'de self) -> Result<T, PayloadError> {
        self.decode_in(|| "payload".to_owned())
    }

    fn decode_in<'de, T: Deserialize<'de>>(
        &'de self,
        context: impl FnOnce() -> String,
    ) -> Result<T, PayloadError> {
        match self {
            Self::Json(text) => decode_text(text, context),
            Self::Binary(_) | Self::BinaryReply { .. } => {
                Err(PayloadError::Binary { context: context() })
            }
        }
    }
}

impl From<serde_json::Value> for Payload {
    /// # Examples
    ///
    /// ```
    /// let p = rig::protocol::Payload::from(serde_json::json!({"a": [1, 2]}));
    /// assert_eq!(p.as_json(), Some(r#"{"a":[1,2]}"#));
    /// ```
    fn from(value: serde_json::Value) -> Self {
        Self::from(&value)
    }
}

impl From<&serde_json::Value> for Payload {
    /// # Examples
    ///
    /// ```
    /// let v = serde_json::json!("x");
    /// assert_eq!(rig::protocol::Payload::from(&v).as_json(), Some(r#""x""#));
    /// ```
    fn from(value: &serde_json::Value) -> Self {
        // A Value's Display is its compact JSON text, and it cannot fail
        // (its map keys are strings).
        Self::Json(ByteString::from(value.to_string()))
    }
}

impl Message {
    /// Reads the payload into `T`, borrowing from the frame where `T`
    /// holds references; errors name the event and topic.
    ///
    /// # Errors
    ///
    /// [`PayloadError`] (see [`Payload::decode`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Message, Payload};
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct Shout { text: String }
    /// let m = Message::new(None, None, "room:a", "shout", Payload::json(r#"{"text":"hi"}"#));
    /// assert_eq!(m.decode::<Shout>()?, Shout { text: "hi".into() });
    /// # Ok::<(), rig::protocol::PayloadError>(())
    /// ```
    pub fn decode<'de, T: Deserialize<'de>>(&'de self) -> Result<T, PayloadError> {
        self.payload.decode_in(|| format!("event {:?} on {}", &*self.event, &*self.topic))
    }
}

impl Reply {
    /// Reads the response into `T`, borrowing from the frame where `T`
    /// holds references; errors name the status.
    ///
    /// # Errors
    ///
    /// [`PayloadError`] (see [`Payload::decode`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Payload, Reply};
    /// #[derive(serde::Deserialize)]
    /// struct Joined<'a> { joined: &'a str }
    /// let reply = Reply::new("ok", Payload::json(r#"{"joined":"room:a"}"#));
    /// assert_eq!(reply.decode::<Joined<'_>>()?.joined, "room:a");
    /// # Ok::<(), rig::protocol::PayloadError>(())
    /// ```
    pub fn decode<'de, T: Deserialize<'de>>(&'de self) -> Result<T, PayloadError> {
        self.response.decode_in(|| format!("reply {}", &*self.status))
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Shout<'a> {
        #[serde(borrow)]
        user: Cow<'a, str>,
        n: u32,
    }

    #[test]
    fn decode_borrows_from_the_frame() {
        let p = Payload::json(r#"{"user":"ann","n":2}"#);
        let shout: Shout<'_> = p.decode().unwrap();
        assert!(matches!(shout.user, Cow::Borrowed("ann")), "no copy of the text");
        let escaped = Payload::json(r#"{"user":"a\"nn","n":2}"#);
        let shout: Shout<'_> = escaped.decode().unwrap();
        assert!(matches!(shout.user, Cow::Owned(_)), "an escape needs a copy");
    }

    #[test]
    fn errors_name_the_message_and_the_position() {
        let m = Message::new(None, None, "room:a", "shout", Payload::json("{\n\"n\":\"x\"}"));
        let err = m.decode::<Shout<'_>>().unwrap_err();
        let PayloadError::Json { context, message, line, column } = &err else { panic!("{err:?}") };
        assert_eq!((context.as_str(), *line, *column), (r#"event "shout" on room:a"#, 2, 7));
        assert_eq!(message, r#"invalid type: string "x", expected u32"#);
        let reply = Reply::new("error", Payload::json("nope"));
        assert!(reply.decode::<u32>().unwrap_err().to_string().starts_with("reply error: "));
        let bin = Message::new(None, None, "t", "e", Payload::binary(vec![1_u8]));
        assert_eq!(
            bin.decode::<u32>(),
            Err(PayloadError::Binary { context: r#"event "e" on t"#.into() })
        );
    }

    #[test]
    fn payloads_come_from_serialize_and_values() {
        assert_eq!(Payload::from(json!({"a": 1})).as_json(), Some(r#"{"a":1}"#));
        assert_eq!(Payload::from_serde(&[1, 2]).unwrap().as_json(), Some("[1,2]"));
        let bad: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(matches!(Payload::from_serde(&bad), Err(PayloadError::Encode { .. })));
    }
}
