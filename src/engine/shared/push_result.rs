//! How a push resolves ([`PushResult`], [`PushError`]): rig-io and the
//! dispatcher workers produce it, a [`Push`](crate::engine::Push) handle
//! hands it to the user.

use crate::protocol::{AbandonReason, Reply, SessionError};

/// The outcome of a push: the server's reply (`ok`, `error`, …) or why
/// there is none.
pub type PushResult = Result<Reply, PushError>;

/// Why a push got no reply.
///
/// # Examples
///
/// ```
/// assert_eq!(rig::engine::PushError::Timeout.to_string(), "no reply within the push timeout");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// No reply within the push timeout (the socket's, or the one given).
    #[error("no reply within the push timeout")]
    Timeout,
    /// The push will never be answered: its channel closed or was removed,
    /// or it could not be encoded.
    #[error("abandoned: {0:?}")]
    Abandoned(AbandonReason),
    /// The session refused the command (push before join, join twice, …).
    #[error("rejected: {0}")]
    Rejected(SessionError),
    /// The channel is gone (closed, left or removed) on the I/O thread.
    #[error("the channel is closed or removed")]
    ChannelGone,
    /// The engine stopped before the push resolved.
    #[error("the engine has stopped")]
    EngineStopped,
    /// A durable push the socket's outbox dropped to make room for newer
    /// ones ([`FullPolicy::DropOldest`](crate::outbox::FullPolicy::DropOldest))
    /// before the server answered it.
    #[error("dropped from the outbox to make room")]
    Dropped,
}
