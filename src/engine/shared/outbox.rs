//! A socket's outbox as its handles and rig-io share it, and where it
//! comes from (a SQLite path or a store the user opened).

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use crate::engine::shared::error::EngineError;
use crate::outbox::Outbox;

/// A socket's outbox, shared by its handles (which enqueue) and rig-io.
#[derive(Debug)]
pub(crate) struct OutboxShared {
    pub(crate) store: Arc<dyn Outbox>,
    /// Durable pushes between `enqueue` and rig-io filing their waiter: while
    /// any is, rig-io keeps the outcome of an entry without a waiter (its
    /// reply may beat the `DurablePush` command).
    pub(crate) registering: AtomicUsize,
}

impl OutboxShared {
    pub(crate) fn new(store: Arc<dyn Outbox>) -> Arc<Self> {
        Arc::new(Self { store, registering: AtomicUsize::new(0) })
    }
}

/// Where a socket's outbox comes from.
#[derive(Debug)]
pub(crate) enum OutboxSource {
    /// A SQLite file opened with default limits when the socket is added.
    #[cfg(feature = "outbox")]
    Path(std::path::PathBuf),
    /// A store the user opened.
    Store(Arc<dyn Outbox>),
}

impl OutboxSource {
    /// Opens the store (on the caller's thread, in `Engine::socket`).
    pub(crate) fn open(self) -> Result<Arc<OutboxShared>, EngineError> {
        let store: Arc<dyn Outbox> = match self {
            #[cfg(feature = "outbox")]
            Self::Path(path) => {
                let limits = crate::outbox::Limits::default();
                Arc::new(crate::outbox::SqliteOutbox::open(&path, limits)?)
            }
            Self::Store(store) => store,
        };
        Ok(OutboxShared::new(store))
    }
}
