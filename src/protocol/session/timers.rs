//! The session's timers and what happens when they fire.

use std::time::Duration;

use super::ids::{ChannelId, PushId};
use super::{Session, TransportReason};
use crate::protocol::channel::ChannelState;
use crate::protocol::message::{Message, PHOENIX_TOPIC, Payload, events};
use crate::protocol::push::PushKind;
use crate::protocol::socket::{AfterClose, CLOSE_NORMAL, SocketState, heartbeat_timeout_reason};
use crate::time::Instant;
use crate::timer::TimerKey;

/// What a timer in the session's wheel is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Send the next heartbeat.
    Heartbeat,
    /// The pending heartbeat is overdue.
    HeartbeatDeadline,
    /// Reconnect with backoff.
    Reconnect,
    /// Rejoin an errored channel with backoff.
    Rejoin(ChannelId),
    /// A push (join attempt, leave, event) timed out.
    Push(PushId),
}

/// `now + delay`, saturating far in the future instead of overflowing.
pub(crate) fn deadline(now: Instant, delay: Duration) -> Instant {
    now.checked_add(delay)
        .or_else(|| now.checked_add(Duration::from_secs(u64::from(u32::MAX))))
        .unwrap_or(now)
}

impl Session {
    /// Fires every timer that is due at `now`. Call it when
    /// [`poll_timeout`](Self::poll_timeout) has passed (calling it early or
    /// twice is harmless).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::protocol::{Frame, Session, SessionConfig};
    /// let (clock, mock) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// s.connect(clock.now());
    /// s.handle_open(clock.now());
    /// mock.increment(Duration::from_secs(30));
    /// s.handle_timeout(clock.now());
    /// assert_eq!(s.poll_transmit(), Some(Frame::text(r#"[null,"1","phoenix","heartbeat",{}]"#)));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.poll(now) {
            match timer {
                Timer::Heartbeat => {
                    self.heartbeat.timer = None;
                    self.send_heartbeat(now);
                }
                Timer::HeartbeatDeadline => {
                    self.heartbeat.deadline = None;
                    self.heartbeat_overdue();
                }
                Timer::Reconnect => {
                    self.reconnect_timer = None;
                    self.reconnect.fired();
                    if self.state == SocketState::Closed {
                        let attempt = self.reconnect.tries();
                        self.start_connect(attempt);
                    }
                }
                Timer::Rejoin(channel) => self.rejoin_due(now, channel),
                Timer::Push(push) => self.push_timed_out(now, push),
            }
        }
    }

    /// Arms `timer` at `at`, replacing what `slot` held.
    pub(crate) fn arm(&mut self, slot: Option<TimerKey>, at: Instant, timer: Timer) -> TimerKey {
        if let Some(old) = slot {
            self.timers.cancel(old);
        }
        self.timers.insert(at, timer)
    }

    /// Disarms the timer in `slot`, if any.
    pub(crate) fn disarm(&mut self, slot: &mut Option<TimerKey>) {
        if let Some(key) = slot.take() {
            self.timers.cancel(key);
        }
    }

    /// phoenix.js `sendHeartbeat`.
    fn send_heartbeat(&mut self, now: Instant) {
        if !self.is_connected() {
            return;
        }
        let r = self.refs.next();
        self.heartbeat.pending = Some((r.clone(), now));
        let hb = Message::new(None, Some(r), PHOENIX_TOPIC, events::HEARTBEAT, Payload::empty());
        // The heartbeat is plain JSON; no serializer rejects it.
        let _ = self.transmit(hb, None);
        let at = deadline(now, self.config.heartbeat_timeout());
        let slot = self.heartbeat.deadline.take();
        self.heartbeat.deadline = Some(self.arm(slot, at, Timer::HeartbeatDeadline));
    }

    /// phoenix.js `heartbeatTimeout`: the connection is presumed dead.
    fn heartbeat_overdue(&mut self) {
        if self.heartbeat.pending.take().is_none() || self.state != SocketState::Open {
            return;
        }
        self.stats.heartbeat_timeouts = self.stats.heartbeat_timeouts.saturating_add(1);
        self.clean_close = false;
        self.stop_heartbeat();
        self.state = SocketState::Closing;
        self.trigger_channel_errors(TransportReason::HeartbeatTimeout);
        self.begin_teardown(AfterClose::Reconnect, CLOSE_NORMAL, heartbeat_timeout_reason());
    }

    /// (Re)starts the heartbeat one interval from `now`.
    pub(crate) fn schedule_heartbeat(&mut self, now: Instant) {
        self.heartbeat.pending = None;
        let mut deadline_slot = self.heartbeat.deadline.take();
        self.disarm(&mut deadline_slot);
        let at = deadline(now, self.config.heartbeat_interval);
        let slot = self.heartbeat.timer.take();
        self.heartbeat.timer = Some(self.arm(slot, at, Timer::Heartbeat));
    }

    /// Clears heartbeat timers and forgets the pending heartbeat and pings.
    pub(crate) fn stop_heartbeat(&mut self) {
        let mut timer = self.heartbeat.timer.take();
        self.disarm(&mut timer);
        let mut deadline_slot = self.heartbeat.deadline.take();
        self.disarm(&mut deadline_slot);
        self.heartbeat.pending = None;
        self.heartbeat.pings.clear();
    }

    /// A channel's rejoin timer fired (phoenix.js `rejoinTimer` callback).
    fn rejoin_due(&mut self, now: Instant, channel: ChannelId) {
        let connected = self.is_connected();
        let Some(ch) = self.channels.get_mut(&channel) else { return };
        ch.rejoin_timer = None;
        ch.rejoin.fired();
        if connected && ch.state == ChannelState::Errored {
            self.rejoin(now, channel);
        }
    }

    /// A push's timer fired.
    fn push_timed_out(&mut self, now: Instant, push: PushId) {
        let Some(record) = self.pushes.get_mut(push) else { return };
        if record.timer.take().is_none() {
            return;
        }
        let (kind, channel) = (record.kind, record.channel);
        match kind {
            PushKind::Join => self.join_timed_out(now, channel, push),
            PushKind::Leave => {
                self.resolve_timeout(push);
                self.close_channel(channel, self.leave_close_reason(channel));
            }
            PushKind::Message => {
                if let Some(ch) = self.channels.get_mut(&channel) {
                    ch.buffer.retain(|p| *p != push);
                }
                self.resolve_timeout(push);
            }
            PushKind::Discard => {
                self.pushes.remove(push);
            }
        }
    }
}
