//! Session events on rig-io: the status stream, channel states, message
//! delivery to subscriptions and callbacks, push outcomes.

use crossbeam_channel::TrySendError;

use super::backpressure::{Backpressure, send_blocking};
use super::slot::{SocketSlot, Sub, SubSink, release_subs, resolve_target};
use super::thread::Ctx;
use crate::engine::shared::channel::{TopicCounters, bump};
use crate::engine::shared::config::Overflow;
use crate::engine::shared::failure::{ConnectionError, ErrorKind};
use crate::engine::shared::health::{SocketCounters, add};
use crate::engine::shared::push_result::{PushError, PushResult, outcome_of};
use crate::engine::shared::status::{ChannelChange, ConnectionState, Status};
use crate::protocol::{ChannelId, Event, Message, PushId, RttKind, TransportError};

impl SocketSlot {
    pub(crate) fn on_event(&mut self, ctx: &mut Ctx<'_>, event: Event) {
        match event {
            Event::Connecting { attempt } => {
                self.sticky = None;
                if self.not_before.is_some_and(|at| at > ctx.now) {
                    // Held by the server's Retry-After: the attempt is
                    // reported when it really starts.
                    self.deferred_attempt = Some(attempt);
                    return;
                }
                self.set_state(ConnectionState::Connecting);
                self.status(Status::Connecting { attempt });
            }
            Event::Open => {
                add(&self.counters.connections, 1);
                if self.ever_open {
                    add(&self.counters.reconnects, 1);
                }
                self.ever_open = true;
                self.set_state(ConnectionState::Open);
                self.status(Status::Open);
            }
            Event::CloseTransport { code, reason } => {
                self.set_state(ConnectionState::Closing);
                self.close_transport(ctx, code, &reason);
            }
            Event::Closed { code, reason } => {
                // The session forgot its pings: so do we (callers see the
                // sender drop).
                self.pings.clear();
                self.outbox_on_closed();
                self.set_state(self.sticky.unwrap_or(ConnectionState::Idle));
                self.status(Status::Closed { code, reason: reason.to_string() });
            }
            Event::ReconnectScheduled { at, attempt } => {
                let until = self.not_before.map_or(at, |nb| nb.max(at));
                self.set_state(ConnectionState::WaitingToReconnect);
                self.status(Status::WaitingToReconnect { until, attempt });
            }
            Event::ReconnectGaveUp { attempts } => {
                self.sticky = Some(ConnectionState::GaveUp);
                self.set_state(ConnectionState::GaveUp);
                self.status(Status::GaveUp { attempts });
            }
            Event::TransportError { error, .. } => match error {
                TransportError::Refused { status } => {
                    self.sticky = Some(ConnectionState::AuthFailed);
                    // The state first, as for every other status: a reader
                    // woken by this status must see it in `state()` too.
                    self.set_state(ConnectionState::AuthFailed);
                    self.status(Status::AuthFailed { status });
                }
                other => {
                    let error = self.pending_error.take().unwrap_or_else(|| {
                        ConnectionError::new(ErrorKind::Other, other.to_string())
                    });
                    self.status(Status::Failed { error });
                }
            },
            Event::Rtt { rtt, kind } => {
                self.counters.set_rtt(rtt);
                if kind == RttKind::Ping
                    && let Some(reply) = self.pings.pop_front()
                {
                    let _ = reply.try_send(rtt);
                }
            }
            Event::ChannelState { channel, from, to } => {
                if let Some(entry) = self.channel_entry(channel) {
                    entry.shared.set_state(to);
                }
                self.channel_status(channel, ChannelChange::State { from, to });
                self.outbox_on_channel_state(ctx, channel, from, to);
            }
            Event::ChannelError { channel, cause } => {
                self.channel_status(channel, ChannelChange::Error(Box::new(cause)));
            }
            Event::ChannelClosed { channel, reason } => {
                self.channel_status(channel, ChannelChange::Closed(reason));
                self.outbox_on_channel_closed(ctx, channel);
                if let Some(key) = self.by_id.remove(&channel)
                    && let Some(entry) = self.channels.remove(&key)
                {
                    entry.shared.set_state(crate::protocol::ChannelState::Closed);
                    release_subs(ctx, entry.subs);
                }
            }
            Event::Message { channel, message } => self.deliver(ctx, channel, message),
            Event::Reply { push, reply, .. } => {
                if let Some(reply) = self.outbox_on_reply(ctx, push, reply) {
                    self.resolve(ctx, push, outcome_of(reply));
                }
            }
            Event::PushTimeout { push, .. } => {
                if !self.outbox_on_timeout(ctx, push) {
                    self.resolve(ctx, push, Err(PushError::Timeout));
                }
            }
            Event::PushAbandoned { push, reason, .. } => {
                if !self.outbox_on_abandoned(ctx, push, &reason) {
                    self.resolve(ctx, push, Err(PushError::Abandoned(reason)));
                }
            }
            // Counted in the session's stats (mirrored into the health).
            Event::DecodeError(_) => {}
        }
    }

