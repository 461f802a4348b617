//! Health: counters the I/O thread writes with relaxed atomics and any
//! thread reads without a lock ([`SocketHealth`], [`EngineHealth`]).
//!
//! Only the text of the last error sits behind a (parking_lot) lock, taken
//! on failures and by [`Socket::last_error`](crate::engine::Socket::last_error); its
//! kind is in the lock-free snapshot.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use parking_lot::Mutex;

use super::failure::{ConnectionError, ErrorKind};
use super::status::ConnectionState;

/// "No value" in an `AtomicU64` gauge.
const NONE: u64 = u64::MAX;

/// The live counters of one socket, shared by the I/O thread and handles.
#[derive(Debug)]
pub(crate) struct SocketCounters {
    state: AtomicU8,
    last_error_kind: AtomicU8,
    last_error: Mutex<Option<ConnectionError>>,
    rtt_ns: AtomicU64,
    pub(crate) connect_attempts: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) auth_failures: AtomicU64,
    pub(crate) heartbeat_timeouts: AtomicU64,
    pub(crate) frames_in: AtomicU64,
    pub(crate) frames_out: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) decode_errors: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) queued: AtomicU64,
    pub(crate) pending_pushes: AtomicU64,
    pub(crate) status_dropped: AtomicU64,
    pub(crate) sends_lost: AtomicU64,
    pub(crate) pauses: AtomicU64,
    /// Filter subscriptions (written by the dispatcher workers).
    pub(crate) filter_delivered: WorkerCounter,
    pub(crate) filter_dropped: WorkerCounter,
    /// Messages for this socket's callbacks and filters that a full
    /// dispatcher worker could not take.
    pub(crate) dispatch_dropped: AtomicU64,
    /// Every heartbeat and ping round trip, for `rig::metrics`.
    pub(crate) rtt_histogram: super::rtt_histogram::RttHistogram,
}

impl Default for SocketCounters {
    fn default() -> Self {
        Self {
            state: AtomicU8::new(ConnectionState::Idle.to_u8()),
            last_error_kind: AtomicU8::new(0),
            last_error: Mutex::new(None),
            rtt_ns: AtomicU64::new(NONE),
            connect_attempts: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            auth_failures: AtomicU64::new(0),
            heartbeat_timeouts: AtomicU64::new(0),
            frames_in: AtomicU64::new(0),
            frames_out: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            decode_errors: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            pending_pushes: AtomicU64::new(0),
            status_dropped: AtomicU64::new(0),
            sends_lost: AtomicU64::new(0),
            pauses: AtomicU64::new(0),
            filter_delivered: WorkerCounter::default(),
            filter_dropped: WorkerCounter::default(),
            dispatch_dropped: AtomicU64::new(0),
            rtt_histogram: Default::default(),
        }
    }
}

/// A counter on a cache line of its own: the dispatcher workers write it
/// for every filter delivery, and sharing a line with rig-io's counters
/// would make both threads pay for every write.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct WorkerCounter(AtomicU64);

impl std::ops::Deref for WorkerCounter {
    type Target = AtomicU64;

    fn deref(&self) -> &AtomicU64 {
        &self.0
    }
}

/// Adds `n` to a counter (the I/O thread is the only writer).
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Relaxed);
}

impl SocketCounters {
    pub(crate) fn set_state(&self, state: ConnectionState) {
        self.state.store(state.to_u8(), Relaxed);
    }

    pub(crate) fn state(&self) -> ConnectionState {
        ConnectionState::from_u8(self.state.load(Relaxed))
    }

    pub(crate) fn set_error(&self, error: &ConnectionError) {
        self.last_error_kind.store(error.kind().to_u8(), Relaxed);
        *self.last_error.lock() = Some(error.clone());
    }

    pub(crate) fn last_error(&self) -> Option<ConnectionError> {
        self.last_error.lock().clone()
    }

    pub(crate) fn set_rtt(&self, rtt: Duration) {
        let ns = u64::try_from(rtt.as_nanos()).unwrap_or(NONE - 1).min(NONE - 1);
        self.rtt_ns.store(ns, Relaxed);
        self.rtt_histogram.record(rtt);
    }

