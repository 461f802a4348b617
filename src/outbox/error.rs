//! The outbox's errors.

use std::path::PathBuf;

use crate::protocol::Payload;

/// Why the outbox refused or failed an operation.
///
/// An error never means an accepted push was lost: a push is accepted only
/// when [`enqueue`](super::Outbox::enqueue) returns `Ok`, and nothing
/// accepted is removed except by [`ack`](super::Outbox::ack) or by the
/// [`FullPolicy::DropOldest`](super::FullPolicy::DropOldest) policy.
///
/// # Examples
///
/// ```
/// use rig::outbox::{Error, Limits, MemoryOutbox, Outbox};
/// use rig::protocol::Payload;
///
/// let outbox = MemoryOutbox::new(Limits::default().max_entries(1));
/// outbox.enqueue("room:1", "msg", Payload::json("{}"))?;
/// let err = outbox.enqueue("room:1", "msg", Payload::json(r#"{"n":2}"#)).unwrap_err();
/// assert!(matches!(err, Error::Full { .. }));
/// // The refused payload is handed back.
/// assert_eq!(err.into_payload().and_then(|p| p.as_json().map(str::to_owned)),
///            Some(r#"{"n":2}"#.to_owned()));
/// # Ok::<(), rig::outbox::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The outbox holds its maximum count or bytes and its policy is
    /// [`FullPolicy::Reject`](super::FullPolicy::Reject), or this one
    /// payload is larger than the byte bound. Not fatal: ack older entries
    /// (reconnect) or raise [`Limits`](super::Limits). The payload is handed
    /// back in `payload`.
    #[error(
        "outbox full: {entries} entries, {bytes} bytes held; limits {max_entries} entries, {max_bytes} bytes; push of {needed} bytes refused"
    )]
    Full {
        /// Entries held when the push was refused.
        entries: usize,
        /// Bytes held when the push was refused.
        bytes: usize,
        /// The entry bound.
        max_entries: usize,
        /// The byte bound.
        max_bytes: usize,
        /// The bytes this push needed (topic + event + payload).
        needed: usize,
        /// The refused payload, handed back.
        payload: Box<Payload>,
    },
    /// The payload cannot be stored: a binary reply (only the server sends
    /// those), or a JSON object that already has the reserved `_rig_id` key.
    /// Not fatal; fix the payload.
    #[error("payload refused: {0}")]
    Payload(&'static str),
    /// The database file is not an outbox database or is damaged (SQLite
    /// reports it corrupt or "not a database", the integrity check fails,
    /// or its write-ahead log was damaged after a crash so that SQLite would
    /// silently drop committed pushes). Fatal for this file: nothing was
    /// changed; move it aside with its `-wal` (they may be inspected with
    /// the `sqlite3` shell) and open a new one.
    #[error("outbox database {path} is corrupt: {detail}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite reported.
        detail: String,
    },
    /// Another connection (usually another process) holds the database:
    /// an outbox file has one owner at a time. Close the other owner, or use
    /// another file per process.
    #[error("outbox database {path} is locked by another owner")]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// The database was written by a newer rig (its schema version is
    /// higher than this build knows). Fatal for this build.
    #[error("outbox database {path} has schema version {found}, this build knows up to {known}")]
    Schema {
        /// The database file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The highest version this build reads.
        known: i64,
    },
    /// The disk (or the file system holding the outbox) is full: this push
    /// was not accepted. Not fatal: the outbox is drain-only until space is
    /// freed, so the pushes it holds are still read, sent and deleted, and
    /// pushes are accepted again as soon as a write fits (acked entries free
    /// room inside the file). An outbox file can always be opened on a full
    /// disk: opening writes nothing to a file that exists.
    #[error(
        "outbox database {path}: the disk is full; stored pushes still drain, new pushes are refused until space is freed"
    )]
    DiskFull {
        /// The database file.
        path: PathBuf,
    },
    /// The outbox file, its directory or its file system is read-only: the
    /// outbox cannot be opened (a WAL database needs its `-wal` file
    /// beside it) or written. Fatal for this file: remount it read-write,
    /// give the process write access, or open a copy elsewhere.
    #[error("outbox database {path} is read-only: {detail}")]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// What is read-only, as far as it could be told.
        detail: String,
    },
    /// Any other database failure: an I/O error, the file cannot be
    /// created. The operation did not take effect (an enqueue that
    /// fails this way was not accepted).
    #[error("outbox database {path}: {detail}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// What SQLite or the OS reported.
        detail: String,
    },
    /// The outbox's writer thread has stopped (it could not be started, or
    /// the outbox is being dropped). Fatal for this handle: open it again.
    #[error("the outbox writer has stopped")]
    Closed,
}

impl Error {
    /// The payload handed back by a refused enqueue ([`Error::Full`]), if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::outbox::Error::Closed.into_payload().is_none());
    /// ```
    pub fn into_payload(self) -> Option<Payload> {
        match self {
            Self::Full { payload, .. } => Some(*payload),
            _ => None,
        }
    }

    /// Whether this error is [`Error::Full`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rig::outbox::Error::Closed.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, Self::Full { .. })
    }
}
