//! A database path in the temp directory, removed (with its WAL) on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

pub(crate) struct TempDb {
    path: PathBuf,
}

impl TempDb {
    pub(crate) fn new(name: &str) -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join(format!("rig-outbox-test-{}-{name}-{n}.db", std::process::id()));
        let db = Self { path };
        db.remove();
        db
    }

    /// A database at `path`, removed (with its WAL) on drop.
    pub(crate) fn at(path: PathBuf) -> Self {
        let db = Self { path };
        db.remove();
        db
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}
