//! Transport events from the driver, and the socket lifecycle they drive
//! (phoenix.js `onConnOpen`, `onConnClose`, `onConnError`, `teardown`).

use bytestring::ByteString;

use super::ids::PushId;
use super::timers::{Timer, deadline};
use super::{Event, Session, TransportError, TransportReason};
use crate::protocol::channel::ChannelState;
use crate::protocol::error::EncodeError;
use crate::protocol::message::Message;
use crate::protocol::push::PushKind;
use crate::protocol::socket::{AfterClose, CLOSE_NORMAL, ConnectRequest, SocketState};
use crate::protocol::url;
use crate::time::Instant;

impl Session {
    /// The driver opened the transport asked for by
    /// [`wants_connect`](Self::wants_connect). Buffered frames are queued,
    /// the heartbeat starts, errored channels rejoin.
    ///
    /// Ignored unless the session is [`Connecting`](SocketState::Connecting).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Session, SessionConfig, SocketState};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// s.handle_open(clock.now());
    /// assert_eq!(s.state(), SocketState::Closed, "no connect was asked for");
    /// s.connect(clock.now());
    /// s.handle_open(clock.now());
    /// assert_eq!(s.state(), SocketState::Open);
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn handle_open(&mut self, now: Instant) {
        if self.state != SocketState::Connecting {
            return;
        }
        log::debug!("socket open: {}", crate::redact::url(&self.config.endpoint));
        self.state = SocketState::Open;
        self.connect_request = None;
        self.clean_close = false;
        self.established = self.established.saturating_add(1);
        self.stats.connections = self.stats.connections.saturating_add(1);
        self.flush_send_buffer();
        // The backoff starts over only once the connection proves healthy:
        // a server that accepts the upgrade and then breaks must not get a
        // fresh 10 ms schedule on every open.
        self.unproven_since = Some(now);
        self.schedule_heartbeat(now);
        self.emit(Event::Open);
        let ids: Vec<_> = self.channels.keys().copied().collect();
        for id in ids {
            let Some(ch) = self.channels.get_mut(&id) else { continue };
            ch.rejoin.reset();
            let errored = ch.state == ChannelState::Errored;
            let mut slot = ch.rejoin_timer.take();
            self.disarm(&mut slot);
            if errored {
                self.rejoin(now, id);
            }
        }
    }

