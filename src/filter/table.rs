//! The immutable, indexed filter table the dispatchers match against.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use super::pattern::TopicPattern;
use super::payload::LazyPayload;
use super::subscription::{Filter, SubscriptionId};
use crate::protocol::Message;

/// One subscription inside a table (shared between successive tables, so a
/// rebuild copies pointers, not filters).
pub(crate) struct Entry<T> {
    pub(crate) id: SubscriptionId,
    pub(crate) filter: Filter,
    pub(crate) value: T,
}

/// A word-at-a-time multiplicative hash (the `FxHasher` scheme) for topic
/// lookups: SipHash's flooding defence buys nothing here, since the keys are
/// the subscriber's own patterns and messages only look them up.
#[derive(Default)]
struct TopicHasher(u64);

impl Hasher for TopicHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type TopicMap = HashMap<Box<str>, Vec<usize>, BuildHasherDefault<TopicHasher>>;

/// A glob subscription with the literal text it must start and end with:
/// checking those first rejects most topics without walking the glob.
struct GlobSlot {
    index: usize,
    head: Box<str>,
    tail: Box<str>,
}

impl GlobSlot {
    fn new(index: usize, glob: &str) -> Self {
        let wild = |c: char| c == '*' || c == '?';
        let head = glob.split(wild).next().unwrap_or_default();
        let tail = glob.rsplit(wild).next().unwrap_or_default();
        Self { index, head: head.into(), tail: tail.into() }
    }

    fn may_match(&self, topic: &str) -> bool {
        topic.starts_with(&*self.head) && topic.ends_with(&*self.tail)
    }
}

/// An immutable set of subscriptions, indexed by topic.
///
/// Exact topics sit in a hash map, prefixes in a hash map probed once per
/// distinct prefix length (shortest first), globs in a list tried last, each
/// first checked against its literal head and tail. Only candidates that pass topic and event are checked
/// against payload predicates, and the payload JSON is parsed at most once
/// per message, only if such a candidate has predicates.
///
/// Tables come from a [`Registry`](super::Registry) (dynamic subscriptions)
/// or from [`Table::from_filters`] (a fixed set, e.g. the CLI's `-w`).
///
/// # Examples
///
/// ```
/// use rig::filter::{Expr, Filter, Table};
/// use rig::protocol::{Message, Payload};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let table = Table::from_filters([
///     (Filter::topic("room:1")?, "exact"),
///     (Filter::topic("room:*")?.when(Expr::parse("payload.n > 5")?), "big"),
///     (Filter::topic("*:admin")?, "admin"),
/// ]);
/// let msg = Message::new(None, None, "room:1", "e", Payload::json(r#"{"n":9}"#));
/// let mut hits = Vec::new();
/// table.for_each_match(&msg, |_, name| hits.push(*name));
/// hits.sort_unstable();
/// assert_eq!(hits, ["big", "exact"]);
/// # Ok(())
/// # }
/// ```
pub struct Table<T> {
    entries: Vec<Arc<Entry<T>>>,
    exact: TopicMap,
    prefixes: TopicMap,
    /// Distinct prefix lengths in bytes, ascending.
    prefix_lens: Vec<usize>,
    globs: Vec<GlobSlot>,
}

impl<T> Table<T> {
    /// A table of fixed filters; ids are numbered from 0 in iteration order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, Table};
    ///
    /// let table = Table::from_filters([(Filter::topic("a")?, 1), (Filter::topic("b")?, 2)]);
    /// assert_eq!(table.len(), 2);
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    pub fn from_filters<I: IntoIterator<Item = (Filter, T)>>(filters: I) -> Self {
        let entries = filters
            .into_iter()
            .zip(0..)
            .map(|((filter, value), n)| {
                Arc::new(Entry { id: SubscriptionId::new(n), filter, value })
            })
            .collect();
        Self::from_entries(entries)
    }

