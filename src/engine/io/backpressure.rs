//! [`Overflow::Block`](crate::engine::Overflow::Block) on rig-io: a socket whose
//! consumer is full stops being read until the consumer frees space.
//!
//! How it goes:
//!
//! - A message for a full Block consumer (a subscription queue, or the
//!   dispatcher worker of a handler) is not dropped: it goes to the socket's
//!   *stash*, in order. Once the stash holds anything, every later message
//!   of that socket joins it too, so each consumer still sees its messages
//!   in server order. The stash is bounded by what one read turn decoded
//!   (the transport's read budget), since no more is read until it empties.
//! - At the end of the turn the socket is *paused*: rig-io no longer reads
//!   it. The connection is told ([`Connection::pause_reading`](crate::transport::Connection::pause_reading)):
//!   its mio interest drops READABLE, so data arriving on a paused socket
//!   does not wake rig-io at all, and it is not re-read on its budget. It
//!   keeps writing, so pushes and commands go out. The
//!   kernel's receive buffer fills and TCP flow control slows the server:
//!   the backpressure reaches the peer for this socket only; the other
//!   sockets of the engine are served as before.
//! - The consumer wakes rig-io only when it is needed: the full queue
//!   carries an `AtomicBool` that rig-io sets when it stalls on it; the
//!   consumer (a `Subscription` read through `recv_timeout`/`try_recv`, or
//!   a worker after a batch) swaps it back and, if it was set, queues one
//!   `Resume` command. A fallback timer ([`RETRY`]) retries a paused socket
//!   as well, for consumers that read through `Subscription::receiver()`
//!   directly.
//! - On resume the stash is delivered (stopping again at the first full
//!   consumer); once it is empty the socket is read again at once.
//! - Heartbeats: while a socket is paused, and after it resumes until a
//!   read turn ends with nothing left to read (the transport no longer
//!   asks to be read again), the session's timers are *held*: not armed,
//!   so not fired. The server's heartbeat reply may be sitting unread in
//!   our own receive buffer, so a heartbeat deadline in that time says
//!   nothing about the peer. Held timers fire (late, once) as soon as the
//!   socket has caught up; a reply that really never came still times
//!   out then. The price: no push times out while the socket is held
//!   (pushes themselves still go out), and a heartbeat that falls due then
//!   is sent late, once the socket caught up (the session sends the next
//!   heartbeat only after the previous reply was read, so that is at most
//!   one heartbeat; a paused socket does not write one).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use crossbeam_channel::TrySendError;

use crate::engine::shared::channel::bump;

use super::slot::{SocketSlot, SubSink};
use super::thread::{Ctx, EngineTimer};
use crate::engine::shared::health::add;
use crate::engine::shared::ids::SubKey;
use crate::protocol::{ChannelId, Message};
use crate::timer::TimerKey;

/// How often a paused socket retries its stash without being woken.
pub(crate) const RETRY: Duration = Duration::from_millis(10);

/// A socket's Block state.
#[derive(Default)]
pub(crate) struct Backpressure {
    /// Messages waiting for a full consumer, in arrival order.
    stash: VecDeque<(ChannelId, SubKey, Message)>,
    /// Not read until the stash is empty.
    pub(crate) paused: bool,
    /// Resumed, and not yet read dry: the session's timers stay held.
    pub(crate) catching_up: bool,
    retry_timer: Option<TimerKey>,
}

impl Backpressure {
    /// Whether messages must queue behind earlier stalled ones.
    pub(crate) fn is_stalled(&self) -> bool {
        !self.stash.is_empty()
    }

    pub(crate) fn stash(&mut self, channel: ChannelId, sub: SubKey, message: Message) {
        self.stash.push_back((channel, sub, message));
    }

    /// Empties the stash (the socket leaves the engine).
    pub(crate) fn take_stash(&mut self) -> VecDeque<(ChannelId, SubKey, Message)> {
        std::mem::take(&mut self.stash)
    }

    /// Whether the session's timers are held.
    pub(crate) fn holds_timers(&self) -> bool {
        self.paused || self.catching_up
    }
}

/// Sends to a Block queue: on a full queue, flags it (so its consumer
/// wakes rig-io) and tries once more, in case the consumer made room
/// between the two. Gives the message back when it still does not fit.
#[expect(
    clippy::result_large_err,
    reason = "the message comes back by value, as crossbeam's TrySendError does: no box per message on the hot path"
)]
pub(crate) fn send_blocking(
    tx: &crate::engine::shared::queue::Sender<Message>,
    stalled: &AtomicBool,
    message: Message,
) -> Result<bool, Message> {
    match tx.try_send(message) {
        Ok(()) => Ok(true),
        Err(TrySendError::Disconnected(_)) => Ok(false),
        Err(TrySendError::Full(message)) => {
            stalled.store(true, SeqCst);
            match tx.try_send(message) {
                Ok(()) => Ok(true),
                Err(TrySendError::Disconnected(_)) => Ok(false),
                Err(TrySendError::Full(message)) => Err(message),
            }
        }
    }
}

