//! The persistent outbox: pushes that survive a crash and are sent after
//! reconnect. The trait, ids and [`MemoryOutbox`] are always built; the
//! SQLite backend needs the feature `outbox` (on by default).
//!
//! A socket opts in by giving a file path. Each push is written durably
//! before [`Outbox::enqueue`] returns; it is deleted only when the server
//! replies `ok` ([`Outbox::ack`]). After a restart, the entries of each topic
//! are replayed in order once its channel is joined. Delivery is
//! at-least-once: a crash between the server applying a push and the ack
//! being committed sends it again, so each push carries a unique id
//! ([`OutboxId`]) that the server uses to drop duplicates.
//!
//! In scope: the store (order per topic, bounds, the policy when full,
//! states, ids, durability, errors). Out of scope: sockets, channels,
//! timeouts: the engine calls this module, and this module depends on
//! `protocol` types only.
//!
//! # Lifecycle of an entry
//!
//! ```text
//!                 enqueue(topic, event, payload)         (caller thread)
//!                        │
//!                        ▼
//!                  ┌──────────┐  write fails: enqueue returns Err,
//!                  │ Writing  │──────────────▶ entry gone (never accepted)
//!                  └────┬─────┘
//!                       │ writer thread commits the batch (one fsync)
//!                       ▼          ── enqueue returns Ok(id) here ──
//!                  ┌──────────┐◀──────────────────────────┐
//!   pending(topic) │ Pending  │                           │ nack(id) / requeue_all()
//!   yields it ───▶ └────┬─────┘                           │ (error reply, timeout,
//!                       │ mark_sent(id)                   │  disconnect)
//!                       ▼                                 │
//!                  ┌──────────┐───────────────────────────┘
//!                  │   Sent   │
//!                  └────┬─────┘
//!                       │ ack(id) on the server's ok reply
//!                       ▼
//!                    deleted (in memory now; on disk in the writer's next batch)
//!
//!  process restart: every entry on disk comes back as Pending, in order.
//!  DropOldest policy: the oldest entry (any state) is deleted to make room.
//! ```
//!
//! # Backends
//!
//! - [`SqliteOutbox`]: an embedded SQLite file (`rusqlite`, SQLite compiled
//!   in), WAL journal, `synchronous=FULL`. A writer thread (`rig-outbox`)
//!   owns the connection and groups the writes of many callers into one
//!   transaction (group commit), so callers pay one fsync per batch, not one
//!   per push. The index of entries is mirrored in memory: `pending`,
//!   `mark_sent`, `nack` and `ack` never touch the disk (an ack is a message
//!   to the writer over a crossbeam channel), so the I/O thread never blocks
//!   on disk. Only `enqueue` waits, for its batch's commit.
//! - [`MemoryOutbox`]: the same rules without a file.
//!
//! `synchronous=FULL` rather than `NORMAL`: in WAL mode `NORMAL` survives a
//! process crash but a power loss may roll back the last commits, which
//! would break "durable when `enqueue` returns". Group commit keeps the cost
//! of `FULL` at one fsync per batch.
//!
//! # The unique id
//!
//! Each entry gets an [`OutboxId`] (128 bits: a random stamp per opening of
//! the outbox and a sequence counter, written as 32 hex digits). How it
//! travels to the server:
//!
//! - a JSON **object** payload gets the key [`ID_KEY`] (`_rig_id`) spliced in
//!   first, e.g. `{"_rig_id":"…","body":"hi"}`; the rest of the text is kept
//!   byte for byte. A server deduplicates on that key (see [`carried_id`]).
//!   An object that already has `_rig_id` is refused ([`Error::Payload`]).
//! - any other JSON (array, string, number) and binary payloads are stored
//!   and sent **unchanged**, without the id ([`Entry::tagged`] is false):
//!   they are still delivered at least once, but the server cannot tell a
//!   redelivery apart. Wrap such data in an object if duplicates matter.
//!
//! # Bounds
//!
//! [`Limits`] caps entries and bytes (topic + event + payload). When full,
//! [`FullPolicy::Reject`] (default) refuses the push and hands its payload
//! back; [`FullPolicy::DropOldest`] deletes the oldest entries and counts
//! them. Errors never lose an accepted entry: a corrupt or locked file is
//! refused at [`SqliteOutbox::open`] with [`Error::Corrupt`] or
//! [`Error::Locked`], and a failed write fails only the pushes in it.
//!
//! # Storage faults
//!
//! - **Full disk**: opening an existing outbox writes nothing, so it opens
//!   on a full disk and is *drain-only*: its pushes are read, sent and
//!   deleted (the deletes of a failed batch are committed on their own),
//!   and new pushes fail with [`Error::DiskFull`] ([`Stats::disk_full`] is
//!   set) until a write fits again: acked entries free room inside the file.
//! - **Read-only**: a file, directory or file system that cannot be written
//!   is [`Error::ReadOnly`], which says which (a WAL database needs its
//!   `-wal` file beside it, so even reading needs a writable directory).
//! - **A damaged write-ahead log**: after a crash SQLite replays the `-wal`
//!   file up to its first bad frame and silently drops the rest. The log is
//!   checked first; committed frames behind a bad one (or a damaged header
//!   with frames after it) are [`Error::Corrupt`], and the files are left
//!   as they were for inspection. Damage that reaches the end of the log
//!   cannot be told from a write torn by the crash, and passes.
//!
//! # Examples
//!
//! ```
//! use rig::outbox::{Limits, Outbox, SqliteOutbox};
//! use rig::protocol::Payload;
//!
//! let path = std::env::temp_dir().join(format!("rig-outbox-doc-{}.db", std::process::id()));
//! # let _ = std::fs::remove_file(&path);
//! let id = {
//!     let outbox = SqliteOutbox::open(&path, Limits::default())?;
//!     outbox.enqueue("room:1", "msg", Payload::json(r#"{"body":"hi"}"#))? // durable now
//! };
//! // A new process: the push is still there, in order, until acked.
//! let outbox = SqliteOutbox::open(&path, Limits::default())?;
//! let entry = outbox.pending("room:1").next().unwrap();
//! assert_eq!(entry.id, id);
//! outbox.mark_sent(entry.id);
//! assert!(outbox.ack(entry.id)); // the server replied ok
//! outbox.flush()?;
//! # drop(outbox);
//! # for suffix in ["", "-wal", "-shm"] {
//! #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
//! # }
//! # Ok::<(), rig::outbox::Error>(())
//! ```

