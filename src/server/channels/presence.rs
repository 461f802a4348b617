//! `presence:*`: tracks each joiner by `user_id`, with the other join params as meta.
//!
//! The shared state lives in [`Tracker`] (one per server): for each topic,
//! the tracked presences in join order. Diffs and states are built the way
//! Phoenix.Presence writes them: `{"joins":{key:{"metas":[..]}},"leaves":{..}}`
//! and `{key:{"metas":[..]}}`, each meta carrying a unique `phx_ref`.

use std::collections::HashMap;

use bytestring::ByteString;
use serde_json::{Map, Value};

use super::{Ctx, Joined, Kind, Outcome, joined, reason};
use crate::protocol::{Payload, Reply};
use crate::server::json;
use crate::server::session::Effect;

pub(crate) fn join(topic: &str, params: &Value) -> Result<Joined, Value> {
    let key = match params.get("user_id") {
        Some(Value::String(s)) => s.clone(),
        Some(v @ Value::Number(_)) => v.to_string(),
        _ => return Err(reason("user_id required")),
    };
    let mut meta = params.as_object().cloned().unwrap_or_default();
    meta.remove("user_id");
    Ok(Joined {
        response: Value::Object(joined(topic)),
        kind: Kind::Presence,
        track: Some((key, meta)),
    })
}

pub(crate) fn handle_in(event: &str, payload: Payload, ctx: &mut Ctx<'_>) -> Outcome {
    match event {
        "update" => {
            let meta = json::params(&payload).as_object().cloned().unwrap_or_default();
            ctx.after_reply.push(Effect::PresenceUpdate { topic: ctx.topic.clone(), meta });
            Outcome::Reply(Reply::new("ok", Payload::empty()))
        }
        _ => Outcome::Crash,
    }
}

/// An opaque id for the owner of a presence (a connection).
pub(crate) type Owner = u64;

#[derive(Debug)]
struct Entry {
    owner: Owner,
    key: String,
    meta: Map<String, Value>,
}

/// Every tracked presence, by topic.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    topics: HashMap<ByteString, Vec<Entry>>,
    next_ref: u64,
    /// Makes refs differ between server runs, as Phoenix's do.
    salt: u64,
}

impl Tracker {
    pub(crate) fn new(salt: u64) -> Self {
        Self { topics: HashMap::new(), next_ref: 0, salt }
    }

    /// A unique `phx_ref`: 16 URL-safe base64 characters, like Phoenix's.
    fn make_ref(&mut self) -> String {
        use base64::Engine as _;
        self.next_ref += 1;
        let mut bytes = [0u8; 12];
        let (head, tail) = bytes.split_at_mut(8);
        head.copy_from_slice(&self.salt.to_be_bytes());
        tail.copy_from_slice(
            &u32::try_from(self.next_ref & 0xffff_ffff).unwrap_or(0).to_be_bytes(),
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Tracks `owner` on `topic`: the joins diff to broadcast and the state
    /// for the joiner (which already contains it).
    pub(crate) fn track(
        &mut self,
        topic: &ByteString,
        owner: Owner,
        key: String,
        mut meta: Map<String, Value>,
    ) -> (Payload, Payload) {
        meta.insert("phx_ref".into(), Value::String(self.make_ref()));
        let joins = group([(&key, &meta)]);
        let entries = self.topics.entry(topic.clone()).or_default();
        entries.retain(|e| e.owner != owner);
        entries.push(Entry { owner, key, meta });
        (diff(joins, Map::new()), self.state(topic))
    }

    /// Replaces the meta of `owner` on `topic`: the diff to broadcast.
    pub(crate) fn update(
        &mut self,
        topic: &ByteString,
        owner: Owner,
        mut meta: Map<String, Value>,
    ) -> Option<Payload> {
        let new_ref = self.make_ref();
        let entry = self.topics.get_mut(topic)?.iter_mut().find(|e| e.owner == owner)?;
        if let Some(prev) = entry.meta.get("phx_ref").cloned() {
            meta.insert("phx_ref_prev".into(), prev);
        }
        meta.insert("phx_ref".into(), Value::String(new_ref));
        let old = std::mem::replace(&mut entry.meta, meta);
        let joins = group([(&entry.key, &entry.meta)]);
        let leaves = group([(&entry.key, &old)]);
        Some(diff(joins, leaves))
    }

    /// Stops tracking `owner` on `topic`: the leaves diff to broadcast.
    pub(crate) fn untrack(&mut self, topic: &ByteString, owner: Owner) -> Option<Payload> {
        let entries = self.topics.get_mut(topic)?;
        let at = entries.iter().position(|e| e.owner == owner)?;
        let entry = entries.remove(at);
        if entries.is_empty() {
            self.topics.remove(topic);
        }
        Some(diff(Map::new(), group([(&entry.key, &entry.meta)])))
    }

    /// `{key: {"metas": [..]}}` for everyone on `topic`, metas in join order.
    pub(crate) fn state(&self, topic: &ByteString) -> Payload {
        let entries = self.topics.get(topic).map(Vec::as_slice).unwrap_or_default();
        json::payload(&Value::Object(group(entries.iter().map(|e| (&e.key, &e.meta)))))
    }
}

fn group<'a>(
    items: impl IntoIterator<Item = (&'a String, &'a Map<String, Value>)>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, meta) in items {
        let slot = out.entry(key.clone()).or_insert_with(|| {
            let mut metas = Map::new();
            metas.insert("metas".into(), Value::Array(Vec::new()));
            Value::Object(metas)
        });
        if let Some(Value::Array(metas)) = slot.get_mut("metas") {
            metas.push(Value::Object(meta.clone()));
        }
    }
    out
}

