//! [`EngineConfig`]: the engine's threads and queues.

use std::time::Duration;

use crate::transport::TlsConnector;

/// What a bounded queue does when its consumer falls behind.
///
/// Whatever the policy, the I/O thread never blocks on a consumer and every
/// dropped message is counted (in [`SocketHealth::dropped`](crate::engine::SocketHealth)
/// and in the subscription's own counter); [`Block`](Self::Block) drops
/// nothing and pauses the socket instead.
///
/// # Examples
///
/// ```
/// assert_eq!(rig::engine::Overflow::default(), rig::engine::Overflow::DropNewest);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Overflow {
    /// Keep what is queued; the message that does not fit is dropped.
    #[default]
    DropNewest,
    /// Drop the oldest queued message to make room for the new one (a
    /// consumer that only cares about the latest state).
    DropOldest,
    /// Drop nothing: when a consumer (a subscription queue, or the
    /// dispatcher worker of an `on` handler) is full, the I/O thread stops
    /// reading that consumer's socket (only that one) until the consumer
    /// frees space, so the backpressure reaches the server through TCP.
    /// The socket still writes; its heartbeat deadline is held while it is
    /// paused (the reply may be sitting unread), counted in
    /// [`SocketHealth::pauses`](crate::engine::SocketHealth). Read a Block
    /// subscription through [`Subscription::recv_timeout`](crate::engine::Subscription::recv_timeout)
    /// or [`try_recv`](crate::engine::Subscription::try_recv): they wake the
    /// socket at once; a raw [`receiver`](crate::engine::Subscription::receiver) is
    /// noticed within 10 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::engine::{EngineConfig, Overflow};
    /// let config = EngineConfig::builder().overflow(Overflow::Block).build();
    /// assert_eq!(config.overflow(), Overflow::Block);
    /// ```
    Block,
}

/// Default capacity of the command queue (user threads to rig-io): 4 096
/// commands, 544 KiB when full, allocated as commands arrive (see
/// [`EngineConfig::builder`]).
///
/// # Examples
///
/// ```
/// assert_eq!(rig::engine::DEFAULT_COMMAND_CAPACITY, 4096);
/// ```
pub const DEFAULT_COMMAND_CAPACITY: usize = 4096;

/// Default capacity, in messages, of each dispatcher worker's queue: 4 096
/// messages, about 896 KiB plus payloads when full, nothing when empty (see
/// [`EngineConfig::builder`]).
///
/// # Examples
///
/// ```
/// assert_eq!(rig::engine::DEFAULT_DISPATCH_CAPACITY, 4096);
/// ```
pub const DEFAULT_DISPATCH_CAPACITY: usize = 4096;

/// Settings of an [`Engine`](crate::engine::Engine): its threads and queues.
///
/// # Examples
///
/// ```
/// use rig::engine::{EngineConfig, Overflow};
/// let config = EngineConfig::builder().subscription_capacity(1024).overflow(Overflow::DropOldest).build();
/// assert_eq!(config.subscription_capacity(), 1024);
/// ```
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub(crate) thread_name: String,
    pub(crate) command_capacity: usize,
    pub(crate) dispatch_capacity: usize,
    pub(crate) dispatch_workers: usize,
    pub(crate) subscription_capacity: usize,
    pub(crate) status_capacity: usize,
    pub(crate) overflow: Overflow,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) tls: Option<TlsConnector>,
    /// How rig-io, the workers and blocking receives wait (see `idle.rs`).
    pub(crate) idle: super::idle::IdleStrategy,
    /// The workers' own strategy, when it differs from `idle`.
    pub(crate) dispatch_idle: Option<super::idle::IdleStrategy>,
    /// A handler running longer than this is counted as slow.
    pub(crate) slow_handler: Duration,
}