mod error;
mod id;
mod limits;
mod memory;
mod queue;
#[cfg(feature = "outbox")]
mod sqlite;
mod tag;
#[cfg(test)]
#[cfg(feature = "outbox")]
pub(crate) mod tests;

pub use error::Error;
pub use id::{OutboxId, ParseIdError};
pub use limits::{Entry, FullPolicy, Limits, Stats};
pub use memory::MemoryOutbox;
#[cfg(feature = "outbox")]
pub use sqlite::SqliteOutbox;
pub use tag::{ID_KEY, carried_id};

use crate::protocol::Payload;

/// The entries of one topic waiting to be sent, in order (a snapshot).
pub type Pending = std::vec::IntoIter<Entry>;

/// A store of pushes waiting for the server's `ok`.
///
/// All methods take `&self`: one outbox is shared by the user's threads
/// (which enqueue) and the I/O thread (which sends and acks). Only
/// [`enqueue`](Self::enqueue) and [`flush`](Self::flush) may wait on disk.
///
/// # Examples
///
/// ```
/// use rig::outbox::{Limits, MemoryOutbox, Outbox};
/// use rig::protocol::Payload;
///
/// fn replay(outbox: &dyn Outbox, topic: &str) -> usize {
///     outbox.pending(topic).filter(|e| outbox.mark_sent(e.id)).count()
/// }
/// let outbox = MemoryOutbox::new(Limits::default());
/// outbox.enqueue("room:1", "msg", Payload::json("{}"))?;
/// assert_eq!(replay(&outbox, "room:1"), 1);
/// assert_eq!(replay(&outbox, "room:1"), 0); // in flight now
/// # Ok::<(), rig::outbox::Error>(())
/// ```
pub trait Outbox: Send + Sync + std::fmt::Debug {
    /// Stores a push; when this returns `Ok`, the push is durable (for a
    /// persistent backend) and will be sent until acked.
    ///
    /// # Errors
    ///
    /// [`Error::Full`] when the bounds refuse it (the payload is handed
    /// back), [`Error::Payload`] for a binary reply or a JSON object that has
    /// `_rig_id`, [`Error::Database`] or [`Error::Closed`] when the write
    /// failed. On any error the push was not accepted.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// let outbox = MemoryOutbox::new(Limits::default());
    /// let id = outbox.enqueue("t", "e", rig::protocol::Payload::json("{}"))?;
    /// assert_eq!(outbox.pending("t").next().map(|e| e.id), Some(id));
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    fn enqueue(&self, topic: &str, event: &str, payload: Payload) -> Result<OutboxId, Error>;

