//! The SQLite backend: a durable outbox in one file.

mod store;
mod wal;
mod writer;

#[cfg(test)]
mod tests;

/// SQLite's error mapped to the outbox's, for the storage tests.
#[cfg(test)]
pub(crate) fn store_classify(path: &Path, err: &rusqlite::Error) -> Error {
    store::classify(path, err)
}

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Sender;
use parking_lot::Mutex;

use self::writer::Op;
use super::queue::Queue;
use super::{Error, Limits, Outbox, OutboxId, Pending, Stats, id, tag};
use crate::protocol::Payload;

/// An outbox in an embedded SQLite file: every accepted push is on disk
/// when [`enqueue`](Outbox::enqueue) returns, and comes back after a crash.
///
/// One owner per file: [`open`](Self::open) takes an exclusive lock. The
/// `rig-outbox` writer thread owns the connection; see the
/// [module docs](super) for the settings and why.
///
/// # Examples
///
/// ```
/// use rig::outbox::{Limits, Outbox, SqliteOutbox};
/// use rig::protocol::Payload;
///
/// let path = std::env::temp_dir().join(format!("rig-outbox-ex-{}.db", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let outbox = SqliteOutbox::open(&path, Limits::default())?;
/// let id = outbox.enqueue("room:1", "msg", Payload::json(r#"{"body":"hi"}"#))?;
/// assert_eq!(outbox.pending("room:1").next().map(|e| e.id), Some(id));
/// outbox.close()?;
/// # for suffix in ["", "-wal", "-shm"] {
/// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
/// # }
/// # Ok::<(), rig::outbox::Error>(())
/// ```
#[derive(Debug)]
pub struct SqliteOutbox {
    path: PathBuf,
    queue: Arc<Mutex<Queue>>,
    ops: Sender<Op>,
    writer: Option<JoinHandle<()>>,
}

impl SqliteOutbox {
    /// Opens the outbox file at `path` (created if missing), loads what it
    /// holds (in order, all pending) and starts the writer thread.
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] if the file is not an outbox database or is
    /// damaged (its write-ahead log included: see the [module docs](super)),
    /// [`Error::Locked`] if another owner holds it, [`Error::ReadOnly`] if
    /// it or its directory cannot be written,
    /// [`Error::Schema`] if a newer rig wrote it, [`Error::Database`] if it
    /// cannot be created or read or the thread cannot start.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Error, Limits, SqliteOutbox};
    ///
    /// let path = std::env::temp_dir().join(format!("rig-outbox-open-{}.db", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let first = SqliteOutbox::open(&path, Limits::default())?;
    /// // One owner at a time.
    /// assert!(matches!(SqliteOutbox::open(&path, Limits::default()), Err(Error::Locked { .. })));
    /// drop(first);
    /// # for suffix in ["", "-wal", "-shm"] {
    /// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    /// # }
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>, limits: Limits) -> Result<Self, Error> {
        let path = path.as_ref().to_owned();
        let (conn, entries) = store::open(&path)?;
        Self::start(path, limits, conn, entries)
    }

    /// [`open`](Self::open) with the file capped at `max_pages` pages of
    /// SQLite's: a disk that fills up, for tests.
    #[cfg(test)]
    pub(crate) fn open_capped(path: &Path, limits: Limits, max_pages: u32) -> Result<Self, Error> {
        let (conn, entries) = store::open_capped(path, Some(max_pages))?;
        Self::start(path.to_owned(), limits, conn, entries)
    }

    fn start(
        path: PathBuf,
        limits: Limits,
        conn: rusqlite::Connection,
        entries: Vec<super::Entry>,
    ) -> Result<Self, Error> {
        let mut queue = Queue::new(limits, id::fresh_stamp());
        for entry in entries {
            queue.restore(entry);
        }
        let queue = Arc::new(Mutex::new(queue));
        let (ops, receiver) = crossbeam_channel::unbounded();
        let writer = {
            let (writer_path, queue) = (path.clone(), Arc::clone(&queue));
            std::thread::Builder::new()
                .name("rig-outbox".into())
                .spawn(move || writer::run(conn, writer_path, receiver, queue))
                .map_err(|err| Error::Database {
                    path: path.clone(),
                    detail: format!("cannot start the writer thread: {err}"),
                })?
        };
        log::info!(
            "outbox {} opened with {} entries",
            path.display(),
            queue.lock().stats().entries
        );
        Ok(Self { path, queue, ops, writer: Some(writer) })
    }

    /// The database file.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, SqliteOutbox};
    /// let path = std::env::temp_dir().join(format!("rig-outbox-path-{}.db", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let outbox = SqliteOutbox::open(&path, Limits::default())?;
    /// assert_eq!(outbox.path(), path);
    /// # drop(outbox);
    /// # for suffix in ["", "-wal", "-shm"] {
    /// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    /// # }
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commits every outstanding write (acks included), stops the writer
    /// and releases the file. Dropping the outbox does the same, silently.
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] if the writer had already stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, SqliteOutbox};
    /// let path = std::env::temp_dir().join(format!("rig-outbox-close-{}.db", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// SqliteOutbox::open(&path, Limits::default())?.close()?;
    /// // Closed: the file can be opened again.
    /// SqliteOutbox::open(&path, Limits::default())?.close()?;
    /// # for suffix in ["", "-wal", "-shm"] {
    /// #     let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    /// # }
    /// # Ok::<(), rig::outbox::Error>(())
    /// ```
    pub fn close(mut self) -> Result<(), Error> {
        let flushed = self.flush();
        self.stop();
        flushed
    }

    fn stop(&mut self) {
        let _already_stopped = self.ops.send(Op::Stop);
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            log::error!("outbox {}: the writer thread panicked", self.path.display());
        }
    }
}

