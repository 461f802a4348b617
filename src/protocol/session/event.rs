//! What the session reports: [`Event`] and the types it carries.

use std::time::Duration;

use bytestring::ByteString;

use super::ids::{ChannelId, PushId};
use crate::protocol::channel::ChannelState;
use crate::protocol::error::{DecodeError, EncodeError};
use crate::protocol::message::{Message, Payload};
use crate::protocol::reply::Reply;
use crate::time::Instant;

/// Something the driver or the user must learn about, from
/// [`Session::poll_event`](super::Session::poll_event).
///
/// # Examples
///
/// ```
/// use rig::protocol::{Event, Session, SessionConfig, SocketState};
/// let (clock, _m) = rig::time::Clock::mock();
/// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
/// s.connect(clock.now());
/// assert_eq!(s.poll_event(), Some(Event::Connecting { attempt: 0 }));
/// s.handle_open(clock.now());
/// assert_eq!(s.poll_event(), Some(Event::Open));
/// assert_eq!(s.state(), SocketState::Open);
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Event {
    /// The session wants a transport: [`Session::wants_connect`](super::Session::wants_connect)
    /// has the URL. `attempt` is 0 for a connect the user asked for, n for
    /// the n-th automatic reconnect.
    Connecting {
        /// The reconnect attempt (0 = not a reconnect).
        attempt: u32,
    },
    /// The transport is open; buffered frames were queued for sending.
    Open,
    /// **Action for the driver**: write out the frames already queued, close
    /// the transport with this code and reason, then call
    /// [`Session::handle_close`](super::Session::handle_close) (also when no
    /// transport was open yet).
    CloseTransport {
        /// The WebSocket close code (1000 for a normal close and for a
        /// heartbeat timeout, as phoenix.js).
        code: u16,
        /// The close reason, e.g. `heartbeat timeout`.
        reason: ByteString,
    },
    /// The transport is gone.
    Closed {
        /// The close code, if a close frame was received.
        code: Option<u16>,
        /// The close reason.
        reason: ByteString,
    },
    /// The session will reconnect at `at` (phoenix.js `reconnectTimer`).
    ReconnectScheduled {
        /// When [`Session::handle_timeout`](super::Session::handle_timeout) will start the reconnect.
        at: Instant,
        /// The attempt number (from 1).
        attempt: u32,
    },
    /// `max_reconnect_attempts` reconnects failed in a row; the session stays
    /// closed until [`Session::connect`](super::Session::connect).
    ReconnectGaveUp {
        /// How many reconnects were tried.
        attempts: u32,
    },
    /// The driver reported a transport failure (phoenix.js `onError`).
    TransportError {
        /// What failed.
        error: TransportError,
        /// How many connections this session had opened before (phoenix.js
        /// `establishedConnections`).
        established: u64,
    },
    /// A heartbeat or ping was answered.
    Rtt {
        /// The time from sending to the reply.
        rtt: Duration,
        /// Which kind of round trip.
        kind: RttKind,
    },
    /// A received frame could not be decoded; it was dropped and counted.
    DecodeError(DecodeError),
    /// A channel changed state.
    ChannelState {
        /// The channel.
        channel: ChannelId,
        /// The state before.
        from: ChannelState,
        /// The state now.
        to: ChannelState,
    },
    /// A server message for a channel (a push or broadcast). Only the channel
    /// the message belongs to gets it (topic match, and no stale join_ref).
    Message {
        /// The channel.
        channel: ChannelId,
        /// The message, exactly as decoded (the payload is untouched).
        message: Message,
    },
    /// A push was answered: it is resolved.
    Reply {
        /// The push.
        push: PushId,
        /// Its channel.
        channel: ChannelId,
        /// The reply (`ok`, `error`, …).
        reply: Reply,
    },
    /// A push got no reply within its timeout: it is resolved.
    PushTimeout {
        /// The push.
        push: PushId,
        /// Its channel.
        channel: ChannelId,
    },
    /// A push will never resolve otherwise: it is resolved.
    PushAbandoned {
        /// The push.
        push: PushId,
        /// Its channel.
        channel: ChannelId,
        /// Why.
        reason: AbandonReason,
    },
    /// A channel went to [`ChannelState::Errored`]; a rejoin follows.
    ChannelError {
        /// The channel.
        channel: ChannelId,
        /// Why.
        cause: ErrorCause,
    },
    /// A channel closed for good and left the session.
    ChannelClosed {
        /// The channel.
        channel: ChannelId,
        /// Why.
        reason: CloseReason,
    },
}

