//! Carrying the outbox id to the server inside the payload.

use crate::protocol::Payload;

use super::{Error, OutboxId};

/// The key merged into a JSON object payload: its value is the entry's
/// [`OutboxId`] as 32 hex digits, e.g. `{"_rig_id":"0123…","body":"hi"}`.
///
/// # Examples
///
/// ```
/// assert_eq!(rig::outbox::ID_KEY, "_rig_id");
/// ```
pub const ID_KEY: &str = "_rig_id";

/// A payload checked for the outbox, ready to take its id. The check
/// parses the JSON, so callers do it before taking the outbox's lock;
/// [`Prepared::finish`] only copies the text.
#[derive(Debug)]
pub(crate) struct Prepared {
    original: Payload,
    /// For a JSON object: whether it has no keys (no comma after the id).
    object: Option<bool>,
}

/// Checks a payload: a JSON object will carry the id; other JSON and binary
/// payloads go as they are; binary replies and objects that already have
/// [`ID_KEY`] are refused.
pub(crate) fn prepare(payload: Payload) -> Result<Prepared, Error> {
    let object = match &payload {
        Payload::Json(text) => {
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
                Ok(map) if map.contains_key(ID_KEY) => {
                    return Err(Error::Payload(
                        "a JSON object payload already has the reserved key _rig_id",
                    ));
                }
                Ok(map) => Some(map.is_empty()),
                // Not a JSON object (an array, a scalar, or not JSON at
                // all): sent as given, without the id.
                Err(_) => None,
            }
        }
        Payload::Binary(_) => None,
        Payload::BinaryReply { .. } => {
            return Err(Error::Payload("a binary reply cannot be pushed"));
        }
    };
    Ok(Prepared { original: payload, object })
}

impl Prepared {
    /// The payload as it will be stored and sent, and whether it carries
    /// `id`.
    pub(crate) fn finish(&self, id: OutboxId) -> (Payload, bool) {
        let (Some(empty), Payload::Json(text)) = (self.object, &self.original) else {
            return (self.original.clone(), false);
        };
        // Splice the key in after the opening brace, so the caller's text
        // (key order, number formatting) is kept byte for byte.
        let rest = text.trim_start().get(1..).unwrap_or_default();
        let tagged = if empty {
            format!("{{\"{ID_KEY}\":\"{id}\"{}", rest.trim_start())
        } else {
            format!("{{\"{ID_KEY}\":\"{id}\",{rest}")
        };
        (Payload::json(tagged), true)
    }

    /// The payload as the caller gave it (to hand back when refused).
    pub(crate) fn into_original(self) -> Payload {
        self.original
    }
}

/// The id carried by a payload, if it is a JSON object with [`ID_KEY`]: what
/// a server reads to deduplicate.
///
/// # Examples
///
/// ```
/// use rig::outbox::{carried_id, OutboxId};
/// use rig::protocol::Payload;
///
/// let payload = Payload::json(r#"{"_rig_id":"00000000000000010000000000000002","n":1}"#);
/// assert_eq!(carried_id(&payload), Some(OutboxId::from_parts(1, 2)));
/// assert_eq!(carried_id(&Payload::json("[1]")), None);
/// ```
pub fn carried_id(payload: &Payload) -> Option<OutboxId> {
    #[derive(serde::Deserialize)]
    struct Carrier<'a> {
        #[serde(rename = "_rig_id", borrow)]
        id: Option<&'a str>,
    }
    let text = payload.as_json()?;
    let carrier: Carrier<'_> = serde_json::from_str(text).ok()?;
    carrier.id?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> OutboxId {
        OutboxId::from_parts(0xfeed, 1)
    }

    fn tag(payload: Payload, id: OutboxId) -> Result<(Payload, bool), Error> {
        Ok(prepare(payload)?.finish(id))
    }

    fn tagged_text(text: &str) -> (String, bool) {
        let (p, t) = tag(Payload::json(text), id()).unwrap();
        (p.as_json().unwrap().to_owned(), t)
    }

    #[test]
    fn object_gets_id_first_and_keeps_its_text() {
        let (text, tagged) = tagged_text(r#" {"b":1.50,"a":[1]}"#);
        assert!(tagged);
        assert_eq!(text, format!(r#"{{"_rig_id":"{}","b":1.50,"a":[1]}}"#, id()));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["a"][0], 1);
        assert_eq!(carried_id(&Payload::json(text)), Some(id()));
    }

    #[test]
    fn empty_object_gets_only_the_id() {
        let (text, tagged) = tagged_text("{ }");
        assert!(tagged);
        assert_eq!(text, format!(r#"{{"_rig_id":"{}"}}"#, id()));
        serde_json::from_str::<serde_json::Value>(&text).unwrap();
    }

    #[test]
    fn non_objects_and_binary_pass_untagged() {
        for text in ["[1,2]", "\"s\"", "3", "null", "not json"] {
            assert_eq!(tagged_text(text), (text.to_owned(), false));
        }
        let (p, t) = tag(Payload::binary(vec![1u8, 2]), id()).unwrap();
        assert!(!t);
        assert!(p.is_binary());
    }

    #[test]
    fn reserved_key_and_replies_are_refused() {
        let err = tag(Payload::json(r#"{"_rig_id":"x"}"#), id()).unwrap_err();
        assert!(matches!(err, Error::Payload(_)));
        let reply = Payload::BinaryReply { status: "ok".into(), response: vec![1u8].into() };
        assert!(matches!(tag(reply, id()), Err(Error::Payload(_))));
    }
}