impl Drop for SqliteOutbox {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Outbox for SqliteOutbox {
    fn enqueue(&self, topic: &str, event: &str, payload: Payload) -> Result<OutboxId, Error> {
        let prepared = tag::prepare(payload)?;
        let (done, committed) = crossbeam_channel::bounded(1);
        let id = {
            // Sent under the lock: the writer sees entries in sequence order.
            let mut queue = self.queue.lock();
            let admitted = queue.admit(topic, event, prepared, true)?;
            for seq in admitted.evicted {
                let _closed = self.ops.send(Op::Delete(seq));
            }
            let id = admitted.entry.id;
            if self.ops.send(Op::Insert { entry: admitted.entry, done }).is_err() {
                queue.write_failed(id.seq());
                return Err(Error::Closed);
            }
            id
        };
        committed.recv().map_err(|_| Error::Closed)??;
        Ok(id)
    }

    fn pending(&self, topic: &str) -> Pending {
        self.queue.lock().pending(topic).into_iter()
    }

    fn topics(&self) -> Vec<String> {
        self.queue.lock().topics()
    }

    fn mark_sent(&self, id: OutboxId) -> bool {
        self.queue.lock().mark_sent(id)
    }

    fn ack(&self, id: OutboxId) -> bool {
        let acked = self.queue.lock().ack(id);
        if acked && self.ops.send(Op::Delete(id.seq())).is_err() {
            // Gone from memory, still on disk: sent again after a restart,
            // and the server drops it by its id.
            log::warn!("outbox {}: writer stopped, ack of {id} not written", self.path.display());
        }
        acked
    }

    fn nack(&self, id: OutboxId) -> bool {
        self.queue.lock().nack(id)
    }

    fn requeue_all(&self) -> usize {
        self.queue.lock().requeue_all()
    }

    fn flush(&self) -> Result<(), Error> {
        let (done, flushed) = crossbeam_channel::bounded(1);
        self.ops.send(Op::Flush(done)).map_err(|_| Error::Closed)?;
        flushed.recv().map_err(|_| Error::Closed)
    }

    fn stats(&self) -> Stats {
        self.queue.lock().stats()
    }

    fn contains(&self, id: OutboxId) -> bool {
        self.queue.lock().contains(id)
    }
}
