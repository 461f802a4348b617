//! What a socket tells its user: the [`Status`] stream and the
//! [`ConnectionState`] of the health snapshot.

use std::fmt;
use std::sync::Arc;

use bytestring::ByteString;

use super::failure::ConnectionError;
use crate::protocol::{ChannelState, CloseReason, ErrorCause};
use crate::time::Instant;

/// One entry of a socket's status stream ([`Socket::status`](crate::engine::Socket::status)),
/// in the order things happened.
///
/// # Examples
///
/// ```
/// use rig::engine::Status;
/// let s = Status::Connecting { attempt: 0 };
/// assert_eq!(s.to_string(), "connecting");
/// assert_eq!(Status::Open.to_string(), "open");
/// let drops = Status::Dropped { subscription: None, topic: String::new(), count: 3 };
/// assert_eq!(drops.to_string(), "dropped 3 messages (channel consumers)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// A connect attempt started (`attempt` 0 = asked for, n = n-th reconnect).
    Connecting {
        /// The reconnect attempt.
        attempt: u32,
    },
    /// The WebSocket is open.
    Open,
    /// The connection is gone (`code` from the close frame, if any).
    Closed {
        /// The close code.
        code: Option<u16>,
        /// The close reason.
        reason: String,
    },
    /// A connect attempt or an open connection failed.
    Failed {
        /// What failed.
        error: ConnectionError,
    },
    /// The server refused the credentials (HTTP 401/403). Not retried
    /// unless [`SocketOptionsBuilder::retry_refused`](crate::engine::SocketOptionsBuilder::retry_refused).
    AuthFailed {
        /// The HTTP status.
        status: u16,
    },
    /// The next connect attempt starts at `until`.
    WaitingToReconnect {
        /// When.
        until: Instant,
        /// The attempt number (from 1).
        attempt: u32,
    },
    /// `max_reconnect_attempts` reconnects failed in a row; the socket
    /// stays closed until [`Socket::connect`](crate::engine::Socket::connect).
    GaveUp {
        /// How many reconnects were tried.
        attempts: u32,
    },
    /// A channel changed state.
    Channel {
        /// The channel.
        channel: ChannelRef,
        /// What happened.
        change: ChannelChange,
    },
    /// Consumers of this socket lost messages because they (or the
    /// dispatcher worker before them) were full. Coalesced: at most one
    /// entry per consumer per second, with the count since its previous
    /// entry; the counts add up to the drops in the health.
    Dropped {
        /// The filter subscription that lost them, or `None` for the
        /// socket's channel consumers (`Channel::subscribe`, `Channel::on`).
        subscription: Option<crate::filter::SubscriptionId>,
        /// The filter's topic pattern (empty for channel consumers).
        topic: String,
        /// Messages lost since the previous entry about this consumer.
        count: u64,
    },
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connecting { attempt: 0 } => f.write_str("connecting"),
            Self::Connecting { attempt } => write!(f, "reconnecting (attempt {attempt})"),
            Self::Open => f.write_str("open"),
            Self::Closed { code: Some(code), reason } if reason.is_empty() => {
                write!(f, "closed ({code})")
            }
            Self::Closed { code: Some(code), reason } => write!(f, "closed ({code} {reason})"),
            Self::Closed { code: None, .. } => f.write_str("closed"),
            Self::Failed { error } => write!(f, "failed: {error}"),
            Self::AuthFailed { status } => write!(f, "authentication failed (HTTP {status})"),
            Self::WaitingToReconnect { attempt, .. } => {
                write!(f, "waiting to reconnect (attempt {attempt})")
            }
            Self::GaveUp { attempts } => write!(f, "gave up after {attempts} reconnects"),
            Self::Channel { channel, change } => write!(f, "{}: {change}", channel.topic()),
            Self::Dropped { subscription: Some(id), topic, count } => {
                write!(f, "dropped {count} messages ({id} {topic})")
            }
            Self::Dropped { subscription: None, count, .. } => {
                write!(f, "dropped {count} messages (channel consumers)")
            }
        }
    }
}

/// Which channel a [`Status::Channel`] is about.
///
/// # Examples
///
/// ```
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
/// # let engine = rig::engine::Engine::start(Default::default())?;
/// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
/// let channel = socket.channel("room:a", rig::protocol::Payload::empty())?;
/// assert_eq!(channel.channel_ref().topic(), "room:a");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ChannelRef {
    /// Shared: a status entry carries a reference, and every slot of a
    /// status queue is as large as its largest entry (8 bytes, not 40).
    inner: Arc<(u64, ByteString)>,
}

impl fmt::Debug for ChannelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelRef").field("id", &self.id()).field("topic", &self.topic()).finish()
    }
}

impl ChannelRef {
    pub(crate) fn new(id: u64, topic: ByteString) -> Self {
        Self { inner: Arc::new((id, topic)) }
    }

