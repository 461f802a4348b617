//! [`PushLog`]: what the `inbox:*` channels received, deduplicated by outbox id.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::outbox::{OutboxId, carried_id};
use crate::protocol::Payload;

/// The record of every push an `inbox:*` channel received, deduplicated by
/// the outbox id the client carried in the payload (`_rig_id`, see
/// [`carried_id`]).
///
/// The server keeps one per [`ServerConfig`](super::ServerConfig); pass the
/// same `Arc` to several servers with
/// [`ServerConfigBuilder::push_log`](super::ServerConfigBuilder::push_log) so
/// that the log (and the deduplication) survives a server restart inside one
/// process, as a real application's database would. Thread-safe: the server
/// thread records, any thread reads. Reads take a short lock; the counters
/// are atomics.
///
/// How the `inbox:*` channel answers a push:
///
/// | payload | reply | recorded |
/// |---|---|---|
/// | carries an id not seen before | `ok`, `{"dup":false}` | in [`entries`](Self::entries), [`recorded`](Self::recorded) + 1 |
/// | carries an id already seen | `ok`, `{"dup":true}` | no, [`duplicates`](Self::duplicates) + 1 |
/// | no id (not a JSON object, binary) | `ok`, `{"dup":false}` | no, [`untagged`](Self::untagged) + 1 |
///
/// A duplicate is still answered `ok`: the client applied nothing twice, and
/// must delete its copy.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use rig::server::{PushLog, Server, ServerConfig};
///
/// let log = Arc::new(PushLog::new());
/// let server = Server::start(ServerConfig::builder().push_log(Arc::clone(&log)).build())?;
/// // ... clients push to `inbox:*` topics ...
/// server.shutdown();
/// assert_eq!(log.recorded(), 0);
/// assert!(log.entries("inbox:1").is_empty());
/// # Ok::<(), rig::server::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct PushLog {
    inner: Mutex<Inner>,
    recorded: AtomicU64,
    duplicates: AtomicU64,
    untagged: AtomicU64,
}

#[derive(Debug, Default)]
struct Inner {
    seen: HashSet<OutboxId>,
    topics: HashMap<String, Vec<(OutboxId, String)>>,
}

/// What [`PushLog::record`] made of one push.
///
/// # Examples
///
/// ```
/// use rig::protocol::Payload;
/// use rig::server::{PushLog, Recorded};
///
/// let log = PushLog::new();
/// assert_eq!(log.record("inbox:1", &Payload::json("[1]")), Recorded::Untagged);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recorded {
    /// The first push with this id: it was recorded.
    New(OutboxId),
    /// This id was recorded before: the push was dropped.
    Duplicate(OutboxId),
    /// The payload carries no id: counted, not recorded, cannot be deduplicated.
    Untagged,
}

impl Recorded {
    /// Whether the push repeated one already recorded.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::OutboxId;
    /// assert!(rig::server::Recorded::Duplicate(OutboxId::from_parts(1, 1)).is_duplicate());
    /// assert!(!rig::server::Recorded::Untagged.is_duplicate());
    /// ```
    #[must_use]
    pub fn is_duplicate(self) -> bool {
        matches!(self, Self::Duplicate(_))
    }
}

impl PushLog {
    /// An empty log.
    ///
    /// # Examples
    ///
    /// ```
    /// let log = rig::server::PushLog::new();
    /// assert_eq!((log.recorded(), log.duplicates(), log.untagged()), (0, 0, 0));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one push to `topic`: the `inbox:*` channel calls this for
    /// every event it receives. The payload's text is kept as received (for
    /// a JSON payload) or as `"<N binary bytes>"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::OutboxId;
    /// use rig::protocol::Payload;
    /// use rig::server::{PushLog, Recorded};
    ///
    /// let log = PushLog::new();
    /// let id = OutboxId::from_parts(7, 1);
    /// let payload = Payload::json(format!(r#"{{"_rig_id":"{id}","n":1}}"#));
    /// assert_eq!(log.record("inbox:a", &payload), Recorded::New(id));
    /// assert_eq!(log.record("inbox:a", &payload), Recorded::Duplicate(id));
    /// assert_eq!(log.entries("inbox:a").len(), 1);
    /// ```
    pub fn record(&self, topic: &str, payload: &Payload) -> Recorded {
        let Some(id) = carried_id(payload) else {
            self.untagged.fetch_add(1, Ordering::Relaxed);
            return Recorded::Untagged;
        };
        let mut inner = self.inner.lock();
        if !inner.seen.insert(id) {
            drop(inner);
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return Recorded::Duplicate(id);
        }
        let text = match payload.as_json() {
            Some(text) => text.to_owned(),
            None => format!("<{} binary bytes>", payload_len(payload)),
        };
        match inner.topics.get_mut(topic) {
            Some(list) => list.push((id, text)),
            None => {
                inner.topics.insert(topic.to_owned(), vec![(id, text)]);
            }
        }
        drop(inner);
        self.recorded.fetch_add(1, Ordering::Relaxed);
        Recorded::New(id)
    }