    fn channel_entry(&mut self, channel: ChannelId) -> Option<&mut super::slot::ChannelEntry> {
        let key = self.by_id.get(&channel)?;
        self.channels.get_mut(key)
    }

    fn channel_status(&mut self, channel: ChannelId, change: ChannelChange) {
        let Some(entry) = self.channel_entry(channel) else { return };
        let reference = entry.reference.clone();
        self.status(Status::Channel { channel: reference, change });
    }

    /// Resolves a push for its handle or callback.
    fn resolve(&mut self, ctx: &mut Ctx<'_>, push: PushId, result: PushResult) {
        let Some(entry) = self.pushes.remove(&push) else { return };
        self.push_ids.remove(&entry.key);
        resolve_target(ctx, entry.target, result);
    }

    /// Hands a message to every matching subscription of its channel. The
    /// I/O thread never waits: a full consumer loses the message (or its
    /// oldest one), and the loss is counted. Inline handlers run here, on
    /// the message in place; the last queue or worker that wants it gets
    /// the message itself, the others a copy (one subscriber: no copy).
    fn deliver(&mut self, ctx: &mut Ctx<'_>, channel: ChannelId, message: Message) {
        self.route_filters(ctx, channel, &message);
        let Self { counters, by_id, channels, backpressure, .. } = self;
        let Some(entry) = by_id.get(&channel).and_then(|key| channels.get_mut(key)) else {
            return;
        };
        // The topic's counters, bumped beside the socket's (rig-io is their
        // only writer: plain stores).
        let topic = &entry.shared.counters;
        bump(&topic.received, 1);
        let owner = entry.subs.iter().rposition(|sub| {
            !matches!(sub.sink, SubSink::Inline(_)) && sub.filter.matches(&message)
        });
        let mut gone = Vec::new();
        let mut timed = false;
        // Inline handlers and every queue or worker but the owner, by
        // reference (copies for the others); the owner takes the message
        // itself last. Each consumer's own order is what matters, not the
        // order between consumers.
        for (i, sub) in entry.subs.iter_mut().enumerate() {
            if Some(i) == owner || !sub.filter.matches(&message) {
                continue;
            }
            if let SubSink::Inline(handler) = &mut sub.sink {
                if !timed {
                    ctx.inline.start();
                    timed = true;
                }
                ctx.inline.run(ctx.counters, || handler(&message));
                add(&counters.delivered, 1);
                bump(&topic.delivered, 1);
                continue;
            }
            let copy = message.clone();
            if deliver_one(ctx, (counters, topic), backpressure, channel, sub, copy) == Sent::Gone {
                gone.push(sub.key);
            }
        }
        if let Some(sub) = owner.and_then(|i| entry.subs.get(i))
            && deliver_one(ctx, (counters, topic), backpressure, channel, sub, message)
                == Sent::Gone
        {
            gone.push(sub.key);
        }
        if timed {
            ctx.inline.finish(ctx.counters);
        }
        if !gone.is_empty() {
            entry.subs.retain(|s| !gone.contains(&s.key));
        }
    }
}

