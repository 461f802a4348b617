//! The payload of a `phx_reply`: `{"response": ..., "status": "ok" | "error" | ...}`.

use bytestring::ByteString;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::{DecodeError, Field, json_type_name};
use super::message::Payload;
use super::serializer::json_write::write_json_string;

/// A reply to a push, correlated with it by `ref`.
///
/// JSON replies carry `{"response": .., "status": ..}`; V2 binary replies
/// carry the status in the frame header and raw bytes as the response.
///
/// # Examples
///
/// ```
/// use rig::protocol::{Payload, Reply};
///
/// let reply = Reply::parse(&Payload::json(r#"{"response":{"joined":"room:a"},"status":"ok"}"#))?;
/// assert!(reply.is_ok());
/// assert_eq!(reply.response.as_json(), Some(r#"{"joined":"room:a"}"#));
/// # Ok::<(), rig::protocol::DecodeError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Reply {
    /// `ok`, `error`, or any status a server chooses.
    pub status: ByteString,
    /// The response: JSON text (`null` when absent) or binary bytes.
    pub response: Payload,
}

#[derive(Deserialize)]
struct RawReply<'a> {
    #[serde(borrow)]
    status: Option<&'a RawValue>,
    #[serde(borrow)]
    response: Option<&'a RawValue>,
}

impl Reply {
    /// A reply with the given status and response.
    ///
    /// # Examples
    ///
    /// ```
    /// let r = rig::protocol::Reply::new("error", rig::protocol::Payload::json(r#"{"reason":"x"}"#));
    /// assert!(!r.is_ok());
    /// ```
    pub fn new(status: impl Into<ByteString>, response: Payload) -> Self {
        Self { status: status.into(), response }
    }

    /// Reads a reply out of a `phx_reply` payload.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the payload is not an object with a string
    /// `status`. A missing `response` reads as JSON `null`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Payload, Reply};
    /// assert!(Reply::parse(&Payload::json("[]")).is_err());
    /// ```
    pub fn parse(payload: &Payload) -> Result<Self, DecodeError> {
        let text = match payload {
            Payload::Json(text) => text,
            Payload::BinaryReply { status, response } => {
                return Ok(Self::new(status.clone(), Payload::Binary(response.clone())));
            }
            Payload::Binary(_) => {
                return Err(DecodeError::Shape {
                    expected: "a reply object",
                    got: "binary data".into(),
                });
            }
        };
        let raw: RawReply<'_> = serde_json::from_str(text).map_err(|e| {
            if e.is_data() {
                DecodeError::Shape {
                    expected: "a reply object",
                    got: json_type_name(text.trim_start()).into(),
                }
            } else {
                DecodeError::json(&e)
            }
        })?;
        let status = raw.status.ok_or(DecodeError::MissingField { field: Field::Status })?.get();
        if !status.starts_with('"') {
            return Err(DecodeError::FieldType {
                field: Field::Status,
                expected: "a string",
                got: json_type_name(status),
            });
        }
        let status = super::serializer::v2_json::unquote(text, status, Field::Status)?;
        let response = match raw.response {
            Some(r) => Payload::Json(text.slice_ref(r.get())),
            None => Payload::Json(ByteString::from_static("null")),
        };
        Ok(Self { status, response })
    }

    /// Whether the status is `ok`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::protocol::Reply::new("ok", rig::protocol::Payload::empty()).is_ok());
    /// ```
    #[must_use]
    pub fn is_ok(&self) -> bool {
        &*self.status == "ok"
    }

    /// The `phx_reply` payload a server sends for this reply: JSON
    /// `{"response":..,"status":..}` (keys sorted, as Phoenix writes them), or a
    /// binary reply when the response is binary.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Payload, Reply};
    /// let p = Reply::new("ok", Payload::empty()).to_payload();
    /// assert_eq!(p.as_json(), Some(r#"{"response":{},"status":"ok"}"#));
    /// ```
    #[must_use]
    pub fn to_payload(&self) -> Payload {
        match &self.response {
            Payload::Json(json) => {
                let mut out = String::with_capacity(json.len() + self.status.len() + 26);
                out.push_str("{\"response\":");
                out.push_str(json);
                out.push_str(",\"status\":");
                write_json_string(&mut out, &self.status);
                out.push('}');
                Payload::Json(ByteString::from(out))
            }
            Payload::Binary(bytes) | Payload::BinaryReply { response: bytes, .. } => {
                Payload::BinaryReply { status: self.status.clone(), response: bytes.clone() }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_non_object_responses() {
        let r =
            Reply::parse(&Payload::json(r#"{"response":"just a string","status":"ok"}"#)).unwrap();
        assert_eq!(r.response.as_json(), Some(r#""just a string""#));
        let r = Reply::parse(&Payload::json(r#"{"status":"error"}"#)).unwrap();
        assert_eq!(r.response.as_json(), Some("null"));
    }

    #[test]
    fn rejects_bad_shapes_with_typed_errors() {
        assert_eq!(
            Reply::parse(&Payload::json(r#"{"response":{}}"#)),
            Err(DecodeError::MissingField { field: Field::Status })
        );
        assert!(matches!(
            Reply::parse(&Payload::json(r#"{"status":1}"#)),
            Err(DecodeError::FieldType { field: Field::Status, .. })
        ));
        assert!(matches!(Reply::parse(&Payload::json("nope")), Err(DecodeError::Json { .. })));
    }

    #[test]
    fn roundtrips_through_the_server_payload() {
        let text = r#"{"response":{"joined":"room:a"},"status":"ok"}"#;
        let r = Reply::parse(&Payload::json(text)).unwrap();
        assert_eq!(r.to_payload().as_json(), Some(text));
    }
}