    pub(crate) fn snapshot(&self) -> SocketHealth {
        let rtt = self.rtt_ns.load(Relaxed);
        SocketHealth {
            state: self.state(),
            last_error: ErrorKind::from_u8(self.last_error_kind.load(Relaxed)),
            heartbeat_rtt: (rtt != NONE).then(|| Duration::from_nanos(rtt)),
            connect_attempts: self.connect_attempts.load(Relaxed),
            connections: self.connections.load(Relaxed),
            reconnects: self.reconnects.load(Relaxed),
            auth_failures: self.auth_failures.load(Relaxed),
            heartbeat_timeouts: self.heartbeat_timeouts.load(Relaxed),
            frames_in: self.frames_in.load(Relaxed),
            frames_out: self.frames_out.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            decode_errors: self.decode_errors.load(Relaxed),
            delivered: self.delivered.load(Relaxed) + self.filter_delivered.load(Relaxed),
            dropped: self.dropped.load(Relaxed) + self.filter_dropped.load(Relaxed),
            queued: self.queued.load(Relaxed),
            pending_pushes: self.pending_pushes.load(Relaxed),
            status_dropped: self.status_dropped.load(Relaxed),
            sends_lost: self.sends_lost.load(Relaxed),
            pauses: self.pauses.load(Relaxed),
            // Filled by `Socket::health` from the outbox.
            outbox_depth: 0,
            outbox_in_flight: 0,
            outbox_acked: 0,
            outbox_requeued: 0,
            filter_delivered: self.filter_delivered.load(Relaxed),
            filter_dropped: self.filter_dropped.load(Relaxed),
            dispatch_dropped: self.dispatch_dropped.load(Relaxed),
        }
    }
}

/// A snapshot of one socket's health, read without locks
/// ([`Socket::health`](crate::engine::Socket::health)).
///
/// Counters only grow; `queued` and `pending_pushes` are gauges.
///
/// # Examples
///
/// ```
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
/// let engine = rig::engine::Engine::start(Default::default())?;
/// let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
/// let health = socket.health();
/// assert_eq!(health.state, rig::engine::ConnectionState::Idle);
/// assert_eq!(health.connections, 0);
/// assert_eq!(health.heartbeat_rtt, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocketHealth {
    /// Where the connection stands.
    pub state: ConnectionState,
    /// The kind of the last failure ([`Socket::last_error`](crate::engine::Socket::last_error) has the text).
    pub last_error: Option<ErrorKind>,
    /// The last heartbeat (or ping) round trip.
    pub heartbeat_rtt: Option<Duration>,
    /// Connect attempts started (first connects and reconnects).
    pub connect_attempts: u64,
    /// Connections that opened.
    pub connections: u64,
    /// Connections that opened after an earlier one (reconnects that worked).
    pub reconnects: u64,
    /// Upgrades refused with 401/403.
    pub auth_failures: u64,
    /// Heartbeats that went unanswered.
    pub heartbeat_timeouts: u64,
    /// WebSocket messages received.
    pub frames_in: u64,
    /// WebSocket messages sent.
    pub frames_out: u64,
    /// Payload bytes received.
    pub bytes_in: u64,
    /// Payload bytes sent.
    pub bytes_out: u64,
    /// Received frames that did not decode.
    pub decode_errors: u64,
    /// Messages handed to subscriptions and callbacks (filter
    /// subscriptions included).
    pub delivered: u64,
    /// Messages dropped because a consumer was full (filter subscriptions
    /// included; a message a full dispatcher worker could not take counts
    /// once per filter subscription that wanted it).
    pub dropped: u64,
    /// Messages waiting in this socket's subscription queues (gauge).
    pub queued: u64,
    /// Pushes, joins and leaves waiting for their outcome (gauge).
    pub pending_pushes: u64,
    /// Status entries dropped because a status stream was full.
    pub status_dropped: u64,
    /// [`Channel::send`](crate::engine::Channel::send) messages not sent:
    /// the channel stopped being joined (or was removed) between the call
    /// and rig-io's turn.
    pub sends_lost: u64,
    /// Times reading stopped because an [`Overflow::Block`](crate::engine::Overflow::Block)
    /// consumer was full.
    pub pauses: u64,
    /// Durable pushes held by the socket's outbox, in flight or not (gauge;
    /// 0 without an outbox).
    pub outbox_depth: u64,
    /// Durable pushes sent and waiting for their reply (gauge).
    pub outbox_in_flight: u64,
    /// Durable pushes the server answered (deleted from the outbox).
    pub outbox_acked: u64,
    /// Durable pushes put back to be sent again (timeout, lost connection,
    /// channel error).
    pub outbox_requeued: u64,
    /// Messages handed to filter subscriptions ([`Socket::subscribe_filter`](crate::engine::Socket::subscribe_filter),
    /// [`Socket::on_filter`](crate::engine::Socket::on_filter)), part of `delivered`.
    pub filter_delivered: u64,
    /// Messages filter subscriptions lost (the sum of their
    /// [`dropped`](crate::engine::FilterSubscription::dropped)), part of `dropped`.
    pub filter_dropped: u64,
    /// Messages of this socket (for callbacks or filter subscriptions)
    /// that a full dispatcher worker could not take.
    pub dispatch_dropped: u64,
}