/// What became of a message for one subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
    /// Queued (or counted as dropped, or stashed for a Block consumer).
    Handled,
    /// The subscription's receiver is gone.
    Gone,
}

/// Hands `message` to one queue or worker subscription, counting it for
/// the socket and for its topic.
fn deliver_one(
    ctx: &mut Ctx<'_>,
    (counters, topic): (&SocketCounters, &TopicCounters),
    backpressure: &mut Backpressure,
    channel: ChannelId,
    sub: &Sub,
    message: Message,
) -> Sent {
    if sub.overflow == Overflow::Block {
        // Nothing is dropped: what does not fit waits in the stash (and so
        // does everything after it), the socket pauses.
        let sent = if backpressure.is_stalled() {
            Err(message)
        } else {
            match &sub.sink {
                SubSink::Queue { tx, stalled, .. } => send_blocking(tx, stalled, message),
                SubSink::Handler { worker } => {
                    ctx.outgoing.try_message(*worker, sub.key, message).map(|()| true)
                }
                SubSink::Inline(_) => Ok(true),
            }
        };
        match sent {
            Ok(true) => {
                add(&counters.delivered, 1);
                bump(&topic.delivered, 1);
            }
            Ok(false) => return Sent::Gone,
            Err(message) => backpressure.stash(channel, sub.key, message),
        }
        return Sent::Handled;
    }
    let delivered = match &sub.sink {
        SubSink::Queue { tx, rx, dropped, .. } => match tx.try_send(message) {
            Ok(()) => true,
            Err(TrySendError::Full(message)) => {
                let (queued, lost) = match (sub.overflow, rx) {
                    (Overflow::DropOldest, Some(rx)) => replace_oldest(tx, rx, message),
                    _ => (false, 1),
                };
                add(dropped, lost);
                add(&counters.dropped, lost);
                bump(&topic.dropped_queue_full, lost);
                queued
            }
            Err(TrySendError::Disconnected(_)) => return Sent::Gone,
        },
        SubSink::Handler { worker } => {
            let queued = ctx.outgoing.message(*worker, sub.key, message);
            if !queued {
                add(&counters.dropped, 1);
                add(&counters.dispatch_dropped, 1);
                bump(&topic.dropped_dispatch, 1);
            }
            queued
        }
        SubSink::Inline(_) => false,
    };
    if delivered {
        add(&counters.delivered, 1);
        bump(&topic.delivered, 1);
    }
    Sent::Handled
}

/// DropOldest on a full queue: rig-io holds a receiver of its own and
/// takes the oldest message out to queue `message`. Gives whether
/// `message` was queued and how many messages were lost: none when the
/// consumer emptied the queue between the full send and the take.
fn replace_oldest<T>(
    tx: &crate::engine::shared::queue::Sender<T>,
    rx: &crossbeam_channel::Receiver<T>,
    message: T,
) -> (bool, u64) {
    let lost = u64::from(rx.try_recv().is_ok());
    match tx.try_send(message) {
        Ok(()) => (true, lost),
        Err(_) => (false, lost + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_oldest;
    use crate::engine::shared::queue::bounded;

    #[test]
    fn replace_oldest_counts_only_what_was_lost() {
        let (tx, rx) = bounded(2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        assert_eq!(replace_oldest(&tx, &rx, 3), (true, 1));
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [2, 3]);
        // The consumer emptied the queue after the send found it full:
        // nothing is lost, the message is queued.
        assert_eq!(replace_oldest(&tx, &rx, 4), (true, 0));
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [4]);
    }
}
