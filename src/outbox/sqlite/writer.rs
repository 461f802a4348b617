//! The writer thread: owns the connection and commits the operations of
//! many callers in one transaction (group commit: one fsync per batch).

use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use rusqlite::Connection;

use super::store;
use crate::outbox::queue::Queue;
use crate::outbox::{Entry, Error};

/// The most operations committed in one transaction: bounds the time a
/// caller waits behind others and the size of one WAL append.
const MAX_BATCH: usize = 1024;

/// What the writer is asked to do. The channel carrying these is unbounded
/// on purpose: senders must never block (the I/O thread sends acks), and its
/// length is bounded by the outbox's entry limit (one insert and at most one
/// delete per accepted entry), plus one flush per waiting caller.
#[derive(Debug)]
pub(super) enum Op {
    /// Write an entry; the result goes to `done` after the commit.
    Insert { entry: Entry, done: Sender<Result<(), Error>> },
    /// Delete an entry (acked or evicted).
    Delete(u64),
    /// Reply once everything before this is committed.
    Flush(Sender<()>),
    /// Commit what came before, then end the thread.
    Stop,
}

/// The writer's loop; returns when asked to stop or when every sender is gone.
pub(super) fn run(conn: Connection, path: PathBuf, ops: Receiver<Op>, queue: Arc<Mutex<Queue>>) {
    let mut batch = Vec::with_capacity(64);
    loop {
        let Ok(first) = ops.recv() else { return };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match ops.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let stop = batch.iter().any(|op| matches!(op, Op::Stop));
        finish(&conn, &path, &queue, &mut batch);
        if stop {
            return;
        }
    }
}

/// Commits one batch, updates the mirror, then wakes the callers.
fn finish(conn: &Connection, path: &std::path::Path, queue: &Mutex<Queue>, batch: &mut Vec<Op>) {
    let writes = batch.iter().any(|op| matches!(op, Op::Insert { .. } | Op::Delete(_)));
    let result = if writes { commit(conn, batch, true) } else { Ok(()) };
    let inserts = batch.iter().any(|op| matches!(op, Op::Insert { .. }));
    let deletes = batch.iter().any(|op| matches!(op, Op::Delete(_)));
    if result.is_err() && inserts && deletes {
        // The inserts may be what failed (a full disk): the deletes go on
        // their own, so a full outbox still drains (an acked entry left on
        // disk would only be sent again after a restart).
        if let Err(err) = commit(conn, batch, false) {
            log::warn!("outbox {}: deletes not written: {err}", path.display());
        }
    }
    {
        // The mirror changes before anyone is woken, and all entries of the
        // batch at once: `pending` never shows a later entry of a topic
        // without the earlier ones.
        let mut queue = queue.lock();
        match &result {
            Ok(()) if writes => queue.note_commit(),
            Ok(()) => {}
            Err(err) => {
                log::error!(
                    "outbox {}: write of {} operations failed: {err}",
                    path.display(),
                    batch.len()
                );
                let full = err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull);
                queue.note_write_error(full);
            }
        }
        for op in batch.iter() {
            if let Op::Insert { entry, .. } = op {
                if result.is_ok() {
                    queue.written(entry.id.seq());
                } else {
                    queue.write_failed(entry.id.seq());
                }
            }
        }
    }
    for op in batch.drain(..) {
        match op {
            Op::Insert { done, .. } => {
                let reply = result.as_ref().map(|_| ()).map_err(|err| store::classify(path, err));
                // The caller may have gone (its thread ended): nothing to tell.
                let _gone = done.send(reply);
            }
            Op::Flush(done) => {
                let _gone = done.send(());
            }
            Op::Delete(_) | Op::Stop => {}
        }
    }
}

/// Runs the batch's writes (without its inserts unless `inserts`) in one
/// transaction.
fn commit(conn: &Connection, batch: &[Op], inserts: bool) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let written = batch.iter().try_for_each(|op| match op {
        Op::Insert { entry, .. } if inserts => store::insert(conn, entry),
        Op::Insert { .. } => Ok(()),
        Op::Delete(seq) => store::delete(conn, *seq),
        Op::Flush(_) | Op::Stop => Ok(()),
    });
    match written.and_then(|()| conn.execute_batch("COMMIT")) {
        Ok(()) => Ok(()),
        Err(err) => {
            // Undo the part that was written; the error to report is the first.
            let _rollback = conn.execute_batch("ROLLBACK");
            Err(err)
        }
    }
}
