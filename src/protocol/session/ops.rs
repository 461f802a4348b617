//! Channel transitions shared by commands, frames and timers (phoenix.js
//! `channel.js` internals: `rejoin`, `onError`, `onClose`, the join push
//! hooks) and push resolution.

use bytestring::ByteString;

use super::ids::{ChannelId, PushId};
use super::timers::{Timer, deadline};
use super::{AbandonReason, CloseReason, ErrorCause, Event, Session, TransportReason};
use crate::protocol::channel::ChannelState;
use crate::protocol::error::EncodeError;
use crate::protocol::message::{Message, Payload, events};
use crate::protocol::push::{PushKind, PushRecord};
use crate::protocol::reply::Reply;
use crate::time::Instant;

impl Session {
    pub(crate) fn emit(&mut self, event: Event) {
        self.events.push_back(event);
        self.emitted = self.emitted.saturating_add(1);
    }

    /// Moves a channel to `to`, reporting the change.
    pub(crate) fn set_channel_state(&mut self, channel: ChannelId, to: ChannelState) {
        let Some(ch) = self.channels.get_mut(&channel) else { return };
        let from = ch.state;
        if from == to {
            return;
        }
        ch.state = to;
        log::debug!("{channel} {}: {from} -> {to}", ch.topic);
        self.emit(Event::ChannelState { channel, from, to });
    }

    /// phoenix.js `rejoin()`: a new join attempt with a new ref; the params
    /// are evaluated again.
    pub(crate) fn rejoin(&mut self, now: Instant, channel: ChannelId) {
        let Some(ch) = self.channels.get(&channel) else { return };
        let (Some(join), ChannelState::Closed | ChannelState::Errored | ChannelState::Joining) =
            (ch.join_push, ch.state)
        else {
            return;
        };
        let topic = ch.topic.clone();
        self.take_over_topic(&topic, channel, now);
        let r = self.refs.next();
        let Some(ch) = self.channels.get_mut(&channel) else { return };
        let payload = ch.params.evaluate();
        let timeout = ch.timeout;
        ch.join_ref = Some(r.clone());
        self.unbuffer(join);
        self.pushes.set_ref(join, r.clone());
        let slot = self.pushes.get_mut(join).and_then(|record| {
            record.timeout = timeout;
            record.timer.take()
        });
        let key = self.arm(slot, deadline(now, timeout), Timer::Push(join));
        if let Some(record) = self.pushes.get_mut(join) {
            record.timer = Some(key);
        }
        self.set_channel_state(channel, ChannelState::Joining);
        let msg = Message::new(Some(r.clone()), Some(r), topic, events::JOIN, payload);
        if let Err(err) = self.transmit(msg, Some(join)) {
            self.encode_failed(join, err);
        }
    }

    /// C08: joining a topic makes the other channels on it leave. Phoenix
    /// closes the old join itself when the new one arrives (fixture
    /// `duplicate_join`), so no `phx_leave` is sent: the old channel waits
    /// in `Leaving` for its `phx_close`, or its timeout.
    fn take_over_topic(&mut self, topic: &ByteString, except: ChannelId, now: Instant) {
        let others: Vec<ChannelId> = self
            .topics
            .get(topic)
            .map(|ids| ids.iter().copied().filter(|id| *id != except).collect())
            .unwrap_or_default();
        for other in others {
            let Some(ch) = self.channels.get_mut(&other) else { continue };
            if !matches!(ch.state, ChannelState::Joined | ChannelState::Joining) {
                continue;
            }
            log::debug!("{other} {topic}: superseded by {except}");
            ch.superseded = true;
            ch.rejoin.reset();
            let (join, timeout) = (ch.join_push, ch.timeout);
            let mut slot = ch.rejoin_timer.take();
            self.disarm(&mut slot);
            if let Some(join) = join {
                let mut slot = self.pushes.get_mut(join).and_then(|r| r.timer.take());
                self.disarm(&mut slot);
                if self.unbuffer(join) {
                    // The server never saw this join: nothing to wait for.
                    self.close_channel(other, CloseReason::Superseded);
                    continue;
                }
            }
            let record = PushRecord::new(
                other,
                topic.clone(),
                PushKind::Leave,
                events::LEAVE,
                Payload::empty(),
                timeout,
                false,
            );
            let leave = self.pushes.insert(record);
            let key = self.arm(None, deadline(now, timeout), Timer::Push(leave));
            if let Some(record) = self.pushes.get_mut(leave) {
                record.timer = Some(key);
            }
            self.set_channel_state(other, ChannelState::Leaving);
        }
    }

