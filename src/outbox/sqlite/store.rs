//! The database file: opening with the right settings, the schema, loading
//! the entries back, and mapping SQLite's errors to the outbox's.

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OptionalExtension as _, params};

use crate::outbox::{Entry, Error, OutboxId};
use crate::protocol::Payload;

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// Payload kinds in the `kind` column.
const KIND_JSON: i64 = 0;
const KIND_BINARY: i64 = 1;

/// Maps a SQLite error on `path` to the outbox's error.
pub(super) fn classify(path: &Path, err: &rusqlite::Error) -> Error {
    let path = path.to_owned();
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            Error::Corrupt { path, detail: err.to_string() }
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Locked { path },
        Some(ErrorCode::DiskFull) => Error::DiskFull { path },
        Some(ErrorCode::ReadOnly) => {
            let detail = read_only_reason(&path).unwrap_or_else(|| err.to_string());
            Error::ReadOnly { path, detail }
        }
        // On a read-only file system SQLite cannot create the `-wal` file
        // and says only "disk I/O error" or "unable to open": ask the OS.
        Some(ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) => match read_only_reason(&path) {
            Some(detail) => Error::ReadOnly { path, detail },
            None => Error::Database { path, detail: err.to_string() },
        },
        _ => Error::Database { path, detail: err.to_string() },
    }
}

/// Why `path` cannot be written, if it cannot: opened for writing (not
/// created, not truncated, nothing written), the OS says why.
fn read_only_reason(path: &Path) -> Option<String> {
    let target = if path.exists() { path } else { path.parent()? };
    let probe = if target.is_dir() {
        // A directory cannot be opened for writing: its metadata must do.
        std::fs::metadata(target)
            .ok()
            .filter(|m| m.permissions().readonly())
            .map(|_| std::io::Error::from(std::io::ErrorKind::PermissionDenied))
    } else {
        std::fs::OpenOptions::new().write(true).open(target).err()
    };
    match probe?.kind() {
        std::io::ErrorKind::ReadOnlyFilesystem => {
            Some(format!("the file system holding {} is mounted read-only", target.display()))
        }
        std::io::ErrorKind::PermissionDenied => {
            Some(format!("this process may not write {}", target.display()))
        }
        _ => None,
    }
}

/// Opens (or creates) the outbox file and loads its entries in order.
///
/// The connection holds the file exclusively (`locking_mode=EXCLUSIVE`, no
/// wait on a busy lock), so a second owner gets [`Error::Locked`] at once
/// instead of two processes replaying the same entries.
///
/// Opening an existing outbox writes nothing (the journal mode and schema
/// version are only set when they differ), so it works on a full disk: the
/// stored pushes can drain. The write-ahead log is checked before SQLite
/// replays it ([`wal`](super::wal)): damage that would drop committed
/// pushes is [`Error::Corrupt`], and the files are left as they were.
pub(super) fn open(path: &Path) -> Result<(Connection, Vec<Entry>), Error> {
    open_capped(path, None)
}

/// [`open`], with SQLite's `max_page_count` set to `max_pages` when given:
/// a file that cannot grow past it, as on a full disk.
pub(super) fn open_capped(
    path: &Path,
    max_pages: Option<u32>,
) -> Result<(Connection, Vec<Entry>), Error> {
    let fail = |e: rusqlite::Error| classify(path, &e);
    let conn = Connection::open(path).map_err(fail)?;
    conn.busy_timeout(Duration::ZERO).map_err(fail)?;
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(fail)?;
    if let Some(pages) = max_pages {
        conn.pragma_update(None, "max_page_count", pages).map_err(fail)?;
    }
    let mode: String =
        conn.pragma_query_value(None, "journal_mode", |row| row.get(0)).map_err(fail)?;
    if !mode.eq_ignore_ascii_case("wal") {
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(fail)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Database {
                path: path.to_owned(),
                detail: format!("cannot use the WAL journal (got journal_mode {mode})"),
            });
        }
    }
    conn.pragma_update(None, "synchronous", "FULL").map_err(fail)?;
    // Take the write lock now (and keep it: exclusive mode) and check the
    // file before anything is replayed from it. The lock comes before the
    // log is read, so no other owner is appending to it; SQLite's own
    // recovery only reads the log, and nothing is written before the check.
    conn.execute_batch("BEGIN IMMEDIATE").map_err(fail)?;
    let mut wal_path = path.as_os_str().to_owned();
    wal_path.push("-wal");
    let checked = super::wal::check(Path::new(&wal_path))
        .map_err(|detail| Error::Corrupt { path: path.to_owned(), detail });
    let setup = checked.and_then(|()| check_and_create(path, &conn));
    let entries = setup.and_then(|()| load(path, &conn));
    match entries {
        Ok(entries) => {
            conn.execute_batch("COMMIT").map_err(fail)?;
            Ok((conn, entries))
        }
        Err(err) => {
            // The transaction only read or created an empty table: nothing
            // to lose by rolling it back; the first error is the one to tell.
            let _rollback = conn.execute_batch("ROLLBACK");
            // Closing would checkpoint the log's valid part into the file
            // and delete the log: the damaged frames and those behind them
            // are the evidence (and the pushes), so both stay as they are.
            let kept = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
            if let Err(e) = kept {
                log::error!("outbox {}: the log may be checkpointed on close: {e}", path.display());
            }
            Err(err)
        }
    }
}

