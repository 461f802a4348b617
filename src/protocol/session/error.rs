//! Errors of the session's commands and of its configuration.

use bytestring::ByteString;

use super::ids::ChannelId;
use crate::protocol::error::EncodeError;

/// A command the session refused.
///
/// None of these is fatal: the session is unchanged and goes on.
///
/// # Examples
///
/// ```
/// use rig::protocol::{Payload, Session, SessionConfig, SessionError};
/// let (clock, _m) = rig::time::Clock::mock();
/// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
/// let ch = s.channel("room:a", Payload::empty());
/// let err = s.push(clock.now(), ch, "shout", Payload::empty(), None).unwrap_err();
/// assert!(matches!(err, SessionError::NotJoined { .. }));
/// assert_eq!(err.to_string(), r#"push to "room:a" before join: call join first"#);
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The channel was removed or closed (closed channels leave the
    /// session), or the id belongs to another session. Create a new channel.
    #[error("unknown channel {channel} (closed or removed)")]
    UnknownChannel {
        /// The id that was given.
        channel: ChannelId,
    },
    /// `join` was called twice on one channel (phoenix.js throws). Rejoins are
    /// automatic; to join again after a close, create a new channel.
    #[error("channel {topic:?} was already joined: create a new channel to join again")]
    AlreadyJoined {
        /// The channel's topic.
        topic: ByteString,
    },
    /// A push on a channel that was never joined (phoenix.js throws).
    #[error("push to {topic:?} before join: call join first")]
    NotJoined {
        /// The channel's topic.
        topic: ByteString,
    },
    /// A push or leave on a channel that is leaving.
    #[error("channel {topic:?} is leaving")]
    Leaving {
        /// The channel's topic.
        topic: ByteString,
    },
    /// A [`send`](crate::protocol::Session::send) (no reply, never
    /// buffered) while the channel is not joined: the socket is down, or
    /// the channel is joining or waits to rejoin. Send again once joined,
    /// or use a push, which is buffered until then.
    #[error("channel {topic:?} is not joined right now: a message without a reply is not buffered")]
    Unavailable {
        /// The channel's topic.
        topic: ByteString,
    },
    /// The message cannot be written by the configured serializer (e.g. a
    /// binary frame field over 255 bytes). Nothing was sent.
    #[error("encode: {0}")]
    Encode(#[from] EncodeError),
}

/// A [`SessionConfig`](crate::protocol::SessionConfig) that cannot work.
///
/// # Examples
///
/// ```
/// use rig::protocol::{ConfigError, SessionConfig};
/// let err = SessionConfig::builder("http://h/socket").build().unwrap_err();
/// assert!(matches!(err, ConfigError::InvalidEndpoint { .. }));
/// ```
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The endpoint is not an absolute `ws://` or `wss://` URL with a host
    /// and without query or fragment. Pass connect params with `params`.
    #[error("endpoint {endpoint:?} {reason}")]
    InvalidEndpoint {
        /// The endpoint as given, with its userinfo hidden.
        endpoint: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}