    /// Arms the channel's rejoin timer with the next backoff delay.
    pub(crate) fn schedule_rejoin(&mut self, now: Instant, channel: ChannelId) {
        let backoff = &self.config.rejoin;
        let Some(ch) = self.channels.get_mut(&channel) else { return };
        let delay = ch.rejoin.schedule(backoff);
        let slot = ch.rejoin_timer.take();
        let key = self.arm(slot, deadline(now, delay), Timer::Rejoin(channel));
        if let Some(ch) = self.channels.get_mut(&channel) {
            ch.rejoin_timer = Some(key);
        }
    }

    /// phoenix.js `joinPush.reset()`: the attempt in flight is forgotten (its
    /// timer, its reply binding, its join_ref, its buffered frame).
    fn reset_join_attempt(&mut self, channel: ChannelId) {
        let Some(join) = self.channels.get(&channel).and_then(|c| c.join_push) else { return };
        let mut slot = self.pushes.get_mut(join).and_then(|r| r.timer.take());
        self.disarm(&mut slot);
        self.pushes.clear_ref(join);
        self.unbuffer(join);
        if let Some(ch) = self.channels.get_mut(&channel) {
            ch.join_ref = None;
        }
    }

    /// phoenix.js `onError`: the channel errors and, if the socket is open,
    /// rejoins with backoff. Leaving and closed channels are left alone.
    pub(crate) fn error_channel(&mut self, now: Instant, channel: ChannelId, cause: ErrorCause) {
        let Some(state) = self.channels.get(&channel).map(|c| c.state) else { return };
        match state {
            ChannelState::Leaving | ChannelState::Closed => return,
            ChannelState::Joining => self.reset_join_attempt(channel),
            ChannelState::Joined | ChannelState::Errored => {}
        }
        self.set_channel_state(channel, ChannelState::Errored);
        self.emit(Event::ChannelError { channel, cause: cause.clone() });
        self.abandon_in_flight(channel, &cause);
        if self.is_connected() {
            self.schedule_rejoin(now, channel);
        }
    }

    /// The pushes of `channel` that were sent and wait for a reply end now
    /// with [`AbandonReason::ChannelError`]: the channel errored, so the
    /// process that would reply is gone. phoenix.js leaves them to time
    /// out; rig says why at once. Pushes still buffered (never sent) stay
    /// and go out after the rejoin, as in phoenix.js.
    fn abandon_in_flight(&mut self, channel: ChannelId, cause: &ErrorCause) {
        for push in self.pushes.of_channel(channel) {
            let in_flight = self
                .pushes
                .get(push)
                .is_some_and(|r| r.kind == PushKind::Message && r.sent_ref.is_some());
            if in_flight {
                self.resolve_abandoned(push, AbandonReason::ChannelError(cause.clone()));
            }
        }
    }

