//! Questions about the session's state (no side effects).

use super::ids::{ChannelId, PushId};
use super::{Session, SessionStats};
use crate::protocol::channel::{ChannelInfo, ChannelState};
use crate::protocol::config::SessionConfig;
use crate::protocol::socket::SocketState;

impl Session {
    /// The socket state.
    ///
    /// # Examples
    ///
    /// See [`Session::new`].
    #[must_use]
    pub fn state(&self) -> SocketState {
        self.state
    }

    /// Whether the transport is open (phoenix.js `isConnected()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// assert!(!s.is_connected());
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.state.is_connected()
    }

    /// A snapshot of a channel, or `None` if it closed or was removed.
    ///
    /// # Examples
    ///
    /// See [`ChannelInfo`].
    #[must_use]
    pub fn channel_info(&self, channel: ChannelId) -> Option<ChannelInfo> {
        self.channels.get(&channel).map(|c| c.info())
    }

    /// The channels of the session, oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Payload, Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// let a = s.channel("a", Payload::empty());
    /// assert_eq!(s.channels().collect::<Vec<_>>(), [a]);
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn channels(&self) -> impl Iterator<Item = ChannelId> + '_ {
        self.channels.keys().copied()
    }

    /// Whether a push on `channel` would be sent at once: the socket is open
    /// and the channel joined (phoenix.js `canPush()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Payload, Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// let ch = s.channel("a", Payload::empty());
    /// assert!(!s.can_push(ch));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn can_push(&self, channel: ChannelId) -> bool {
        self.is_connected()
            && self.channels.get(&channel).is_some_and(|c| c.state == ChannelState::Joined)
    }

    /// Whether `push` is still waiting for its outcome.
    ///
    /// # Examples
    ///
    /// See [`PushId`].
    #[must_use]
    pub fn is_push_pending(&self, push: PushId) -> bool {
        self.pushes.get(push).is_some_and(|r| r.notify)
    }

    /// The session's counters.
    ///
    /// # Examples
    ///
    /// See [`SessionStats`].
    #[must_use]
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// The configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// assert_eq!(s.config().endpoint(), "ws://h/socket");
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }
}
