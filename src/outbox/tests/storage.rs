//! Storage faults: a full disk (SQLite's `max_page_count`, and a file size
//! limit of zero through `ulimit -f` in a child process), a read-only file
//! (`SQLITE_OPEN_READ_ONLY`, and a read-only bind mount in a private mount
//! namespace where `unshare` is allowed), and a write-ahead log damaged
//! between two processes.
//!
//! Each child is this test binary run again with an environment variable
//! naming the database: only then does its `*_child_role` test do anything.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use rusqlite::{Connection, OpenFlags};

use super::util::TempDb;
use crate::outbox::sqlite::store_classify;
use crate::outbox::{Error, Limits, Outbox, SqliteOutbox};
use crate::protocol::Payload;

/// Names the database for [`no_growth_child_role`].
const NO_GROWTH_ENV: &str = "RIG_OUTBOX_NO_GROWTH_CHILD";
/// Names the database for [`crash_child_role`].
const CRASH_ENV: &str = "RIG_OUTBOX_WAL_CRASH_CHILD";
/// Names the database for [`read_only_child_role`].
const READ_ONLY_ENV: &str = "RIG_OUTBOX_READ_ONLY_CHILD";

fn payload(n: usize) -> Payload {
    Payload::json(format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(3000)))
}

/// Runs `test` of this binary again, through `shell` (`sh -c shell exe
/// args...`) when given, with `env` naming `db`.
fn child(test: &str, env: &str, db: &TempDb, shell: Option<&[&str]>) -> std::io::Result<Output> {
    let exe = std::env::current_exe().unwrap();
    let args = [test, "--exact", "--nocapture", "--test-threads=1", "-q"];
    let mut command = match shell {
        Some(prefix) => {
            let mut c = Command::new(prefix[0]);
            c.args(&prefix[1..]).arg(&exe).args(args);
            c
        }
        None => {
            let mut c = Command::new(&exe);
            c.args(args);
            c
        }
    };
    command.env(env, db.path()).stdin(Stdio::null()).output()
}

fn text(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_full_file_refuses_pushes_with_disk_full_and_still_drains() {
    let db = TempDb::new("full");
    let limits = Limits::default();
    let accepted = {
        let outbox = SqliteOutbox::open_capped(db.path(), limits, 16).unwrap();
        let mut n = 0;
        let err = loop {
            match outbox.enqueue("t", "e", payload(n)) {
                Ok(_) => n += 1,
                Err(err) => break err,
            }
        };
        assert!(matches!(err, Error::DiskFull { .. }), "{err:?}");
        assert!(err.to_string().contains("the disk is full"), "{err}");
        n
    };
    assert!(accepted > 2, "{accepted}");
    // The next process opens the full file: drain-only.
    let outbox = SqliteOutbox::open_capped(db.path(), limits, 16).unwrap();
    let pending: Vec<_> = outbox.pending("t").collect();
    assert_eq!(pending.len(), accepted);
    let refused = outbox.enqueue("t", "e", payload(0)).unwrap_err();
    assert!(matches!(refused, Error::DiskFull { .. }), "{refused:?}");
    assert!(outbox.stats().disk_full, "drain-only shows in the status");
    for entry in &pending[..2] {
        assert!(outbox.mark_sent(entry.id));
        assert!(outbox.ack(entry.id));
    }
    outbox.flush().unwrap();
    // The deletes reached the file and freed room in it for a new push.
    outbox.enqueue("t", "e", payload(1)).unwrap();
    assert!(!outbox.stats().disk_full);
    outbox.close().unwrap();
    let reopened = SqliteOutbox::open(db.path(), limits).unwrap();
    assert_eq!(reopened.stats().entries, accepted - 1);
}

/// Child role: opens an outbox no file of which may grow by one byte.
#[test]
fn no_growth_child_role() {
    let Some(path) = std::env::var_os(NO_GROWTH_ENV) else { return };
    let outbox = SqliteOutbox::open(&path, Limits::default()).unwrap();
    let pending: Vec<_> = outbox.pending("t").collect();
    let refused = outbox.enqueue("t", "e", payload(9)).unwrap_err();
    for entry in &pending {
        assert!(outbox.mark_sent(entry.id) && outbox.ack(entry.id));
    }
    writeln!(std::io::stdout(), "OPENED {} REFUSED {refused}", pending.len()).unwrap();
}

#[test]
fn an_outbox_on_a_disk_where_nothing_can_grow_still_opens_and_drains() {
    let db = TempDb::new("no-growth");
    {
        let outbox = SqliteOutbox::open(db.path(), Limits::default()).unwrap();
        for n in 0..5 {
            outbox.enqueue("t", "e", payload(n)).unwrap();
        }
    }
    // SIGXFSZ ignored: a write past the limit fails with EFBIG instead.
    let shell = ["sh", "-c", "trap '' XFSZ; ulimit -f 0 && exec \"$0\" \"$@\""];
    let out =
        child("outbox::tests::storage::no_growth_child_role", NO_GROWTH_ENV, &db, Some(&shell))
            .unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("OPENED 5 REFUSED"), "{all}");
    // The acks could not be written: the pushes are sent again (at least once).
    assert_eq!(SqliteOutbox::open(db.path(), Limits::default()).unwrap().stats().entries, 5);
}