    /// phoenix.js `triggerChanError`: joining and joined channels error. The
    /// socket is going down, so no rejoin timer starts: they rejoin on open.
    pub(crate) fn trigger_channel_errors(&mut self, reason: TransportReason) {
        let hit: Vec<ChannelId> = self
            .channels
            .iter()
            .filter(|(_, c)| matches!(c.state, ChannelState::Joining | ChannelState::Joined))
            .map(|(id, _)| *id)
            .collect();
        for channel in hit {
            if self.channels.get(&channel).is_some_and(|c| c.state == ChannelState::Joining) {
                self.reset_join_attempt(channel);
            }
            self.set_channel_state(channel, ChannelState::Errored);
            let cause = ErrorCause::Transport(reason);
            self.emit(Event::ChannelError { channel, cause: cause.clone() });
            self.abandon_in_flight(channel, &cause);
        }
    }

    /// The join attempt got no reply in time (C10): `phx_leave` for it if it
    /// went out, then errored and a rejoin with backoff.
    pub(crate) fn join_timed_out(&mut self, now: Instant, channel: ChannelId, join: PushId) {
        let Some(ch) = self.channels.get(&channel) else { return };
        if ch.state != ChannelState::Joining {
            return;
        }
        let (topic, timeout) = (ch.topic.clone(), ch.timeout);
        let was_buffered = self.unbuffer(join);
        self.pushes.clear_ref(join);
        if !was_buffered && self.is_connected() {
            // Carries the timed-out join's join_ref: the channel still has it.
            let record = PushRecord::new(
                channel,
                topic,
                PushKind::Discard,
                events::LEAVE,
                Payload::empty(),
                timeout,
                false,
            );
            let leave = self.pushes.insert(record);
            if self.send_push(now, leave).is_err() {
                self.pushes.remove(leave);
            }
        }
        if let Some(ch) = self.channels.get_mut(&channel) {
            ch.join_ref = None;
        }
        self.set_channel_state(channel, ChannelState::Errored);
        self.emit(Event::ChannelError { channel, cause: ErrorCause::JoinTimeout });
        self.resolve_timeout(join);
        if self.is_connected() {
            self.schedule_rejoin(now, channel);
        }
    }

    /// The reply to a join attempt (phoenix.js `joinPush` ok/error hooks).
    pub(crate) fn join_replied(
        &mut self,
        now: Instant,
        channel: ChannelId,
        join: PushId,
        reply: Reply,
    ) {
        let state = self.channels.get(&channel).map(|c| c.state);
        if state != Some(ChannelState::Joining) {
            // Leaving: the reply still resolves the join, nothing else.
            self.resolve_reply(join, reply);
            return;
        }
        if reply.is_ok() {
            if let Some(ch) = self.channels.get_mut(&channel) {
                ch.rejoin.reset();
                let mut slot = ch.rejoin_timer.take();
                self.disarm(&mut slot);
            }
            self.set_channel_state(channel, ChannelState::Joined);
            // On a closing transport (the reply came in after `disconnect`)
            // the pushes would land in the send buffer with this join_ref
            // and go out before the next rejoin; they wait for it instead.
            if self.is_connected() {
                self.flush_channel_buffer(now, channel);
            }
            self.resolve_reply(join, reply);
        } else if self.config.join_errors_fatal {
            self.resolve_reply(join, reply);
            self.close_channel(channel, CloseReason::JoinRejected);
        } else {
            self.set_channel_state(channel, ChannelState::Errored);
            let cause = ErrorCause::JoinRejected {
                status: reply.status.clone(),
                response: reply.response.clone(),
            };
            self.emit(Event::ChannelError { channel, cause });
            self.resolve_reply(join, reply);
            if self.is_connected() {
                self.schedule_rejoin(now, channel);
            }
        }
    }

    /// Sends a push now with a fresh ref and (re)starts its timeout.
    pub(crate) fn send_push(&mut self, now: Instant, push: PushId) -> Result<(), EncodeError> {
        let Some(record) = self.pushes.get(push) else { return Ok(()) };
        let join_ref = self.channels.get(&record.channel).and_then(|c| c.join_ref.clone());
        let r = self.refs.next();
        let msg = Message::new(
            join_ref,
            Some(r.clone()),
            record.topic.clone(),
            record.event.clone(),
            record.payload.clone(),
        );
        let timeout = record.timeout;
        self.transmit(msg, Some(push))?;
        self.pushes.set_ref(push, r);
        let slot = self.pushes.get_mut(push).and_then(|record| record.timer.take());
        let key = self.arm(slot, deadline(now, timeout), Timer::Push(push));
        if let Some(record) = self.pushes.get_mut(push) {
            record.timer = Some(key);
        }
        Ok(())
    }

