//! [`EngineConfig`]: the engine's threads and queues.

use std::time::Duration;

use crate::transport::TlsConnector;

/// What a bounded queue does when its consumer falls behind.
///
/// Whatever the policy, the I/O thread never blocks on a consumer and every
/// dropped message is counted (in [`SocketHealth::dropped`](super::SocketHealth)
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
    /// [`SocketHealth::pauses`](super::SocketHealth). Read a Block
    /// subscription through [`Subscription::recv_timeout`](super::Subscription::recv_timeout)
    /// or [`try_recv`](super::Subscription::try_recv): they wake the
    /// socket at once; a raw [`receiver`](super::Subscription::receiver) is
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

/// Settings of an [`Engine`](super::Engine): its threads and queues.
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
}

impl EngineConfig {
    /// A builder with the defaults: thread `rig-io`, command queue 65 536,
    /// callback queues 65 536 messages per dispatcher worker, one worker
    /// per core but one (at least one), subscriptions 1 024 messages each (slots are
    /// allocated up front), status
    /// streams 1 024 entries each, [`Overflow::DropNewest`], shutdown
    /// within 2 s, bundled Mozilla roots for `wss://`.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::engine::EngineConfig::builder().build();
    /// assert_eq!(config.thread_name(), "rig-io");
    /// ```
    pub fn builder() -> EngineConfigBuilder {
        EngineConfigBuilder {
            config: Self {
                thread_name: "rig-io".to_owned(),
                command_capacity: 1 << 16,
                dispatch_capacity: 1 << 16,
                dispatch_workers: default_dispatch_workers(),
                subscription_capacity: 1024,
                status_capacity: 1024,
                overflow: Overflow::DropNewest,
                shutdown_timeout: Duration::from_secs(2),
                tls: None,
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
    config: EngineConfig,
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

    /// Capacity of each [`Subscription`](super::Subscription) queue (its
    /// slots are allocated when it is created).
    ///
    /// # Examples
    ///
    /// See [`EngineConfig`].
    pub fn subscription_capacity(mut self, capacity: usize) -> Self {
        self.config.subscription_capacity = capacity.max(1);
        self
    }

    /// Capacity of each status stream ([`Socket::status`](super::Socket::status)).
    ///
    /// # Examples
    ///
    /// See [`EngineConfigBuilder`].
    pub fn status_capacity(mut self, capacity: usize) -> Self {
        self.config.status_capacity = capacity.max(1);
        self
    }

    /// What subscription queues and `on` handlers' queues do when full
    /// (unless they pick their own: [`Channel::subscribe_with`](super::Channel::subscribe_with)).
    ///
    /// # Examples
    ///
    /// See [`EngineConfig`].
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.config.overflow = overflow;
        self
    }

    /// How long [`Engine::shutdown`](super::Engine::shutdown) waits for the
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