/// A transport failure, as the driver reports it to
/// [`Session::handle_error`](super::Session::handle_error).
///
/// # Examples
///
/// ```
/// use rig::protocol::TransportError;
/// assert_eq!(TransportError::failed("connection reset").to_string(), "transport failed: connection reset");
/// assert!(TransportError::refused(403).is_refused());
/// ```
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Connecting failed, or the connection broke (I/O, TLS, handshake). The
    /// session reconnects with backoff.
    #[error("transport failed: {reason}")]
    Failed {
        /// What the driver saw.
        reason: ByteString,
    },
    /// The server refused the WebSocket upgrade (e.g. HTTP 403 from a
    /// `connect/3` that rejects the params). Retrying cannot help: the
    /// session stays closed until [`Session::connect`](super::Session::connect).
    #[error("connection refused with HTTP {status}")]
    Refused {
        /// The HTTP status of the upgrade response.
        status: u16,
    },
}

impl TransportError {
    /// A [`TransportError::Failed`].
    ///
    /// # Examples
    ///
    /// ```
    /// let e = rig::protocol::TransportError::failed("eof");
    /// assert!(!e.is_refused());
    /// ```
    pub fn failed(reason: impl Into<ByteString>) -> Self {
        Self::Failed { reason: reason.into() }
    }

    /// A [`TransportError::Refused`].
    ///
    /// # Examples
    ///
    /// ```
    /// let e = rig::protocol::TransportError::refused(403);
    /// assert_eq!(e.to_string(), "connection refused with HTTP 403");
    /// ```
    #[must_use]
    pub fn refused(status: u16) -> Self {
        Self::Refused { status }
    }

    /// Whether the server refused the connection.
    ///
    /// # Examples
    ///
    /// See [`TransportError::refused`].
    #[must_use]
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Refused { .. })
    }
}

/// Which round trip an [`Event::Rtt`] measured.
///
/// # Examples
///
/// ```
/// assert_ne!(rig::protocol::RttKind::Heartbeat, rig::protocol::RttKind::Ping);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum RttKind {
    /// The periodic heartbeat.
    Heartbeat,
    /// A [`Session::ping`](super::Session::ping).
    Ping,
}

/// Why a channel became errored.
///
/// # Examples
///
/// ```
/// use rig::protocol::{ErrorCause, TransportReason};
/// let cause = ErrorCause::Transport(TransportReason::HeartbeatTimeout);
/// assert_eq!(cause.to_payload().as_json(), Some(r#"{"source":"transport","reason":"heartbeat_timeout"}"#));
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ErrorCause {
    /// The server sent `phx_error` (the channel process crashed).
    Server {
        /// The `phx_error` payload.
        payload: Payload,
    },
    /// The connection failed under the channel.
    Transport(TransportReason),
    /// The server answered the join with a non-`ok` status.
    JoinRejected {
        /// The reply's status, e.g. `error`.
        status: ByteString,
        /// The reply's response, e.g. `{"reason":"unauthorized"}`.
        response: Payload,
    },
    /// The join got no reply within its timeout (a `phx_leave` was sent).
    JoinTimeout,
}