/// Child role: pushes 20 entries, one commit each, and exits without
/// closing the outbox: its write-ahead log stays behind, as after a crash.
#[test]
fn crash_child_role() {
    let Some(path) = std::env::var_os(CRASH_ENV) else { return };
    let outbox = SqliteOutbox::open(&path, Limits::default()).unwrap();
    for n in 0..20 {
        outbox.enqueue("t", "e", Payload::json(format!(r#"{{"n":{n}}}"#))).unwrap();
    }
    std::process::exit(0);
}

#[test]
fn a_write_ahead_log_damaged_after_a_crash_is_reported_not_replayed_short() {
    let db = TempDb::new("wal");
    let out = child("outbox::tests::storage::crash_child_role", CRASH_ENV, &db, None).unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let wal = format!("{}-wal", db.path().display());
    let mut bytes = std::fs::read(&wal).unwrap();
    let frame = 24 + 4096;
    assert!(bytes.len() > 32 + 10 * frame, "the log holds the 20 commits: {}", bytes.len());
    // Garbage inside the third frame; commits follow it.
    let at = 32 + 2 * frame + 100;
    bytes[at..at + 64].fill(0xab);
    std::fs::write(&wal, &bytes).unwrap();
    let err = SqliteOutbox::open(db.path(), Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("write-ahead log is damaged"), "{err}");
    // Nothing was replayed into the file or cut from the log.
    assert_eq!(std::fs::read(&wal).unwrap(), bytes);
}

#[test]
fn a_write_refused_as_read_only_says_read_only() {
    let db = TempDb::new("read-only-flag");
    SqliteOutbox::open(db.path(), Limits::default()).unwrap().close().unwrap();
    let conn = Connection::open_with_flags(db.path(), OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let err = conn.execute("DELETE FROM outbox", []).unwrap_err();
    let err = store_classify(db.path(), &err);
    assert!(matches!(err, Error::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("is read-only"), "{err}");
}

/// Child role: opens an outbox on a read-only bind mount.
#[test]
fn read_only_child_role() {
    let Some(path) = std::env::var_os(READ_ONLY_ENV) else { return };
    let err = SqliteOutbox::open(&path, Limits::default()).unwrap_err();
    writeln!(std::io::stdout(), "REFUSED {err:?} {err}").unwrap();
}

#[test]
fn an_outbox_on_a_read_only_file_system_says_read_only() {
    let db = TempDb::new("read-only-mount");
    SqliteOutbox::open(db.path(), Limits::default()).unwrap().close().unwrap();
    let dir = db.path().parent().unwrap().join(format!("rig-ro-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inside = TempDb::at(dir.join("outbox.db"));
    std::fs::copy(db.path(), inside.path()).unwrap();
    let script = format!(
        "mount --bind '{d}' '{d}' && mount -o remount,ro,bind '{d}' '{d}' \
         || {{ echo NO_MOUNT; exit 0; }}; exec \"$0\" \"$@\"",
        d = dir.display()
    );
    let shell = ["unshare", "-m", "sh", "-c", script.as_str()];
    let out =
        child("outbox::tests::storage::read_only_child_role", READ_ONLY_ENV, &inside, Some(&shell));
    drop(inside);
    let _ = std::fs::remove_dir(&dir);
    let Ok(out) = out else {
        eprintln!("skipped: no unshare here");
        return;
    };
    let all = text(&out);
    if !out.status.success() || all.contains("NO_MOUNT") {
        eprintln!("skipped: no private read-only mount here (needs root and unshare): {all}");
        return;
    }
    assert!(all.contains("REFUSED ReadOnly") && all.contains("mounted read-only"), "{all}");
}