impl EngineConfig {
    /// A builder with the defaults: thread `rig-io`, command queue
    /// [`DEFAULT_COMMAND_CAPACITY`] (4 096 commands), callback queues
    /// [`DEFAULT_DISPATCH_CAPACITY`] (4 096 messages) per dispatcher worker,
    /// one worker per core but one (at least one), subscriptions 1 024
    /// messages each, status streams 1 024 entries each,
    /// [`Overflow::DropNewest`], shutdown within 2 s, bundled Mozilla
    /// roots for `wss://`.
    ///
    /// What the queues cost (64-bit, figures checked by a unit test):
    ///
    /// | queue | slots | bytes per slot | memory when full | idle |
    /// |---|---|---|---|---|
    /// | command | 4 096 | 136 | 544 KiB | one block at most |
    /// | dispatch, per worker | 4 096 | 224 + payload | 896 KiB + payloads | nothing |
    /// | subscription, each | 1 024 | 224 | 224 KiB | one block at most |
    /// | status stream, each | 1 024 | 64 | 64 KiB | one block at most |
    ///
    /// Every queue is a crossbeam `unbounded` list bounded by a check on
    /// send: it allocates 31-slot blocks as messages arrive and frees them
    /// as they are read, keeping at most the block being written (6.7 KiB
    /// for a subscription, 1.9 KiB for a status stream; nothing before the
    /// first message). A crossbeam `bounded` queue instead allocates and
    /// writes all its slots when it is created: a status stream of 1 024
    /// entries was 152 KiB resident per receiver, idle or not. The
    /// capacities are bounds, kept near 1 MiB, since a slow consumer
    /// fills them.
    /// Small queues lose nothing under [`Overflow::Block`] (the socket
    /// pauses instead); under the drop policies a burst larger than the
    /// queue is dropped and counted: raise the capacities for bursty
    /// topics read by slow handlers.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::engine::EngineConfig::builder().build();
    /// assert_eq!(config.thread_name(), "rig-io");
    /// assert_eq!(config.command_capacity(), rig::engine::DEFAULT_COMMAND_CAPACITY);
    /// assert_eq!(config.dispatch_capacity(), rig::engine::DEFAULT_DISPATCH_CAPACITY);
    /// ```
    pub fn builder() -> EngineConfigBuilder {
        EngineConfigBuilder {
            config: Self {
                thread_name: "rig-io".to_owned(),
                command_capacity: DEFAULT_COMMAND_CAPACITY,
                dispatch_capacity: DEFAULT_DISPATCH_CAPACITY,
                dispatch_workers: default_dispatch_workers(),
                subscription_capacity: 1024,
                status_capacity: 1024,
                overflow: Overflow::DropNewest,
                shutdown_timeout: Duration::from_secs(2),
                tls: None,
                idle: super::idle::IdleStrategy::Park,
                dispatch_idle: None,
                slow_handler: super::idle::DEFAULT_SLOW_HANDLER,
            },
        }
    }

    /// The I/O thread's name.
    ///
    /// # Examples
    ///
    /// See [`EngineConfig::builder`].
    #[must_use]
    pub fn thread_name(&self) -> &str {
        &self.thread_name
    }

    /// How many `rig-dispatch-N` threads run `on` callbacks.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::engine::EngineConfig::builder().dispatch_workers(3).build();
    /// assert_eq!(config.dispatch_workers(), 3);
    /// assert!(rig::engine::EngineConfig::default().dispatch_workers() >= 1);
    /// ```
    #[must_use]
    pub fn dispatch_workers(&self) -> usize {
        self.dispatch_workers
    }

    /// What full consumers do.
    ///
    /// # Examples
    ///
    /// See [`Overflow::Block`].
    #[must_use]
    pub fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// Capacity of the command queue (see [`EngineConfigBuilder::command_capacity`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::engine::EngineConfig::builder().command_capacity(64).build();
    /// assert_eq!(config.command_capacity(), 64);
    /// ```
    #[must_use]
    pub fn command_capacity(&self) -> usize {
        self.command_capacity
    }

    /// Capacity, in messages, of each dispatcher worker's queue (see
    /// [`EngineConfigBuilder::dispatch_capacity`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::engine::EngineConfig::builder().dispatch_capacity(64).build();
    /// assert_eq!(config.dispatch_capacity(), 64);
    /// ```
    #[must_use]
    pub fn dispatch_capacity(&self) -> usize {
        self.dispatch_capacity
    }

    /// How many messages each subscription queue holds.
    ///
    /// # Examples
    ///
    /// See [`EngineConfig`].
    #[must_use]
    pub fn subscription_capacity(&self) -> usize {
        self.subscription_capacity
    }
}

/// Available cores minus one (rig-io has one to itself), at least one.
fn default_dispatch_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1)).max(1)
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self::builder().build()
    }
}

/// Builds an [`EngineConfig`]; setters consume and return the builder.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let config = rig::engine::EngineConfig::builder()
///     .thread_name("io")
///     .command_capacity(1024)
///     .dispatch_capacity(4096)
///     .status_capacity(64)
///     .shutdown_timeout(Duration::from_millis(500))
///     .build();
/// assert_eq!(config.thread_name(), "io");
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct EngineConfigBuilder {
    pub(crate) config: EngineConfig,
}

