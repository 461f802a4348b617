//! Inline handlers: callbacks that run on the I/O loop itself
//! ([`Channel::on_inline`]), for an [`Invoker`](crate::engine::Invoker)'s
//! thread above all.

use bytestring::ByteString;

use super::channel::Channel;
use super::subscription::Binding;
use crate::engine::shared::command::{Command, EventFilter, Sink};
use crate::engine::shared::error::EngineError;
use crate::engine::shared::ids::SubKey;
use crate::protocol::Message;

impl Channel {
    /// Calls `handler` with every message whose event is `event`, on the
    /// engine's I/O loop itself, as the message is read: no queue, no
    /// wake-up, no copy (the message is borrowed). In order with the
    /// channel's other messages; a panic is caught and counted.
    ///
    /// Made for [invoker mode](crate::engine::Invoker), where the loop is
    /// the application's own thread. On a threaded engine it runs on
    /// `rig-io`. Either way the handler must not block: every socket of
    /// the engine waits while it runs (runs longer than
    /// [`EngineConfig::slow_handler`](crate::engine::EngineConfig::slow_handler)
    /// are counted in `EngineHealth::slow_handlers`). Inline handlers take
    /// no part in backpressure: they always run, whatever the channel's
    /// other consumers do.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`Invoker`](crate::engine::Invoker).
    pub fn on_inline(
        &self,
        event: impl Into<ByteString>,
        handler: impl FnMut(&Message) + Send + 'static,
    ) -> Result<Binding, EngineError> {
        self.bind_inline(EventFilter::Event(event.into()), handler)
    }

    /// [`on_inline`](Self::on_inline) for every message of the channel.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let (engine, _invoker) = rig::engine::Engine::start_invoker(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let binding = room.on_all_inline(|message| assert!(!message.topic.is_empty()))?;
    /// room.off(binding)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_all_inline(
        &self,
        handler: impl FnMut(&Message) + Send + 'static,
    ) -> Result<Binding, EngineError> {
        self.bind_inline(EventFilter::All, handler)
    }

    fn bind_inline(
        &self,
        filter: EventFilter,
        handler: impl FnMut(&Message) + Send + 'static,
    ) -> Result<Binding, EngineError> {
        let link = self.socket().link();
        let sub = SubKey(link.engine.keys.next());
        link.send(Command::Subscribe {
            socket: link.socket,
            channel: self.key(),
            sub,
            filter,
            sink: Sink::Inline(Box::new(handler)),
            overflow: self.default_overflow(),
        })?;
        Ok(Binding(sub))
    }
}
