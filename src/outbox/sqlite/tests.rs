//! The writer on its own: group commit and failed batches.

use std::sync::Arc;

use parking_lot::Mutex;

use super::store;
use super::writer::{self, Op};
use crate::outbox::queue::Queue;
use crate::outbox::tag;
use crate::outbox::tests::util::TempDb;
use crate::outbox::{Limits, Outbox, SqliteOutbox};
use crate::protocol::Payload;

#[test]
fn writes_queued_together_share_one_commit() {
    let db = TempDb::new("group-commit");
    let (conn, _) = store::open(db.path()).unwrap();
    let queue = Arc::new(Mutex::new(Queue::new(Limits::default(), 5)));
    let (ops, receiver) = crossbeam_channel::unbounded();
    let mut replies = Vec::new();
    for n in 0..100 {
        let admitted = {
            let prepared = tag::prepare(Payload::json(format!(r#"{{"n":{n}}}"#))).unwrap();
            queue.lock().admit("t", "e", prepared, true).unwrap()
        };
        let (done, reply) = crossbeam_channel::bounded(1);
        ops.send(Op::Insert { entry: admitted.entry, done }).unwrap();
        replies.push(reply);
    }
    ops.send(Op::Stop).unwrap();
    // Everything is queued before the writer starts: one batch.
    writer::run(conn, db.path().to_owned(), receiver, Arc::clone(&queue));
    for reply in replies {
        reply.try_recv().unwrap().unwrap();
    }
    let stats = queue.lock().stats();
    assert_eq!((stats.commits, stats.enqueued), (1, 100));
    assert_eq!(queue.lock().pending("t").len(), 100);
    let reopened = SqliteOutbox::open(db.path(), Limits::default()).unwrap();
    assert_eq!(reopened.stats().entries, 100);
}

#[test]
fn a_failed_batch_fails_its_callers_and_keeps_nothing() {
    let db = TempDb::new("failed-batch");
    let (conn, _) = store::open(db.path()).unwrap();
    // Make every insert fail: a trigger that aborts.
    conn.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk says no'); END;",
    )
    .unwrap();
    let queue = Arc::new(Mutex::new(Queue::new(Limits::default(), 5)));
    let (ops, receiver) = crossbeam_channel::unbounded();
    let prepared = tag::prepare(Payload::json("{}")).unwrap();
    let admitted = queue.lock().admit("t", "e", prepared, true).unwrap();
    let (done, reply) = crossbeam_channel::bounded(1);
    ops.send(Op::Insert { entry: admitted.entry, done }).unwrap();
    ops.send(Op::Stop).unwrap();
    writer::run(conn, db.path().to_owned(), receiver, Arc::clone(&queue));
    let err = reply.try_recv().unwrap().unwrap_err();
    assert!(err.to_string().contains("disk says no"), "{err}");
    let stats = queue.lock().stats();
    assert_eq!((stats.entries, stats.enqueued, stats.commits, stats.write_errors), (0, 0, 0, 1));
}
