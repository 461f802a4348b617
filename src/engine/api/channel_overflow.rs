//! Consumers that pick their own [`Overflow`] policy instead of the
//! engine's ([`EngineConfig::overflow`](crate::engine::EngineConfig::overflow)).

use bytestring::ByteString;

use super::channel::Channel;
use super::subscription::{Binding, Subscription};
use crate::engine::shared::command::EventFilter;
use crate::engine::shared::config::Overflow;
use crate::engine::shared::error::EngineError;
use crate::protocol::Message;

impl Channel {
    /// The engine's policy, for consumers that do not pick their own.
    pub(crate) fn default_overflow(&self) -> Overflow {
        self.socket().link().engine.config.overflow
    }

    /// [`subscribe`](Self::subscribe) with this subscription's own
    /// overflow policy: e.g. one [`Overflow::Block`] subscription that must
    /// see everything beside a [`Overflow::DropOldest`] one that only wants
    /// the latest state, on one engine.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::engine::Overflow;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let every_trade = room.subscribe_with("trade", Overflow::Block)?;
    /// let latest_quote = room.subscribe_with("quote", Overflow::DropOldest)?;
    /// assert_eq!((every_trade.dropped(), latest_quote.dropped()), (0, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe_with(
        &self,
        event: impl Into<ByteString>,
        overflow: Overflow,
    ) -> Result<Subscription, EngineError> {
        self.subscribe_filter(EventFilter::Event(event.into()), overflow)
    }

    /// [`subscribe_all`](Self::subscribe_all) with this subscription's own
    /// overflow policy.
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
    /// let all = room.subscribe_all_with(rig::engine::Overflow::Block)?;
    /// assert!(all.try_recv().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe_all_with(&self, overflow: Overflow) -> Result<Subscription, EngineError> {
        self.subscribe_filter(EventFilter::All, overflow)
    }

    /// [`on`](Self::on) with this handler's own overflow policy, applied
    /// when its dispatcher worker's queue is full. For a handler
    /// [`Overflow::DropOldest`] acts as [`Overflow::DropNewest`]: the
    /// worker's queue is shared with other topics' handlers, so nothing
    /// already queued is taken back.
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
    /// let binding = room.on_with("trade", rig::engine::Overflow::Block, |_| {})?;
    /// room.off(binding)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_with(
        &self,
        event: impl Into<ByteString>,
        overflow: Overflow,
        handler: impl FnMut(&Message) + Send + 'static,
    ) -> Result<Binding, EngineError> {
        self.bind(EventFilter::Event(event.into()), overflow, handler)
    }
}
