//! Invoker mode (Aeron's term): the application's own thread runs the
//! engine's one I/O loop, and inline handlers run on it with no hand-off.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::client::{Engine, join_or_detach};
use crate::engine::io::thread::IoThread;
use crate::engine::io::turn::{Stopped, Turn};
use crate::engine::shared::config::EngineConfig;
use crate::engine::shared::error::EngineError;
use crate::engine::shared::health::EngineCounters;
use crate::engine::shared::idle::{Idler, Step};

/// The engine's I/O loop, run by the application's thread: each
/// [`poll`](Self::poll) is one turn of what `rig-io` does on its own thread
/// (read every ready socket, decode, run inline handlers, hand messages to
/// queues and the dispatcher pool, write, fire timers). Made by
/// [`Engine::start_invoker`].
///
/// The contract, as for any event loop:
/// - **Call it often.** Heartbeats, reconnects, push timeouts and writes
///   happen only inside `poll` / [`run_until`](Self::run_until): a thread
///   that stops polling for longer than the heartbeat timeout loses its
///   connections (the server sees no heartbeat; rig sees none answered).
/// - **Inline handlers must not block.** A handler registered with
///   [`Channel::on_inline`](crate::engine::Channel::on_inline) runs inside
///   `poll`, on this thread, with the message borrowed from the read
///   buffer's copy (no queue, no wake-up, no copy). Every message behind it
///   waits while it runs: runs longer than
///   [`EngineConfig::slow_handler`] are counted in
///   [`EngineHealth::slow_handlers`](crate::engine::EngineHealth) and logged;
///   a panic is caught, counted in `handler_panics`, and the loop goes on.
/// - Everything else is as with a threaded engine: `on` handlers still run
///   on the `rig-dispatch-N` pool, subscriptions are still queues, DNS
///   still resolves on `rig-dns`, and every handle may be used from any
///   thread (commands wake the loop's `poll`).
///
/// Dropping the invoker shuts the engine down (close handshakes within the
/// shutdown timeout) and waits for the pool's threads.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
/// use rig::engine::{Engine, EngineConfig, SocketOptions};
/// use rig::protocol::Payload;
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
///
/// let (engine, mut invoker) = Engine::start_invoker(EngineConfig::default())?;
/// let socket = engine.socket(SocketOptions::builder(server.url()).build()?)?;
/// socket.connect()?;
/// let stream = socket.channel("stream:doc", Payload::json(r#"{"mode":"burst","count":100}"#))?;
/// let seen = Arc::new(AtomicU64::new(0));
/// let counter = Arc::clone(&seen);
/// stream.on_inline("event", move |_message| {
///     counter.fetch_add(1, Relaxed);
/// })?;
/// let _join = stream.join();
/// invoker.run_until(|| seen.load(Relaxed) == 100)?;
/// assert_eq!(seen.load(Relaxed), 100);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Invoker {
    io: Option<IoThread>,
    turn: Turn,
    idler: Idler,
    counters: Arc<EngineCounters>,
    /// The pool's and the resolver's threads, joined when the loop ends.
    threads: Vec<JoinHandle<()>>,
    /// The loop's own `alive` sender; dropped when it ends.
    alive_tx: Option<Sender<()>>,
    alive: Receiver<()>,
    shutdown_timeout: Duration,
}

impl std::fmt::Debug for Invoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invoker")
            .field("running", &self.is_running())
            .field("idle", &self.idler)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Starts an engine whose I/O loop runs on the caller's thread: the
    /// dispatcher pool and the resolver start as usual, but no `rig-io`
    /// thread; drive the loop with the returned [`Invoker`].
    ///
    /// [`Engine::shutdown`] on such an engine asks the loop to stop and
    /// returns at once; the invoker's next turns close the sockets (then
    /// `poll` returns [`EngineError::Stopped`]).
    ///
    /// # Errors
    ///
    /// [`EngineError::Start`] when a thread, the poll or its waker cannot
    /// be created.
    ///
    /// # Examples
    ///
    /// See [`Invoker`].
    pub fn start_invoker(config: EngineConfig) -> Result<(Self, Invoker), EngineError> {
        let (mut engine, io, alive_tx) = Self::assemble(config)?;
        engine.invoker = true;
        let config = &engine.shared.config;
        let invoker = Invoker {
            io: Some(io),
            turn: Turn::new(),
            idler: config.idle.idler(),
            counters: Arc::clone(&engine.shared.counters),
            threads: std::mem::take(&mut engine.threads),
            alive_tx: Some(alive_tx),
            alive: engine.alive.clone(),
            shutdown_timeout: config.shutdown_timeout,
        };
        Ok((engine, invoker))
    }
}

