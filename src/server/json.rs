//! Payload re-encoding the way Phoenix (Jason) writes it back.
//!
//! Phoenix decodes every client payload into Elixir terms and encodes replies,
//! pushes and broadcasts again with Jason: compact, object keys sorted,
//! non-ASCII characters written as UTF-8. Parsing into [`serde_json::Value`]
//! (whose maps are ordered by key) and writing it compactly gives the same bytes.

use serde_json::{Map, Value};

use crate::protocol::Payload;

/// A client payload that Phoenix itself could not have decoded (e.g. a number
/// out of range): the socket process crashes, so the connection closes with 1011.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Undecodable;

/// The payload as Phoenix would echo it: JSON re-encoded canonically, binary as is.
pub(crate) fn canonical(payload: &Payload) -> Result<Payload, Undecodable> {
    match payload {
        Payload::Json(text) if is_trivial(text) => Ok(payload.clone()),
        Payload::Json(text) => {
            let value: Value = serde_json::from_str(text).map_err(|_| Undecodable)?;
            Ok(Payload::json(value.to_string()))
        }
        other => Ok(other.clone()),
    }
}

/// Payloads whose canonical form is themselves (the common tiny cases).
fn is_trivial(text: &str) -> bool {
    matches!(text, "{}" | "[]" | "null" | "true" | "false")
}

/// The payload as a JSON value; binary payloads read as `{}` (join params sent
/// in a binary frame are empty, as in binary.jsonl).
pub(crate) fn params(payload: &Payload) -> Value {
    match payload.as_json() {
        Some(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        None => Value::Object(Map::new()),
    }
}

/// A JSON payload from a value, written compactly with sorted keys.
pub(crate) fn payload(value: &Value) -> Payload {
    Payload::json(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reencodes_like_jason() {
        let input =
            Payload::json(r#"{"n":1,"s":"h\u00e9llo \u2603","nested":{"l":[1,2.5,null,true]}}"#);
        let out = canonical(&input).unwrap();
        assert_eq!(
            out.as_json(),
            Some(r#"{"n":1,"nested":{"l":[1,2.5,null,true]},"s":"héllo ☃"}"#)
        );
        assert_eq!(canonical(&Payload::json(" [1, 2,3] ")).unwrap().as_json(), Some("[1,2,3]"));
        assert_eq!(
            canonical(&Payload::json(r#""just a string""#)).unwrap().as_json(),
            Some(r#""just a string""#)
        );
    }

    #[test]
    fn keys_are_sorted_even_when_nested_and_duplicated() {
        let out = canonical(&Payload::json(r#"{"b":{"z":1,"a":2},"a":1,"a":3}"#)).unwrap();
        assert_eq!(out.as_json(), Some(r#"{"a":3,"b":{"a":2,"z":1}}"#));
    }

    #[test]
    fn out_of_range_numbers_are_undecodable() {
        assert_eq!(canonical(&Payload::json("1e400")), Err(Undecodable));
    }

    #[test]
    fn binary_params_are_an_empty_object() {
        assert_eq!(params(&Payload::binary(vec![1u8])), Value::Object(Map::new()));
    }
}