fn check_and_create(path: &Path, conn: &Connection) -> Result<(), Error> {
    let fail = |e: rusqlite::Error| classify(path, &e);
    let check: String =
        conn.query_row("PRAGMA quick_check(1)", [], |row| row.get(0)).map_err(fail)?;
    if check != "ok" {
        return Err(Error::Corrupt { path: path.to_owned(), detail: check });
    }
    let version: i64 =
        conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(fail)?;
    if version > SCHEMA_VERSION {
        return Err(Error::Schema { path: path.to_owned(), found: version, known: SCHEMA_VERSION });
    }
    let foreign: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_schema WHERE name <> 'outbox' AND name NOT LIKE 'sqlite_%' LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(fail)?;
    if let Some(name) = foreign.filter(|_| version == 0) {
        // A database of something else: never write our table into it.
        return Err(Error::Corrupt {
            path: path.to_owned(),
            detail: format!("not an outbox database (holds {name:?})"),
        });
    }
    if version == SCHEMA_VERSION {
        // Nothing to create or stamp: an existing outbox opens read-only
        // as far as the disk is concerned (it may be full).
        return Ok(());
    }
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS outbox (
             seq     INTEGER PRIMARY KEY,
             stamp   INTEGER NOT NULL,
             topic   TEXT    NOT NULL,
             event   TEXT    NOT NULL,
             kind    INTEGER NOT NULL,
             payload BLOB    NOT NULL,
             tagged  INTEGER NOT NULL
         );",
    )
    .map_err(fail)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(fail)
}

fn load(path: &Path, conn: &Connection) -> Result<Vec<Entry>, Error> {
    let fail = |e: rusqlite::Error| classify(path, &e);
    let mut stmt = conn
        .prepare("SELECT seq, stamp, topic, event, kind, payload, tagged FROM outbox ORDER BY seq")
        .map_err(fail)?;
    let mut rows = stmt.query([]).map_err(fail)?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next().map_err(fail)? {
        let seq: i64 = row.get(0).map_err(fail)?;
        let stamp: i64 = row.get(1).map_err(fail)?;
        let kind: i64 = row.get(4).map_err(fail)?;
        let bytes: Vec<u8> = row.get(5).map_err(fail)?;
        let payload = match kind {
            KIND_JSON => Payload::json(String::from_utf8(bytes).map_err(|_| Error::Corrupt {
                path: path.to_owned(),
                detail: format!("entry {seq}: JSON payload is not UTF-8"),
            })?),
            KIND_BINARY => Payload::binary(bytes),
            other => {
                return Err(Error::Corrupt {
                    path: path.to_owned(),
                    detail: format!("entry {seq}: unknown payload kind {other}"),
                });
            }
        };
        entries.push(Entry {
            // Stored as the same 64 bits, signed: the casts round-trip.
            id: OutboxId::from_parts(stamp as u64, seq as u64),
            topic: row.get(2).map_err(fail)?,
            event: row.get(3).map_err(fail)?,
            payload,
            tagged: row.get(6).map_err(fail)?,
            attempts: 0,
        });
    }
    Ok(entries)
}

/// Writes one entry (inside the writer's transaction).
pub(super) fn insert(conn: &Connection, entry: &Entry) -> rusqlite::Result<()> {
    let (kind, bytes): (i64, &[u8]) = match &entry.payload {
        Payload::Json(text) => (KIND_JSON, text.as_bytes()),
        Payload::Binary(bytes) => (KIND_BINARY, bytes),
        // Refused by `tag` before an entry exists; stored as binary if ever.
        Payload::BinaryReply { response, .. } => (KIND_BINARY, response),
    };
    let mut stmt = conn.prepare_cached(
        "INSERT INTO outbox (seq, stamp, topic, event, kind, payload, tagged) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    stmt.execute(params![
        entry.id.seq() as i64,
        entry.id.stamp() as i64,
        entry.topic,
        entry.event,
        kind,
        bytes,
        entry.tagged
    ])?;
    Ok(())
}

/// Deletes one entry by sequence number (inside the writer's transaction).
pub(super) fn delete(conn: &Connection, seq: u64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?.execute([seq as i64])?;
    Ok(())
}