    /// Indexes entries (kept in the given order, which is id order).
    pub(crate) fn from_entries(entries: Vec<Arc<Entry<T>>>) -> Self {
        let mut exact = TopicMap::default();
        let mut prefixes = TopicMap::default();
        let mut globs = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            match entry.filter.topic_pattern() {
                TopicPattern::Exact(topic) => exact.entry(topic.clone()).or_default().push(index),
                TopicPattern::Prefix(prefix) => {
                    prefixes.entry(prefix.clone()).or_default().push(index);
                }
                TopicPattern::Glob(glob) => globs.push(GlobSlot::new(index, glob)),
            }
        }
        let mut prefix_lens: Vec<usize> = prefixes.keys().map(|p| p.len()).collect();
        prefix_lens.sort_unstable();
        prefix_lens.dedup();
        Self { entries, exact, prefixes, prefix_lens, globs }
    }

    /// How many subscriptions the table holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Table;
    ///
    /// assert_eq!(Table::<()>::from_filters([]).len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the table holds no subscription.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Table;
    ///
    /// assert!(Table::<()>::from_filters([]).is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The ids in the table, ascending.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, Table};
    ///
    /// let table = Table::from_filters([(Filter::topic("a")?, ())]);
    /// assert_eq!(table.ids().count(), 1);
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    pub fn ids(&self) -> impl Iterator<Item = SubscriptionId> + '_ {
        self.entries.iter().map(|e| e.id)
    }

    /// Every subscription's id and value, ids ascending.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, Table};
    ///
    /// let table = Table::from_filters([(Filter::topic("a")?, "x"), (Filter::topic("b")?, "y")]);
    /// let values: Vec<&str> = table.iter().map(|(_, v)| *v).collect();
    /// assert_eq!(values, ["x", "y"]);
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (SubscriptionId, &T)> + '_ {
        self.entries.iter().map(|e| (e.id, &e.value))
    }

    /// Calls `f` with the id and value of every subscription that wants
    /// `message`, each once.
    ///
    /// The order is not promised (today: exact topics, then prefixes by
    /// length, then globs). Nothing is allocated unless a candidate has
    /// payload predicates (the top level of the payload is then split once).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, Table};
    /// use rig::protocol::{Message, Payload};
    ///
    /// let table = Table::from_filters([(Filter::topic("room:*")?.events(["ping"]), ())]);
    /// let mut n = 0;
    /// table.for_each_match(&Message::new(None, None, "room:1", "ping", Payload::empty()), |_, _| n += 1);
    /// table.for_each_match(&Message::new(None, None, "room:1", "pong", Payload::empty()), |_, _| n += 1);
    /// assert_eq!(n, 1);
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    pub fn for_each_match<F: FnMut(SubscriptionId, &T)>(&self, message: &Message, mut f: F) {
        let topic: &str = &message.topic;
        let event: &str = &message.event;
        let payload = LazyPayload::new(&message.payload);
        let mut visit = |index: usize| {
            let Some(entry) = self.entries.get(index) else { return };
            if entry.filter.accepts_event(event) && entry.filter.accepts_payload(&payload) {
                f(entry.id, &entry.value);
            }
        };
        if let Some(list) = self.exact.get(topic) {
            list.iter().for_each(|&i| visit(i));
        }
        for &len in &self.prefix_lens {
            if len > topic.len() {
                break;
            }
            if let Some(list) = topic.get(..len).and_then(|p| self.prefixes.get(p)) {
                list.iter().for_each(|&i| visit(i));
            }
        }
        for glob in &self.globs {
            let wants = glob.may_match(topic)
                && self
                    .entries
                    .get(glob.index)
                    .is_some_and(|e| e.filter.topic_pattern().matches(topic));
            if wants {
                visit(glob.index);
            }
        }
    }

    /// The ids [`for_each_match`](Self::for_each_match) reports, ascending
    /// (allocates; the dispatcher uses the callback form).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, Table};
    /// use rig::protocol::{Message, Payload};
    ///
    /// let table = Table::from_filters([(Filter::topic("x")?, ()), (Filter::topic("*")?, ())]);
    /// let ids = table.matches(&Message::new(None, None, "x", "e", Payload::empty()));
    /// assert_eq!(ids.len(), 2);
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    #[must_use]
    pub fn matches(&self, message: &Message) -> Vec<SubscriptionId> {
        let mut ids = Vec::new();
        self.for_each_match(message, |id, _| ids.push(id));
        ids.sort_unstable();
        ids
    }
}

impl<T> fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("subscriptions", &self.entries.len())
            .field("exact_topics", &self.exact.len())
            .field("prefixes", &self.prefixes.len())
            .field("globs", &self.globs.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_slots_keep_the_literal_head_and_tail() {
        let slot = |glob: &str| {
            let s = GlobSlot::new(0, glob);
            (s.head.to_string(), s.tail.to_string())
        };
        assert_eq!(slot("room:*:admin"), ("room:".into(), ":admin".into()));
        assert_eq!(slot("*:admin"), (String::new(), ":admin".into()));
        assert_eq!(slot("room:?"), ("room:".into(), String::new()));
        assert_eq!(slot("a?b*c"), ("a".into(), "c".into()));
        let overlap = GlobSlot::new(0, "ab*ba");
        assert!(overlap.may_match("aba"), "a pre-filter only: the walk decides");
        assert!(!overlap.may_match("abc"));
    }

    #[test]
    fn topic_hasher_tells_topics_apart() {
        let hash = |topic: &str| {
            let mut h = TopicHasher::default();
            h.write(topic.as_bytes());
            h.finish()
        };
        assert_ne!(hash("room:1"), hash("room:2"));
        assert_ne!(hash("room:12345678"), hash("room:12345679"));
        assert_eq!(hash("room:1"), hash("room:1"));
    }
}
