//! Lifecycle callbacks, as phoenix.js has them: `socket.onOpen`, `onError`,
//! `onClose` and channel `onError` / `onClose`, plus `on_reconnecting` (a
//! reconnect is scheduled) and `on_status` (every entry). Each runs on the
//! dispatcher pool (worker 0, in the order things happened), never on
//! rig-io; a panic is caught and counted. They see what happens after the
//! call; the [`status`](Socket::status) receiver stays for code that
//! prefers to pull.
//!
//! | phoenix.js | rig |
//! |---|---|
//! | `socket.onOpen(f)` | [`Socket::on_open`] |
//! | `socket.onError(f)` | [`Socket::on_error`] (also a refused token) |
//! | `socket.onClose(f)` | [`Socket::on_close`] (code and reason) |
//! | (none) | [`Socket::on_reconnecting`] |
//! | `channel.onError(f)` | [`Channel::on_error`] |
//! | `channel.onClose(f)` | [`Channel::on_close`] |
//!
//! A socket's callbacks live as long as the socket, a channel's until it
//! closes, or until [`Socket::off`] is given the [`CallbackRef`] their
//! registration returned (phoenix.js `socket.off(refs)`). They take `Fn`,
//! so keep state behind an atomic or a lock.

use std::sync::Arc;

use super::channel::Channel;
use super::socket::Socket;
use crate::engine::shared::callback::StatusHandler;
use crate::engine::shared::command::Command;
use crate::engine::shared::error::EngineError;
use crate::engine::shared::failure::{ConnectionError, ErrorKind};
use crate::engine::shared::status::{ChannelChange, ChannelRef, Status};
use crate::protocol::{CloseReason, ErrorCause};
use crate::time::Instant;

/// What a lifecycle callback's registration returns, to remove it with
/// [`Socket::off`] (phoenix.js's `onOpen` and the like return a ref for
/// `socket.off`).
///
/// # Examples
///
/// ```
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
/// # let engine = rig::engine::Engine::start(Default::default())?;
/// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
/// use std::time::Duration;
/// let (tx, rx) = crossbeam_channel::unbounded();
/// let (once, always) = (tx.clone(), tx);
/// let first = socket.on_open(move || { let _ = once.send("first"); })?;
/// socket.on_open(move || { let _ = always.send("second"); })?;
/// socket.connect()?;
/// assert_eq!(rx.recv_timeout(Duration::from_secs(5))?, "first");
/// assert_eq!(rx.recv_timeout(Duration::from_secs(5))?, "second");
/// socket.off(first)?;
/// # let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
/// # room.join().wait()?;
/// socket.disconnect()?;
/// socket.connect()?;
/// // The callbacks run in order: "first" would have come before "second".
/// assert_eq!(rx.recv_timeout(Duration::from_secs(5))?, "second");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallbackRef(u64);

