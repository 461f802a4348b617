//! The public handles: [`Engine`] (the threads) and [`Socket`] (one
//! Phoenix socket). Both are `Send + Sync`; every call queues a command for
//! rig-io and returns at once.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use mio::{Poll, Waker};
use parking_lot::Mutex;

use super::channel::Channel;
use super::command::{self, Command, CommandQueue, NewChannel, NewSocket};
use super::config::EngineConfig;
use super::dispatch::Dispatcher;
use super::error::EngineError;
use super::failure::ConnectionError;
use super::health::{EngineCounters, EngineHealth, SocketCounters, SocketHealth};
use super::ids::{ChannelKey, KeySource, SocketKey};
use super::io_thread::{IoThread, WAKER};
use super::options::SocketOptions;
use super::status::{ChannelRef, ConnectionState, Status};
use super::subscription::ChannelShared;
use crate::protocol::ChannelParams;
use crate::transport::{TlsConfig, TlsConnector};

/// What every handle of an engine shares.
#[derive(Debug)]
pub(crate) struct EngineShared {
    pub(crate) commands: CommandQueue,
    pub(crate) keys: KeySource,
    pub(crate) counters: Arc<EngineCounters>,
    pub(crate) dispatcher: Dispatcher,
    pub(crate) config: EngineConfig,
    default_tls: Mutex<Option<TlsConnector>>,
}

impl EngineShared {
    /// The connector for `wss://` sockets without their own: the
    /// configured one, or bundled roots loaded once (on the caller's thread).
    fn default_tls(&self) -> Result<TlsConnector, EngineError> {
        let mut slot = self.default_tls.lock();
        if let Some(tls) = slot.as_ref() {
            return Ok(tls.clone());
        }
        let tls = match &self.config.tls {
            Some(tls) => tls.clone(),
            None => TlsConfig::new().build().map_err(EngineError::Tls)?,
        };
        *slot = Some(tls.clone());
        Ok(tls)
    }
}

/// A socket's address for commands.
#[derive(Clone, Debug)]
pub(crate) struct SocketLink {
    pub(crate) socket: SocketKey,
    pub(crate) engine: Arc<EngineShared>,
}

impl SocketLink {
    pub(crate) fn send(&self, command: Command) -> Result<(), EngineError> {
        self.engine.commands.send(command)
    }
}

/// The engine: one I/O thread (`rig-io`) for all its sockets, a dispatcher
/// thread for callbacks and a resolver thread for DNS.
///
/// Dropping the engine shuts it down (see [`shutdown`](Self::shutdown)).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::engine::{Engine, EngineConfig, SocketOptions, Status};
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
///
/// let engine = Engine::start(EngineConfig::default())?;
/// let socket = engine.socket(SocketOptions::builder(server.url()).build()?)?;
/// let status = socket.status()?;
/// socket.connect()?;
/// assert_eq!(status.recv_timeout(Duration::from_secs(5))?, Status::Connecting { attempt: 0 });
/// assert_eq!(status.recv_timeout(Duration::from_secs(5))?, Status::Open);
/// engine.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Engine {
    shared: Arc<EngineShared>,
    threads: Vec<JoinHandle<()>>,
    alive: Receiver<()>,
}

