//! Channel-level state: one topic joined over the session's socket.
//!
//! The transitions live in [`Session`](super::Session) (see its channel
//! state diagram); this module holds the per-channel record, mirroring
//! phoenix.js `channel.js`.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use bytestring::ByteString;

use super::backoff::Retry;
use super::message::{Payload, Ref};
use super::session::PushId;
use crate::timer::TimerKey;

/// The state of a channel (phoenix.js `CHANNEL_STATES`).
///
/// # Examples
///
/// ```
/// use rig::protocol::ChannelState;
/// assert_eq!(ChannelState::Joining.to_string(), "joining");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelState {
    /// Not joined: new, or closed for good (then it is also removed).
    Closed,
    /// Was joining or joined and failed; a rejoin is pending.
    Errored,
    /// A `phx_join` is in flight.
    Joining,
    /// The server accepted the join.
    Joined,
    /// A `phx_leave` is in flight (or the server is closing the channel).
    Leaving,
}

impl ChannelState {
    /// The phoenix.js name of the state.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::ChannelState::Errored.as_str(), "errored");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Errored => "errored",
            Self::Joining => "joining",
            Self::Joined => "joined",
            Self::Leaving => "leaving",
        }
    }
}

impl fmt::Display for ChannelState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The payload of a channel's `phx_join`: fixed, or computed again for every
/// join and rejoin (phoenix.js `params` as a function).
///
/// # Examples
///
/// ```
/// use rig::protocol::{ChannelParams, Payload};
///
/// let fixed = ChannelParams::from(Payload::json(r#"{"hello":"world"}"#));
/// let mut n = 0;
/// let fresh = ChannelParams::dynamic(move || {
///     n += 1;
///     Payload::json(format!(r#"{{"attempt":{n}}}"#))
/// });
/// # let _ = (fixed, fresh);
/// ```
pub enum ChannelParams {
    /// The same payload for every join.
    Fixed(Payload),
    /// A function called for every join attempt.
    Dynamic(Box<dyn FnMut() -> Payload + Send>),
}

impl ChannelParams {
    /// Params computed by `params` on every join attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = rig::protocol::ChannelParams::dynamic(rig::protocol::Payload::empty);
    /// # let _ = p;
    /// ```
    pub fn dynamic(params: impl FnMut() -> Payload + Send + 'static) -> Self {
        Self::Dynamic(Box::new(params))
    }

    pub(crate) fn evaluate(&mut self) -> Payload {
        match self {
            Self::Fixed(payload) => payload.clone(),
            Self::Dynamic(params) => params(),
        }
    }
}

impl Default for ChannelParams {
    /// `{}`.
    fn default() -> Self {
        Self::Fixed(Payload::empty())
    }
}

impl From<Payload> for ChannelParams {
    fn from(payload: Payload) -> Self {
        Self::Fixed(payload)
    }
}

impl fmt::Debug for ChannelParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fixed(payload) => f.debug_tuple("Fixed").field(payload).finish(),
            Self::Dynamic(_) => f.write_str("Dynamic(<fn>)"),
        }
    }
}

/// A snapshot of one channel, from [`Session::channel_info`](super::Session::channel_info).
///
/// # Examples
///
/// ```
/// use rig::protocol::{ChannelState, Payload, Session, SessionConfig};
/// let (clock, _m) = rig::time::Clock::mock();
/// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
/// let ch = s.channel("room:a", Payload::empty());
/// let info = s.channel_info(ch).expect("registered");
/// assert_eq!((info.topic(), info.state(), info.joined_once()), ("room:a", ChannelState::Closed, false));
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelInfo {
    pub(crate) topic: ByteString,
    pub(crate) state: ChannelState,
    pub(crate) join_ref: Option<Ref>,
    pub(crate) joined_once: bool,
    pub(crate) timeout: Duration,
    pub(crate) buffered: usize,
}

impl ChannelInfo {
    /// The topic.
    ///
    /// # Examples
    ///
    /// See [`ChannelInfo`].
    #[must_use]
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The state.
    ///
    /// # Examples
    ///
    /// See [`ChannelInfo`].
    #[must_use]
    pub fn state(&self) -> ChannelState {
        self.state
    }

    /// The ref of the current join attempt (phoenix.js `joinRef()`); `None`
    /// before the first join and after a failed attempt.
    ///
    /// # Examples
    ///
    /// See [`ChannelInfo`].
    #[must_use]
    pub fn join_ref(&self) -> Option<&Ref> {
        self.join_ref.as_ref()
    }

    /// Whether `join` was called (a channel joins once; rejoins are automatic).
    ///
    /// # Examples
    ///
    /// See [`ChannelInfo`].
    #[must_use]
    pub fn joined_once(&self) -> bool {
        self.joined_once
    }

    /// The channel's default push timeout (the session's unless `join` set one).
    ///
    /// # Examples
    ///
    /// See [`ChannelInfo`].
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Pushes waiting for the join to complete.
    ///
    /// # Examples
    ///
    /// See [`ChannelInfo`].
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buffered
    }
}

/// The session's record of one channel.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) topic: ByteString,
    pub(crate) params: ChannelParams,
    pub(crate) state: ChannelState,
    pub(crate) timeout: Duration,
    pub(crate) joined_once: bool,
    /// The join push: one record for every attempt, like phoenix.js `joinPush`.
    pub(crate) join_push: Option<PushId>,
    /// The ref of the current join attempt.
    pub(crate) join_ref: Option<Ref>,
    pub(crate) rejoin: Retry,
    pub(crate) rejoin_timer: Option<TimerKey>,
    /// Pushes made before the join completed, in order.
    pub(crate) buffer: VecDeque<PushId>,
    /// Left because another channel joined the same topic (C08).
    pub(crate) superseded: bool,
}

impl Channel {
    pub(crate) fn new(
        topic: ByteString,
        params: ChannelParams,
        timeout: Duration,
        rejoin: Retry,
    ) -> Self {
        Self {
            topic,
            params,
            state: ChannelState::Closed,
            timeout,
            joined_once: false,
            join_push: None,
            join_ref: None,
            rejoin,
            rejoin_timer: None,
            buffer: VecDeque::new(),
            superseded: false,
        }
    }

    /// phoenix.js `isMember`: a message for this topic belongs to the
    /// channel unless it carries a join_ref other than the current one.
    pub(crate) fn is_member(&self, topic: &str, join_ref: Option<&Ref>) -> bool {
        if *self.topic != *topic {
            return false;
        }
        match join_ref {
            None => true,
            Some(r) => self.join_ref.as_ref().is_some_and(|own| own.as_str() == r.as_str()),
        }
    }

    pub(crate) fn info(&self) -> ChannelInfo {
        ChannelInfo {
            topic: self.topic.clone(),
            state: self.state,
            join_ref: self.join_ref.clone(),
            joined_once: self.joined_once,
            timeout: self.timeout,
            buffered: self.buffer.len(),
        }
    }
}
