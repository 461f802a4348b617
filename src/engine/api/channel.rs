//! [`Channel`]: phoenix.js `Channel` as a plain Rust handle.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use bytestring::ByteString;

use super::push::Push;
use super::socket::Socket;
use super::subscription::{Binding, Subscription};
use crate::engine::shared::channel::ChannelShared;
use crate::engine::shared::command::{Command, EventFilter, NewPush, Sink};
use crate::engine::shared::config::Overflow;
use crate::engine::shared::error::EngineError;
use crate::engine::shared::ids::{ChannelKey, SubKey};
use crate::engine::shared::push_result::PushError;
use crate::engine::shared::status::ChannelRef;
use crate::protocol::{ChannelState, Message, Payload};

/// A channel of a [`Socket`]: join it, push on it, listen to it.
///
/// Pushes made before the join completes are buffered and sent once it
/// does; after a reconnect the channel rejoins by itself. Messages reach
/// subscriptions ([`subscribe`](Self::subscribe), a bounded receiver) and
/// callbacks ([`on`](Self::on), run on the dispatcher worker of the
/// channel's topic, never on the I/O thread).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::engine::{Engine, SocketOptions};
/// use rig::protocol::{ChannelState, Payload};
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
///
/// let engine = Engine::start(Default::default())?;
/// let socket = engine.socket(SocketOptions::builder(server.url()).build()?)?;
/// socket.connect()?;
/// let room = socket.channel("room:lobby", Payload::empty())?;
/// let (tx, pushed) = crossbeam_channel::bounded(8);
/// room.on("pushed", move |message| {
///     let _ = tx.send(message.payload.as_json().map(str::to_owned));
/// })?;
/// room.join().wait()?;
/// assert_eq!(room.state(), ChannelState::Joined);
/// room.push("push_me", Payload::json(r#"{"x":1}"#)).wait()?;
/// assert_eq!(pushed.recv_timeout(Duration::from_secs(5))?.as_deref(), Some(r#"{"x":1}"#));
/// room.leave().wait()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Channel {
    socket: Socket,
    key: ChannelKey,
    reference: ChannelRef,
    shared: Arc<ChannelShared>,
}

impl Channel {
    pub(crate) fn new(
        socket: Socket,
        key: ChannelKey,
        reference: ChannelRef,
        shared: Arc<ChannelShared>,
    ) -> Self {
        Self { socket, key, reference, shared }
    }

