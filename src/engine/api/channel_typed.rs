//! [`Channel::on_decoded`]: an event handler that gets the payload already
//! read into the application's type, on the dispatcher worker (the JSON is
//! parsed there, never on rig-io).

use bytestring::ByteString;
use serde::de::DeserializeOwned;

use super::channel::Channel;
use super::subscription::Binding;
use crate::engine::shared::error::EngineError;
use crate::protocol::PayloadError;

impl Channel {
    /// Calls `handler` with the payload of every `event` message read into
    /// `T`, or the [`PayloadError`] saying why it does not fit (the event
    /// and topic, serde's message, line and column). Runs like
    /// [`on`](Self::on): on the topic's dispatcher worker, in order. For a
    /// `T` that borrows from the frame, use [`on`](Self::on) and
    /// [`Message::decode`](crate::protocol::Message::decode).
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::protocol::Payload;
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # socket.connect()?;
    /// #[derive(serde::Deserialize)]
    /// struct Shout { text: String }
    ///
    /// let room = socket.channel("room:lobby", Payload::empty())?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// room.on_decoded("shout", move |shout: Result<Shout, _>| {
    ///     let _ = tx.send(shout.map(|s| s.text));
    /// })?;
    /// room.join().wait()?;
    /// room.send("shout", Payload::json(r#"{"text":"hi"}"#))?;
    /// room.send("shout", Payload::json(r#"{"text":1}"#))?;
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(5))?, Ok("hi".to_owned()));
    /// let err = rx.recv_timeout(Duration::from_secs(5))?.unwrap_err();
    /// assert!(err.to_string().starts_with(r#"event "shout" on room:lobby: invalid type"#), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_decoded<T: DeserializeOwned>(
        &self,
        event: impl Into<ByteString>,
        mut handler: impl FnMut(Result<T, PayloadError>) + Send + 'static,
    ) -> Result<Binding, EngineError> {
        self.on(event, move |message| handler(message.decode()))
    }
}
