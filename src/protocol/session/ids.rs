//! Handles for channels and pushes: small `Copy` newtypes, never reused
//! within a session.

use std::fmt;

/// Identifies a channel of a [`Session`](super::Session).
///
/// # Examples
///
/// ```
/// use rig::protocol::{Payload, Session, SessionConfig};
/// let (clock, _m) = rig::time::Clock::mock();
/// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
/// let a = s.channel("room:a", Payload::empty());
/// let b = s.channel("room:a", Payload::empty());
/// assert_ne!(a, b);
/// assert!(a.as_u64() < b.as_u64());
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ChannelId(pub(crate) u64);

impl ChannelId {
    /// The number behind the id (grows with every channel).
    ///
    /// # Examples
    ///
    /// See [`ChannelId`].
    #[must_use]
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "channel#{}", self.0)
    }
}

/// Identifies a push (a join, a leave or an event) until it resolves.
///
/// Every `PushId` a [`Session`](super::Session) hands out resolves exactly
/// once: with [`Event::Reply`](super::Event::Reply),
/// [`Event::PushTimeout`](super::Event::PushTimeout) or
/// [`Event::PushAbandoned`](super::Event::PushAbandoned).
///
/// # Examples
///
/// ```
/// use rig::protocol::{Payload, Session, SessionConfig};
/// let (clock, _m) = rig::time::Clock::mock();
/// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
/// let ch = s.channel("room:a", Payload::empty());
/// let join = s.join(clock.now(), ch, None).expect("first join");
/// assert!(s.is_push_pending(join));
/// assert_eq!(join.to_string(), format!("push#{}", join.as_u64()));
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct PushId(pub(crate) u64);

impl PushId {
    /// The number behind the id (grows with every push).
    ///
    /// # Examples
    ///
    /// See [`PushId`].
    #[must_use]
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for PushId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "push#{}", self.0)
    }
}
