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

/// The payload as it will be stored and sent, and whether it carries the id.
pub(crate) fn tag(payload: Payload, id: OutboxId) -> Result<(Payload, bool), Error> {
    match payload {
        Payload::Json(text) => {
            let Ok(object) =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
            else {
                // Not a JSON object (an array, a scalar, or not JSON at all):
                // sent as given, without the id.
                return Ok((Payload::Json(text), false));
            };
            if object.contains_key(ID_KEY) {
                return Err(Error::Payload(
                    "a JSON object payload already has the reserved key _rig_id",
                ));
            }
            // Splice the key in after the opening brace, so the caller's text
            // (key order, number formatting) is kept byte for byte.
            let trimmed = text.trim_start();
            let rest = trimmed.get(1..).unwrap_or_default();
            let sep = if object.is_empty() { "" } else { "," };
            let tagged = format!(
                "{{\"{ID_KEY}\":\"{id}\"{sep}{}",
                if object.is_empty() { rest.trim_start() } else { rest }
            );
            Ok((Payload::json(tagged), true))
        }
        Payload::Binary(bytes) => Ok((Payload::Binary(bytes), false)),
        Payload::BinaryReply { .. } => Err(Error::Payload("a binary reply cannot be pushed")),
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