impl Invoker {
    /// Runs one turn of the loop, waiting at most `timeout` for something
    /// to do (a ready socket, a command, a timer; `Duration::ZERO` never
    /// waits). Returns whether the turn found work.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`] once the engine has shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (engine, mut invoker) = rig::engine::Engine::start_invoker(Default::default())?;
    /// assert!(!invoker.poll(Duration::ZERO)?);
    /// engine.shutdown();
    /// while invoker.poll(Duration::from_millis(10)).is_ok() {}
    /// assert!(!invoker.is_running());
    /// # Ok::<(), rig::engine::EngineError>(())
    /// ```
    pub fn poll(&mut self, timeout: Duration) -> Result<bool, EngineError> {
        let Some(io) = self.io.as_mut() else { return Err(EngineError::Stopped) };
        let turn = &mut self.turn;
        // `Duration::MAX`: no limit of ours, the loop's own deadline.
        let cap = (timeout != Duration::MAX).then_some(timeout);
        match catch_unwind(AssertUnwindSafe(|| io.turn(turn, cap))) {
            Ok(Ok(worked)) => Ok(worked),
            Ok(Err(Stopped)) => {
                self.finish();
                Err(EngineError::Stopped)
            }
            Err(_) => {
                log::error!("the I/O loop panicked; the engine has stopped");
                self.finish();
                Err(EngineError::Stopped)
            }
        }
    }

    /// Runs turns until `done()` returns `true` (checked before every
    /// turn), waiting between turns as the engine's
    /// [`IdleStrategy`](crate::engine::IdleStrategy) says: `Park` blocks in
    /// each turn until the loop has something to do (a ready socket, a
    /// command, a timer), so `done` should turn true because of what the
    /// loop does (an inline handler, a push outcome); the spinning
    /// strategies check it continuously.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`] when the engine shuts down first.
    ///
    /// # Examples
    ///
    /// See [`Invoker`].
    pub fn run_until(&mut self, mut done: impl FnMut() -> bool) -> Result<(), EngineError> {
        let mut worked = true;
        while !done() {
            let cap = if worked {
                self.idler.reset();
                // Park: block until there is work (`None` = the loop's own
                // deadline); spinning: look again at once.
                if self.idler.spins() { Duration::ZERO } else { Duration::MAX }
            } else {
                match self.idler.idle() {
                    Step::Spin => Duration::ZERO,
                    Step::Yield => {
                        std::thread::yield_now();
                        Duration::ZERO
                    }
                    Step::Park => Duration::MAX,
                }
            };
            worked = self.poll(cap)?;
        }
        Ok(())
    }

    /// Whether the loop still runs (the engine has not finished shutting
    /// down).
    ///
    /// # Examples
    ///
    /// See [`poll`](Self::poll).
    #[must_use]
    pub fn is_running(&self) -> bool {
        self.io.is_some()
    }

    /// The loop has ended: close what is left, stop the pool, wait for its
    /// threads (up to the shutdown timeout; a callback still running is
    /// left behind, as [`Engine::shutdown`] does).
    fn finish(&mut self) {
        let Some(mut io) = self.io.take() else { return };
        io.stop();
        // The resolver's queue closes with the loop.
        drop(io);
        self.counters.io_alive.store(false, Relaxed);
        drop(self.alive_tx.take());
        join_or_detach(&self.alive, &mut self.threads, self.shutdown_timeout);
    }
}

impl Drop for Invoker {
    fn drop(&mut self) {
        let Some(io) = self.io.as_mut() else { return };
        io.shutdown_now();
        let turn = &mut self.turn;
        // The loop ends by itself at the shutdown deadline at the latest.
        while let Ok(Ok(_)) =
            catch_unwind(AssertUnwindSafe(|| io.turn(turn, Some(Duration::from_millis(10)))))
        {
        }
        self.finish();
    }
}
