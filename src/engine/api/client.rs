//! [`Engine`]: the threads, and what every handle of an engine shares.
//! Handles are `Send + Sync`; every call queues a command for rig-io and
//! returns at once.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use mio::{Poll, Waker};
use parking_lot::Mutex;

use super::socket::{Socket, SocketInner};
use crate::engine::dispatch::pool::{Dispatcher, WorkerPace};
use crate::engine::io::thread::{IoThread, WAKER};
use crate::engine::shared::callback::Resume;
use crate::engine::shared::command::{self, Command, CommandQueue, NewSocket};
use crate::engine::shared::config::EngineConfig;
use crate::engine::shared::error::EngineError;
use crate::engine::shared::health::{EngineCounters, EngineHealth, SocketCounters};
use crate::engine::shared::ids::{KeySource, SocketKey};
use crate::engine::shared::options::SocketOptions;
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
    pub(crate) shared: Arc<EngineShared>,
    pub(crate) threads: Vec<JoinHandle<()>>,
    pub(crate) alive: Receiver<()>,
    /// The I/O loop runs on an [`Invoker`](crate::engine::Invoker), not on
    /// a thread of the engine.
    pub(crate) invoker: bool,
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
        let (mut engine, io, alive_tx) = Self::assemble(config)?;
        let counters = Arc::clone(&engine.shared.counters);
        let io_counters = Arc::clone(&counters);
        let name = engine.shared.config.thread_name.clone();
        let spawned = std::thread::Builder::new().name(name).spawn(move || {
            let _alive = alive_tx;
            // Nothing the network sends may kill rig-io; should a bug do it
            // anyway, say so instead of dying silently.
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| io.run())).is_err() {
                log::error!("the I/O thread panicked; the engine has stopped");
            }
            io_counters.io_alive.store(false, Relaxed);
        });
        let thread = spawned.inspect_err(|_| counters.io_alive.store(false, Relaxed))?;
        engine.threads.push(thread);
        Ok(engine)
    }

    /// Everything but the I/O loop's thread: the engine handle, the loop
    /// (for a thread of its own or an [`Invoker`](crate::engine::Invoker)) and
    /// the `alive` sender the loop's owner holds.
    pub(crate) fn assemble(
        config: EngineConfig,
    ) -> Result<(Self, IoThread, crossbeam_channel::Sender<()>), EngineError> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (commands, inbox) = command::queue(config.command_capacity, Arc::clone(&waker));
        let counters = Arc::new(EngineCounters::default());
        // Each thread holds a sender; all gone = all threads exited.
        let (alive_tx, alive) = crossbeam_channel::bounded::<()>(0);
        // Workers wake rig-io through a flag and the waker, not the command
        // queue: holding a command sender would keep rig-io from seeing
        // that every handle is gone.
        let resume_flag = Arc::new(AtomicBool::new(false));
        let (flag, resume_waker) = (Arc::clone(&resume_flag), Arc::clone(&waker));
        let resume: Resume = Arc::new(move || {
            flag.store(true, Relaxed);
            if let Err(e) = resume_waker.wake() {
                log::warn!("cannot wake the I/O thread: {e}");
            }
        });
        let pace = WorkerPace { idle: config.dispatch_idle(), slow: config.slow_handler };
        let (dispatcher, mut threads) = Dispatcher::spawn_with(
            config.dispatch_workers,
            config.dispatch_capacity,
            Arc::clone(&counters),
            &alive_tx,
            &resume,
            pace,
        )?;
        let (lookups, thread) =
            crate::engine::io::resolver::spawn(commands.clone(), alive_tx.clone())?;
        threads.push(thread);
        let io = IoThread::new(
            poll,
            inbox,
            dispatcher.clone(),
            lookups,
            Arc::clone(&counters),
            config.clone(),
            resume_flag,
        );
        // Alive from now on: commands queue up until the loop takes them.
        counters.io_alive.store(true, Relaxed);
        let shared = Arc::new(EngineShared {
            commands,
            keys: KeySource::default(),
            counters,
            dispatcher,
            config,
            default_tls: Mutex::new(None),
        });
        Ok((Self { shared, threads, alive, invoker: false }, io, alive_tx))
    }

    /// Adds a socket (not connected yet: call [`Socket::connect`]).
    ///
    /// # Errors
    ///
    /// [`EngineError::Tls`] for a `wss://` socket without a connector when
    /// the default roots cannot load, [`EngineError::Outbox`] when the
    /// socket's outbox file cannot be opened (corrupt, locked by another
    /// process, newer schema, I/O error), [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Engine`].
    pub fn socket(&self, mut options: SocketOptions) -> Result<Socket, EngineError> {
        if options.is_secure() && options.tls.is_none() {
            options.tls = Some(self.shared.default_tls()?);
        }
        let outbox = options
            .outbox
            .take()
            .map(crate::engine::shared::outbox::OutboxSource::open)
            .transpose()?;
        let key = SocketKey(self.shared.keys.next());
        let counters = Arc::new(SocketCounters::default());
        let endpoint = options.session.endpoint().to_owned();
        let filters = Arc::new(crate::engine::shared::filter_set::SocketFilters::new(
            Arc::clone(&counters),
            Arc::clone(&self.shared.counters),
        ));
        let new = NewSocket {
            key,
            options,
            counters: Arc::clone(&counters),
            outbox: outbox.clone(),
            filters: Arc::clone(&filters),
        };
        self.shared.commands.send(Command::AddSocket(Box::new(new)))?;
        let link = SocketLink { socket: key, engine: Arc::clone(&self.shared) };
        Ok(Socket { inner: Arc::new(SocketInner { link, counters, endpoint, outbox, filters }) })
    }

    /// The engine's health, read without locks.
    ///
    /// # Examples
    ///
    /// See [`EngineHealth`].
    #[must_use]
    pub fn health(&self) -> EngineHealth {
        let depths = self.shared.dispatcher.depths();
        self.shared.counters.snapshot(self.shared.commands.len(), &depths)
    }

    /// Callback jobs waiting for each dispatcher worker (`rig-dispatch-N`
    /// is entry `N`): queued messages and control jobs.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::engine::{Engine, EngineConfig};
    /// let engine = Engine::start(EngineConfig::builder().dispatch_workers(2).build())?;
    /// assert_eq!(engine.dispatch_queues(), vec![0, 0]);
    /// assert_eq!(engine.health().dispatch_workers, 2);
    /// # Ok::<(), rig::engine::EngineError>(())
    /// ```
    #[must_use]
    pub fn dispatch_queues(&self) -> Vec<usize> {
        self.shared.dispatcher.depths()
    }

    /// Closes every socket (close frames with 1000), stops the threads and
    /// waits for them up to the configured shutdown timeout. Pending pushes
    /// resolve with [`PushError::EngineStopped`](crate::engine::PushError::EngineStopped).
    ///
    /// # Examples
    ///
    /// See [`Engine`].
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if self.invoker {
            // The loop runs on the application's thread, maybe this one:
            // the invoker finishes the shutdown on its next turns (or when
            // it is dropped) and waits for the pool's threads.
            self.invoker = false;
            if self.shared.commands.send(Command::Shutdown).is_err() {
                log::debug!("the invoker had already stopped");
            }
            return;
        }
        if self.threads.is_empty() {
            return;
        }
        if self.shared.commands.send(Command::Shutdown).is_err() {
            log::debug!("the I/O thread had already stopped");
        }
        join_or_detach(&self.alive, &mut self.threads, self.shared.config.shutdown_timeout);
    }
}

/// Waits up to `timeout` for every holder of an `alive` sender to exit,
/// then joins `threads`; threads still running then (a callback or a DNS
/// lookup) are detached.
pub(crate) fn join_or_detach(
    alive: &Receiver<()>,
    threads: &mut Vec<JoinHandle<()>>,
    timeout: std::time::Duration,
) {
    match alive.recv_timeout(timeout) {
        Err(RecvTimeoutError::Disconnected) => {
            for thread in threads.drain(..) {
                if thread.join().is_err() {
                    log::error!("an engine thread panicked");
                }
            }
        }
        Ok(()) | Err(RecvTimeoutError::Timeout) => {
            log::warn!("engine threads did not stop in time; detaching them");
            threads.clear();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}
