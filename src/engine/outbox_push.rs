//! Durable pushes on the caller's side: opening a socket's outbox and
//! writing a push to it before handing it to rig-io.
//!
//! Why a separate [`Channel::push_durable`](super::Channel::push_durable)
//! rather than a durable `push`: `push` keeps phoenix.js semantics (buffered
//! in memory, a timeout resolves it, never a disk write), and a durable push
//! has others (it returns an error when the outbox refuses it, it outlives
//! the process, a timeout sends it again instead of resolving it). Making the
//! same call change meaning with a socket option would surprise code written
//! for one and run with the other.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytestring::ByteString;

use super::command::Command;
use super::error::EngineError;
use super::ids::ChannelKey;
use super::io_outbox::OutboxShared;
use super::push::Push;
use super::socket::Socket;
use crate::outbox::Outbox;
use crate::protocol::Payload;

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

/// Writes a push to `socket`'s outbox (waiting for the disk), then tells
/// rig-io to send it when `channel` is joined.
pub(crate) fn push_durable(
    socket: &Socket,
    channel: ChannelKey,
    topic: &str,
    event: ByteString,
    payload: Payload,
) -> Result<Push, EngineError> {
    let Some(shared) = socket.inner.outbox.as_ref() else {
        return Err(EngineError::NoOutbox);
    };
    // Counted before the entry exists, so rig-io keeps an outcome that
    // beats the command below (see `OutboxShared::registering`).
    shared.registering.fetch_add(1, Ordering::SeqCst);
    let id = match shared.store.enqueue(topic, &event, payload) {
        Ok(id) => id,
        Err(error) => {
            shared.registering.fetch_sub(1, Ordering::SeqCst);
            return Err(error.into());
        }
    };
    let link = socket.link();
    let (push, sink) = Push::pair(link);
    link.send(Command::DurablePush { socket: link.socket, channel, id, push: sink })?;
    Ok(push.with_outbox_id(id))
}