    /// The topic.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// assert_eq!(room.topic(), "room:a");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn topic(&self) -> &str {
        self.reference.topic_string()
    }

    /// How [`Status::Channel`](crate::engine::Status::Channel) entries name this channel.
    ///
    /// # Examples
    ///
    /// See [`ChannelRef`].
    #[must_use]
    pub fn channel_ref(&self) -> &ChannelRef {
        &self.reference
    }

    /// The state, as the I/O thread last published it.
    ///
    /// # Examples
    ///
    /// See [`Channel`].
    #[must_use]
    pub fn state(&self) -> ChannelState {
        self.shared.state()
    }

    /// The socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// assert_eq!(room.socket().endpoint(), "ws://127.0.0.1:9/socket");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// Joins (once per channel; rejoins are automatic) with the socket's
    /// push timeout. The outcome is the first join attempt's reply.
    ///
    /// # Examples
    ///
    /// See [`Channel`].
    pub fn join(&self) -> Push {
        self.join_inner(None)
    }

    /// Joins with `timeout` for the join and later pushes.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # socket.connect()?;
    /// let room = socket.channel("room:forbidden", rig::protocol::Payload::empty())?;
    /// let refused = room.join_timeout(std::time::Duration::from_secs(5)).wait().unwrap_err();
    /// let reply = refused.reply().expect("an error reply");
    /// assert_eq!(&*reply.status, "error");
    /// assert_eq!(reply.response.as_json(), Some(r#"{"reason":"unauthorized"}"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join_timeout(&self, timeout: Duration) -> Push {
        self.join_inner(Some(timeout))
    }

    fn join_inner(&self, timeout: Option<Duration>) -> Push {
        let link = self.socket.link();
        let (push, sink) = Push::pair(link);
        let command = Command::Join { socket: link.socket, channel: self.key, timeout, push: sink };
        sent(push, link.send(command))
    }

    /// Leaves the channel; it closes when the server answers (or the
    /// leave times out).
    ///
    /// # Examples
    ///
    /// See [`Channel`].
    pub fn leave(&self) -> Push {
        self.leave_inner(None)
    }

    /// Leaves with `timeout` for the server's answer.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// // Never joined: closes at once with a local ok.
    /// assert!(room.leave_timeout(std::time::Duration::from_secs(1)).wait()?.is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn leave_timeout(&self, timeout: Duration) -> Push {
        self.leave_inner(Some(timeout))
    }

    fn leave_inner(&self, timeout: Option<Duration>) -> Push {
        let link = self.socket.link();
        let (push, sink) = Push::pair(link);
        let command =
            Command::Leave { socket: link.socket, channel: self.key, timeout, push: sink };
        sent(push, link.send(command))
    }

    /// Pushes `event` with `payload` (JSON text, or binary bytes for a
    /// binary frame). Sent at once when joined, else buffered until the
    /// join succeeds; times out after the socket's push timeout.
    ///
    /// # Examples
    ///
    /// See [`Channel`].
    pub fn push(&self, event: impl Into<ByteString>, payload: Payload) -> Push {
        self.push_inner(event.into(), payload, None)
    }

    /// Pushes with its own timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::engine::PushError;
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # socket.connect()?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// room.join().wait()?;
    /// // `noreply` is never answered.
    /// let outcome = room.push_timeout("noreply", rig::protocol::Payload::empty(), Duration::from_millis(50)).wait();
    /// assert_eq!(outcome, Err(PushError::Timeout));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push_timeout(
        &self,
        event: impl Into<ByteString>,
        payload: Payload,
        timeout: Duration,
    ) -> Push {
        self.push_inner(event.into(), payload, Some(timeout))
    }

    fn push_inner(&self, event: ByteString, payload: Payload, timeout: Option<Duration>) -> Push {
        let link = self.socket.link();
        let (push, sink) = Push::pair(link);
        let command = Command::Push(Box::new(NewPush {
            socket: link.socket,
            channel: self.key,
            event,
            payload,
            timeout,
            push: sink,
        }));
        sent(push, link.send(command))
    }

    /// Calls `handler` with every message whose event is `event`, on the
    /// dispatcher worker that owns this channel's topic (in order; a panic
    /// is caught and counted).
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Channel`].
    pub fn on(
        &self,
        event: impl Into<ByteString>,
        handler: impl FnMut(&Message) + Send + 'static,
    ) -> Result<Binding, EngineError> {
        self.bind(EventFilter::Event(event.into()), self.default_overflow(), handler)
    }

    /// Calls `handler` with every message of the channel.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let binding = room.on_all(|message| println!("{message:?}"))?;
    /// room.off(binding)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_all(
        &self,
        handler: impl FnMut(&Message) + Send + 'static,
    ) -> Result<Binding, EngineError> {
        self.bind(EventFilter::All, self.default_overflow(), handler)
    }

    pub(crate) fn bind(
        &self,
        filter: EventFilter,
        overflow: Overflow,
        handler: impl FnMut(&Message) + Send + 'static,
    ) -> Result<Binding, EngineError> {
        let link = self.socket.link();
        let sub = SubKey(link.engine.keys.next());
        let sink = Sink::Handler(Box::new(handler));
        link.send(Command::Subscribe {
            socket: link.socket,
            channel: self.key,
            sub,
            filter,
            sink,
            overflow,
        })?;
        Ok(Binding(sub))
    }

    /// Removes a callback.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Binding`].
    pub fn off(&self, binding: Binding) -> Result<(), EngineError> {
        let link = self.socket.link();
        link.send(Command::Unsubscribe { socket: link.socket, channel: self.key, sub: binding.0 })
    }

    /// A bounded queue of the messages whose event is `event`.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Subscription`].
    pub fn subscribe(&self, event: impl Into<ByteString>) -> Result<Subscription, EngineError> {
        self.subscribe_filter(EventFilter::Event(event.into()), self.default_overflow())
    }

    /// A bounded queue of every message of the channel.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Subscription::try_recv`].
    pub fn subscribe_all(&self) -> Result<Subscription, EngineError> {
        self.subscribe_filter(EventFilter::All, self.default_overflow())
    }

    pub(crate) fn subscribe_filter(
        &self,
        filter: EventFilter,
        overflow: Overflow,
    ) -> Result<Subscription, EngineError> {
        let link = self.socket.link();
        let config = &link.engine.config;
        let (tx, rx) = crate::engine::shared::queue::bounded(config.subscription_capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let own_rx = (overflow == Overflow::DropOldest).then(|| rx.clone());
        let sub = SubKey(link.engine.keys.next());
        let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sink = Sink::Queue {
            tx,
            rx: own_rx,
            dropped: Arc::clone(&dropped),
            stalled: Arc::clone(&stalled),
        };
        link.send(Command::Subscribe {
            socket: link.socket,
            channel: self.key,
            sub,
            filter,
            sink,
            overflow,
        })?;
        Ok(Subscription { rx, dropped, stalled, link: link.clone(), channel: self.key, key: sub })
    }

    /// Removes the channel from the socket without telling the server
    /// (phoenix.js `socket.remove(channel)`); its pending pushes are
    /// abandoned and its subscriptions end.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// room.remove()?;
    /// assert_eq!(room.join().wait(), Err(rig::engine::PushError::ChannelGone));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn remove(&self) -> Result<(), EngineError> {
        let link = self.socket.link();
        link.send(Command::RemoveChannel { socket: link.socket, channel: self.key })
    }

    /// What rig-io publishes about this channel (state, join attempts).
    pub(crate) fn shared(&self) -> &Arc<ChannelShared> {
        &self.shared
    }

    /// The channel's key in its socket's table on rig-io.
    pub(crate) fn key(&self) -> ChannelKey {
        self.key
    }
}

/// The push handle, or one already failed if the command could not go.
fn sent(push: Push, result: Result<(), EngineError>) -> Push {
    match result {
        Ok(()) => push,
        Err(_) => Push::resolved(Err(PushError::EngineStopped)),
    }
}