/// The live counters of the engine.
#[derive(Debug, Default)]
pub(crate) struct EngineCounters {
    pub(crate) io_alive: AtomicBool,
    pub(crate) sockets: AtomicU64,
    pub(crate) wakeups: AtomicU64,
    pub(crate) commands: AtomicU64,
    pub(crate) dispatch_dropped: AtomicU64,
    pub(crate) handler_panics: AtomicU64,
    pub(crate) slow_handlers: AtomicU64,
    pub(crate) filter_dropped: AtomicU64,
}

/// A snapshot of the engine's health ([`Engine::health`](crate::engine::Engine::health)).
///
/// # Examples
///
/// ```
/// let engine = rig::engine::Engine::start(Default::default())?;
/// let health = engine.health();
/// assert!(health.io_thread_alive);
/// assert_eq!(health.sockets, 0);
/// # Ok::<(), rig::engine::EngineError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineHealth {
    /// Whether the I/O thread is running.
    pub io_thread_alive: bool,
    /// Sockets on the engine.
    pub sockets: u64,
    /// Times the I/O thread woke from its poll.
    pub wakeups: u64,
    /// Commands the I/O thread executed.
    pub commands: u64,
    /// Commands waiting for the I/O thread (gauge).
    pub command_queue: usize,
    /// Callback jobs waiting for the dispatcher workers, all together
    /// (gauge; [`Engine::dispatch_queues`](crate::engine::Engine::dispatch_queues)
    /// gives each worker's).
    pub dispatch_queue: usize,
    /// Callback jobs waiting for the busiest dispatcher worker (gauge).
    pub dispatch_queue_max: usize,
    /// Dispatcher worker threads.
    pub dispatch_workers: usize,
    /// Messages for callbacks dropped because the dispatcher was behind.
    pub dispatch_dropped: u64,
    /// Callbacks that panicked (caught; the dispatcher goes on), filter
    /// callbacks included.
    pub handler_panics: u64,
    /// Handler runs (worker callbacks and inline handlers) longer than
    /// [`EngineConfig::slow_handler`](crate::engine::EngineConfig::slow_handler),
    /// counted per window of up to 16 consecutive runs on a thread: each
    /// held up every message behind it on its thread.
    pub slow_handlers: u64,
    /// Messages filter subscriptions lost, all sockets together.
    pub filter_dropped: u64,
}

impl EngineCounters {
    pub(crate) fn snapshot(&self, command_queue: usize, dispatch_queues: &[usize]) -> EngineHealth {
        EngineHealth {
            io_thread_alive: self.io_alive.load(Relaxed),
            sockets: self.sockets.load(Relaxed),
            wakeups: self.wakeups.load(Relaxed),
            commands: self.commands.load(Relaxed),
            command_queue,
            dispatch_queue: dispatch_queues.iter().sum(),
            dispatch_queue_max: dispatch_queues.iter().copied().max().unwrap_or(0),
            dispatch_workers: dispatch_queues.len(),
            dispatch_dropped: self.dispatch_dropped.load(Relaxed),
            handler_panics: self.handler_panics.load(Relaxed),
            slow_handlers: self.slow_handlers.load(Relaxed),
            filter_dropped: self.filter_dropped.load(Relaxed),
        }
    }
}
