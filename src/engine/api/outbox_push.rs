//! Durable pushes on the caller's side: writing a push to the socket's
//! outbox before handing it to rig-io (the outbox itself is opened from
//! `shared::outbox`).
//!
//! Why a separate [`Channel::push_durable`](crate::engine::Channel::push_durable)
//! rather than a durable `push`: `push` keeps phoenix.js semantics (buffered
//! in memory, a timeout resolves it, never a disk write), and a durable push
//! has others (it returns an error when the outbox refuses it, it outlives
//! the process, a timeout sends it again instead of resolving it). Making the
//! same call change meaning with a socket option would surprise code written
//! for one and run with the other.

use std::sync::atomic::Ordering;

use bytestring::ByteString;

use super::push::Push;
use super::socket::Socket;
use crate::engine::shared::command::Command;
use crate::engine::shared::error::EngineError;
use crate::engine::shared::ids::ChannelKey;
use crate::protocol::Payload;

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

impl crate::engine::Channel {
    /// Pushes `event` with `payload` through the socket's outbox: returns
    /// once the push is stored (on disk for a SQLite outbox, waiting on this
    /// thread, never on rig-io), then sends it whenever the channel is
    /// joined until the server answers. A JSON object payload carries the
    /// entry's id as `_rig_id` for the server's dedup. The handle resolves
    /// with the server's reply (`ok` or `error`); a timeout or a lost
    /// connection sends the push again instead, so wait with
    /// [`Push::wait_timeout`]. The rules, and why this is not
    /// [`push`](Self::push): [durable pushes](crate::engine#durable-pushes).
    ///
    /// # Errors
    ///
    /// [`EngineError::NoOutbox`] if the socket has none;
    /// [`EngineError::Outbox`] when the outbox refuses the push (full: the
    /// payload is handed back; a binary reply or a `_rig_id` key; a write
    /// error), in which case nothing was stored; [`EngineError::Stopped`]
    /// if the engine stopped after the push was stored (it is sent by the
    /// next engine on this outbox).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rig::engine::{Engine, SocketOptions};
    /// use rig::outbox::{Limits, MemoryOutbox};
    /// use rig::protocol::Payload;
    /// use rig::server::{Server, ServerConfig};
    ///
    /// let server = Server::start(ServerConfig::builder().build())?;
    /// let engine = Engine::start(Default::default())?;
    /// let store = Arc::new(MemoryOutbox::new(Limits::default()));
    /// let socket = engine.socket(SocketOptions::builder(server.url()).outbox_with(store).build()?)?;
    /// let inbox = socket.channel("inbox:1", Payload::empty())?;
    /// // Offline: stored now, sent once the channel is joined.
    /// let mut push = inbox.push_durable("note", Payload::json(r#"{"text":"hi"}"#))?;
    /// socket.connect()?;
    /// inbox.join().wait()?;
    /// let reply = push.wait_timeout(std::time::Duration::from_secs(10)).expect("in time")?;
    /// assert_eq!(reply.response.as_json(), Some(r#"{"dup":false}"#));
    /// assert_eq!(server.push_log().recorded(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_durable(
        &self,
        event: impl Into<ByteString>,
        payload: Payload,
    ) -> Result<Push, EngineError> {
        push_durable(self.socket(), self.key(), self.topic(), event.into(), payload)
    }
}
