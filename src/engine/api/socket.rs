//! [`Socket`]: one Phoenix socket's handle (phoenix.js `Socket`).

use std::sync::Arc;

use crossbeam_channel::Receiver;

use super::channel::Channel;
use super::client::SocketLink;
use crate::engine::shared::channel::ChannelShared;
use crate::engine::shared::command::{Command, NewChannel};
use crate::engine::shared::error::EngineError;
use crate::engine::shared::failure::ConnectionError;
use crate::engine::shared::health::{SocketCounters, SocketHealth};
use crate::engine::shared::ids::ChannelKey;
use crate::engine::shared::status::{ChannelRef, ConnectionState, Status};
use crate::protocol::ChannelParams;

#[derive(Debug)]
pub(crate) struct SocketInner {
    pub(crate) link: SocketLink,
    pub(crate) counters: Arc<SocketCounters>,
    pub(crate) endpoint: String,
    /// The outbox of durable pushes, if the options gave one.
    pub(crate) outbox: Option<Arc<crate::engine::shared::outbox::OutboxShared>>,
    /// The socket's filter subscriptions (shared with rig-io and workers).
    pub(crate) filters: Arc<crate::engine::shared::filter_set::SocketFilters>,
}

impl Drop for SocketInner {
    fn drop(&mut self) {
        // The last handle is gone: close and remove the socket.
        let _ = self.link.send(Command::RemoveSocket(self.link.socket));
    }
}

/// One Phoenix socket (phoenix.js `Socket`): a WebSocket, its heartbeat,
/// its reconnects and its channels. Cheap to clone; the socket is closed
/// and removed when the last clone (and the last of its channels) is
/// dropped.
///
/// # Examples
///
/// ```
/// use rig::engine::{Engine, SocketOptions};
/// use rig::protocol::Payload;
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
///
/// let engine = Engine::start(Default::default())?;
/// let socket = engine.socket(SocketOptions::builder(server.url()).build()?)?;
/// socket.connect()?;
/// let room = socket.channel("room:lobby", Payload::empty())?;
/// assert!(room.join().wait()?.is_ok());
/// assert!(socket.is_connected());
/// socket.disconnect()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Socket {
    pub(crate) inner: Arc<SocketInner>,
}

impl Socket {
    pub(crate) fn link(&self) -> &SocketLink {
        &self.inner.link
    }

    fn send(&self, command: Command) -> Result<(), EngineError> {
        self.inner.link.send(command)
    }

    /// Connects (idempotent). Params and token are evaluated on every
    /// connect and reconnect; channels (re)join once open.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Socket`].
    pub fn connect(&self) -> Result<(), EngineError> {
        self.send(Command::Connect(self.inner.link.socket))
    }

