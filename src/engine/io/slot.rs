//! One socket on rig-io: its session, its link (the transport connection
//! and where it stands), and the handles' sinks (channels, subscriptions,
//! pending pushes, status streams).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crossbeam_channel::{Sender, TrySendError};
use foldhash::HashMap;

use super::link::{Link, LinkOptions};
use super::thread::{Ctx, EngineTimer};
use crate::engine::dispatch::pool::Job;
use crate::engine::shared::callback::{MessageHandler, OutcomeCallback};
use crate::engine::shared::channel::ChannelShared;
use crate::engine::shared::command::{EventFilter, NewSocket};
use crate::engine::shared::health::{SocketCounters, add};
use crate::engine::shared::ids::{ChannelKey, PushKey, SocketKey, SubKey};
use crate::engine::shared::push_result::{PushError, PushResult};
use crate::engine::shared::queue;
use crate::engine::shared::status::{ChannelRef, ConnectionState, Status};
use crate::protocol::{ChannelId, Message, PushId, Session};
use crate::time::Instant;
use crate::timer::TimerKey;
use crate::transport::Data;

/// A channel as rig-io knows it.
pub(crate) struct ChannelEntry {
    pub(crate) id: ChannelId,
    pub(crate) reference: ChannelRef,
    pub(crate) shared: Arc<ChannelShared>,
    pub(crate) subs: Vec<Sub>,
}

/// A subscription of a channel.
pub(crate) struct Sub {
    pub(crate) key: SubKey,
    pub(crate) filter: EventFilter,
    pub(crate) sink: SubSink,
    pub(crate) overflow: crate::engine::shared::config::Overflow,
}

pub(crate) enum SubSink {
    Queue {
        tx: queue::Sender<Message>,
        rx: Option<crossbeam_channel::Receiver<Message>>,
        dropped: Arc<std::sync::atomic::AtomicU64>,
        stalled: Arc<std::sync::atomic::AtomicBool>,
    },
    /// The handler lives on dispatcher worker `worker` under the sub's key.
    Handler { worker: usize },
    /// The handler runs on rig-io itself, in the read turn (`on_inline`).
    Inline(MessageHandler),
}

/// Where a push's outcome goes.
pub(crate) enum PushTarget {
    Handle(Sender<PushResult>),
    Callback(OutcomeCallback),
}

pub(crate) struct PushEntry {
    pub(crate) key: PushKey,
    pub(crate) target: PushTarget,
}

pub(crate) struct SocketSlot {
    pub(crate) key: SocketKey,
    /// Boxed, as rig-io's socket map holds slots inline with up to half its
    /// buckets free: the session (1 KiB) costs its size once.
    pub(crate) session: Box<Session>,
    pub(crate) options: LinkOptions,
    pub(crate) counters: Arc<SocketCounters>,
    pub(crate) link: Link,
    /// Grows whenever the link is replaced; link timers carry it.
    pub(crate) epoch: u64,
    pub(crate) link_timer: Option<TimerKey>,
    session_timer: Option<(Instant, TimerKey)>,
    /// Not before this instant may the next connect start (Retry-After).
    pub(crate) not_before: Option<Instant>,
    /// A connect attempt the session started while Retry-After held it.
    pub(crate) deferred_attempt: Option<u32>,
    /// The typed error behind the next `Event::TransportError`.
    pub(crate) pending_error: Option<crate::engine::shared::failure::ConnectionError>,
    /// A state that outlives the `Closed` that follows it (auth failed,
    /// failed for good) until the next connect.
    pub(crate) sticky: Option<ConnectionState>,
    /// `SessionStats::heartbeat_timeouts` already reported.
    pub(crate) heartbeat_timeouts_seen: u64,
    pub(crate) ever_open: bool,
    pub(crate) removing: bool,
    pub(crate) channels: HashMap<ChannelKey, ChannelEntry>,
    pub(crate) by_id: HashMap<ChannelId, ChannelKey>,
    pub(crate) pushes: HashMap<PushId, PushEntry>,
    pub(crate) push_ids: HashMap<PushKey, PushId>,
    watchers: Vec<queue::Sender<Status>>,
    /// Lifecycle callbacks, if any were given.
    pub(crate) lifecycle: Option<Box<super::lifecycle::Lifecycle>>,
    /// Callers of `Socket::ping`, oldest first.
    pub(crate) pings: std::collections::VecDeque<Sender<std::time::Duration>>,
    pub(crate) frames: Vec<Data>,
    pub(crate) backpressure: super::backpressure::Backpressure,
    /// The socket's outbox (durable pushes), if it has one.
    pub(crate) durable: Option<super::outbox::Durable>,
    pub(crate) filter_route: super::filter_route::FilterRoute,
}

