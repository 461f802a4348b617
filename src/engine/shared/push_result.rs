//! How a push resolves ([`PushResult`], [`PushError`]): rig-io and the
//! dispatcher workers produce it, a [`Push`](crate::engine::Push) handle
//! hands it to the user.

use crate::protocol::{AbandonReason, Reply, SessionError};

/// The outcome of a push: `Ok` with the server's `ok` reply, or why it did
/// not succeed. A reply with any other status (`error`, or one a server
/// chose) is an `Err` too ([`PushError::Reply`], the reply inside), so `?`
/// on a refused join stops there.
///
/// # Examples
///
/// ```
/// use rig::engine::{PushError, PushResult};
/// use rig::protocol::{Payload, Reply};
///
/// let refused: PushResult = Err(PushError::Reply(Box::new(Reply::new("error", Payload::json(r#"{"reason":"forbidden"}"#)))));
/// assert_eq!(refused.unwrap_err().reply().map(|r| &*r.status), Some("error"));
/// ```
pub type PushResult = Result<Reply, PushError>;

/// Why a push did not succeed: the server answered with another status
/// than `ok`, or there is no reply at all.
///
/// # Examples
///
/// ```
/// assert_eq!(rig::engine::PushError::Timeout.to_string(), "no reply within the push timeout");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The server answered with a status other than `ok` (phoenix.js
    /// `receive("error", ..)`): a refused join (`{"reason":"unauthorized"}`),
    /// a handler's `{:reply, {:error, ..}, socket}`. The reply is kept
    /// (boxed, so a `PushResult` stays small); not retried, since asking
    /// again would get the same answer.
    #[error("the server replied {}: {}", .0.status, ResponseText(&.0.response))]
    Reply(Box<Reply>),
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

impl PushError {
    /// The server's reply when it answered with another status than `ok`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::engine::PushError;
    /// use rig::protocol::{Payload, Reply};
    /// let err = PushError::Reply(Box::new(Reply::new("error", Payload::json("{}"))));
    /// assert!(err.reply().is_some_and(|r| !r.is_ok()));
    /// assert!(PushError::Timeout.reply().is_none());
    /// ```
    #[must_use]
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            Self::Reply(reply) => Some(reply),
            _ => None,
        }
    }

    /// Whether no reply came within the push timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::engine::PushError::Timeout.is_timeout());
    /// ```
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout)
    }
}

/// A reply as an outcome: `ok` succeeds, any other status is an error.
pub(crate) fn outcome_of(reply: Reply) -> PushResult {
    if reply.is_ok() { Ok(reply) } else { Err(PushError::Reply(Box::new(reply))) }
}

/// A response in an error message: JSON as text, binary as a length.
struct ResponseText<'a>(&'a crate::protocol::Payload);

impl std::fmt::Display for ResponseText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_json() {
            Some(text) => f.write_str(text),
            None => write!(f, "<binary response>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Payload;

    #[test]
    fn only_an_ok_reply_succeeds() {
        assert!(outcome_of(Reply::new("ok", Payload::empty())).is_ok());
        let refused = outcome_of(Reply::new("error", Payload::json(r#"{"reason":"forbidden"}"#)));
        let err = refused.unwrap_err();
        assert_eq!(err.reply().map(|r| &*r.status), Some("error"));
        assert_eq!(err.to_string(), r#"the server replied error: {"reason":"forbidden"}"#);
        assert!(outcome_of(Reply::new("later", Payload::empty())).is_err());
    }
}
