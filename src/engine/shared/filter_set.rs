//! A socket's filter subscriptions: the [`Registry`] its dispatcher workers
//! match against, the two numbers rig-io reads to route a message, and
//! the [`Membership`] each subscription's handle holds in it.
//!
//! ```text
//!  rig-io: message of the socket ──is_active?──▶ worker_for(topic) batch ──▶ rig-dispatch-N
//!                                  (one atomic load)                         │
//!                                                     registry.load() ─ for_each_match
//!                                                        │ offer: queue (policy) / callback
//!                                                        └ Block queue full: drop the
//!                                                          snapshot, wait for room, load
//!                                                          again, skip the ids done
//! ```
//!
//! The remove promise comes from the registry: a delivery happens inside a
//! snapshot, and `Registry::remove` returns once no snapshot holding the
//! subscription is left. The one wait that could hold a snapshot for long,
//! a full Block queue, happens outside of it, so a remove never waits for a
//! consumer (only for a callback that is running).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, SeqCst};

use super::config::Overflow;
use super::filter_target::{Counts, FilterTarget, Offer, TargetShared};
use super::health::{EngineCounters, SocketCounters};
use crate::filter::{Filter, Registry, RemoveError, SubscriptionId};
use crate::protocol::Message;

/// The filter subscriptions of one socket.
///
/// Aligned to 128 bytes so that, inside its `Arc`, it does not share a
/// cache line with the reference count: rig-io clones the `Arc` for every
/// message it routes and a worker drops it, while both read the fields.
#[repr(align(128))]
pub(crate) struct SocketFilters {
    registry: Registry<Arc<FilterTarget>>,
    /// Subscriptions in the table: rig-io routes nothing while it is 0.
    active: AtomicUsize,
    /// Block subscriptions among them: while any, rig-io never drops a
    /// message for this socket's filters; it pauses the socket instead.
    blocking: AtomicUsize,
    counters: Arc<SocketCounters>,
    engine: Arc<EngineCounters>,
    /// Subscriptions added since rig-io last took them: its drop reports
    /// follow each one until its last drop is reported, even one removed
    /// before rig-io saw it in a table.
    joined: parking_lot::Mutex<Vec<Ledger>>,
    /// Whether `joined` may hold anything (read by rig-io every turn).
    any_joined: AtomicBool,
}

/// What the drop reports need of one subscription (rig-io's ledger).
#[derive(Debug)]
pub(crate) struct Ledger {
    pub(crate) id: SubscriptionId,
    pub(crate) pattern: Box<str>,
    pub(crate) shared: Arc<TargetShared>,
    /// Drops already reported.
    pub(crate) reported: u64,
}

/// The part a filter subscription's handles share: their place in the
/// socket's table, and how to leave it (on drop at the latest).
#[derive(Debug)]
pub(crate) struct Membership {
    pub(crate) filters: Arc<SocketFilters>,
    pub(crate) id: SubscriptionId,
    pub(crate) shared: Arc<TargetShared>,
    pub(crate) overflow: Overflow,
    pub(crate) gone: bool,
}

impl Membership {
    pub(crate) fn remove(&mut self) -> Result<(), RemoveError> {
        if self.gone {
            return Ok(());
        }
        self.filters.remove(self.id, &self.shared, self.overflow)?;
        self.gone = true;
        Ok(())
    }

    pub(crate) fn remove_nowait(&mut self) {
        if !self.gone {
            self.filters.remove_nowait(self.id, &self.shared, self.overflow);
            self.gone = true;
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        // Inside a filter callback a waiting remove would wait for itself.
        if self.remove().is_err() {
            self.remove_nowait();
        }
    }
}

impl fmt::Debug for SocketFilters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketFilters")
            .field("active", &self.active)
            .field("blocking", &self.blocking)
            .finish_non_exhaustive()
    }
}

impl SocketFilters {
    pub(crate) fn new(counters: Arc<SocketCounters>, engine: Arc<EngineCounters>) -> Self {
        Self {
            registry: Registry::new(),
            active: AtomicUsize::new(0),
            blocking: AtomicUsize::new(0),
            counters,
            engine,
            joined: parking_lot::Mutex::new(Vec::new()),
            any_joined: AtomicBool::new(false),
        }
    }

    /// The subscriptions added since the last call (for rig-io's ledger);
    /// empty without taking the lock when there are none.
    pub(crate) fn take_joined(&self) -> Vec<Ledger> {
        if !self.any_joined.swap(false, SeqCst) {
            return Vec::new();
        }
        std::mem::take(&mut *self.joined.lock())
    }

