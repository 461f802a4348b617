//! Filter subscriptions on a [`Socket`]: topic patterns, event sets and
//! payload predicates over every channel of the socket, matched on the
//! dispatcher workers.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use parking_lot::Mutex;

use super::filter_subscription::{FilterBinding, FilterSubscription};
use super::socket::Socket;
use crate::engine::shared::config::Overflow;
use crate::engine::shared::error::EngineError;
use crate::engine::shared::filter_set::Membership;
use crate::engine::shared::filter_target::{FilterTarget, TargetShared, TargetSink};
use crate::filter::Filter;
use crate::protocol::Message;

impl Socket {
    /// A queue of the messages that `filter` wants, from every channel of
    /// this socket (joined with [`Socket::channel`]), with the engine's
    /// overflow policy and subscription capacity.
    ///
    /// Added and removed at run time from any thread without stalling
    /// delivery: the workers read an immutable table that each change
    /// replaces. Messages rig-io reads after this returns are matched
    /// against the filter.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`FilterSubscription`].
    pub fn subscribe_filter(&self, filter: Filter) -> Result<FilterSubscription, EngineError> {
        let config = &self.link().engine.config;
        self.subscribe_filter_with(filter, config.overflow, None)
    }

    /// [`subscribe_filter`](Self::subscribe_filter) with this
    /// subscription's own overflow policy and queue capacity (`None`: the
    /// engine's `subscription_capacity`; at least 1).
    ///
    /// With [`Overflow::Block`] nothing is lost: a dispatcher worker
    /// delivering to the full queue waits (other workers go on); once that
    /// worker's own queue is full, rig-io stops reading this socket until
    /// it has room, like a Block channel subscription. The waiting worker
    /// holds up the other topics it serves (of any socket), as a slow
    /// handler does; topics of the other workers go on. While a socket has
    /// a Block filter subscription, none of its filter subscriptions lose
    /// messages to a full worker.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::engine::Overflow;
    /// use rig::filter::Filter;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let every_trade = socket.subscribe_filter_with(Filter::topic("trades:*")?, Overflow::Block, Some(4096))?;
    /// let latest = socket.subscribe_filter_with(Filter::topic("quotes:*")?, Overflow::DropOldest, Some(1))?;
    /// assert_eq!((every_trade.dropped(), latest.dropped()), (0, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe_filter_with(
        &self,
        filter: Filter,
        overflow: Overflow,
        capacity: Option<usize>,
    ) -> Result<FilterSubscription, EngineError> {
        let config = &self.link().engine.config;
        let capacity = capacity.unwrap_or(config.subscription_capacity).max(1);
        // Memory only for what is queued; the bound is checked on send.
        let (tx, rx) = crossbeam_channel::unbounded();
        let own_rx = (overflow == Overflow::DropOldest).then(|| rx.clone());
        let sink = TargetSink::Queue { tx, own_rx };
        let member = self.add_filter(filter, overflow, sink, TargetShared::bounded(capacity))?;
        Ok(FilterSubscription { rx, member })
    }

    /// Calls `handler` with each message that `filter` wants, on the
    /// dispatcher worker of the message's topic (so a topic's messages in
    /// order), with the engine's overflow policy for the worker's queue.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`FilterBinding`].
    pub fn on_filter(
        &self,
        filter: Filter,
        handler: impl FnMut(&Message) + Send + 'static,
    ) -> Result<FilterBinding, EngineError> {
        let overflow = self.link().engine.config.overflow;
        self.on_filter_with(filter, overflow, handler)
    }

    /// [`on_filter`](Self::on_filter) with its own policy for a full
    /// dispatcher worker: [`Overflow::Block`] pauses the socket instead of
    /// losing a message; DropOldest acts as DropNewest (the worker's queue
    /// is shared, nothing queued is taken back).
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
    /// let filter = rig::filter::Filter::topic("audit:*")?;
    /// let binding = socket.on_filter_with(filter, rig::engine::Overflow::Block, |_| {})?;
    /// binding.remove()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_filter_with(
        &self,
        filter: Filter,
        overflow: Overflow,
        handler: impl FnMut(&Message) + Send + 'static,
    ) -> Result<FilterBinding, EngineError> {
        let overflow =
            if overflow == Overflow::DropOldest { Overflow::DropNewest } else { overflow };
        let sink = TargetSink::Callback(Mutex::new(Box::new(handler)));
        let shared = TargetShared::default();
        Ok(FilterBinding { member: self.add_filter(filter, overflow, sink, shared)? })
    }

    fn add_filter(
        &self,
        filter: Filter,
        overflow: Overflow,
        sink: TargetSink,
        shared: TargetShared,
    ) -> Result<Membership, EngineError> {
        if !self.link().engine.counters.io_alive.load(Relaxed) {
            return Err(EngineError::Stopped);
        }
        let shared = Arc::new(shared);
        let pattern = filter.topic_pattern().to_string().into_boxed_str();
        let target = FilterTarget { shared: Arc::clone(&shared), sink, overflow, pattern };
        let filters = Arc::clone(&self.inner.filters);
        let id = filters.add(filter, target);
        Ok(Membership { filters, id, shared, overflow, gone: false })
    }
}
