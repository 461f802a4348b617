//! Received frames: decoding, heartbeat replies, reply correlation and
//! routing to channels (phoenix.js `onConnMessage`, `isMember`, `trigger`).

use bytestring::ByteString;

use super::ids::{ChannelId, PushId};
use super::{CloseReason, ErrorCause, Event, RttKind, Session};
use crate::protocol::channel::ChannelState;
use crate::protocol::error::DecodeError;
use crate::protocol::message::{Frame, Message, PHOENIX_TOPIC, Ref, events};
use crate::protocol::push::PushKind;
use crate::protocol::reply::Reply;
use crate::time::Instant;

impl Session {
    /// A frame from the server. Replies resolve their push, `phx_error` and
    /// `phx_close` change their channel, other messages become
    /// [`Event::Message`] for the channel they belong to.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the frame (or a reply's payload) is malformed.
    /// The frame is dropped and counted, an [`Event::DecodeError`] is queued,
    /// and the session goes on.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Event, Frame, Payload, Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// let ch = s.channel("room:a", Payload::empty());
    /// s.join(clock.now(), ch, None)?;
    /// s.handle_frame(clock.now(), Frame::text(r#"[null,null,"room:a","shout",{"x":1}]"#))?;
    /// let got = std::iter::from_fn(|| s.poll_event()).find_map(|e| match e {
    ///     Event::Message { channel, message } => Some((channel, message)),
    ///     _ => None,
    /// });
    /// let (channel, message) = got.expect("delivered");
    /// assert_eq!((channel, message.payload.as_json()), (ch, Some(r#"{"x":1}"#)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle_frame(&mut self, now: Instant, frame: Frame) -> Result<(), DecodeError> {
        self.stats.frames_received = self.stats.frames_received.saturating_add(1);
        if log::log_enabled!(log::Level::Trace) {
            log::trace!("recv {}", crate::redact::text(&format!("{frame:?}")));
        }
        let decoded = self.config.serializer.decode(frame);
        self.decoded(now, decoded)
    }

    /// [`handle_frame`](Self::handle_frame) for a text frame that is a
    /// slice of `buffer` (a driver that copies the frames of one read back
    /// to back into one buffer): the message's fields share `buffer`, with
    /// no count of the frame's own to take and drop.
    ///
    /// # Errors
    ///
    /// As [`handle_frame`](Self::handle_frame).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytestring::ByteString;
    /// use rig::protocol::{Event, Payload, Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// let ch = s.channel("room:a", Payload::empty());
    /// s.join(clock.now(), ch, None)?;
    /// let read = ByteString::from(r#"[null,null,"room:a","a",{}][null,null,"room:a","b",{}]"#);
    /// s.handle_text(clock.now(), &read, &read[..27])?;
    /// s.handle_text(clock.now(), &read, &read[27..])?;
    /// let events: Vec<String> = std::iter::from_fn(|| s.poll_event())
    ///     .filter_map(|e| match e { Event::Message { message, .. } => Some(message.event.to_string()), _ => None })
    ///     .collect();
    /// assert_eq!(events, ["a", "b"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle_text(
        &mut self,
        now: Instant,
        buffer: &ByteString,
        text: &str,
    ) -> Result<(), DecodeError> {
        self.stats.frames_received = self.stats.frames_received.saturating_add(1);
        if log::log_enabled!(log::Level::Trace) {
            // As `handle_frame` writes it (the frame's Debug), redacted alike.
            log::trace!("recv {}", crate::redact::text(&format!("Text({text:?})")));
        }
        let decoded = self.config.serializer.decode_text_in(buffer, text);
        self.decoded(now, decoded)
    }

    fn decoded(
        &mut self,
        now: Instant,
        decoded: Result<Message, DecodeError>,
    ) -> Result<(), DecodeError> {
        match decoded {
            Ok(msg) => self.route(now, msg),
            Err(err) => Err(self.decode_failed(err)),
        }
    }

    fn decode_failed(&mut self, err: DecodeError) -> DecodeError {
        log::warn!("dropping a frame that does not decode: {err}");
        self.stats.decode_errors = self.stats.decode_errors.saturating_add(1);
        self.emit(Event::DecodeError(err.clone()));
        err
    }

    fn route(&mut self, now: Instant, msg: Message) -> Result<(), DecodeError> {
        if msg.is_event(events::REPLY) {
            return self.route_reply(now, msg);
        }
        let Some(ids) = self.topics.get(&*msg.topic) else {
            self.stats.unroutable = self.stats.unroutable.saturating_add(1);
            return Ok(());
        };
        let is_member = |id: &ChannelId| {
            self.channels.get(id).is_some_and(|c| c.is_member(&msg.topic, msg.join_ref.as_ref()))
        };
        // The hot path: one channel per topic, the message moves into the event.
        if let [only] = ids[..] {
            if is_member(&only) {
                self.deliver(now, only, msg);
            } else {
                self.stale(&msg);
            }
            return Ok(());
        }
        let members: Vec<ChannelId> = ids.iter().copied().filter(is_member).collect();
        if members.is_empty() {
            self.stale(&msg);
        }
        for channel in members {
            self.deliver(now, channel, msg.clone());
        }
        Ok(())
    }

    fn stale(&mut self, msg: &Message) {
        log::debug!("dropping {} {} with stale join_ref {:?}", msg.topic, msg.event, msg.join_ref);
        self.stats.stale_dropped = self.stats.stale_dropped.saturating_add(1);
    }

    /// A message that belongs to `channel` (phoenix.js `channel.trigger`).
    fn deliver(&mut self, now: Instant, channel: ChannelId, msg: Message) {
        if msg.is_event(events::ERROR) {
            self.error_channel(now, channel, ErrorCause::Server { payload: msg.payload });
        } else if msg.is_event(events::CLOSE) {
            let reason = match self.channels.get(&channel) {
                Some(c) if c.superseded => CloseReason::Superseded,
                Some(c) if c.state == ChannelState::Leaving => CloseReason::Left,
                _ => CloseReason::Closed,
            };
            self.close_channel(channel, reason);
        } else if self.channels.get(&channel).is_some_and(|c| {
            matches!(c.state, ChannelState::Joining | ChannelState::Joined | ChannelState::Errored)
        }) {
            self.emit(Event::Message { channel, message: msg });
        }
    }

    /// Replies go to the push that sent their ref, whatever their join_ref
    /// (Phoenix writes the channel's current join_ref, or null for an
    /// unmatched topic).
    fn route_reply(&mut self, now: Instant, msg: Message) -> Result<(), DecodeError> {
        let Some(r) = &msg.r#ref else {
            self.stats.unmatched_replies = self.stats.unmatched_replies.saturating_add(1);
            return Ok(());
        };
        if *msg.topic == *PHOENIX_TOPIC && self.heartbeat_replied(now, r) {
            return Ok(());
        }
        let push = self
            .pushes
            .by_ref(r)
            .filter(|push| self.pushes.get(*push).is_some_and(|record| record.topic == msg.topic));
        let Some(push) = push else {
            self.stats.unmatched_replies = self.stats.unmatched_replies.saturating_add(1);
            return Ok(());
        };
        let reply = match Reply::parse(&msg.payload) {
            Ok(reply) => reply,
            Err(err) => return Err(self.decode_failed(err)),
        };
        self.push_replied(now, push, reply);
        Ok(())
    }

    /// A heartbeat or ping reply: RTT, and the next heartbeat one interval on.
    fn heartbeat_replied(&mut self, now: Instant, r: &Ref) -> bool {
        let pending = self.heartbeat.pending.as_ref().filter(|(p, _)| p.as_str() == r.as_str());
        if let Some((_, sent)) = pending {
            let rtt = now.saturating_duration_since(*sent);
            self.connection_healthy();
            self.schedule_heartbeat(now);
            self.emit(Event::Rtt { rtt, kind: RttKind::Heartbeat });
            return true;
        }
        let ping = self.heartbeat.pings.iter().position(|(p, _)| p.as_str() == r.as_str());
        if let Some((_, sent)) = ping.and_then(|index| self.heartbeat.pings.remove(index)) {
            self.connection_healthy();
            self.emit(Event::Rtt { rtt: now.saturating_duration_since(sent), kind: RttKind::Ping });
            return true;
        }
        false
    }

    fn push_replied(&mut self, now: Instant, push: PushId, reply: Reply) {
        let Some(record) = self.pushes.get_mut(push) else { return };
        let (kind, channel) = (record.kind, record.channel);
        let mut slot = record.timer.take();
        self.disarm(&mut slot);
        self.pushes.clear_ref(push);
        match kind {
            PushKind::Join => {
                // Any join reply, ok or error, shows a server that speaks Phoenix.
                self.connection_healthy();
                self.join_replied(now, channel, push, reply);
            }
            PushKind::Leave => {
                let reason = self.leave_close_reason(channel);
                self.resolve_reply(push, reply);
                self.close_channel(channel, reason);
            }
            PushKind::Message => self.resolve_reply(push, reply),
            PushKind::Discard => {
                self.pushes.remove(push);
            }
        }
    }
}
