//! Bounds, the policy when full, entries and counters.

use crate::protocol::Payload;

use super::OutboxId;

/// What [`enqueue`](super::Outbox::enqueue) does when the outbox is full.
///
/// # Examples
///
/// ```
/// use rig::outbox::{FullPolicy, Limits};
/// let limits = Limits::default().policy(FullPolicy::DropOldest);
/// assert_eq!(limits.get_policy(), FullPolicy::DropOldest);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FullPolicy {
    /// Refuse the new push with [`Error::Full`](super::Error::Full), handing
    /// its payload back; nothing accepted is lost. The default.
    #[default]
    Reject,
    /// Delete the oldest entries (of any topic) until the new push fits, and
    /// count them in [`Stats::dropped`]. For feeds where fresh data matters
    /// more than old. A push larger than the byte bound alone is still
    /// refused.
    DropOldest,
}

/// The bounds of an outbox: entries and bytes (topic + event + payload).
///
/// # Examples
///
/// ```
/// use rig::outbox::Limits;
/// let limits = Limits::default().max_entries(100).max_bytes(1 << 20);
/// assert_eq!((limits.get_max_entries(), limits.get_max_bytes()), (100, 1 << 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_entries: usize,
    max_bytes: usize,
    policy: FullPolicy,
}

impl Default for Limits {
    /// 10,000 entries, 16 MiB, [`FullPolicy::Reject`].
    fn default() -> Self {
        Self { max_entries: 10_000, max_bytes: 16 << 20, policy: FullPolicy::Reject }
    }
}

impl Limits {
    /// At most this many entries (default 10,000).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::outbox::Limits::default().max_entries(5).get_max_entries(), 5);
    /// ```
    #[must_use]
    pub fn max_entries(mut self, n: usize) -> Self {
        self.max_entries = n;
        self
    }

    /// At most this many bytes of topic + event + payload (default 16 MiB).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::outbox::Limits::default().max_bytes(64).get_max_bytes(), 64);
    /// ```
    #[must_use]
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    /// What to do when full (default [`FullPolicy::Reject`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{FullPolicy, Limits};
    /// assert_eq!(Limits::default().get_policy(), FullPolicy::Reject);
    /// ```
    #[must_use]
    pub fn policy(mut self, policy: FullPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The entry bound.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::outbox::Limits::default().get_max_entries(), 10_000);
    /// ```
    pub fn get_max_entries(&self) -> usize {
        self.max_entries
    }

    /// The byte bound.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::outbox::Limits::default().get_max_bytes(), 16 << 20);
    /// ```
    pub fn get_max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The policy when full.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{FullPolicy, Limits};
    /// assert_eq!(Limits::default().get_policy(), FullPolicy::Reject);
    /// ```
    pub fn get_policy(&self) -> FullPolicy {
        self.policy
    }
}

/// One push held by the outbox, as it is to be sent.
///
/// # Examples
///
/// ```
/// use rig::outbox::{Limits, MemoryOutbox, Outbox};
/// use rig::protocol::Payload;
///
/// let outbox = MemoryOutbox::new(Limits::default());
/// let id = outbox.enqueue("room:1", "msg", Payload::json(r#"{"body":"hi"}"#))?;
/// let entry = outbox.pending("room:1").next().unwrap();
/// assert_eq!((entry.id, entry.topic.as_str(), entry.event.as_str()), (id, "room:1", "msg"));
/// assert!(entry.tagged);
/// # Ok::<(), rig::outbox::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// The unique id.
    pub id: OutboxId,
    /// The channel topic.
    pub topic: String,
    /// The event name.
    pub event: String,
    /// The payload to send: for a JSON object, with the id under
    /// [`ID_KEY`](super::ID_KEY).
    pub payload: Payload,
    /// Whether the payload carries the id (a JSON object); if not, the server
    /// cannot deduplicate a redelivery of this entry.
    pub tagged: bool,
    /// How many times this entry was handed back with
    /// [`nack`](super::Outbox::nack) since the outbox was opened.
    pub attempts: u32,
}

impl Entry {
    /// The bytes this entry counts against [`Limits`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// use rig::protocol::Payload;
    ///
    /// let outbox = MemoryOutbox::new(Limits::default());
    /// outbox.enqueue("t", "e", Payload::binary(vec![0u8; 10]))?;
    /// assert_eq!(outbox.pending("t").next().unwrap().size(), 12);
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    pub fn size(&self) -> usize {
        entry_size(&self.topic, &self.event, &self.payload)
    }
}

/// The bytes a push counts against the byte bound.
pub(crate) fn entry_size(topic: &str, event: &str, payload: &Payload) -> usize {
    let body = match payload {
        Payload::Json(text) => text.len(),
        Payload::Binary(bytes) => bytes.len(),
        Payload::BinaryReply { status, response } => status.len() + response.len(),
    };
    topic.len() + event.len() + body
}

/// A snapshot of an outbox's counters.
///
/// # Examples
///
/// ```
/// use rig::outbox::{Limits, MemoryOutbox, Outbox};
/// use rig::protocol::Payload;
///
/// let outbox = MemoryOutbox::new(Limits::default());
/// let id = outbox.enqueue("t", "e", Payload::json("{}"))?;
/// outbox.mark_sent(id);
/// let stats = outbox.stats();
/// assert_eq!((stats.entries, stats.in_flight, stats.enqueued), (1, 1, 1));
/// # Ok::<(), rig::outbox::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Entries held (pending or in flight).
    pub entries: usize,
    /// Bytes held.
    pub bytes: usize,
    /// Entries marked sent and not yet acked.
    pub in_flight: usize,
    /// Pushes accepted since the outbox was opened.
    pub enqueued: u64,
    /// Entries acked (deleted) since the outbox was opened.
    pub acked: u64,
    /// Entries handed back with `nack` since the outbox was opened.
    pub nacked: u64,
    /// Entries deleted by [`FullPolicy::DropOldest`].
    pub dropped: u64,
    /// Pushes refused because the outbox was full.
    pub rejected: u64,
    /// Transactions committed by the database writer (each one fsync);
    /// fewer than `enqueued` when commits were grouped. Zero in memory.
    pub commits: u64,
    /// Writes that failed in the database writer (a failed enqueue is also
    /// reported to its caller; a failed delete leaves the entry on disk, to
    /// be sent again after a restart).
    pub write_errors: u64,
    /// The last write ran out of space ([`Error::DiskFull`](super::Error::DiskFull)):
    /// the outbox is drain-only (stored pushes are sent and deleted, new
    /// ones refused) until a write fits again. Always false in memory.
    pub disk_full: bool,
}
