//! User commands: connect, disconnect, channels, joins, leaves, pushes, pings.

use std::time::Duration;

use bytestring::ByteString;

use super::ids::{ChannelId, PushId};
use super::timers::{Timer, deadline};
use super::{CloseReason, Session, SessionError};
use crate::protocol::channel::{Channel, ChannelParams, ChannelState};
use crate::protocol::message::{Message, PHOENIX_TOPIC, Payload, events};
use crate::protocol::push::{PushKind, PushRecord};
use crate::protocol::reply::Reply;
use crate::protocol::socket::{AfterClose, MAX_PINGS, SocketState};
use crate::time::Instant;

impl Session {
    /// Starts connecting, unless a transport exists or is being opened
    /// (idempotent). Params and auth token are evaluated now. If a teardown
    /// is in progress, the session connects as soon as it completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Session, SessionConfig, SocketState};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// s.connect(clock.now());
    /// s.connect(clock.now());
    /// assert_eq!(s.state(), SocketState::Connecting);
    /// assert_eq!(s.wants_connect().map(|r| r.generation()), Some(1));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn connect(&mut self, _now: Instant) {
        if matches!(self.state, SocketState::Connecting | SocketState::Open) {
            return;
        }
        // A connect the user asks for starts the backoff over (opening no
        // longer does; see `connection_healthy`).
        self.reset_reconnect();
        match self.state {
            SocketState::Closing => self.after_close = AfterClose::ConnectNow,
            _ => self.start_connect(0),
        }
    }

    /// Closes the connection for good: no reconnect, no heartbeat. The
    /// driver gets [`Event::CloseTransport`](super::Event::CloseTransport)
    /// with `code` and `reason` (use 1000 for a normal close). Channels stay
    /// registered and rejoin after the next [`connect`](Self::connect).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Event, Session, SessionConfig, SocketState};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// s.connect(clock.now());
    /// s.handle_open(clock.now());
    /// s.disconnect(clock.now(), 1000, "bye");
    /// assert!(std::iter::from_fn(|| s.poll_event())
    ///     .any(|e| e == Event::CloseTransport { code: 1000, reason: "bye".into() }));
    /// s.handle_close(clock.now(), Some(1000), "");
    /// assert_eq!(s.state(), SocketState::Closed);
    /// assert_eq!(s.poll_timeout(), None);
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn disconnect(&mut self, _now: Instant, code: u16, reason: impl Into<ByteString>) {
        self.clean_close = true;
        self.reset_reconnect();
        self.stop_heartbeat();
        match self.state {
            SocketState::Connecting | SocketState::Open => {
                self.begin_teardown(AfterClose::Stay, code, reason.into());
            }
            SocketState::Closing => self.after_close = AfterClose::Stay,
            SocketState::Closed => {}
        }
    }

    /// Registers a channel for `topic` (state [`ChannelState::Closed`]).
    /// Nothing is sent until [`join`](Self::join).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Payload, Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// let ch = s.channel("room:lobby", Payload::json(r#"{"user":"ann"}"#));
    /// assert_eq!(s.channel_info(ch).map(|i| i.topic().to_owned()), Some("room:lobby".to_owned()));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn channel(
        &mut self,
        topic: impl Into<ByteString>,
        params: impl Into<ChannelParams>,
    ) -> ChannelId {
        self.next_channel = self.next_channel.saturating_add(1);
        let id = ChannelId(self.next_channel);
        let topic = topic.into();
        let seed = crate::protocol::backoff::mix_seed(self.config.seed, id.0);
        let retry = crate::protocol::backoff::Retry::new(seed);
        let channel = Channel::new(topic.clone(), params.into(), self.config.timeout, retry);
        self.channels.insert(id, Box::new(channel));
        self.topics.entry(topic).or_default().push(id);
        id
    }

    /// Joins a channel (once per channel; rejoins are automatic). `timeout`
    /// overrides the channel's push timeout for the join and later pushes.
    /// Before the socket opens, the join waits in the send buffer with its
    /// timeout running.
    ///
    /// # Errors
    ///
    /// [`SessionError::UnknownChannel`], or [`SessionError::AlreadyJoined`]
    /// on a second call.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{ChannelState, Payload, Session, SessionConfig, SessionError};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// let ch = s.channel("room:a", Payload::empty());
    /// s.join(clock.now(), ch, None)?;
    /// assert_eq!(s.channel_info(ch).map(|i| i.state()), Some(ChannelState::Joining));
    /// assert!(matches!(s.join(clock.now(), ch, None), Err(SessionError::AlreadyJoined { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn join(
        &mut self,
        now: Instant,
        channel: ChannelId,
        timeout: Option<Duration>,
    ) -> Result<PushId, SessionError> {
        let ch = self.channels.get_mut(&channel).ok_or(SessionError::UnknownChannel { channel })?;
        if ch.joined_once {
            return Err(SessionError::AlreadyJoined { topic: ch.topic.clone() });
        }
        ch.joined_once = true;
        if let Some(timeout) = timeout {
            ch.timeout = timeout;
        }
        let record = PushRecord::new(
            channel,
            ch.topic.clone(),
            PushKind::Join,
            events::JOIN,
            Payload::empty(),
            ch.timeout,
            true,
        );
        let push = self.pushes.insert(record);
        if let Some(ch) = self.channels.get_mut(&channel) {
            ch.join_push = Some(push);
        }
        self.rejoin(now, channel);
        Ok(push)
    }

    /// Leaves a channel. If the socket is open and the channel joined, a
    /// `phx_leave` goes out and the channel is [`ChannelState::Leaving`]
    /// until the reply or `timeout` (default: the channel's), then closed.
    /// Otherwise the channel closes at once and the leave resolves with a
    /// local `ok` reply, as in phoenix.js.
    ///
    /// # Errors
    ///
    /// [`SessionError::UnknownChannel`], [`SessionError::Leaving`], or
    /// [`SessionError::Encode`] if the leave frame cannot be encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Event, Payload, Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// let ch = s.channel("room:a", Payload::empty());
    /// let leave = s.leave(clock.now(), ch, None)?;
    /// assert!(s.channel_info(ch).is_none(), "closed at once: nothing to leave");
    /// assert!(std::iter::from_fn(|| s.poll_event())
    ///     .any(|e| matches!(e, Event::Reply { push, reply, .. } if push == leave && reply.is_ok())));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn leave(
        &mut self,
        now: Instant,
        channel: ChannelId,
        timeout: Option<Duration>,
    ) -> Result<PushId, SessionError> {
        let can_push = self.can_push(channel);
        let open = self.is_connected();
        let ch = self.channels.get_mut(&channel).ok_or(SessionError::UnknownChannel { channel })?;
        if ch.state == ChannelState::Leaving {
            return Err(SessionError::Leaving { topic: ch.topic.clone() });
        }
        let joining = ch.state == ChannelState::Joining;
        let topic = ch.topic.clone();
        let timeout = timeout.unwrap_or(ch.timeout);
        ch.rejoin.reset();
        let mut slot = ch.rejoin_timer.take();
        let join_push = ch.join_push;
        self.disarm(&mut slot);
        // phoenix.js `joinPush.cancelTimeout()`: a late join reply still
        // resolves the join, but no longer errors the channel.
        if let Some(join) = join_push {
            let mut slot = self.pushes.get_mut(join).and_then(|r| r.timer.take());
            self.disarm(&mut slot);
        }
        let record = PushRecord::new(
            channel,
            topic.clone(),
            PushKind::Leave,
            events::LEAVE,
            Payload::empty(),
            timeout,
            true,
        );
        let push = self.pushes.insert(record);
        self.set_channel_state(channel, ChannelState::Leaving);
        if can_push {
            if let Err(err) = self.send_push(now, push) {
                self.pushes.remove(push);
                self.close_channel(channel, CloseReason::Left);
                return Err(err.into());
            }
            return Ok(push);
        }
        if open && joining {
            // The server may accept the join in flight: tell it to leave,
            // but do not wait for the answer (phoenix.js closes at once).
            let record = PushRecord::new(
                channel,
                topic,
                PushKind::Discard,
                events::LEAVE,
                Payload::empty(),
                timeout,
                false,
            );
            let discard = self.pushes.insert(record);
            if self.send_push(now, discard).is_err() {
                self.pushes.remove(discard);
            }
        }
        self.resolve_reply(push, Reply::new("ok", Payload::empty()));
        self.close_channel(channel, CloseReason::Left);
        Ok(push)
    }

    /// Pushes `event` with `payload` on a channel. Sent at once when
    /// [`can_push`](Self::can_push), else buffered until the join succeeds;
    /// either way it times out after `timeout` (default: the channel's).
    ///
    /// # Errors
    ///
    /// [`SessionError::UnknownChannel`], [`SessionError::NotJoined`] before
    /// `join`, [`SessionError::Leaving`], or [`SessionError::Encode`] when it
    /// cannot be encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Payload, Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// let ch = s.channel("room:a", Payload::empty());
    /// s.join(clock.now(), ch, None)?;
    /// let push = s.push(clock.now(), ch, "shout", Payload::json(r#"{"hi":1}"#), None)?;
    /// assert_eq!(s.channel_info(ch).map(|i| i.buffered()), Some(1));
    /// assert!(s.is_push_pending(push));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn push(
        &mut self,
        now: Instant,
        channel: ChannelId,
        event: impl Into<ByteString>,
        payload: Payload,
        timeout: Option<Duration>,
    ) -> Result<PushId, SessionError> {
        let can_push = self.can_push(channel);
        let ch = self.channels.get(&channel).ok_or(SessionError::UnknownChannel { channel })?;
        if !ch.joined_once {
            return Err(SessionError::NotJoined { topic: ch.topic.clone() });
        }
        if ch.state == ChannelState::Leaving {
            return Err(SessionError::Leaving { topic: ch.topic.clone() });
        }
        let timeout = timeout.unwrap_or(ch.timeout);
        let record = PushRecord::new(
            channel,
            ch.topic.clone(),
            PushKind::Message,
            event,
            payload,
            timeout,
            true,
        );
        let push = self.pushes.insert(record);
        if can_push {
            if let Err(err) = self.send_push(now, push) {
                self.pushes.remove(push);
                return Err(err.into());
            }
        } else {
            let at = deadline(now, timeout);
            let key = self.arm(None, at, Timer::Push(push));
            if let Some(record) = self.pushes.get_mut(push) {
                record.timer = Some(key);
            }
            if let Some(ch) = self.channels.get_mut(&channel) {
                ch.buffer.push_back(push);
            }
        }
        Ok(push)
    }

    /// Unregisters a channel without telling the server (phoenix.js
    /// `socket.remove`); its unresolved pushes are abandoned. Returns whether
    /// the channel existed.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Payload, Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// let ch = s.channel("room:a", Payload::empty());
    /// assert!(s.remove(ch));
    /// assert!(!s.remove(ch));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn remove(&mut self, channel: ChannelId) -> bool {
        if !self.channels.contains_key(&channel) {
            return false;
        }
        self.close_channel(channel, CloseReason::Removed);
        true
    }

    /// Sends a heartbeat now and reports its round trip as
    /// [`Event::Rtt`](super::Event::Rtt) with [`RttKind::Ping`](super::RttKind::Ping).
    /// Returns `false` (and sends nothing) unless the socket is open.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// assert!(!s.ping(clock.now()));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn ping(&mut self, now: Instant) -> bool {
        if !self.is_connected() {
            return false;
        }
        let r = self.refs.next();
        if self.heartbeat.pings.len() >= MAX_PINGS {
            self.heartbeat.pings.pop_front();
        }
        self.heartbeat.pings.push_back((r.clone(), now));
        let hb = Message::new(None, Some(r), PHOENIX_TOPIC, events::HEARTBEAT, Payload::empty());
        // The heartbeat is plain JSON; no serializer rejects it.
        let _ = self.transmit(hb, None);
        true
    }
}
