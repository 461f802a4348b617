//! V2 binary frames: the layouts Phoenix uses for `{:binary, data}` payloads.
//!
//! Every length is one byte and counts UTF-8 bytes; the payload is whatever
//! follows the last header field, up to the end of the frame.
//!
//! ```text
//! client push  (client → server, kind 0): [0][jr_len][ref_len][topic_len][event_len]  jr ref topic event  payload
//! server push  (server → client, kind 0): [0][jr_len][topic_len][event_len]           jr topic event      payload
//! reply        (server → client, kind 1): [1][jr_len][ref_len][topic_len][status_len] jr ref topic status payload
//! broadcast    (server → client, kind 2): [2][topic_len][event_len]                   topic event         payload
//! ```
//!
//! The two kind-0 layouts differ: a server push has no ref field, so which one
//! a frame uses depends on who sent it. A reply decodes to event `phx_reply`
//! with [`Payload::BinaryReply`].
//!
//! A null `join_ref` or `ref` travels as an empty field (length 0), as Phoenix
//! writes `to_string(nil)`; an empty field decodes back to `None`. phoenix.js
//! decodes it to `""`, which it treats exactly like `null` (both are falsy in
//! its join_ref checks), so `None` keeps the binary and JSON paths alike.
//!
//! Decoding never copies: topic, event, refs, status and payload are slices of
//! the frame's buffer. It never panics and allocates nothing beyond the
//! returned [`Message`].

use bytes::Bytes;
use bytestring::ByteString;

use crate::protocol::error::{DecodeError, EncodeError, Field};
use crate::protocol::message::{Message, Payload, Ref, events};

/// Kind byte of a push (either direction).
pub(crate) const KIND_PUSH: u8 = 0;
/// Kind byte of a reply (server → client).
pub(crate) const KIND_REPLY: u8 = 1;
/// Kind byte of a broadcast (server → client).
pub(crate) const KIND_BROADCAST: u8 = 2;