impl SocketSlot {
    pub(crate) fn new(new: NewSocket, now: Instant) -> Self {
        let NewSocket { key, options, counters, outbox, filters } = new;
        let (session, options) = LinkOptions::split(options);
        Self {
            key,
            session: Box::new(Session::new(session, now)),
            options,
            counters,
            link: Link::Idle,
            epoch: 0,
            link_timer: None,
            session_timer: None,
            not_before: None,
            deferred_attempt: None,
            pending_error: None,
            sticky: None,
            heartbeat_timeouts_seen: 0,
            ever_open: false,
            removing: false,
            channels: HashMap::default(),
            by_id: HashMap::default(),
            pushes: HashMap::default(),
            push_ids: HashMap::default(),
            watchers: Vec::new(),
            lifecycle: None,
            pings: std::collections::VecDeque::new(),
            frames: Vec::new(),
            backpressure: Default::default(),
            durable: outbox.map(super::outbox::Durable::new),
            filter_route: super::filter_route::FilterRoute::new(filters),
        }
    }

    /// No connection and no attempt under way.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.link, Link::Idle)
    }

    /// Removed by the user and closed: the slot can go.
    pub(crate) fn is_reapable(&self) -> bool {
        self.removing && self.is_idle() && self.session.wants_connect().is_none()
    }

    /// Publishes a status entry to every stream; a full stream loses it
    /// (counted), a dropped one is forgotten.
    pub(crate) fn status(&mut self, status: Status) {
        log::debug!("socket {}: {status}", self.key.0);
        if let Some(lifecycle) = &mut self.lifecycle {
            lifecycle.publish(&status);
        }
        let counters = &self.counters;
        self.watchers.retain(|tx| match tx.try_send(status.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                add(&counters.status_dropped, 1);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }

    pub(crate) fn watch(&mut self, sender: queue::Sender<Status>) {
        self.watchers.push(sender);
    }

    pub(crate) fn set_state(&self, state: ConnectionState) {
        self.counters.set_state(state);
    }

    /// Ends a turn: drives the session to quiescence, starts a wanted
    /// connect, flushes, re-registers, re-arms the session timer, updates
    /// the gauges.
    pub(crate) fn finish_turn(&mut self, ctx: &mut Ctx<'_>) {
        // Each pass may produce work for the next (a failed connect feeds
        // the session an error, which may ask for a close); the session's
        // queues are finite, so this ends.
        for _ in 0..64 {
            let mut busy = self.drain_session(ctx);
            busy |= self.maybe_connect(ctx);
            busy |= self.flush(ctx);
            if !busy {
                break;
            }
        }
        self.check_pause(ctx);
        self.report_drops(ctx);
        self.rearm_session(ctx);
        self.update_gauges();
    }

    /// Hands the session's frames to the connection and its events to
    /// their sinks; returns whether there was anything.
    fn drain_session(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let mut any = false;
        loop {
            let mut did = false;
            while let Some(frame) = self.session.poll_transmit() {
                did = true;
                self.transmit(ctx, frame);
            }
            while let Some(event) = self.session.poll_event() {
                did = true;
                self.on_event(ctx, event);
            }
            if !did {
                return any;
            }
            any = true;
        }
    }

    fn rearm_session(&mut self, ctx: &mut Ctx<'_>) {
        // Held while an open link is paused by backpressure (see
        // `backpressure`); a closed link has nothing unread to wait for.
        let open = matches!(self.link, Link::Open { .. });
        if !open {
            self.backpressure.catching_up = false;
        }
        let hold = open && self.backpressure.holds_timers();
        let want = self.session.poll_timeout().filter(|_| !hold);
        if self.session_timer.map(|(at, _)| at) == want {
            return;
        }
        if let Some((_, key)) = self.session_timer.take() {
            ctx.wheel.cancel(key);
        }
        self.session_timer =
            want.map(|at| (at, ctx.wheel.insert(at, EngineTimer::Session(self.key))));
    }

    /// A timer of this socket fired.
    pub(crate) fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: EngineTimer) {
        match timer {
            EngineTimer::Session(_) => {
                self.session_timer = None;
                self.session.handle_timeout(ctx.now);
            }
            EngineTimer::Unpause(_) => self.on_retry_timer(ctx),
            EngineTimer::DropReport(_) => self.on_drop_report_timer(),
            EngineTimer::Link(_, epoch, which) => {
                if epoch == self.epoch {
                    self.link_timer = None;
                    self.on_link_timer(ctx, which);
                }
            }
        }
    }

    fn update_gauges(&self) {
        let stats = self.session.stats();
        self.counters.decode_errors.store(stats.decode_errors, Relaxed);
        self.counters.pending_pushes.store(self.pushes.len() as u64, Relaxed);
        let queued: usize = self
            .channels
            .values()
            .flat_map(|c| &c.subs)
            .map(|s| match &s.sink {
                SubSink::Queue { tx, .. } => tx.len(),
                SubSink::Handler { .. } | SubSink::Inline(_) => 0,
            })
            .sum();
        self.counters.queued.store(queued as u64, Relaxed);
    }

    /// Engine shutdown: close the connection for good.
    pub(crate) fn shutdown(&mut self, ctx: &mut Ctx<'_>) {
        self.session.disconnect(ctx.now, crate::protocol::CLOSE_NORMAL, "shutdown");
    }

    /// The slot leaves the engine: drop the connection, resolve every
    /// waiting push, close every subscription, unregister handlers. The
    /// outbox, if any, comes back for the caller to close.
    pub(crate) fn release(mut self, ctx: &mut Ctx<'_>) -> Option<super::outbox::ReleasedOutbox> {
        self.replace_link(ctx, Link::Idle);
        self.count_stash_as_dropped();
        let outbox = self.outbox_release(ctx);
        if let Some((_, key)) = self.session_timer.take() {
            ctx.wheel.cancel(key);
        }
        for (_, entry) in self.pushes.drain() {
            resolve_target(ctx, entry.target, Err(PushError::EngineStopped));
        }
        for (_, channel) in self.channels.drain() {
            channel.shared.set_state(crate::protocol::ChannelState::Closed);
            release_subs(ctx, channel.subs);
        }
        self.filter_route.filters.close_all();
        self.set_state(ConnectionState::Idle);
        outbox
    }
}

/// Sends an outcome where it goes (a handle's channel, or a callback to the
/// dispatcher). A handle that was dropped just loses it.
pub(crate) fn resolve_target(ctx: &Ctx<'_>, target: PushTarget, result: PushResult) {
    match target {
        PushTarget::Handle(tx) => {
            let _ = tx.try_send(result);
        }
        PushTarget::Callback(callback) => ctx.dispatcher.outcome(callback, result),
    }
}

/// Subscriptions of a closed channel: queues disconnect (by dropping their
/// senders), handlers are unregistered.
pub(crate) fn release_subs(ctx: &Ctx<'_>, subs: Vec<Sub>) {
    for sub in subs {
        if let SubSink::Handler { worker } = sub.sink {
            ctx.dispatcher.control(worker, Job::Unregister(sub.key));
        }
    }
}
