use std::sync::Arc;

use super::contract;
use super::util::TempDb;
use crate::outbox::{Error, FullPolicy, Limits, Outbox, OutboxId, SqliteOutbox};
use crate::protocol::Payload;

fn open(db: &TempDb, limits: Limits) -> SqliteOutbox {
    SqliteOutbox::open(db.path(), limits).unwrap()
}

#[test]
fn sqlite_order_per_topic() {
    let db = TempDb::new("order");
    contract::order_per_topic(&open(&db, Limits::default()));
}

#[test]
fn sqlite_ack_deletes_and_states() {
    let db = TempDb::new("ack");
    contract::ack_deletes_and_states(&open(&db, Limits::default()));
}

#[test]
fn sqlite_reject_when_full() {
    let db = TempDb::new("reject");
    contract::reject_when_full(&open(&db, contract::small(FullPolicy::Reject)));
}

#[test]
fn sqlite_drop_oldest_when_full() {
    let db = TempDb::new("drop");
    contract::drop_oldest_when_full(&open(&db, contract::small(FullPolicy::DropOldest)));
    // The evictions reached the disk: after reopening, the same entries.
    let outbox = open(&db, Limits::default());
    assert_eq!(outbox.stats().entries, 1);
}

#[test]
fn sqlite_payload_kinds() {
    let db = TempDb::new("kinds");
    contract::payload_kinds(&open(&db, Limits::default()));
    // And they come back byte for byte.
    let outbox = open(&db, Limits::default());
    let back: Vec<_> = outbox.pending("t").map(|e| (e.payload, e.tagged)).collect();
    assert_eq!(
        back,
        [(Payload::json("[1,2]"), false), (Payload::binary(vec![0u8, 255, 7]), false)]
    );
}