/// Decodes a binary frame that a server sent (kinds 0, 1 and 2).
pub(crate) fn decode_server_frame(frame: &Bytes) -> Result<Message, DecodeError> {
    match kind(frame)? {
        KIND_PUSH => {
            let ([join_ref, topic, event], payload) =
                read_fields(frame, [Field::JoinRef, Field::Topic, Field::Event])?;
            Ok(Message {
                join_ref: optional_ref(join_ref),
                r#ref: None,
                topic,
                event,
                payload: Payload::Binary(payload),
            })
        }
        KIND_REPLY => {
            let ([join_ref, r#ref, topic, status], response) =
                read_fields(frame, [Field::JoinRef, Field::Ref, Field::Topic, Field::Status])?;
            Ok(Message {
                join_ref: optional_ref(join_ref),
                r#ref: optional_ref(r#ref),
                topic,
                event: ByteString::from_static(events::REPLY),
                payload: Payload::BinaryReply { status, response },
            })
        }
        KIND_BROADCAST => {
            let ([topic, event], payload) = read_fields(frame, [Field::Topic, Field::Event])?;
            Ok(Message {
                join_ref: None,
                r#ref: None,
                topic,
                event,
                payload: Payload::Binary(payload),
            })
        }
        other => Err(DecodeError::UnknownKind { kind: other }),
    }
}

/// Decodes a binary frame that a client sent (kind 0 with a ref field).
pub(crate) fn decode_client_frame(frame: &Bytes) -> Result<Message, DecodeError> {
    match kind(frame)? {
        KIND_PUSH => {
            let ([join_ref, r#ref, topic, event], payload) =
                read_fields(frame, [Field::JoinRef, Field::Ref, Field::Topic, Field::Event])?;
            Ok(Message {
                join_ref: optional_ref(join_ref),
                r#ref: optional_ref(r#ref),
                topic,
                event,
                payload: Payload::Binary(payload),
            })
        }
        other => Err(DecodeError::UnknownKind { kind: other }),
    }
}

/// Encodes a client push; `msg.payload` must be [`Payload::Binary`].
pub(crate) fn encode_client_push(msg: &Message, vsn: &'static str) -> Result<Bytes, EncodeError> {
    match &msg.payload {
        Payload::Binary(data) => write_frame(
            KIND_PUSH,
            &[
                (Field::JoinRef, ref_bytes(msg.join_ref.as_ref())),
                (Field::Ref, ref_bytes(msg.r#ref.as_ref())),
                (Field::Topic, msg.topic.as_bytes()),
                (Field::Event, msg.event.as_bytes()),
            ],
            data,
        ),
        Payload::BinaryReply { .. } => {
            Err(EncodeError::Unsupported { what: "binary reply from a client", vsn })
        }
        Payload::Json(_) => {
            Err(EncodeError::Unsupported { what: "JSON payload in a binary frame", vsn })
        }
    }
}

/// Encodes a server message with a binary payload: a reply for
/// [`Payload::BinaryReply`] (event `phx_reply`), else (any other event) a
/// broadcast when both refs are `None`, a push (no ref field) when only
/// `join_ref` is set.
pub(crate) fn encode_server_frame(msg: &Message, vsn: &'static str) -> Result<Bytes, EncodeError> {
    match &msg.payload {
        Payload::BinaryReply { status, response } => {
            if !msg.is_event(events::REPLY) {
                return Err(EncodeError::Unsupported {
                    what: "binary reply whose event is not phx_reply",
                    vsn,
                });
            }
            write_frame(
                KIND_REPLY,
                &[
                    (Field::JoinRef, ref_bytes(msg.join_ref.as_ref())),
                    (Field::Ref, ref_bytes(msg.r#ref.as_ref())),
                    (Field::Topic, msg.topic.as_bytes()),
                    (Field::Status, status.as_bytes()),
                ],
                response,
            )
        }
        // A reply needs a status, which only a BinaryReply payload carries.
        Payload::Binary(_) if msg.is_event(events::REPLY) => Err(EncodeError::Unsupported {
            what: "binary phx_reply without a status (use a BinaryReply payload)",
            vsn,
        }),
        Payload::Binary(data) => match (&msg.join_ref, &msg.r#ref) {
            (None, None) => write_frame(
                KIND_BROADCAST,
                &[(Field::Topic, msg.topic.as_bytes()), (Field::Event, msg.event.as_bytes())],
                data,
            ),
            (Some(join_ref), None) => write_frame(
                KIND_PUSH,
                &[
                    (Field::JoinRef, join_ref.as_str().as_bytes()),
                    (Field::Topic, msg.topic.as_bytes()),
                    (Field::Event, msg.event.as_bytes()),
                ],
                data,
            ),
            // A server push has no ref field: dropping the ref silently would
            // lose the reply correlation the caller asked for.
            (_, Some(_)) => Err(EncodeError::Unsupported {
                what: "binary server push with a ref (use a BinaryReply payload)",
                vsn,
            }),
        },
        Payload::Json(_) => {
            Err(EncodeError::Unsupported { what: "JSON payload in a binary frame", vsn })
        }
    }
}

fn kind(frame: &Bytes) -> Result<u8, DecodeError> {
    frame.first().copied().ok_or(DecodeError::Truncated { need: 1, have: 0 })
}

/// Reads the `N` length bytes after the kind byte, then the `N` UTF-8 fields
/// they announce; returns the fields and the rest of the frame (the payload).
fn read_fields<const N: usize>(
    frame: &Bytes,
    fields: [Field; N],
) -> Result<([ByteString; N], Bytes), DecodeError> {
    let have = frame.len();
    let header_len = N.saturating_add(1);
    let lengths =
        frame.get(1..header_len).ok_or(DecodeError::Truncated { need: header_len, have })?;
    let mut out: [ByteString; N] = std::array::from_fn(|_| ByteString::new());
    let mut pos = header_len;
    for ((slot, field), &len) in out.iter_mut().zip(fields).zip(lengths) {
        let end = pos.saturating_add(usize::from(len));
        if end > have {
            return Err(DecodeError::Truncated { need: end, have });
        }
        *slot =
            ByteString::try_from(frame.slice(pos..end)).map_err(|_| DecodeError::Utf8 { field })?;
        pos = end;
    }
    Ok((out, frame.slice(pos..)))
}

/// Writes `[kind][len]... field... payload`, checking every field fits its
/// one-byte length.
fn write_frame(kind: u8, fields: &[(Field, &[u8])], payload: &[u8]) -> Result<Bytes, EncodeError> {
    let fields_len = fields.iter().fold(0usize, |sum, (_, bytes)| sum.saturating_add(bytes.len()));
    let capacity = 1usize
        .saturating_add(fields.len())
        .saturating_add(fields_len)
        .saturating_add(payload.len());
    let mut out = Vec::with_capacity(capacity);
    out.push(kind);
    for &(field, bytes) in fields {
        let len = u8::try_from(bytes.len())
            .map_err(|_| EncodeError::FieldTooLong { field, len: bytes.len() })?;
        out.push(len);
    }
    for (_, bytes) in fields {
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(payload);
    Ok(Bytes::from(out))
}

fn ref_bytes(r: Option<&Ref>) -> &[u8] {
    r.map_or(&[], |r| r.as_str().as_bytes())
}

fn optional_ref(text: ByteString) -> Option<Ref> {
    (!text.is_empty()).then(|| Ref::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VSN: &str = "2.0.0";

    fn server(bytes: &[u8]) -> Result<Message, DecodeError> {
        decode_server_frame(&Bytes::copy_from_slice(bytes))
    }

    fn client(bytes: &[u8]) -> Result<Message, DecodeError> {
        decode_client_frame(&Bytes::copy_from_slice(bytes))
    }

    #[test]
    fn truncated_headers_and_fields_report_what_was_needed() {
        assert_eq!(server(b""), Err(DecodeError::Truncated { need: 1, have: 0 }));
        assert_eq!(client(b""), Err(DecodeError::Truncated { need: 1, have: 0 }));
        // Server push header is 4 bytes, client push header 5.
        assert_eq!(server(&[0, 1, 1]), Err(DecodeError::Truncated { need: 4, have: 3 }));
        assert_eq!(client(&[0, 5, 5]), Err(DecodeError::Truncated { need: 5, have: 3 }));
        assert_eq!(server(&[1, 0, 0, 0]), Err(DecodeError::Truncated { need: 5, have: 4 }));
        assert_eq!(server(&[2, 0]), Err(DecodeError::Truncated { need: 3, have: 2 }));
        // The topic announces 3 bytes but only 2 follow.
        assert_eq!(
            server(&[2, 3, 0, b'a', b'b']),
            Err(DecodeError::Truncated { need: 6, have: 5 })
        );
        // The event announces 255 bytes past the end.
        assert_eq!(
            client(&[0, 0, 0, 1, 255, b't']),
            Err(DecodeError::Truncated { need: 261, have: 6 })
        );
    }

    #[test]
    fn unknown_kinds_are_rejected_per_direction() {
        assert_eq!(server(&[3, 0, 0]), Err(DecodeError::UnknownKind { kind: 3 }));
        assert_eq!(server(&[7, 1, 2, 3]), Err(DecodeError::UnknownKind { kind: 7 }));
        // Clients only send pushes.
        assert_eq!(client(&[1, 0, 0, 0, 0]), Err(DecodeError::UnknownKind { kind: 1 }));
        assert_eq!(client(&[2, 0, 0]), Err(DecodeError::UnknownKind { kind: 2 }));
    }

    #[test]
    fn invalid_utf8_names_the_field() {
        assert_eq!(server(&[2, 1, 1, b't', 0xff]), Err(DecodeError::Utf8 { field: Field::Event }));
        assert_eq!(
            server(&[1, 1, 0, 0, 0, 0xc3]),
            Err(DecodeError::Utf8 { field: Field::JoinRef })
        );
        assert_eq!(client(&[0, 0, 1, 0, 0, 0x80]), Err(DecodeError::Utf8 { field: Field::Ref }));
        // The payload is raw bytes: invalid UTF-8 there is fine.
        assert!(server(&[2, 0, 0, 0xff, 0xfe]).is_ok());
    }

    #[test]
    fn empty_refs_decode_to_none_and_none_encodes_empty() {
        let m = client(&[0, 0, 0, 1, 1, b't', b'e', 9]).unwrap();
        assert_eq!((m.join_ref, m.r#ref), (None, None));
        let push = Message::new(None, None, "t", "e", Payload::binary(vec![9u8]));
        assert_eq!(&encode_client_push(&push, VSN).unwrap()[..], &[0, 0, 0, 1, 1, b't', b'e', 9]);
        let reply = Message::new(
            None,
            None,
            "t",
            events::REPLY,
            Payload::BinaryReply { status: "ok".into(), response: Bytes::new() },
        );
        let bytes = encode_server_frame(&reply, VSN).unwrap();
        assert_eq!(&bytes[..], &[1, 0, 0, 1, 2, b't', b'o', b'k']);
        assert_eq!(server(&bytes).unwrap(), reply);
    }

    #[test]
    fn server_encoding_picks_the_layout_from_refs_and_payload() {
        let data = Payload::binary(vec![1u8, 2]);
        let broadcast = Message::new(None, None, "t", "e", data.clone());
        assert_eq!(encode_server_frame(&broadcast, VSN).unwrap()[0], KIND_BROADCAST);
        let push = Message::new(Some(Ref::new("3")), None, "t", "e", data.clone());
        let bytes = encode_server_frame(&push, VSN).unwrap();
        assert_eq!(&bytes[..], &[0, 1, 1, 1, b'3', b't', b'e', 1, 2]);
        assert_eq!(server(&bytes).unwrap(), push);
        let with_ref = Message::new(Some(Ref::new("3")), Some(Ref::new("4")), "t", "e", data);
        assert!(matches!(
            encode_server_frame(&with_ref, VSN),
            Err(EncodeError::Unsupported { .. })
        ));
        let odd_reply = Message::new(
            None,
            Some(Ref::new("4")),
            "t",
            "not_a_reply",
            Payload::BinaryReply { status: "ok".into(), response: Bytes::new() },
        );
        assert!(matches!(
            encode_server_frame(&odd_reply, VSN),
            Err(EncodeError::Unsupported { .. })
        ));
        let reply_without_status =
            Message::new(Some(Ref::new("3")), None, "t", events::REPLY, Payload::binary(vec![1u8]));
        assert!(matches!(
            encode_server_frame(&reply_without_status, VSN),
            Err(EncodeError::Unsupported { .. })
        ));
        let json = Message::new(None, None, "t", "e", Payload::empty());
        assert!(matches!(encode_server_frame(&json, VSN), Err(EncodeError::Unsupported { .. })));
        assert!(matches!(encode_client_push(&json, VSN), Err(EncodeError::Unsupported { .. })));
        assert!(matches!(
            encode_client_push(&odd_reply, VSN),
            Err(EncodeError::Unsupported { .. })
        ));
    }

    #[test]
    fn decoded_fields_share_the_frame_buffer() {
        let frame = Bytes::from(vec![1, 1, 1, 1, 2, b'1', b'2', b't', b'o', b'k', 7, 7, 7]);
        let range = frame.as_ptr_range();
        let m = decode_server_frame(&frame).unwrap();
        let inside = |p: *const u8| range.contains(&p);
        assert!(inside(m.topic.as_ptr()));
        // A short ref is copied into the `Ref` itself: no count on the frame.
        assert!(!inside(m.r#ref.as_ref().unwrap().as_str().as_ptr()));
        let Payload::BinaryReply { status, response } = &m.payload else { panic!("{m:?}") };
        assert!(inside(status.as_ptr()) && inside(response.as_ptr()));
        assert_eq!(&response[..], &[7, 7, 7]);
    }
}
