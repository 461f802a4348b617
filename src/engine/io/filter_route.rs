//! rig-io's side of filter subscriptions: route each message of a socket
//! that has any to the dispatcher worker of its topic, and report drops in
//! the status stream.
//!
//! Routing: one [`Target::Filters`](crate::engine::dispatch::pool::Target) item per
//! message in the turn's batch for `worker_for(topic)`. With a Block
//! filter subscription present (or while the socket's Block stash holds
//! anything) the item is never dropped: what does not fit waits in the
//! stash under [`FILTERS`] and the socket pauses (`backpressure`).
//! Otherwise a full worker drops it; every subscription that wanted it
//! counts the loss (the only matching done on rig-io, on that path).
//!
//! Drop reports ([`Status::Dropped`]) are coalesced: at the end of a turn
//! of the socket, if its drop counters moved and the last report is at
//! least [`REPORT_EVERY`] old, one entry per consumer that lost messages
//! since (each filter subscription, and the channel consumers together)
//! with the count since its previous entry. So a flood costs at most one
//! entry per consumer per second; counts rig-io saw while a report had to
//! wait are reported when that second is over (a timer of the socket).
//! Drops a dispatcher worker counts after the socket's last turn are
//! reported at its next turn (any frame, command or timer of the socket: at
//! the latest its next heartbeat). The counts of all entries add up to the
//! drops counted in the health, which is always current.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::slot::SocketSlot;
use super::thread::{Ctx, EngineTimer};
use crate::engine::shared::filter_set::{Ledger, SocketFilters};
use crate::engine::shared::health::add;
use crate::engine::shared::ids::SubKey;
use crate::engine::shared::status::Status;
use crate::protocol::{ChannelId, Message};
use crate::time::Instant;
use crate::timer::TimerKey;

/// The stash key of a socket's filter item ([`KeySource`](super::ids)
/// starts at 1, so no subscription has it).
pub(crate) const FILTERS: SubKey = SubKey(0);

/// Least time between two drop reports of a socket.
pub(crate) const REPORT_EVERY: Duration = Duration::from_secs(1);

/// A socket's filter routing and drop-report state (rig-io only).
#[derive(Debug)]
pub(crate) struct FilterRoute {
    pub(crate) filters: Arc<SocketFilters>,
    /// Every filter subscription of the socket until its last drop is
    /// reported (including ones removed between two reports).
    ledger: Vec<Ledger>,
    /// Channel-consumer drops already reported.
    channel_reported: u64,
    /// The socket's drop total at the last report.
    seen: u64,
    next_report: Option<Instant>,
    /// Armed while drops wait for `next_report`: the report goes out then,
    /// even if the socket has no other reason to wake.
    report_timer: Option<TimerKey>,
}

impl FilterRoute {
    pub(crate) fn new(filters: Arc<SocketFilters>) -> Self {
        Self {
            filters,
            ledger: Vec::new(),
            channel_reported: 0,
            seen: 0,
            next_report: None,
            report_timer: None,
        }
    }
}

impl SocketSlot {
    /// Routes a message of the socket to its filter subscriptions' worker.
    pub(crate) fn route_filters(
        &mut self,
        ctx: &mut Ctx<'_>,
        channel: ChannelId,
        message: &Message,
    ) {
        let filters = &self.filter_route.filters;
        if !filters.is_active() {
            return;
        }
        let worker = ctx.dispatcher.worker_for(&message.topic);
        if filters.wants_block() || self.backpressure.is_stalled() {
            let sent = if self.backpressure.is_stalled() {
                Err(message.clone())
            } else {
                ctx.outgoing.try_filters(worker, filters, message.clone())
            };
            if let Err(message) = sent {
                self.backpressure.stash(channel, FILTERS, message);
            }
        } else if let Err(message) = ctx.outgoing.filters(worker, filters, message.clone()) {
            add(&self.counters.dispatch_dropped, 1);
            filters.count_unrouted(&message);
        }
    }

    /// A stashed filter item, on resume: `Err` gives it back while the
    /// worker is still full.
    #[expect(
        clippy::result_large_err,
        reason = "the message comes back by value, as crossbeam's TrySendError does: no box per message on the hot path"
    )]
    pub(crate) fn retry_filters(&self, ctx: &mut Ctx<'_>, message: Message) -> Result<(), Message> {
        let worker = ctx.dispatcher.worker_for(&message.topic);
        ctx.outgoing.try_filters(worker, &self.filter_route.filters, message)
    }

    /// The drop-report timer fired: the turn's end reports what waited.
    pub(crate) fn on_drop_report_timer(&mut self) {
        self.filter_route.report_timer = None;
    }

    /// End of a turn: report drops, coalesced (see the module docs).
    pub(crate) fn report_drops(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let channel_total = self.counters.dropped.load(Relaxed);
        let filter_total = self.counters.filter_dropped.load(Relaxed);
        let total = channel_total.wrapping_add(filter_total);
        let route = &mut self.filter_route;
        let joined = route.filters.take_joined();
        if !joined.is_empty() {
            // Churn adds as it removes: dropping here the removed entries
            // with nothing left to report keeps the ledger to the live
            // subscriptions and those with a report due.
            route.ledger.retain(|sub| {
                !sub.shared.is_removed() || sub.shared.dropped.load(Relaxed) > sub.reported
            });
            route.ledger.extend(joined);
        }
        if total == route.seen {
            return;
        }
        if let Some(at) = route.next_report.filter(|at| now < *at) {
            if route.report_timer.is_none() {
                let timer = EngineTimer::DropReport(self.key);
                route.report_timer = Some(ctx.wheel.insert(at, timer));
            }
            return;
        }
        route.seen = total;
        route.next_report = now.checked_add(REPORT_EVERY);
        let mut entries = Vec::new();
        route.ledger.retain_mut(|sub| {
            // Read `removed` first: drops counted before the removal are in
            // the count read after it, so the last entry has them all.
            let removed = sub.shared.is_removed();
            let dropped = sub.shared.dropped.load(Relaxed);
            if dropped > sub.reported {
                entries.push(Status::Dropped {
                    subscription: Some(sub.id),
                    topic: sub.pattern.to_string(),
                    count: dropped - sub.reported,
                });
                sub.reported = dropped;
            }
            !removed
        });
        if channel_total > route.channel_reported {
            entries.push(Status::Dropped {
                subscription: None,
                topic: String::new(),
                count: channel_total - route.channel_reported,
            });
            route.channel_reported = channel_total;
        }
        for entry in entries {
            self.status(entry);
        }
    }
}
