//! Lazy payload access: the JSON text is split only when a predicate needs a
//! field, once per message, and only along the paths asked for.
//!
//! The top-level object is cut into `(key, raw value)` slots on first use;
//! deeper levels are cut on demand from the raw slot text, and only the leaf
//! a predicate compares is fully parsed. Keys and raw values borrow from the
//! message text (a key with escapes is the one thing copied).

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::predicate::Path;
use crate::protocol::Payload;

/// One object level: its keys and their unparsed values, in text order.
struct RawObject<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

/// A key, borrowed from the text unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for RawObject<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut slots = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some((Key(key), value)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    slots.push((key, value));
                }
                Ok(RawObject(slots))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// The unparsed elements of one array level.
struct RawArray<'a>(Vec<&'a RawValue>);

impl<'de> Deserialize<'de> for RawArray<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ArrayVisitor;
        impl<'de> Visitor<'de> for ArrayVisitor {
            type Value = RawArray<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(8).min(64));
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    items.push(item);
                }
                Ok(RawArray(items))
            }
        }
        deserializer.deserialize_seq(ArrayVisitor)
    }
}

impl<'a> RawObject<'a> {
    /// The value of `key`; the last one wins on duplicates, as in serde_json.
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|&(_, v)| v)
    }
}

/// One raw level step: `segment` as an object key, or as an array index.
fn step<'a>(raw: &'a RawValue, segment: &str) -> Option<&'a RawValue> {
    let text = raw.get();
    match text.trim_start().as_bytes().first()? {
        b'{' => serde_json::from_str::<RawObject<'a>>(text).ok()?.get(segment),
        b'[' => {
            let index: usize = segment.parse().ok()?;
            serde_json::from_str::<RawArray<'a>>(text).ok()?.0.get(index).copied()
        }
        _ => None,
    }
}

#[cfg(test)]
thread_local! {
    /// How many payloads this thread has split (tests check the laziness).
    pub(crate) static TOP_LEVEL_SPLITS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A message payload whose JSON is parsed on first need, at most once.
pub(crate) struct LazyPayload<'a> {
    text: Option<&'a str>,
    top: OnceCell<Option<RawObject<'a>>>,
}

impl<'a> LazyPayload<'a> {
    /// Nothing is parsed yet; binary payloads never resolve a path.
    pub(crate) fn new(payload: &'a Payload) -> Self {
        Self { text: payload.as_json(), top: OnceCell::new() }
    }

    /// Whether the top level has been split (tests check the laziness).
    #[cfg(test)]
    pub(crate) fn is_parsed(&self) -> bool {
        self.top.get().is_some()
    }

    /// The raw JSON at `path`, or `None` when the payload is binary, not an
    /// object, malformed, or has no such field.
    pub(crate) fn resolve(&self, path: &Path) -> Option<&'a RawValue> {
        let top = self
            .top
            .get_or_init(|| {
                #[cfg(test)]
                TOP_LEVEL_SPLITS.with(|n| n.set(n.get() + 1));
                self.text.and_then(|text| serde_json::from_str(text).ok())
            })
            .as_ref()?;
        let mut segments = path.segments().iter();
        let mut raw = top.get(segments.next()?)?;
        for segment in segments {
            raw = step(raw, segment)?;
        }
        Some(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(segments: &[&str]) -> Path {
        Path::new(segments.iter().map(|s| Box::<str>::from(*s)).collect()).unwrap()
    }

    #[test]
    fn resolves_nested_paths_and_array_indexes() {
        let payload = Payload::json(r#"{"a":{"b":[10,{"c":"x"}]},"d\"e":1,"a2":true}"#);
        let lazy = LazyPayload::new(&payload);
        assert!(!lazy.is_parsed());
        assert_eq!(lazy.resolve(&path(&["a", "b", "0"])).map(RawValue::get), Some("10"));
        assert_eq!(lazy.resolve(&path(&["a", "b", "1", "c"])).map(RawValue::get), Some("\"x\""));
        assert_eq!(lazy.resolve(&path(&["d\"e"])).map(RawValue::get), Some("1"));
        assert!(lazy.is_parsed());
        assert!(lazy.resolve(&path(&["a", "b", "2"])).is_none());
        assert!(lazy.resolve(&path(&["a", "b", "x"])).is_none());
        assert!(lazy.resolve(&path(&["a2", "x"])).is_none());
        assert!(lazy.resolve(&path(&["zz"])).is_none());
    }

    #[test]
    fn duplicate_keys_last_wins_and_bad_payloads_resolve_nothing() {
        let dup = Payload::json(r#"{"a":1,"a":2}"#);
        assert_eq!(LazyPayload::new(&dup).resolve(&path(&["a"])).map(RawValue::get), Some("2"));
        for bad in [Payload::json("[1]"), Payload::json("{"), Payload::binary(vec![1u8])] {
            assert!(LazyPayload::new(&bad).resolve(&path(&["0"])).is_none());
        }
    }
}