    /// The entries of `topic` waiting to be sent (not in flight), oldest
    /// first.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// let outbox = MemoryOutbox::new(Limits::default());
    /// assert_eq!(outbox.pending("t").count(), 0);
    /// ```
    fn pending(&self, topic: &str) -> Pending;

    /// The topics holding entries, ordered by their oldest entry: the
    /// channels to join after a restart.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// let outbox = MemoryOutbox::new(Limits::default());
    /// outbox.enqueue("b", "e", rig::protocol::Payload::json("{}"))?;
    /// outbox.enqueue("a", "e", rig::protocol::Payload::json("{}"))?;
    /// assert_eq!(outbox.topics(), ["b", "a"]);
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    fn topics(&self) -> Vec<String>;

    /// Marks a pending entry as sent (in flight); false if it is not pending.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// let outbox = MemoryOutbox::new(Limits::default());
    /// let id = outbox.enqueue("t", "e", rig::protocol::Payload::json("{}"))?;
    /// assert!(outbox.mark_sent(id));
    /// assert!(!outbox.mark_sent(id));
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    fn mark_sent(&self, id: OutboxId) -> bool;

    /// The server replied `ok`: deletes the entry (from disk in the writer's
    /// next batch, without waiting). False if the id is not held (already
    /// acked, or dropped by the full policy).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// let outbox = MemoryOutbox::new(Limits::default());
    /// let id = outbox.enqueue("t", "e", rig::protocol::Payload::json("{}"))?;
    /// assert!(outbox.ack(id));
    /// assert!(!outbox.ack(id));
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    fn ack(&self, id: OutboxId) -> bool;

    /// The push failed (error reply, timeout): a sent entry goes back to
    /// pending, at its place in order, and its `attempts` goes up. False if
    /// it was not in flight.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// let outbox = MemoryOutbox::new(Limits::default());
    /// let id = outbox.enqueue("t", "e", rig::protocol::Payload::json("{}"))?;
    /// outbox.mark_sent(id);
    /// assert!(outbox.nack(id));
    /// assert_eq!(outbox.pending("t").next().map(|e| e.attempts), Some(1));
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    fn nack(&self, id: OutboxId) -> bool;

    /// The connection was lost: every sent entry goes back to pending (as
    /// [`nack`](Self::nack)). Returns how many.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// let outbox = MemoryOutbox::new(Limits::default());
    /// let id = outbox.enqueue("t", "e", rig::protocol::Payload::json("{}"))?;
    /// outbox.mark_sent(id);
    /// assert_eq!(outbox.requeue_all(), 1);
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    fn requeue_all(&self) -> usize;

    /// Waits until every write asked for so far (acks included) is on disk.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] if the writer has stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// MemoryOutbox::new(Limits::default()).flush()?;
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    fn flush(&self) -> Result<(), Error>;

    /// A snapshot of the counters.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// assert_eq!(MemoryOutbox::new(Limits::default()).stats().enqueued, 0);
    /// ```
    fn stats(&self) -> Stats;

    /// Whether the outbox still holds the entry `id` (pending or in
    /// flight): false once it is acked or dropped to make room
    /// ([`FullPolicy::DropOldest`]). The engine uses it to resolve the
    /// handle of a dropped push instead of leaving it waiting. The default
    /// answers `true` (a store that cannot tell never drops).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{FullPolicy, Limits, MemoryOutbox, Outbox};
    /// use rig::protocol::Payload;
    /// let limits = Limits::default().max_entries(1).policy(FullPolicy::DropOldest);
    /// let outbox = MemoryOutbox::new(limits);
    /// let first = outbox.enqueue("t", "e", Payload::json("{}"))?;
    /// let second = outbox.enqueue("t", "e", Payload::json("{}"))?; // drops `first`
    /// assert!(!outbox.contains(first));
    /// assert!(outbox.contains(second));
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    fn contains(&self, id: OutboxId) -> bool {
        let _ = id;
        true
    }
}
