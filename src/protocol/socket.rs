//! Socket-level state: the connection lifecycle, refs, heartbeats.
//!
//! The transitions live in [`Session`](super::Session) (see its state
//! diagram); this module holds the state they act on, mirroring phoenix.js
//! `socket.js`.

use std::collections::VecDeque;
use std::fmt;

use bytestring::ByteString;

use super::message::Ref;
use crate::time::Instant;
use crate::timer::TimerKey;

/// The state of the session's transport (phoenix.js `connectionState()`).
///
/// # Examples
///
/// ```
/// use rig::protocol::SocketState;
/// assert_eq!(SocketState::Open.to_string(), "open");
/// assert!(SocketState::Open.is_connected());
/// assert!(!SocketState::Closing.is_connected());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SocketState {
    /// No transport. A reconnect may be scheduled.
    Closed,
    /// The driver is opening a transport ([`Session::wants_connect`](super::Session::wants_connect)).
    Connecting,
    /// The transport is open; frames flow.
    Open,
    /// The session asked the driver to close the transport and waits for
    /// [`Session::handle_close`](super::Session::handle_close).
    Closing,
}

impl SocketState {
    /// Whether frames can be sent now (phoenix.js `isConnected()`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rig::protocol::SocketState::Connecting.is_connected());
    /// ```
    #[must_use]
    pub fn is_connected(self) -> bool {
        self == Self::Open
    }

    /// The phoenix.js name: `closed`, `connecting`, `open` or `closing`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::SocketState::Closing.as_str(), "closing");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Connecting => "connecting",
            Self::Open => "open",
            Self::Closing => "closing",
        }
    }
}

impl fmt::Display for SocketState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the driver must open: the WebSocket URL and subprotocols.
///
/// # Examples
///
/// ```
/// use rig::protocol::{Session, SessionConfig};
/// let (clock, _mock) = rig::time::Clock::mock();
/// let config = SessionConfig::builder("ws://127.0.0.1:4000/socket")
///     .params([("token", "secret")])
///     .auth_token("ab")
///     .build()?;
/// let mut session = Session::new(config, clock.now());
/// session.connect(clock.now());
/// let request = session.wants_connect().expect("connecting");
/// assert_eq!(request.url(), "ws://127.0.0.1:4000/socket/websocket?token=secret&vsn=2.0.0");
/// assert_eq!(request.protocols(), ["phoenix", "base64url.bearer.phx.YWI"]);
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
///
/// `Debug` hides the secrets of the URL and the token subprotocol.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    pub(crate) url: String,
    pub(crate) protocols: Vec<String>,
    pub(crate) attempt: u32,
    pub(crate) generation: u64,
}

impl fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let protocols: Vec<_> =
            self.protocols.iter().map(|p| crate::redact::subprotocol(p)).collect();
        f.debug_struct("ConnectRequest")
            .field("url", &crate::redact::url(&self.url))
            .field("protocols", &protocols)
            .field("attempt", &self.attempt)
            .field("generation", &self.generation)
            .finish()
    }
}

impl ConnectRequest {
    /// The full URL: `<endpoint>/websocket?<params>&vsn=<vsn>`.
    ///
    /// # Examples
    ///
    /// See [`ConnectRequest`].
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `Sec-WebSocket-Protocol` values; empty without an auth token.
    ///
    /// # Examples
    ///
    /// See [`ConnectRequest`].
    #[must_use]
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// 0 for a connect the user asked for, n for the n-th automatic reconnect.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::protocol::{Session, SessionConfig};
    /// # let (clock, _m) = rig::time::Clock::mock();
    /// # let mut s = Session::new(SessionConfig::builder("ws://h/s").build()?, clock.now());
    /// s.connect(clock.now());
    /// assert_eq!(s.wants_connect().map(|r| r.attempt()), Some(0));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// A number that grows with every connect, so a driver can tell a new
    /// request from the one it is already serving.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::protocol::{Session, SessionConfig};
    /// # let (clock, _m) = rig::time::Clock::mock();
    /// # let mut s = Session::new(SessionConfig::builder("ws://h/s").build()?, clock.now());
    /// s.connect(clock.now());
    /// assert_eq!(s.wants_connect().map(|r| r.generation()), Some(1));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// Makes refs: `"1"`, `"2"`, … and `"0"` after the counter cannot grow
/// (phoenix.js `makeRef`).
#[derive(Clone, Debug, Default)]
pub(crate) struct RefCounter {
    last: u64,
}

impl RefCounter {
    pub(crate) fn next(&mut self) -> Ref {
        self.last = self.last.checked_add(1).unwrap_or(0);
        Ref::from_u64(self.last)
    }

    /// Moves the counter (tests reach the wrap-around this way).
    #[cfg(test)]
    pub(crate) fn set(&mut self, last: u64) {
        self.last = last;
    }
}

/// What to do once the transport the session asked to close is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterClose {
    /// Stay closed (explicit disconnect).
    Stay,
    /// Schedule a reconnect with backoff (heartbeat timeout).
    Reconnect,
    /// Connect at once (`connect()` was called during the teardown).
    ConnectNow,
}

/// The heartbeat and ping bookkeeping of one connection.
#[derive(Debug, Default)]
pub(crate) struct Heartbeat {
    /// The unanswered heartbeat: its ref and when it was sent.
    pub(crate) pending: Option<(Ref, Instant)>,
    /// The next heartbeat.
    pub(crate) timer: Option<TimerKey>,
    /// The deadline of the pending heartbeat.
    pub(crate) deadline: Option<TimerKey>,
    /// Unanswered [`Session::ping`](super::Session::ping)s, oldest first.
    pub(crate) pings: VecDeque<(Ref, Instant)>,
}

/// Pings kept waiting for a reply; older ones are forgotten.
pub(crate) const MAX_PINGS: usize = 32;

/// The close code for a normal closure (no reconnect follows it).
///
/// # Examples
///
/// ```
/// use rig::protocol::{CLOSE_NORMAL, Session, SessionConfig};
/// let (clock, _m) = rig::time::Clock::mock();
/// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
/// s.connect(clock.now());
/// s.handle_open(clock.now());
/// s.handle_close(clock.now(), Some(CLOSE_NORMAL), "");
/// assert_eq!(s.poll_timeout(), None);
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
pub const CLOSE_NORMAL: u16 = 1000;

/// The reason sent with the close after a missed heartbeat.
pub(crate) fn heartbeat_timeout_reason() -> ByteString {
    ByteString::from_static("heartbeat timeout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_count_from_one_and_wrap_to_zero() {
        let mut refs = RefCounter::default();
        assert_eq!(refs.next().as_str(), "1");
        assert_eq!(refs.next().as_str(), "2");
        refs.set(u64::MAX);
        assert_eq!(refs.next().as_str(), "0");
        assert_eq!(refs.next().as_str(), "1");
    }
}