    /// Closes the connection with 1000; no reconnect until [`connect`](Self::connect).
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Socket`].
    pub fn disconnect(&self) -> Result<(), EngineError> {
        self.disconnect_with(crate::protocol::CLOSE_NORMAL, "")
    }

    /// Closes the connection with `code` and `reason`; no reconnect.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// socket.disconnect_with(4000, "going away")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn disconnect_with(&self, code: u16, reason: impl Into<String>) -> Result<(), EngineError> {
        let reason = reason.into();
        self.send(Command::Disconnect { socket: self.inner.link.socket, code, reason })
    }

    /// Connects now with a fresh backoff, abandoning a waiting reconnect (or
    /// a Retry-After, or an auth failure). Does nothing while open.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// socket.reconnect_now()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reconnect_now(&self) -> Result<(), EngineError> {
        self.send(Command::ReconnectNow(self.inner.link.socket))
    }

    /// A channel for `topic` with join `params` (a [`Payload`](crate::protocol::Payload),
    /// or [`ChannelParams::dynamic`] to compute them on every join attempt).
    /// Nothing is sent until [`Channel::join`].
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Socket`].
    pub fn channel(
        &self,
        topic: impl Into<bytestring::ByteString>,
        params: impl Into<ChannelParams>,
    ) -> Result<Channel, EngineError> {
        let params = match params.into() {
            ChannelParams::Dynamic(mut f) => ChannelParams::dynamic(move || {
                crate::engine::shared::guard::call_or(
                    "channel params",
                    crate::protocol::Payload::empty,
                    &mut f,
                )
            }),
            fixed => fixed,
        };
        let topic = topic.into();
        let key = ChannelKey(self.inner.link.engine.keys.next());
        let shared = Arc::new(ChannelShared::new());
        let new = NewChannel {
            socket: self.inner.link.socket,
            key,
            topic: topic.clone(),
            params,
            shared: Arc::clone(&shared),
        };
        self.send(Command::AddChannel(Box::new(new)))?;
        Ok(Channel::new(self.clone(), key, ChannelRef::new(key.0, topic), shared))
    }

    /// A new status stream: every [`Status`] from now on, in order. Ask for
    /// it before `connect` to see the whole story. A stream that falls
    /// `status_capacity` entries behind loses entries (counted in the health).
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Engine`](crate::engine::Engine).
    pub fn status(&self) -> Result<Receiver<Status>, EngineError> {
        let (sender, rx) =
            crate::engine::shared::queue::bounded(self.inner.link.engine.config.status_capacity);
        self.send(Command::WatchStatus { socket: self.inner.link.socket, sender })?;
        Ok(rx)
    }

    /// Sends a heartbeat now; its round trip arrives on the receiver (and
    /// in [`SocketHealth::heartbeat_rtt`]). The receiver disconnects
    /// without a value if the socket is not open or closes first
    /// (phoenix.js `ping`).
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # let status = socket.status()?;
    /// socket.connect()?;
    /// # while status.recv_timeout(Duration::from_secs(5))? != rig::engine::Status::Open {}
    /// let rtt = socket.ping()?.recv_timeout(Duration::from_secs(5))?;
    /// assert_eq!(socket.health().heartbeat_rtt, Some(rtt));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ping(&self) -> Result<Receiver<std::time::Duration>, EngineError> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.send(Command::Ping { socket: self.inner.link.socket, reply })?;
        Ok(rx)
    }

    /// The socket's health, read without locks.
    ///
    /// # Examples
    ///
    /// See [`SocketHealth`].
    #[must_use]
    pub fn health(&self) -> SocketHealth {
        let mut health = self.inner.counters.snapshot();
        if let Some(outbox) = &self.inner.outbox {
            let stats = outbox.store.stats();
            health.outbox_depth = stats.entries as u64;
            health.outbox_in_flight = stats.in_flight as u64;
            health.outbox_acked = stats.acked;
            health.outbox_requeued = stats.nacked;
        }
        health
    }

    /// The last connection failure, with its text.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// assert_eq!(socket.last_error(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn last_error(&self) -> Option<ConnectionError> {
        self.inner.counters.last_error()
    }

    /// Where the connection stands.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// assert_eq!(socket.state(), rig::engine::ConnectionState::Idle);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn state(&self) -> ConnectionState {
        self.inner.counters.state()
    }

    /// Whether the WebSocket is open.
    ///
    /// # Examples
    ///
    /// See [`Socket`].
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.state() == ConnectionState::Open
    }

    /// The endpoint, as configured.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// assert_eq!(socket.endpoint(), "ws://127.0.0.1:9/socket");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The socket's outbox, if its options gave one
    /// ([`SocketOptionsBuilder::outbox`](crate::engine::SocketOptionsBuilder::outbox)):
    /// e.g. to [`flush`](crate::outbox::Outbox::flush) it or read its
    /// [`stats`](crate::outbox::Outbox::stats).
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// assert!(socket.outbox().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn outbox(&self) -> Option<&Arc<dyn crate::outbox::Outbox>> {
        self.inner.outbox.as_ref().map(|shared| &shared.store)
    }

    /// The topics with durable pushes waiting in the outbox, ordered by
    /// their oldest entry (empty without an outbox).
    ///
    /// Entries are sent only through a joined channel of their topic; the
    /// engine creates no channel by itself (a join may need params only the
    /// application knows). After a restart, create and join a channel for
    /// each topic listed here to deliver what an earlier run left; until
    /// then those entries stay on disk.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rig::engine::SocketOptions;
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// use rig::protocol::Payload;
    ///
    /// let store = Arc::new(MemoryOutbox::new(Limits::default()));
    /// store.enqueue("room:left-over", "msg", Payload::json("{}"))?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// let options = SocketOptions::builder("ws://127.0.0.1:9/socket").outbox_with(store).build()?;
    /// let socket = engine.socket(options)?;
    /// assert_eq!(socket.outbox_topics(), ["room:left-over"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn outbox_topics(&self) -> Vec<String> {
        self.inner.outbox.as_ref().map(|shared| shared.store.topics()).unwrap_or_default()
    }
}