    /// The topic, as the engine keeps it.
    pub(crate) fn topic_string(&self) -> &ByteString {
        &self.inner.1
    }

    /// The topic.
    ///
    /// # Examples
    ///
    /// See [`ChannelRef`].
    #[must_use]
    pub fn topic(&self) -> &str {
        &self.inner.1
    }

    /// A number unique within the engine (two channels on one topic differ).
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// let a = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let b = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// assert_ne!(a.channel_ref().id(), b.channel_ref().id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> u64 {
        self.inner.0
    }
}

/// What happened to a channel.
///
/// # Examples
///
/// ```
/// use rig::engine::ChannelChange;
/// use rig::protocol::ChannelState;
/// let c = ChannelChange::State { from: ChannelState::Joining, to: ChannelState::Joined };
/// assert_eq!(c.to_string(), "joining -> joined");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelChange {
    /// A state transition.
    State {
        /// Before.
        from: ChannelState,
        /// Now.
        to: ChannelState,
    },
    /// The channel errored (a rejoin follows). Boxed: every slot of a
    /// status queue is as large as its largest entry.
    Error(Box<ErrorCause>),
    /// The channel closed for good.
    Closed(CloseReason),
}

impl fmt::Display for ChannelChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::State { from, to } => write!(f, "{from} -> {to}"),
            Self::Error(cause) => write!(f, "error: {cause}"),
            Self::Closed(reason) => write!(f, "closed: {reason}"),
        }
    }
}

/// Where a socket's connection stands (part of [`SocketHealth`](crate::engine::SocketHealth)).
///
/// # Examples
///
/// ```
/// assert_eq!(rig::engine::ConnectionState::default(), rig::engine::ConnectionState::Idle);
/// assert_eq!(rig::engine::ConnectionState::AuthFailed.to_string(), "auth failed");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Not connected and not trying (never connected, or disconnected).
    #[default]
    Idle,
    /// A connect attempt is under way.
    Connecting,
    /// Connected.
    Open,
    /// Closing the connection.
    Closing,
    /// Waiting for the next reconnect attempt.
    WaitingToReconnect,
    /// The server refused the credentials; waiting for `connect()`.
    AuthFailed,
    /// Stopped after an error that retrying cannot fix (certificate, bad
    /// URL); waiting for `connect()`.
    Failed,
    /// Gave up after `max_reconnect_attempts`; waiting for `connect()`.
    GaveUp,
}

impl ConnectionState {
    const ALL: [Self; 8] = [
        Self::Idle,
        Self::Connecting,
        Self::Open,
        Self::Closing,
        Self::WaitingToReconnect,
        Self::AuthFailed,
        Self::Failed,
        Self::GaveUp,
    ];

    pub(crate) fn to_u8(self) -> u8 {
        Self::ALL.iter().position(|s| *s == self).and_then(|i| u8::try_from(i).ok()).unwrap_or(0)
    }

    pub(crate) fn from_u8(n: u8) -> Self {
        Self::ALL.get(usize::from(n)).copied().unwrap_or_default()
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Idle => "idle",
            Self::Connecting => "connecting",
            Self::Open => "open",
            Self::Closing => "closing",
            Self::WaitingToReconnect => "waiting to reconnect",
            Self::AuthFailed => "auth failed",
            Self::Failed => "failed",
            Self::GaveUp => "gave up",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_survive_the_atomic_round_trip() {
        for state in ConnectionState::ALL {
            assert_eq!(ConnectionState::from_u8(state.to_u8()), state);
        }
    }

    #[test]
    fn closed_reads_without_a_dangling_space_when_the_reason_is_empty() {
        let closed = |reason: &str| Status::Closed { code: Some(1001), reason: reason.into() };
        assert_eq!(closed("").to_string(), "closed (1001)");
        assert_eq!(closed("going away").to_string(), "closed (1001 going away)");
    }

    #[test]
    fn channel_changes_read_as_sentences_not_debug_dumps() {
        use crate::protocol::{CloseReason, ErrorCause, Payload, TransportReason};
        let error = |cause| ChannelChange::Error(Box::new(cause)).to_string();
        assert_eq!(
            error(ErrorCause::Transport(TransportReason::ConnectionClosed)),
            "error: transport connection_closed"
        );
        assert_eq!(
            error(ErrorCause::Server { payload: Payload::json(r#"{"reason":"boom"}"#) }),
            r#"error: crashed on the server {"reason":"boom"}"#
        );
        assert_eq!(
            error(ErrorCause::JoinRejected {
                status: "error".into(),
                response: Payload::json(r#"{"reason":"unauthorized"}"#),
            }),
            r#"error: join refused (error) {"reason":"unauthorized"}"#
        );
        assert_eq!(error(ErrorCause::JoinTimeout), "error: join timed out");
        assert_eq!(
            ChannelChange::Closed(CloseReason::Closed).to_string(),
            "closed: closed by the server"
        );
    }
}
