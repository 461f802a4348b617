//! The presence data model and its decoding from message payloads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::protocol::{DecodeError, Payload};

/// Everything the server tracks under one key (usually a user id): one meta
/// per tracked process ("connection", "tab", "device"), plus any fields the
/// server's `fetch/2` callback added beside `metas`.
///
/// Phoenix gives each meta a unique `phx_ref`; an update gives the new meta a
/// new `phx_ref` and the old one as `phx_ref_prev`. Metas are kept as
/// [`serde_json::Value`]s: their other fields are the application's.
///
/// # Examples
///
/// ```
/// use rig::protocol::presence::Presence;
///
/// let p: Presence = serde_json::from_str(
///     r#"{"metas":[{"phx_ref":"F1","status":"away"}],"user":{"name":"Bob"}}"#,
/// )?;
/// assert_eq!(p.metas[0]["status"], "away");
/// assert_eq!(p.extra["user"]["name"], "Bob");
/// assert_eq!(p.phx_refs().collect::<Vec<_>>(), ["F1"]);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    /// One entry per tracked process, oldest first.
    pub metas: Vec<Value>,
    /// Fields beside `metas` (from the server's `fetch/2`), kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Presence {
    /// A presence with these metas and no extra fields.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::presence::Presence;
    /// use serde_json::json;
    ///
    /// let p = Presence::new(vec![json!({"phx_ref": "1"})]);
    /// assert_eq!(p.metas.len(), 1);
    /// assert!(p.extra.is_empty());
    /// ```
    #[must_use]
    pub fn new(metas: Vec<Value>) -> Self {
        Self { metas, extra: Map::new() }
    }

    /// The `phx_ref` strings of the metas, in order (metas without a string
    /// `phx_ref` are skipped).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::presence::Presence;
    /// use serde_json::json;
    ///
    /// let p = Presence::new(vec![json!({"phx_ref": "a"}), json!({"x": 1}), json!({"phx_ref": "b"})]);
    /// assert_eq!(p.phx_refs().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn phx_refs(&self) -> impl Iterator<Item = &str> {
        self.metas.iter().filter_map(|m| phx_ref(m)?.as_str())
    }

    /// The metas read into `T`, oldest first (strings borrowed from the
    /// presence where `T` holds `&str`).
    ///
    /// # Errors
    ///
    /// [`PayloadError::Json`](crate::protocol::PayloadError::Json) naming
    /// the first meta that does not fit (line and column are 0: a meta is
    /// a value, not text).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::presence::Presence;
    /// use serde_json::json;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Meta<'a> { status: &'a str }
    /// let p = Presence::new(vec![json!({"phx_ref": "a", "status": "away"})]);
    /// let metas: Vec<Meta<'_>> = p.decode_metas()?;
    /// assert_eq!(metas[0].status, "away");
    /// # Ok::<(), rig::protocol::PayloadError>(())
    /// ```
    pub fn decode_metas<'de, T: Deserialize<'de>>(
        &'de self,
    ) -> Result<Vec<T>, crate::protocol::PayloadError> {
        self.metas
            .iter()
            .enumerate()
            .map(|(i, meta)| {
                T::deserialize(meta).map_err(|e| {
                    crate::protocol::PayloadError::json(format!("presence meta {i}"), &e)
                })
            })
            .collect()
    }
}

/// A whole presence state: key → presence. Keys iterate in sorted order,
/// which is the order [`list`](super::list) returns them in.
///
/// Keys are plain strings: `__proto__`, `constructor` or `metas` are keys like
/// any other (phoenix.js needs care there; a map does not).
pub type PresenceState = BTreeMap<String, Presence>;

/// An incremental change: presences (or metas) that joined and that left.
///
/// Phoenix sends it as `{"joins": {...}, "leaves": {...}}`; a missing side is
/// read as empty.
///
/// # Examples
///
/// ```
/// use rig::protocol::presence::PresenceDiff;
///
/// let diff: PresenceDiff = serde_json::from_str(
///     r#"{"joins":{"bob":{"metas":[{"phx_ref":"B1"}]}},"leaves":{}}"#,
/// )?;
/// assert!(diff.joins.contains_key("bob"));
/// assert!(diff.leaves.is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PresenceDiff {
    /// Presences whose metas joined (only the new metas).
    #[serde(default)]
    pub joins: PresenceState,
    /// Presences whose metas left (only the metas that left).
    #[serde(default)]
    pub leaves: PresenceState,
}

/// The `phx_ref` of a meta (`None` when absent or the meta is not an object).
pub(super) fn phx_ref(meta: &Value) -> Option<&Value> {
    meta.get("phx_ref")
}

/// Whether some meta of `metas` has the `phx_ref` `wanted` (absent matches
/// absent, as `undefined === undefined` does in phoenix.js).
pub(super) fn has_ref(metas: &[Value], wanted: Option<&Value>) -> bool {
    metas.iter().any(|m| phx_ref(m) == wanted)
}

/// Decodes a `presence_state` payload.
pub(super) fn decode_state(payload: &Payload) -> Result<PresenceState, DecodeError> {
    decode(payload, "a presence state object")
}

/// Decodes a `presence_diff` payload.
pub(super) fn decode_diff(payload: &Payload) -> Result<PresenceDiff, DecodeError> {
    decode(payload, "a presence diff object")
}

fn decode<T: for<'de> Deserialize<'de>>(
    payload: &Payload,
    expected: &'static str,
) -> Result<T, DecodeError> {
    let Some(text) = payload.as_json() else {
        return Err(DecodeError::Shape { expected, got: "a binary payload".to_owned() });
    };
    serde_json::from_str(text).map_err(|err| {
        if err.is_data() {
            DecodeError::Shape { expected, got: err.to_string() }
        } else {
            DecodeError::json(&err)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reports_binary_syntax_and_shape_errors() {
        let binary = decode_state(&Payload::binary(vec![1u8])).unwrap_err();
        assert!(matches!(binary, DecodeError::Shape { got, .. } if got == "a binary payload"));
        let syntax = decode_state(&Payload::json("{")).unwrap_err();
        assert!(matches!(syntax, DecodeError::Json { .. }));
        let no_metas = decode_state(&Payload::json(r#"{"u1":{}}"#)).unwrap_err();
        assert!(matches!(no_metas, DecodeError::Shape { got, .. } if got.contains("metas")));
        let not_object = decode_diff(&Payload::json("[1]")).unwrap_err();
        assert!(matches!(not_object, DecodeError::Shape { .. }));
    }

    #[test]
    fn decode_keeps_extra_fields_and_missing_diff_sides() {
        let state = decode_state(&Payload::json(r#"{"u":{"metas":[],"name":"x"}}"#)).unwrap();
        assert_eq!(state["u"].extra["name"], "x");
        let diff = decode_diff(&Payload::json(r#"{"leaves":{}}"#)).unwrap();
        assert_eq!(diff, PresenceDiff::default());
        let roundtrip = serde_json::to_value(&state["u"]).unwrap();
        assert_eq!(roundtrip, serde_json::json!({"metas": [], "name": "x"}));
    }
}