impl Socket {
    /// Calls `callback` with every status entry of this socket (what
    /// [`status`](Self::status) would receive), on the dispatcher pool.
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
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// socket.on_status(move |status| { let _ = tx.send(status.to_string()); })?;
    /// socket.connect()?;
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5))?, "connecting");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_status(
        &self,
        callback: impl Fn(&Status) + Send + Sync + 'static,
    ) -> Result<CallbackRef, EngineError> {
        self.on_status_of(None, Arc::new(callback))
    }

    /// Registers a lifecycle callback, for one channel or the socket.
    fn on_status_of(
        &self,
        scope: Option<ChannelRef>,
        handler: StatusHandler,
    ) -> Result<CallbackRef, EngineError> {
        let link = self.link();
        let id = link.engine.keys.next();
        link.send(Command::OnStatus { socket: link.socket, id, scope, handler })?;
        Ok(CallbackRef(id))
    }

    /// Removes a lifecycle callback of this socket or of one of its
    /// channels (phoenix.js `socket.off(refs)`); entries already handed to
    /// the pool may still reach it. A ref that is gone is ignored.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`CallbackRef`].
    pub fn off(&self, callback: CallbackRef) -> Result<(), EngineError> {
        let link = self.link();
        link.send(Command::OffStatus { socket: link.socket, id: callback.0 })
    }

    /// Calls `callback` each time the WebSocket opens (phoenix.js
    /// `socket.onOpen`), reconnects included.
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
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// socket.on_open(move || { let _ = tx.send("open"); })?;
    /// socket.connect()?;
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5))?, "open");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_open(
        &self,
        callback: impl Fn() + Send + Sync + 'static,
    ) -> Result<CallbackRef, EngineError> {
        self.on_status(move |status| {
            if *status == Status::Open {
                callback();
            }
        })
    }

    /// Calls `callback` when a connect attempt or an open connection fails
    /// (phoenix.js `socket.onError`), a refused token included
    /// ([`ErrorKind::Auth`]).
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// let closed_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    /// let url = format!("ws://{closed_port}/socket");
    /// let socket = engine.socket(rig::engine::SocketOptions::builder(url).build()?)?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// socket.on_error(move |error| { let _ = tx.send(error.kind()); })?;
    /// socket.connect()?;
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5))?, rig::engine::ErrorKind::Connect);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_error(
        &self,
        callback: impl Fn(&ConnectionError) + Send + Sync + 'static,
    ) -> Result<CallbackRef, EngineError> {
        self.on_status(move |status| match status {
            Status::Failed { error } => callback(error),
            Status::AuthFailed { status } => callback(&ConnectionError::new(
                ErrorKind::Auth,
                format!("authentication failed (HTTP {status})"),
            )),
            _ => {}
        })
    }

    /// Calls `callback` with the close code (if the close frame had one)
    /// and reason each time the connection goes away (phoenix.js
    /// `socket.onClose`).
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
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// socket.on_close(move |code, reason| { let _ = tx.send((code, reason.to_owned())); })?;
    /// socket.connect()?;
    /// # assert!(socket.channel("room:a", rig::protocol::Payload::empty())?.join().wait().is_ok());
    /// socket.disconnect_with(4000, "bye")?;
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5))?.0, Some(4000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_close(
        &self,
        callback: impl Fn(Option<u16>, &str) + Send + Sync + 'static,
    ) -> Result<CallbackRef, EngineError> {
        self.on_status(move |status| {
            if let Status::Closed { code, reason } = status {
                callback(*code, reason);
            }
        })
    }

    /// Calls `callback` with the attempt number (from 1) and when it starts
    /// ([`rig::time`](crate::time)'s clock) each time a reconnect is scheduled (phoenix.js has no such callback: its
    /// reconnect timer is internal).
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// let closed_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    /// let url = format!("ws://{closed_port}/socket");
    /// let socket = engine.socket(rig::engine::SocketOptions::builder(url).build()?)?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// socket.on_reconnecting(move |attempt, _at| { let _ = tx.send(attempt); })?;
    /// socket.connect()?;
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5))?, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_reconnecting(
        &self,
        callback: impl Fn(u32, Instant) + Send + Sync + 'static,
    ) -> Result<CallbackRef, EngineError> {
        self.on_status(move |status| {
            if let Status::WaitingToReconnect { until, attempt } = status {
                callback(*attempt, *until);
            }
        })
    }
}

impl Channel {
    /// Calls `callback` when this channel errors (phoenix.js
    /// `channel.onError`): the server's `phx_error`, a lost connection, a
    /// join timeout. A rejoin follows by itself.
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
    /// # socket.connect()?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// room.on_error(move |cause| { let _ = tx.send(cause.to_string()); })?;
    /// room.join().wait()?;
    /// let _crash = room.push("boom", rig::protocol::Payload::empty()); // the channel crashes
    /// assert!(rx.recv_timeout(std::time::Duration::from_secs(5)).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_error(
        &self,
        callback: impl Fn(&ErrorCause) + Send + Sync + 'static,
    ) -> Result<CallbackRef, EngineError> {
        let me = self.channel_ref().clone();
        let scope = Some(me.clone());
        self.socket().on_status_of(
            scope,
            Arc::new(move |status: &Status| {
                if let Status::Channel { channel, change: ChannelChange::Error(cause) } = status
                    && *channel == me
                {
                    callback(cause);
                }
            }),
        )
    }

    /// Calls `callback` when this channel closes for good (phoenix.js
    /// `channel.onClose`): left, closed by the server, removed.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::CloseReason;
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # socket.connect()?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// room.on_close(move |reason| { let _ = tx.send(reason.clone()); })?;
    /// room.join().wait()?;
    /// room.leave().wait()?;
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5))?, CloseReason::Left);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_close(
        &self,
        callback: impl Fn(&CloseReason) + Send + Sync + 'static,
    ) -> Result<CallbackRef, EngineError> {
        let me = self.channel_ref().clone();
        let scope = Some(me.clone());
        self.socket().on_status_of(
            scope,
            Arc::new(move |status: &Status| {
                if let Status::Channel { channel, change: ChannelChange::Closed(reason) } = status
                    && *channel == me
                {
                    callback(reason);
                }
            }),
        )
    }
}