    /// The transport closed (a close frame with `code`, or `None` when the
    /// connection just ended). Channels that were joining or joined error
    /// with `connection_closed`; a reconnect is scheduled unless the close
    /// was asked for (`disconnect`) or had code 1000.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Event, Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// s.connect(clock.now());
    /// s.handle_open(clock.now());
    /// s.handle_close(clock.now(), Some(1006), "");
    /// assert!(std::iter::from_fn(|| s.poll_event()).any(|e| matches!(e, Event::ReconnectScheduled { attempt: 1, .. })));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn handle_close(&mut self, now: Instant, code: Option<u16>, reason: impl Into<ByteString>) {
        if self.state == SocketState::Closed {
            return;
        }
        self.transport_gone(now, code, reason.into(), true);
    }

    /// The transport failed (connect error, I/O or TLS error, refused
    /// upgrade). The session treats the transport as gone: channels error
    /// with `connection_error`, and a reconnect is scheduled unless the
    /// server refused the connection ([`TransportError::Refused`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Session, SessionConfig, SocketState, TransportError};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// s.connect(clock.now());
    /// s.handle_error(clock.now(), TransportError::refused(403));
    /// assert_eq!(s.state(), SocketState::Closed);
    /// assert_eq!(s.poll_timeout(), None, "a refused connect is not retried");
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn handle_error(&mut self, now: Instant, error: TransportError) {
        log::debug!("transport error: {error}");
        let refused = error.is_refused();
        self.emit(Event::TransportError { error, established: self.established });
        if self.state == SocketState::Closed {
            return;
        }
        // phoenix.js: every channel's rejoin timer resets on a socket error.
        let ids: Vec<_> = self.channels.keys().copied().collect();
        for id in ids {
            let Some(ch) = self.channels.get_mut(&id) else { continue };
            ch.rejoin.reset();
            let mut slot = ch.rejoin_timer.take();
            self.disarm(&mut slot);
        }
        self.trigger_channel_errors(TransportReason::ConnectionError);
        self.transport_gone(now, None, ByteString::new(), !refused);
    }

    /// The transport is gone: state, channels, heartbeat, then what follows.
    fn transport_gone(
        &mut self,
        now: Instant,
        code: Option<u16>,
        reason: ByteString,
        may_reconnect: bool,
    ) {
        let was = self.state;
        self.state = SocketState::Closed;
        self.connect_request = None;
        self.transmits.clear();
        self.stop_heartbeat();
        // Open for `healthy_after` counts as healthy even without a reply.
        let opened = self.unproven_since.take();
        if opened.is_some_and(|at| now.saturating_duration_since(at) >= self.config.healthy_after) {
            self.reconnect.reset();
        }
        self.trigger_channel_errors(TransportReason::ConnectionClosed);
        self.emit(Event::Closed { code, reason });
        let after = std::mem::replace(&mut self.after_close, AfterClose::Stay);
        if was == SocketState::Closing {
            match after {
                AfterClose::Stay => {}
                AfterClose::Reconnect if may_reconnect => self.schedule_reconnect(now),
                AfterClose::Reconnect => {}
                AfterClose::ConnectNow => self.start_connect(0),
            }
        } else if may_reconnect && !self.clean_close && code != Some(CLOSE_NORMAL) {
            self.schedule_reconnect(now);
        }
    }

    /// Asks the driver to close the transport, then waits in `Closing`.
    pub(crate) fn begin_teardown(&mut self, after: AfterClose, code: u16, reason: ByteString) {
        self.state = SocketState::Closing;
        self.after_close = after;
        self.connect_request = None;
        self.emit(Event::CloseTransport { code, reason });
    }

    /// Starts connecting: evaluates params and token, publishes the request.
    pub(crate) fn start_connect(&mut self, attempt: u32) {
        let mut slot = self.reconnect_timer.take();
        self.disarm(&mut slot);
        self.clean_close = false;
        self.generation = self.generation.saturating_add(1);
        let params = (self.config.params)();
        let token = self.config.auth_token.as_mut().map(|token| token());
        let url = url::connect_url(&self.config.endpoint, &params, self.config.serializer.vsn());
        log::debug!("connecting to {} (attempt {attempt})", crate::redact::url(&url));
        self.connect_request = Some(ConnectRequest {
            url,
            protocols: url::protocols(token.as_deref()),
            attempt,
            generation: self.generation,
        });
        self.state = SocketState::Connecting;
        self.emit(Event::Connecting { attempt });
    }

    /// phoenix.js `reconnectTimer.scheduleTimeout()`, bounded by
    /// `max_reconnect_attempts`.
    fn schedule_reconnect(&mut self, now: Instant) {
        let tries = self.reconnect.tries();
        if self.config.max_reconnect_attempts.is_some_and(|max| tries >= max) {
            self.emit(Event::ReconnectGaveUp { attempts: tries });
            return;
        }
        let delay = self.reconnect.schedule(&self.config.reconnect);
        let at = deadline(now, delay);
        let slot = self.reconnect_timer.take();
        self.reconnect_timer = Some(self.arm(slot, at, Timer::Reconnect));
        self.emit(Event::ReconnectScheduled { at, attempt: self.reconnect.attempt() });
    }

    /// The open connection proved healthy (a heartbeat or join reply, or
    /// `healthy_after` open): the reconnect backoff starts over. Does
    /// nothing once the connection already counted as healthy.
    pub(crate) fn connection_healthy(&mut self) {
        if self.unproven_since.take().is_some() {
            self.reconnect.reset();
        }
    }

    /// phoenix.js `reconnectTimer.reset()`.
    pub(crate) fn reset_reconnect(&mut self) {
        self.reconnect.reset();
        let mut slot = self.reconnect_timer.take();
        self.disarm(&mut slot);
    }

    /// phoenix.js `socket.push`: sends now if open, else buffers. The frame
    /// is encoded when it goes out, so a buffered message yields exactly the
    /// frame it would have yielded at once.
    pub(crate) fn transmit(
        &mut self,
        msg: Message,
        owner: Option<PushId>,
    ) -> Result<(), EncodeError> {
        if self.state != SocketState::Open {
            if let Some(record) = owner.and_then(|push| self.pushes.get_mut(push)) {
                record.in_send_buffer = true;
            }
            self.send_buffer.push_back((msg, owner));
            return Ok(());
        }
        let frame = self.config.serializer.encode(&msg)?;
        if log::log_enabled!(log::Level::Trace) {
            log::trace!("send {}", crate::redact::text(&format!("{frame:?}")));
        }
        self.stats.frames_sent = self.stats.frames_sent.saturating_add(1);
        self.transmits.push_back(frame);
        Ok(())
    }

    /// phoenix.js `flushSendBuffer`: everything buffered, in order.
    fn flush_send_buffer(&mut self) {
        while let Some((msg, owner)) = self.send_buffer.pop_front() {
            if let Some(record) = owner.and_then(|push| self.pushes.get_mut(push)) {
                record.in_send_buffer = false;
            }
            if let Err(err) = self.transmit(msg, owner)
                && let Some(push) = owner
            {
                self.encode_failed(push, err);
            }
        }
        // Once per connection: an idle session keeps no buffer.
        self.send_buffer = std::collections::VecDeque::new();
    }

    /// Drops the buffered message of `push`, if it is still in the send
    /// buffer; returns whether it was. O(1) unless the push has a frame
    /// there that is not the oldest one (joins made before the socket
    /// opens call this once each, so a scan per call would be quadratic).
    pub(crate) fn unbuffer(&mut self, push: PushId) -> bool {
        let Some(record) = self.pushes.get_mut(push) else { return false };
        if !std::mem::replace(&mut record.in_send_buffer, false) {
            return false;
        }
        if self.send_buffer.front().is_some_and(|(_, owner)| *owner == Some(push)) {
            self.send_buffer.pop_front();
            return true;
        }
        let before = self.send_buffer.len();
        self.send_buffer.retain(|(_, owner)| *owner != Some(push));
        self.send_buffer.len() != before
    }

    /// A push's message cannot be encoded: it resolves as abandoned; a join
    /// that cannot be encoded closes its channel.
    pub(crate) fn encode_failed(&mut self, push: PushId, err: EncodeError) {
        let Some(record) = self.pushes.get(push) else { return };
        let (kind, channel) = (record.kind, record.channel);
        log::warn!("cannot encode {} on {channel}: {err}", record.event);
        self.resolve_abandoned(push, super::AbandonReason::Encode(err.clone()));
        match kind {
            PushKind::Join => self.close_channel(channel, super::CloseReason::Unencodable(err)),
            PushKind::Leave => self.close_channel(channel, super::CloseReason::Left),
            PushKind::Message | PushKind::Discard => {
                if let Some(ch) = self.channels.get_mut(&channel) {
                    ch.unbuffer(push);
                }
            }
        }
    }
}