impl ErrorCause {
    /// The payload phoenix.js hands to `onError` callbacks: the server's
    /// payload, `{"source":"transport","reason":…}` for transport failures,
    /// the join response, or `{"reason":"timeout"}`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{ErrorCause, Payload};
    /// let c = ErrorCause::Server { payload: Payload::json(r#"{"reason":"boom"}"#) };
    /// assert_eq!(c.to_payload().as_json(), Some(r#"{"reason":"boom"}"#));
    /// ```
    #[must_use]
    pub fn to_payload(&self) -> Payload {
        match self {
            Self::Server { payload } => payload.clone(),
            Self::Transport(reason) => {
                Payload::json(format!(r#"{{"source":"transport","reason":"{}"}}"#, reason.as_str()))
            }
            Self::JoinRejected { response, .. } => response.clone(),
            Self::JoinTimeout => Payload::json(r#"{"reason":"timeout"}"#),
        }
    }
}

impl std::fmt::Display for ErrorCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Server { payload } => write!(f, "crashed on the server {payload:?}"),
            Self::Transport(reason) => write!(f, "transport {}", reason.as_str()),
            Self::JoinRejected { status, response } => {
                write!(f, "join refused ({}) {response:?}", &**status)
            }
            Self::JoinTimeout => f.write_str("join timed out"),
        }
    }
}

/// The `reason` of a transport-caused channel error (phoenix.js
/// `triggerChanError`).
///
/// # Examples
///
/// ```
/// assert_eq!(rig::protocol::TransportReason::ConnectionClosed.as_str(), "connection_closed");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum TransportReason {
    /// A heartbeat went unanswered.
    HeartbeatTimeout,
    /// The transport closed.
    ConnectionClosed,
    /// The transport reported an error.
    ConnectionError,
}

impl TransportReason {
    /// The phoenix.js reason string.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::TransportReason::HeartbeatTimeout.as_str(), "heartbeat_timeout");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HeartbeatTimeout => "heartbeat_timeout",
            Self::ConnectionClosed => "connection_closed",
            Self::ConnectionError => "connection_error",
        }
    }
}

/// Why a push was abandoned.
///
/// # Examples
///
/// ```
/// use rig::protocol::{AbandonReason, ErrorCause, Payload};
/// assert_ne!(AbandonReason::ChannelClosed, AbandonReason::ChannelRemoved);
/// let crashed = AbandonReason::ChannelError(ErrorCause::Server { payload: Payload::empty() });
/// assert_eq!(crashed.to_string(), "the channel crashed on the server");
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum AbandonReason {
    /// Its channel closed (left, or closed by the server) before a reply.
    ChannelClosed,
    /// Its channel was removed with [`Session::remove`](super::Session::remove).
    ChannelRemoved,
    /// The serializer could not encode it; it was never sent.
    Encode(EncodeError),
    /// It was sent, and then its channel errored: the channel crashed on
    /// the server (`phx_error`) or the connection went down. The channel
    /// process that would have replied is gone, so no reply can come; the
    /// push resolves at once instead of waiting for its timeout. The
    /// channel rejoins by itself; push again once it is joined if the push
    /// is safe to repeat.
    ChannelError(ErrorCause),
}

impl std::fmt::Display for AbandonReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ChannelClosed => f.write_str("the channel closed"),
            Self::ChannelRemoved => f.write_str("the channel was removed"),
            Self::Encode(e) => write!(f, "cannot be encoded: {e}"),
            Self::ChannelError(ErrorCause::Server { .. }) => {
                f.write_str("the channel crashed on the server")
            }
            Self::ChannelError(cause) => write!(f, "the channel errored: {cause}"),
        }
    }
}

/// Why a channel closed.
///
/// # Examples
///
/// ```
/// assert_ne!(rig::protocol::CloseReason::Left, rig::protocol::CloseReason::Closed);
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum CloseReason {
    /// [`Session::leave`](super::Session::leave) completed (reply or timeout).
    Left,
    /// The server sent `phx_close`.
    Closed,
    /// Another channel joined the same topic and the server closed this one.
    Superseded,
    /// The join was refused and join errors are fatal in the config.
    JoinRejected,
    /// [`Session::remove`](super::Session::remove) was called.
    Removed,
    /// The join frame cannot be encoded by the serializer.
    Unencodable(EncodeError),
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Left => f.write_str("left"),
            Self::Closed => f.write_str("closed by the server"),
            Self::Superseded => f.write_str("superseded by a newer join of the topic"),
            Self::JoinRejected => f.write_str("join refused"),
            Self::Removed => f.write_str("removed"),
            Self::Unencodable(e) => write!(f, "join cannot be encoded: {e}"),
        }
    }
}