    /// Sends the pushes buffered before the join, in order (P02).
    fn flush_channel_buffer(&mut self, now: Instant, channel: ChannelId) {
        let buffered: Vec<PushId> = self
            .channels
            .get_mut(&channel)
            .map(|c| c.buffer.drain(..).collect())
            .unwrap_or_default();
        for push in buffered {
            if let Err(err) = self.send_push(now, push) {
                self.encode_failed(push, err);
            }
        }
    }

    /// How a leaving channel's close is reported.
    pub(crate) fn leave_close_reason(&self, channel: ChannelId) -> CloseReason {
        if self.channels.get(&channel).is_some_and(|c| c.superseded) {
            CloseReason::Superseded
        } else {
            CloseReason::Left
        }
    }

    pub(crate) fn resolve_reply(&mut self, push: PushId, reply: Reply) {
        self.resolve(push, |push, channel| Event::Reply { push, channel, reply });
    }

    pub(crate) fn resolve_timeout(&mut self, push: PushId) {
        self.resolve(push, |push, channel| Event::PushTimeout { push, channel });
    }

    pub(crate) fn resolve_abandoned(&mut self, push: PushId, reason: AbandonReason) {
        self.resolve(push, |push, channel| Event::PushAbandoned { push, channel, reason });
    }

    /// Reports a push's outcome if the user still waits for one. The join
    /// record outlives its first outcome (it serves every rejoin); other
    /// records go.
    fn resolve(&mut self, push: PushId, outcome: impl FnOnce(PushId, ChannelId) -> Event) {
        let Some(record) = self.pushes.get_mut(push) else { return };
        let notify = std::mem::replace(&mut record.notify, false);
        let channel = record.channel;
        if record.kind != PushKind::Join {
            let mut slot = self.pushes.remove(push).and_then(|r| r.timer);
            self.disarm(&mut slot);
        }
        if notify {
            self.emit(outcome(push, channel));
        }
    }

    /// The channel closes for good and leaves the session; its unresolved
    /// pushes are abandoned.
    pub(crate) fn close_channel(&mut self, channel: ChannelId, reason: CloseReason) {
        let Some(ch) = self.channels.remove(&channel) else { return };
        if let Some(ids) = self.topics.get_mut(&ch.topic) {
            ids.retain(|id| *id != channel);
            if ids.is_empty() {
                self.topics.remove(&ch.topic);
            }
        }
        let mut slot = ch.rejoin_timer;
        self.disarm(&mut slot);
        if ch.state != ChannelState::Closed {
            self.emit(Event::ChannelState { channel, from: ch.state, to: ChannelState::Closed });
        }
        log::debug!("{channel} {} closed: {reason:?}", ch.topic);
        let abandon = match reason {
            CloseReason::Removed => AbandonReason::ChannelRemoved,
            _ => AbandonReason::ChannelClosed,
        };
        for push in self.pushes.of_channel(channel) {
            // A discarded frame's record stays to absorb its reply.
            if self.pushes.get(push).is_some_and(|r| r.kind == PushKind::Discard) {
                continue;
            }
            self.unbuffer(push);
            let Some(record) = self.pushes.remove(push) else { continue };
            let mut slot = record.timer;
            self.disarm(&mut slot);
            if record.notify {
                self.emit(Event::PushAbandoned { push, channel, reason: abandon.clone() });
            }
        }
        self.emit(Event::ChannelClosed { channel, reason });
    }
}