    fn counts(&self) -> Counts<'_> {
        Counts { socket: &self.counters, engine: &self.engine }
    }

    /// Whether rig-io must route this socket's messages to the workers.
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Acquire) > 0
    }

    /// Whether a Block subscription is present (route without loss).
    pub(crate) fn wants_block(&self) -> bool {
        self.blocking.load(Acquire) > 0
    }

    /// Adds a subscription; messages rig-io routes after this returns are
    /// matched against it.
    pub(crate) fn add(&self, filter: Filter, target: FilterTarget) -> SubscriptionId {
        if target.overflow == Overflow::Block {
            // Before it can match: rig-io must not drop what it wants.
            self.blocking.fetch_add(1, SeqCst);
        }
        let pattern = target.pattern.clone();
        let shared = Arc::clone(&target.shared);
        let id = self.registry.add(filter, Arc::new(target));
        self.joined.lock().push(Ledger { id, pattern, shared, reported: 0 });
        self.any_joined.store(true, SeqCst);
        self.active.fetch_add(1, SeqCst);
        id
    }

    /// Removes a subscription and waits until no worker can deliver to it.
    ///
    /// # Errors
    ///
    /// [`RemoveError::SnapshotHeld`] on a thread inside a filter callback.
    pub(crate) fn remove(
        &self,
        id: SubscriptionId,
        shared: &TargetShared,
        overflow: Overflow,
    ) -> Result<(), RemoveError> {
        let removed = self.registry.remove(id)?;
        // A worker parked on its full queue gives up (it holds no snapshot,
        // and loads one without `id` if it tried again).
        shared.mark_removed();
        if removed {
            self.forget(overflow);
        }
        Ok(())
    }

    /// Removes a subscription without waiting (from a callback, or when the
    /// socket goes): a worker may still deliver what it is matching now.
    pub(crate) fn remove_nowait(
        &self,
        id: SubscriptionId,
        shared: &TargetShared,
        overflow: Overflow,
    ) {
        if self.registry.remove_nowait(id) {
            self.forget(overflow);
        }
        shared.mark_removed();
    }

    fn forget(&self, overflow: Overflow) {
        self.active.fetch_sub(1, SeqCst);
        if overflow == Overflow::Block {
            self.blocking.fetch_sub(1, SeqCst);
        }
    }

    /// The socket is gone: every subscription ends (its queue disconnects
    /// once the workers let go of the table).
    pub(crate) fn close_all(&self) {
        let mut all = Vec::new();
        self.for_each_target(|id, target| {
            all.push((id, Arc::clone(&target.shared), target.overflow));
        });
        for (id, shared, overflow) in all {
            self.remove_nowait(id, &shared, overflow);
        }
    }

    /// Calls `f` with every subscription (rig-io's drop report).
    pub(crate) fn for_each_target(&self, mut f: impl FnMut(SubscriptionId, &Arc<FilterTarget>)) {
        let snapshot = self.registry.load();
        for (id, target) in snapshot.iter() {
            f(id, target);
        }
    }

    /// rig-io could not hand `message` to a full worker: each subscription
    /// that wanted it counts it as dropped (matched here, on the drop path
    /// only, so that every subscription's count is exact).
    pub(crate) fn count_unrouted(&self, message: &Message) {
        let counts = self.counts();
        self.registry.load().for_each_match(message, |_, target| target.dropped(counts, 1));
    }

    /// On a worker: hands `message` to every subscription that wants it.
    /// `done` is scratch space (the ids served, when a Block wait makes the
    /// worker match again).
    pub(crate) fn dispatch(
        &self,
        message: &Message,
        stopping: &AtomicBool,
        done: &mut Vec<SubscriptionId>,
    ) {
        let counts = self.counts();
        done.clear();
        // Only a second pass (after a Block wait) can meet served ids.
        let mut again = false;
        loop {
            let mut blocked: Option<(SubscriptionId, Arc<FilterTarget>)> = None;
            {
                let snapshot = self.registry.load();
                snapshot.for_each_match(message, |id, target| {
                    if blocked.is_some() || (again && done.contains(&id)) {
                        return;
                    }
                    match target.offer(message, counts) {
                        Offer::Done => done.push(id),
                        Offer::Full => blocked = Some((id, Arc::clone(target))),
                    }
                });
            }
            let Some((id, target)) = blocked else { return };
            if !target.wait_for_room(stopping, counts) {
                done.push(id);
            }
            again = true;
        }
    }
}