fn diff(joins: Map<String, Value>, leaves: Map<String, Value>) -> Payload {
    let mut out = Map::new();
    out.insert("joins".into(), Value::Object(joins));
    out.insert("leaves".into(), Value::Object(leaves));
    json::payload(&Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(status: &str) -> Map<String, Value> {
        serde_json::json!({ "status": status }).as_object().cloned().unwrap()
    }

    /// Replaces every phx_ref value by its order of appearance, for exact asserts.
    fn norm(p: &Payload) -> String {
        let mut text = p.as_json().unwrap().to_owned();
        let mut n = 0;
        for r in ["AAAAAAAAAAcAAAAB", "AAAAAAAAAAcAAAAC", "AAAAAAAAAAcAAAAD"] {
            n += 1;
            text = text.replace(r, &format!("R{n}"));
        }
        text
    }

    #[test]
    fn track_update_untrack_give_phoenix_shaped_diffs() {
        let mut t = Tracker::new(7);
        let topic = ByteString::from("presence:lobby");
        let (diff, state) = t.track(&topic, 1, "alice".into(), meta("online"));
        assert_eq!(
            norm(&diff),
            r#"{"joins":{"alice":{"metas":[{"phx_ref":"R1","status":"online"}]}},"leaves":{}}"#
        );
        assert_eq!(norm(&state), r#"{"alice":{"metas":[{"phx_ref":"R1","status":"online"}]}}"#);
        let (_, state) = t.track(&topic, 2, "bob".into(), meta("away"));
        assert_eq!(
            norm(&state),
            r#"{"alice":{"metas":[{"phx_ref":"R1","status":"online"}]},"bob":{"metas":[{"phx_ref":"R2","status":"away"}]}}"#
        );
        let diff = t.update(&topic, 2, meta("busy")).unwrap();
        assert_eq!(
            norm(&diff),
            r#"{"joins":{"bob":{"metas":[{"phx_ref":"R3","phx_ref_prev":"R2","status":"busy"}]}},"leaves":{"bob":{"metas":[{"phx_ref":"R2","status":"away"}]}}}"#
        );
        let diff = t.untrack(&topic, 2).unwrap();
        assert_eq!(
            norm(&diff),
            r#"{"joins":{},"leaves":{"bob":{"metas":[{"phx_ref":"R3","phx_ref_prev":"R2","status":"busy"}]}}}"#
        );
        assert!(t.untrack(&topic, 2).is_none());
        assert_eq!(t.untrack(&topic, 1).map(|_| ()), Some(()));
        assert!(t.topics.is_empty());
    }

    #[test]
    fn join_requires_a_user_id() {
        assert!(join("presence:x", &serde_json::json!({"status": "x"})).is_err());
        let joined = join("presence:x", &serde_json::json!({"user_id": "a", "s": 1})).unwrap();
        let (key, meta) = joined.track.unwrap();
        assert_eq!(key, "a");
        assert_eq!(Value::Object(meta).to_string(), r#"{"s":1}"#);
    }
}
