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
    /// reach it any more. Start a new [`Engine`](super::Engine).
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
}