    /// Whether a push with this id was recorded (on any topic).
    ///
    /// # Examples
    ///
    /// ```
    /// let log = rig::server::PushLog::new();
    /// assert!(!log.contains(rig::outbox::OutboxId::from_parts(1, 2)));
    /// ```
    #[must_use]
    pub fn contains(&self, id: OutboxId) -> bool {
        self.inner.lock().seen.contains(&id)
    }

    /// The pushes recorded on `topic`, in the order they arrived: each id
    /// with the payload text as received (`_rig_id` included).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::server::PushLog::new().entries("inbox:x").is_empty());
    /// ```
    #[must_use]
    pub fn entries(&self, topic: &str) -> Vec<(OutboxId, String)> {
        self.inner.lock().topics.get(topic).cloned().unwrap_or_default()
    }

    /// The topics with recorded pushes, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::server::PushLog::new().topics().is_empty());
    /// ```
    #[must_use]
    pub fn topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = self.inner.lock().topics.keys().cloned().collect();
        topics.sort_unstable();
        topics
    }

    /// How many pushes were recorded (first sight of their id).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::server::PushLog::new().recorded(), 0);
    /// ```
    #[must_use]
    pub fn recorded(&self) -> u64 {
        self.recorded.load(Ordering::Relaxed)
    }

    /// How many pushes repeated an id already recorded (and were dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::server::PushLog::new().duplicates(), 0);
    /// ```
    #[must_use]
    pub fn duplicates(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    /// How many pushes carried no id (accepted, not deduplicated).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::server::PushLog::new().untagged(), 0);
    /// ```
    #[must_use]
    pub fn untagged(&self) -> u64 {
        self.untagged.load(Ordering::Relaxed)
    }
}

fn payload_len(payload: &Payload) -> usize {
    match payload {
        Payload::Json(text) => text.len(),
        Payload::Binary(bytes) => bytes.len(),
        Payload::BinaryReply { response, .. } => response.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(id: OutboxId, n: u32) -> Payload {
        Payload::json(format!(r#"{{"_rig_id":"{id}","n":{n}}}"#))
    }

    #[test]
    fn first_is_new_repeat_is_duplicate_and_order_is_kept() {
        let log = PushLog::new();
        let (a, b) = (OutboxId::from_parts(1, 1), OutboxId::from_parts(1, 2));
        assert_eq!(log.record("inbox:t", &tagged(a, 1)), Recorded::New(a));
        assert_eq!(log.record("inbox:t", &tagged(b, 2)), Recorded::New(b));
        assert_eq!(log.record("inbox:t", &tagged(a, 1)), Recorded::Duplicate(a));
        // The same id on another topic is still a duplicate: ids are global.
        assert_eq!(log.record("inbox:u", &tagged(b, 2)), Recorded::Duplicate(b));
        let ids: Vec<OutboxId> = log.entries("inbox:t").into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, [a, b]);
        assert!(log.entries("inbox:u").is_empty());
        assert_eq!((log.recorded(), log.duplicates(), log.untagged()), (2, 2, 0));
        assert!(log.contains(a) && log.contains(b));
        assert_eq!(log.topics(), ["inbox:t"]);
    }

    #[test]
    fn payloads_without_an_id_are_counted_not_recorded() {
        let log = PushLog::new();
        for payload in [
            Payload::json("[1]"),
            Payload::json(r#"{"n":1}"#),
            Payload::json(r#"{"_rig_id":"not-an-id"}"#),
            Payload::binary(vec![1u8, 2]),
        ] {
            assert_eq!(log.record("inbox:t", &payload), Recorded::Untagged);
        }
        assert_eq!((log.recorded(), log.duplicates(), log.untagged()), (0, 0, 4));
        assert!(log.topics().is_empty());
    }
}