#[test]
fn sqlite_reopen_after_clean_close_keeps_unacked_in_order() {
    let db = TempDb::new("reopen");
    let (kept, acked) = {
        let outbox = open(&db, Limits::default());
        let ids: Vec<OutboxId> = (0..10)
            .map(|n| {
                outbox.enqueue("room:1", "msg", Payload::json(format!(r#"{{"n":{n}}}"#))).unwrap()
            })
            .collect();
        let other = outbox.enqueue("room:2", "msg", Payload::json("{}")).unwrap();
        for id in ids.iter().step_by(2) {
            assert!(outbox.mark_sent(*id));
            assert!(outbox.ack(*id));
        }
        // Sent but not acked: pending again after the restart.
        assert!(outbox.mark_sent(ids[1]));
        outbox.close().unwrap();
        let kept: Vec<_> = ids.iter().skip(1).step_by(2).copied().collect();
        (kept, other)
    };
    let outbox = open(&db, Limits::default());
    let back: Vec<_> = outbox.pending("room:1").collect();
    assert_eq!(back.iter().map(|e| e.id).collect::<Vec<_>>(), kept);
    assert_eq!(back[0].payload.as_json().map(|t| t.ends_with(r#""n":1}"#)), Some(true));
    assert_eq!(outbox.pending("room:2").map(|e| e.id).collect::<Vec<_>>(), [acked]);
    assert_eq!(outbox.topics(), ["room:1", "room:2"]);
    // New entries go after the old ones, with new unique ids.
    let new = outbox.enqueue("room:1", "msg", Payload::json("{}")).unwrap();
    assert_eq!(outbox.pending("room:1").last().map(|e| e.id), Some(new));
    assert!(new.seq() > kept.last().unwrap().seq());
    assert_ne!(new.stamp(), kept[0].stamp());
    assert_eq!(outbox.stats().entries, 7);
}

#[test]
fn sqlite_drop_writes_outstanding_acks() {
    let db = TempDb::new("dropack");
    {
        let outbox = open(&db, Limits::default());
        let id = outbox.enqueue("t", "e", Payload::json("{}")).unwrap();
        outbox.mark_sent(id);
        outbox.ack(id);
        // Dropped without flush or close.
    }
    assert_eq!(open(&db, Limits::default()).stats().entries, 0);
}

#[test]
fn sqlite_garbage_file_is_corrupt() {
    let db = TempDb::new("garbage");
    std::fs::write(db.path(), vec![0x5au8; 8192]).unwrap();
    let err = SqliteOutbox::open(db.path(), Limits::default()).unwrap_err();
    assert!(matches!(&err, Error::Corrupt { path, .. } if path == db.path()), "{err}");
    // The file was not touched: whatever it held is still there.
    assert_eq!(std::fs::read(db.path()).unwrap(), vec![0x5au8; 8192]);
}

#[test]
fn sqlite_damaged_pages_are_corrupt() {
    let db = TempDb::new("damaged");
    {
        let outbox = open(&db, Limits::default());
        for n in 0..200 {
            let body = format!(r#"{{"n":{n},"pad":"{}"}}"#, "p".repeat(200));
            outbox.enqueue("t", "e", Payload::json(body)).unwrap();
        }
        outbox.close().unwrap();
    }
    // Checkpointed into the main file by the clean close; scribble over the
    // pages after the header, keeping the header valid.
    let mut bytes = std::fs::read(db.path()).unwrap();
    assert!(bytes.len() > 8192, "the entries are in the main file");
    for byte in bytes.iter_mut().skip(4096).step_by(7) {
        *byte = 0xff;
    }
    std::fs::write(db.path(), &bytes).unwrap();
    let err = SqliteOutbox::open(db.path(), Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
}

#[test]
fn sqlite_other_database_is_refused() {
    let db = TempDb::new("foreign");
    {
        let conn = rusqlite::Connection::open(db.path()).unwrap();
        conn.execute_batch("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('x');")
            .unwrap();
    }
    let err = SqliteOutbox::open(db.path(), Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
}

#[test]
fn sqlite_newer_schema_is_refused() {
    let db = TempDb::new("schema");
    open(&db, Limits::default()).close().unwrap();
    {
        let conn = rusqlite::Connection::open(db.path()).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SqliteOutbox::open(db.path(), Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Schema { found: 99, known: 1, .. }), "{err}");
}

#[test]
fn sqlite_second_owner_is_locked_and_first_keeps_working() {
    let db = TempDb::new("locked");
    let first = open(&db, Limits::default());
    let id = first.enqueue("t", "e", Payload::json("{}")).unwrap();
    let err = SqliteOutbox::open(db.path(), Limits::default()).unwrap_err();
    assert!(matches!(&err, Error::Locked { path } if path == db.path()), "{err}");
    assert!(err.to_string().contains("locked"));
    first.enqueue("t", "e", Payload::json("{}")).unwrap();
    first.close().unwrap();
    let second = open(&db, Limits::default());
    assert_eq!(second.pending("t").next().map(|e| e.id), Some(id));
}

#[test]
fn sqlite_lock_held_by_a_plain_connection_is_locked() {
    let db = TempDb::new("locked-raw");
    open(&db, Limits::default()).close().unwrap();
    let conn = rusqlite::Connection::open(db.path()).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = SqliteOutbox::open(db.path(), Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    conn.execute_batch("COMMIT").unwrap();
}

#[test]
fn sqlite_unwritable_path_is_a_database_error() {
    let db = TempDb::new("nodir");
    let path = db.path().join("no-such-dir").join("outbox.db");
    let err = SqliteOutbox::open(&path, Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err}");
}

#[test]
fn sqlite_concurrent_callers_are_all_durable_and_ordered() {
    let db = TempDb::new("group");
    let outbox = Arc::new(open(&db, Limits::default()));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let outbox = Arc::clone(&outbox);
            std::thread::spawn(move || {
                let topic = format!("t{t}");
                (0..25)
                    .map(|n| {
                        outbox
                            .enqueue(&topic, "e", Payload::json(format!(r#"{{"n":{n}}}"#)))
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut expected = Vec::new();
    for (t, thread) in threads.into_iter().enumerate() {
        expected.push((format!("t{t}"), thread.join().unwrap()));
    }
    let stats = outbox.stats();
    assert_eq!(stats.enqueued, 200);
    assert!(stats.commits >= 1 && stats.commits <= 200, "{stats:?}");
    drop(outbox);
    let outbox = open(&db, Limits::default());
    for (topic, ids) in expected {
        assert_eq!(outbox.pending(&topic).map(|e| e.id).collect::<Vec<_>>(), ids);
    }
}
