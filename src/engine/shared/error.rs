//! The engine's own errors.

/// Why the engine could not do what was asked.
///
/// # Examples
///
/// ```
/// use rig::engine::EngineError;
/// assert_eq!(EngineError::Stopped.to_string(), "the engine has stopped");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The engine was shut down (or its I/O thread died): no command can
    /// reach it any more. Start a new [`Engine`](crate::engine::Engine).
    #[error("the engine has stopped")]
    Stopped,
    /// A thread could not be started, or `mio` could not create its poll
    /// or waker (the process is out of threads or file descriptors).
    #[error("cannot start the engine: {0}")]
    Start(#[from] std::io::Error),
    /// The socket options cannot work (bad endpoint).
    #[error("config: {0}")]
    Config(#[from] crate::protocol::ConfigError),
    /// `wss://` needs TLS roots and the default ones could not be loaded.
    #[error("tls: {0}")]
    Tls(crate::transport::Error),
    /// The socket's outbox refused: at [`Engine::socket`](crate::engine::Engine::socket),
    /// the file could not be opened ([`Corrupt`](crate::outbox::Error::Corrupt),
    /// [`Locked`](crate::outbox::Error::Locked), ...); at
    /// [`Channel::push_durable`](crate::engine::Channel::push_durable), the push was
    /// not accepted ([`Full`](crate::outbox::Error::Full) hands the payload
    /// back through [`into_payload`](crate::outbox::Error::into_payload),
    /// [`Payload`](crate::outbox::Error::Payload),
    /// [`Database`](crate::outbox::Error::Database)). Nothing accepted
    /// before is lost.
    #[error("outbox: {0}")]
    Outbox(#[from] crate::outbox::Error),
    /// [`Channel::push_durable`](crate::engine::Channel::push_durable) on a socket
    /// without an outbox: give one with
    /// [`SocketOptionsBuilder::outbox`](crate::engine::SocketOptionsBuilder::outbox).
    #[error("the socket has no outbox")]
    NoOutbox,
    /// [`Channel::send`](crate::engine::Channel::send) on a channel that is
    /// not joined: a message without a reply is never buffered. Wait for the
    /// join (or [`Channel::on_close`](crate::engine::Channel::on_close) /
    /// the status stream), or use [`Channel::push`](crate::engine::Channel::push),
    /// which waits for the join.
    #[error("send on {topic}: the channel is {state}, not joined (nothing was sent)")]
    NotJoined {
        /// The channel's topic.
        topic: String,
        /// Its state when the send was asked for.
        state: crate::protocol::ChannelState,
    },
}
