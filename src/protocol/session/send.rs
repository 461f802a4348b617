//! Messages without a reply: [`Session::send`], for events a server answers
//! with a broadcast or not at all (a `shout`).
//!
//! phoenix.js has no such call: there every `channel.push` waits for a
//! reply or its timeout. Here the message gets a fresh ref, as any push
//! does (a server sees an ordinary message), but nothing is tracked: no
//! timer, no buffer, and a reply that comes anyway is counted as unmatched.

use bytestring::ByteString;

use super::{Session, SessionError};
use crate::protocol::{ChannelId, ChannelState, Message, Payload};

impl Session {
    /// Sends `event` on a joined channel, now, without waiting for a reply.
    ///
    /// Nothing is buffered: while the channel is not joined (the socket is
    /// down, the channel errored and waits to rejoin) the message is
    /// refused, where [`push`](Self::push) would buffer it with a timeout.
    ///
    /// # Errors
    ///
    /// [`SessionError::UnknownChannel`], [`SessionError::NotJoined`] before
    /// `join`, [`SessionError::Leaving`], [`SessionError::Unavailable`]
    /// while not joined, or [`SessionError::Encode`]. Nothing was sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Payload, Session, SessionConfig, SessionError};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// let ch = s.channel("room:a", Payload::empty());
    /// assert!(matches!(s.send(ch, "shout", Payload::empty()), Err(SessionError::NotJoined { .. })));
    /// s.join(clock.now(), ch, None)?;
    /// // Joining, not joined: a send is refused, not buffered.
    /// assert!(matches!(s.send(ch, "shout", Payload::empty()), Err(SessionError::Unavailable { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send(
        &mut self,
        channel: ChannelId,
        event: impl Into<ByteString>,
        payload: Payload,
    ) -> Result<(), SessionError> {
        let can_push = self.can_push(channel);
        let ch = self.channels.get(&channel).ok_or(SessionError::UnknownChannel { channel })?;
        if !ch.joined_once {
            return Err(SessionError::NotJoined { topic: ch.topic.clone() });
        }
        if ch.state == ChannelState::Leaving {
            return Err(SessionError::Leaving { topic: ch.topic.clone() });
        }
        if !can_push {
            return Err(SessionError::Unavailable { topic: ch.topic.clone() });
        }
        let msg = Message::new(
            ch.join_ref.clone(),
            Some(self.refs.next()),
            ch.topic.clone(),
            event,
            payload,
        );
        self.transmit(msg, None)?;
        Ok(())
    }
}