impl SocketSlot {
    /// End of a turn: pause the socket if something stalled.
    pub(crate) fn check_pause(&mut self, ctx: &mut Ctx<'_>) {
        if self.backpressure.is_stalled() && !self.backpressure.paused {
            self.backpressure.paused = true;
            self.backpressure.catching_up = false;
            add(&self.counters.pauses, 1);
            log::debug!("socket {} paused by a full consumer", self.key.0);
        }
        if self.backpressure.paused && self.backpressure.retry_timer.is_none() {
            let at = ctx.now.checked_add(RETRY).unwrap_or(ctx.now);
            self.backpressure.retry_timer =
                Some(ctx.wheel.insert(at, EngineTimer::Unpause(self.key)));
        }
        self.sync_read_pause(ctx);
    }

    /// Tells the connection whether to read: a paused one stops asking
    /// for READABLE, so rig-io is not woken for data it will not read.
    /// Runs at the end of every turn (after the flush), so a connection
    /// made while the socket is paused is paused as well.
    fn sync_read_pause(&mut self, ctx: &mut Ctx<'_>) {
        let paused = self.backpressure.paused;
        let Some(conn) = self.link.conn_mut() else { return };
        conn.pause_reading(paused);
        let during = conn.state();
        if let Err(e) = conn.reregister(ctx.registry) {
            self.link_failed(ctx, e, during);
        }
    }

    /// The retry timer fired.
    pub(crate) fn on_retry_timer(&mut self, ctx: &mut Ctx<'_>) {
        self.backpressure.retry_timer = None;
        self.resume(ctx);
    }

    /// A consumer made room (or the retry timer fired): deliver the stash;
    /// read again once it is empty.
    pub(crate) fn resume(&mut self, ctx: &mut Ctx<'_>) {
        if !self.backpressure.paused {
            return;
        }
        if !self.deliver_stash(ctx) {
            return;
        }
        self.backpressure.paused = false;
        self.backpressure.catching_up = true;
        // finish_turn's flush re-registers with READABLE again.
        if let Some(conn) = self.link.conn_mut() {
            conn.pause_reading(false);
        }
        if let Some(key) = self.backpressure.retry_timer.take() {
            ctx.wheel.cancel(key);
        }
        log::debug!("socket {} resumed", self.key.0);
        // Readiness came while paused and was ignored: read now.
        ctx.read_again.push(self.key);
    }

    /// The socket leaves the engine with messages still waiting for full
    /// Block consumers: they will never be delivered, so each counts as a
    /// drop of the consumer that wanted it (nothing is lost silently).
    pub(crate) fn count_stash_as_dropped(&mut self) {
        for (channel, sub, message) in self.backpressure.take_stash() {
            if sub == super::filter_route::FILTERS {
                self.filter_route.filters.count_unrouted(&message);
                continue;
            }
            add(&self.counters.dropped, 1);
            let entry = self.by_id.get(&channel).and_then(|key| self.channels.get(key));
            if let Some(entry) = entry {
                bump(&entry.shared.counters.dropped_queue_full, 1);
            }
            let target = entry.and_then(|e| e.subs.iter().find(|s| s.key == sub));
            if let Some(SubSink::Queue { dropped, .. }) = target.map(|t| &t.sink) {
                add(dropped, 1);
            }
        }
    }

    /// Delivers stashed messages in order; `true` when the stash is empty.
    fn deliver_stash(&mut self, ctx: &mut Ctx<'_>) -> bool {
        while let Some((channel, sub, message)) = self.backpressure.stash.pop_front() {
            if sub == super::filter_route::FILTERS {
                if let Err(message) = self.retry_filters(ctx, message) {
                    self.backpressure.stash.push_front((channel, sub, message));
                    return false;
                }
                continue;
            }
            let entry = self.by_id.get(&channel).and_then(|key| self.channels.get(key));
            let Some(target) = entry.and_then(|e| e.subs.iter().find(|s| s.key == sub)) else {
                // Unsubscribed or closed meanwhile: nobody wants it.
                continue;
            };
            let sent = match &target.sink {
                SubSink::Queue { tx, stalled, .. } => send_blocking(tx, stalled, message),
                SubSink::Handler { worker } => {
                    ctx.outgoing.try_message(*worker, sub, message).map(|()| true)
                }
                // Inline handlers run as messages arrive and are never
                // stashed; should one be, it is not delivered twice.
                SubSink::Inline(_) => Ok(false),
            };
            match sent {
                Ok(true) => {
                    add(&self.counters.delivered, 1);
                    // The topic was credited with what went at once; the
                    // stashed copy counts now that it went.
                    if let Some(entry) = entry {
                        bump(&entry.shared.counters.delivered, 1);
                    }
                }
                Ok(false) => {}
                Err(message) => {
                    self.backpressure.stash.push_front((channel, sub, message));
                    return false;
                }
            }
        }
        true
    }
}