impl EngineConfigBuilder {
    /// The I/O thread's name (default `rig-io`).
    ///
    /// # Examples
    ///
    /// See [`EngineConfigBuilder`].
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.config.thread_name = name.into();
        self
    }

    /// Capacity of the command queue from user threads to the I/O thread.
    /// A full queue makes the calling thread wait (back-pressure on the
    /// user, never on the network).
    ///
    /// # Examples
    ///
    /// See [`EngineConfigBuilder`].
    pub fn command_capacity(mut self, capacity: usize) -> Self {
        self.config.command_capacity = capacity.max(1);
        self
    }

    /// Capacity, in messages, of each dispatcher worker's queue (the
    /// threads that run `on` callbacks); messages that do not fit are
    /// dropped and counted.
    ///
    /// # Examples
    ///
    /// See [`EngineConfigBuilder`].
    pub fn dispatch_capacity(mut self, capacity: usize) -> Self {
        self.config.dispatch_capacity = capacity.max(1);
        self
    }

    /// How many `rig-dispatch-N` threads run `on` callbacks (at least one;
    /// default: available cores minus one, at least one). The handlers of
    /// a topic all run on one of them, chosen by a hash of the topic, so a
    /// topic's messages are handled in order and a slow handler only slows
    /// the topics that share its thread.
    ///
    /// # Examples
    ///
    /// See [`EngineConfig::dispatch_workers`].
    pub fn dispatch_workers(mut self, workers: usize) -> Self {
        self.config.dispatch_workers = workers.max(1);
        self
    }

    /// Capacity of each [`Subscription`](crate::engine::Subscription) queue (its
    /// slots are allocated as messages arrive, 31 at a time).
    ///
    /// # Examples
    ///
    /// See [`EngineConfig`].
    pub fn subscription_capacity(mut self, capacity: usize) -> Self {
        self.config.subscription_capacity = capacity.max(1);
        self
    }

    /// Capacity of each status stream ([`Socket::status`](crate::engine::Socket::status)).
    ///
    /// # Examples
    ///
    /// See [`EngineConfigBuilder`].
    pub fn status_capacity(mut self, capacity: usize) -> Self {
        self.config.status_capacity = capacity.max(1);
        self
    }

    /// What subscription queues and `on` handlers' queues do when full
    /// (unless they pick their own: [`Channel::subscribe_with`](crate::engine::Channel::subscribe_with)).
    ///
    /// # Examples
    ///
    /// See [`EngineConfig`].
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.config.overflow = overflow;
        self
    }

    /// How long [`Engine::shutdown`](crate::engine::Engine::shutdown) waits for the
    /// threads (close handshakes included).
    ///
    /// # Examples
    ///
    /// See [`EngineConfigBuilder`].
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// The TLS connector for `wss://` sockets that do not bring their own
    /// (default: bundled Mozilla roots, loaded at the first `wss://` socket).
    ///
    /// # Examples
    ///
    /// ```
    /// let tls = rig::transport::TlsConfig::new().build()?;
    /// let _config = rig::engine::EngineConfig::builder().tls(tls).build();
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    pub fn tls(mut self, tls: TlsConnector) -> Self {
        self.config.tls = Some(tls);
        self
    }

    /// The config.
    ///
    /// # Examples
    ///
    /// See [`EngineConfigBuilder`].
    #[must_use]
    pub fn build(self) -> EngineConfig {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::super::command::Command;
    use super::super::ids::SubKey;
    use super::super::status::Status;
    use super::*;
    use crate::protocol::Message;

    const KIB: usize = 1024;

    /// The figures in `EngineConfig::builder`'s docs: a crossbeam list
    /// slot is the value plus an `AtomicUsize` state, in blocks of 31; a
    /// dispatcher batch entry is `(SubKey, Message)`.
    #[test]
    fn default_queues_stay_under_a_mebibyte_each() {
        let config = EngineConfig::default();
        let stamp = size_of::<usize>();
        let command = config.command_capacity * (size_of::<Command>() + stamp);
        let dispatch = config.dispatch_capacity * size_of::<(SubKey, Message)>();
        let subscription = config.subscription_capacity * (size_of::<Message>() + stamp);
        let status = config.status_capacity * (size_of::<Status>() + stamp);
        for (name, bytes) in [
            ("command", command),
            ("dispatch", dispatch),
            ("subscription", subscription),
            ("status", status),
        ] {
            assert!(bytes <= 1024 * KIB, "{name} queue: {} KiB", bytes / KIB);
        }
        assert_eq!(
            [command, dispatch, subscription, status].map(|b| b / KIB),
            [544, 896, 224, 64],
            "update the table in EngineConfig::builder"
        );
        let block = |slot: usize| 31 * (slot + stamp) * 10 / KIB;
        assert_eq!(
            [block(size_of::<Message>()), block(size_of::<Status>())],
            [67, 19],
            "update the block sizes in EngineConfig::builder (in tenths of KiB)"
        );
    }
}
