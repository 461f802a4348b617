//! Errors of the protocol layer.

/// Which field of a message an error is about.
///
/// # Examples
///
/// ```
/// assert_eq!(rig::protocol::Field::Topic.to_string(), "topic");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Field {
    /// `join_ref`
    JoinRef,
    /// `ref`
    Ref,
    /// `topic`
    Topic,
    /// `event`
    Event,
    /// `payload`
    Payload,
    /// The status of a reply.
    Status,
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::JoinRef => "join_ref",
            Self::Ref => "ref",
            Self::Topic => "topic",
            Self::Event => "event",
            Self::Payload => "payload",
            Self::Status => "status",
        })
    }
}

/// A frame that could not be decoded into a [`Message`](super::Message).
///
/// Decoding never panics; every malformed input maps to one of these. The
/// frame is dropped and counted; the connection goes on (a server closes it
/// with 1011, as Phoenix does).
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame is longer than the configured limit.
    #[error("frame of {len} bytes is over the limit of {max} bytes")]
    TooLarge {
        /// The frame's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A text frame is not valid JSON.
    #[error("invalid JSON: {reason}")]
    Json {
        /// What the JSON parser reported.
        reason: String,
    },
    /// The JSON is valid but not the shape the serializer expects.
    #[error("expected {expected}, got {got}")]
    Shape {
        /// What the serializer expects, e.g. "a JSON array".
        expected: &'static str,
        /// What it found, e.g. "an object".
        got: String,
    },
    /// A V2 array with the wrong number of elements.
    #[error("expected an array of 5 elements, got {got}")]
    Arity {
        /// The number of elements found.
        got: usize,
    },
    /// A field has the wrong JSON type.
    #[error("{field}: expected {expected}, got {got}")]
    FieldType {
        /// The field.
        field: Field,
        /// The expected type.
        expected: &'static str,
        /// The type found.
        got: &'static str,
    },
    /// A required field is missing.
    #[error("missing field {field}")]
    MissingField {
        /// The field.
        field: Field,
    },
    /// A V1 object names the same field twice.
    #[error("field {field} appears more than once")]
    DuplicateField {
        /// The field.
        field: Field,
    },
    /// A binary frame ends before its header or a field it announces.
    #[error("binary frame truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// A binary frame with a kind byte this side does not accept.
    #[error("binary frame of unknown kind {kind}")]
    UnknownKind {
        /// The kind byte.
        kind: u8,
    },
    /// A binary header field is not UTF-8.
    #[error("{field}: not valid UTF-8")]
    Utf8 {
        /// The field.
        field: Field,
    },
    /// The serializer does not accept binary frames (V1).
    #[error("binary frames are not supported by serializer {vsn}")]
    BinaryUnsupported {
        /// The serializer version.
        vsn: &'static str,
    },
}

/// A message that could not be encoded.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A binary header field is over 255 UTF-8 bytes (its length is one byte).
    #[error("{field} is {len} bytes; binary frames allow at most 255")]
    FieldTooLong {
        /// The field.
        field: Field,
        /// Its length in UTF-8 bytes.
        len: usize,
    },
    /// The payload kind cannot be sent by this serializer or in this direction.
    #[error("cannot encode a {what} with serializer {vsn}")]
    Unsupported {
        /// What could not be encoded.
        what: &'static str,
        /// The serializer version.
        vsn: &'static str,
    },
}

/// Any error of the protocol layer.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`DecodeError`].
    #[error("decode: {0}")]
    Decode(#[from] DecodeError),
    /// See [`EncodeError`].
    #[error("encode: {0}")]
    Encode(#[from] EncodeError),
}

impl DecodeError {
    pub(crate) fn json(err: &serde_json::Error) -> Self {
        Self::Json { reason: err.to_string() }
    }
}

/// The JSON type name of a raw JSON value, for error messages.
pub(crate) fn json_type_name(raw: &str) -> &'static str {
    match raw.as_bytes().first() {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(_) => "a number",
        None => "nothing",
    }
}