impl Engine {
    /// Starts the threads.
    ///
    /// # Errors
    ///
    /// [`EngineError::Start`] when a thread, the poll or its waker cannot
    /// be created.
    ///
    /// # Examples
    ///
    /// See [`Engine`].
    pub fn start(config: EngineConfig) -> Result<Self, EngineError> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (commands, inbox) = command::queue(config.command_capacity, waker);
        let counters = Arc::new(EngineCounters::default());
        // Each thread holds a sender; all gone = all threads exited.
        let (alive_tx, alive) = crossbeam_channel::bounded::<()>(0);
        let mut threads = Vec::with_capacity(3);
        let (dispatcher, thread) =
            Dispatcher::spawn(config.dispatch_capacity, Arc::clone(&counters), alive_tx.clone())?;
        threads.push(thread);
        let (lookups, thread) = super::resolver::spawn(commands.clone(), alive_tx.clone())?;
        threads.push(thread);
        let io = IoThread::new(
            poll,
            inbox,
            dispatcher.clone(),
            lookups,
            Arc::clone(&counters),
            config.clone(),
        );
        // Alive from now on: commands queue up until the thread takes them.
        counters.io_alive.store(true, Relaxed);
        let io_counters = Arc::clone(&counters);
        let spawned =
            std::thread::Builder::new().name(config.thread_name.clone()).spawn(move || {
                let _alive = alive_tx;
                // Nothing the network sends may kill rig-io; should a bug do it
                // anyway, say so instead of dying silently.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| io.run())).is_err() {
                    log::error!("the I/O thread panicked; the engine has stopped");
                }
                io_counters.io_alive.store(false, Relaxed);
            });
        let thread = spawned.inspect_err(|_| counters.io_alive.store(false, Relaxed))?;
        threads.push(thread);
        let shared = Arc::new(EngineShared {
            commands,
            keys: KeySource::default(),
            counters,
            dispatcher,
            config,
            default_tls: Mutex::new(None),
        });
        Ok(Self { shared, threads, alive })
    }

    /// Adds a socket (not connected yet: call [`Socket::connect`]).
    ///
    /// # Errors
    ///
    /// [`EngineError::Tls`] for a `wss://` socket without a connector when
    /// the default roots cannot load, [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Engine`].
    pub fn socket(&self, mut options: SocketOptions) -> Result<Socket, EngineError> {
        if options.is_secure() && options.tls.is_none() {
            options.tls = Some(self.shared.default_tls()?);
        }
        let key = SocketKey(self.shared.keys.next());
        let counters = Arc::new(SocketCounters::default());
        let endpoint = options.session.endpoint().to_owned();
        let new = NewSocket { key, options, counters: Arc::clone(&counters) };
        self.shared.commands.send(Command::AddSocket(Box::new(new)))?;
        let link = SocketLink { socket: key, engine: Arc::clone(&self.shared) };
        Ok(Socket { inner: Arc::new(SocketInner { link, counters, endpoint }) })
    }

    /// The engine's health, read without locks.
    ///
    /// # Examples
    ///
    /// See [`EngineHealth`].
    #[must_use]
    pub fn health(&self) -> EngineHealth {
        self.shared.counters.snapshot(self.shared.commands.len(), self.shared.dispatcher.len())
    }

    /// Closes every socket (close frames with 1000), stops the threads and
    /// waits for them up to the configured shutdown timeout. Pending pushes
    /// resolve with [`PushError::EngineStopped`](super::PushError::EngineStopped).
    ///
    /// # Examples
    ///
    /// See [`Engine`].
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.threads.is_empty() {
            return;
        }
        if self.shared.commands.send(Command::Shutdown).is_err() {
            log::debug!("the I/O thread had already stopped");
        }
        match self.alive.recv_timeout(self.shared.config.shutdown_timeout) {
            Err(RecvTimeoutError::Disconnected) => {
                for thread in self.threads.drain(..) {
                    if thread.join().is_err() {
                        log::error!("an engine thread panicked");
                    }
                }
            }
            Ok(()) | Err(RecvTimeoutError::Timeout) => {
                // A callback or a DNS lookup is still running: detach.
                log::warn!("engine threads did not stop in time; detaching them");
                self.threads.clear();
            }
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Debug)]
struct SocketInner {
    link: SocketLink,
    counters: Arc<SocketCounters>,
    endpoint: String,
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
    inner: Arc<SocketInner>,
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
                super::guard::call_or("channel params", crate::protocol::Payload::empty, &mut f)
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
        Ok(Channel::new(self.clone(), key, ChannelRef { id: key.0, topic }, shared))
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
    /// See [`Engine`].
    pub fn status(&self) -> Result<Receiver<Status>, EngineError> {
        let (sender, rx) =
            crossbeam_channel::bounded(self.inner.link.engine.config.status_capacity);
        self.send(Command::WatchStatus { socket: self.inner.link.socket, sender })?;
        Ok(rx)
    }

    /// The socket's health, read without locks.
    ///
    /// # Examples
    ///
    /// See [`SocketHealth`].
    #[must_use]
    pub fn health(&self) -> SocketHealth {
        self.inner.counters.snapshot()
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
}
