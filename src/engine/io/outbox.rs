//! Durable pushes on rig-io: sending a socket's outbox entries once their
//! channel is joined, acking on a reply, requeueing on a timeout or a lost
//! connection, and resolving the [`Push`](crate::engine::Push) handles.
//!
//! rig-io never touches the disk here: `pending`, `mark_sent`, `nack` and
//! `ack` work on the outbox's in-memory index (an ack is a message to the
//! writer thread). Only [`Channel::push_durable`](crate::engine::Channel::push_durable)
//! waits for the disk, on the caller's thread.
//!
//! ```text
//!  caller: enqueue (durable) ──DurablePush{id}──▶ rig-io: waiter filed
//!  channel Joined (join, rejoin, new entry) ──▶ pending(topic) ─mark_sent─▶ session.push
//!  reply (any status) ──▶ ack ──▶ waiter resolved with the reply
//!  timeout ──▶ nack ──▶ sent again at once (still joined) or at the next join
//!  channel leaves Joined / socket closed ──▶ nack every in-flight entry of it
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::slot::{PushEntry, PushTarget, SocketSlot, resolve_target};
use super::thread::Ctx;
use crate::engine::shared::callback::OutcomeCallback;
use crate::engine::shared::command::PushSink;
use crate::engine::shared::ids::{ChannelKey, PushKey};
use crate::engine::shared::outbox::OutboxShared;
use crate::engine::shared::push_result::{PushError, PushResult, outcome_of};
use crate::outbox::OutboxId;
use crate::protocol::{AbandonReason, ChannelId, ChannelState, PushId, Reply, SessionError};

/// rig-io's side of a socket's outbox.
pub(crate) struct Durable {
    shared: Arc<OutboxShared>,
    /// Entries handed to the session: its push id → (entry, channel).
    in_flight: HashMap<PushId, (OutboxId, ChannelKey)>,
    /// Handles waiting for an entry's reply.
    waiters: HashMap<OutboxId, (ChannelKey, PushEntry)>,
    by_key: HashMap<PushKey, OutboxId>,
    /// Outcomes that came before their waiter (see `registering`).
    early: HashMap<OutboxId, PushResult>,
    /// The store's `dropped` count when the waiters were last checked for
    /// entries `DropOldest` deleted.
    seen_dropped: u64,
}

impl Durable {
    pub(crate) fn new(shared: Arc<OutboxShared>) -> Self {
        Self {
            shared,
            in_flight: HashMap::new(),
            waiters: HashMap::new(),
            by_key: HashMap::new(),
            early: HashMap::new(),
            seen_dropped: 0,
        }
    }

    /// Hands an entry's outcome to its waiter, or keeps it for a waiter
    /// about to be filed.
    fn settle(&mut self, ctx: &Ctx<'_>, id: OutboxId, result: PushResult) {
        if let Some((_, entry)) = self.waiters.remove(&id) {
            self.by_key.remove(&entry.key);
            resolve_target(ctx, entry.target, result);
        } else if self.shared.registering.load(Ordering::SeqCst) > 0 {
            self.early.insert(id, result);
        }
    }

    /// Resolves the waiters whose entries the store dropped to make room
    /// (`FullPolicy::DropOldest`): they will never be sent. Cheap when
    /// nothing was dropped since the last check.
    fn settle_dropped(&mut self, ctx: &Ctx<'_>) {
        let dropped = self.shared.store.stats().dropped;
        if dropped == self.seen_dropped {
            return;
        }
        self.seen_dropped = dropped;
        let store = &self.shared.store;
        let gone: Vec<OutboxId> =
            self.waiters.keys().filter(|id| !store.contains(**id)).copied().collect();
        for id in gone {
            self.settle(ctx, id, Err(PushError::Dropped));
        }
    }

    /// Puts the in-flight entries matching `which` back to pending.
    fn requeue(&mut self, which: impl Fn(ChannelKey) -> bool) -> usize {
        let store = &self.shared.store;
        let before = self.in_flight.len();
        self.in_flight.retain(|_, (id, key)| {
            if which(*key) {
                store.nack(*id);
                false
            } else {
                true
            }
        });
        before - self.in_flight.len()
    }
}

impl SocketSlot {
    /// `Channel::push_durable`: the entry is on disk; file its handle and
    /// send it if its channel is joined.
    pub(crate) fn outbox_register(
        &mut self,
        ctx: &mut Ctx<'_>,
        channel: ChannelKey,
        id: OutboxId,
        sink: PushSink,
    ) {
        let known = self.channels.contains_key(&channel);
        let Some(durable) = self.durable.as_mut() else {
            let _ = sink.tx.try_send(Err(PushError::ChannelGone));
            return;
        };
        let left = durable.shared.registering.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
        let early = durable.early.remove(&id);
        if left == 0 {
            durable.early.clear();
        }
        if let Some(result) = early {
            let _ = sink.tx.try_send(result);
        } else if !durable.shared.store.contains(id) {
            // Dropped to make room before it was filed (DropOldest).
            let _ = sink.tx.try_send(Err(PushError::Dropped));
        } else if known {
            durable.by_key.insert(sink.key, id);
            let entry = PushEntry { key: sink.key, target: PushTarget::Handle(sink.tx) };
            durable.waiters.insert(id, (channel, entry));
        } else {
            // The channel was removed; the entry stays in the outbox for a
            // channel of the same topic joined later.
            let _ = sink.tx.try_send(Err(PushError::ChannelGone));
            // Another channel of the topic may be joined: rare, so all.
            let keys: Vec<ChannelKey> = self.channels.keys().copied().collect();
            for key in keys {
                self.outbox_send(ctx, key);
            }
        }
        self.outbox_send(ctx, channel);
    }

    /// Sends the pending entries of `channel`'s topic through every other
    /// joined channel of that topic: entries put back when `channel`
    /// closed or abandoned them go out at once if the topic is joined
    /// elsewhere (a channel replaced by a new one of the same topic).
    fn outbox_send_topic_of(&mut self, ctx: &mut Ctx<'_>, channel: ChannelKey) {
        let Some(topic) = self.channels.get(&channel).map(|e| e.reference.topic_string().clone())
        else {
            return;
        };
        let keys: Vec<ChannelKey> = self
            .channels
            .iter()
            .filter(|(key, entry)| **key != channel && *entry.reference.topic_string() == topic)
            .map(|(key, _)| *key)
            .collect();
        for key in keys {
            self.outbox_send(ctx, key);
        }
    }

    /// Sends the pending entries of `channel`'s topic, in order, if the
    /// channel is joined and the socket open.
    pub(crate) fn outbox_send(&mut self, ctx: &mut Ctx<'_>, channel: ChannelKey) {
        let Some(durable) = self.durable.as_mut() else { return };
        durable.settle_dropped(ctx);
        let Some(entry) = self.channels.get(&channel) else { return };
        if !self.session.can_push(entry.id) {
            return;
        }
        let store = Arc::clone(&durable.shared.store);
        for item in store.pending(entry.reference.topic_string()) {
            if !store.mark_sent(item.id) {
                continue;
            }
            match self.session.push(ctx.now, entry.id, item.event, item.payload, None) {
                Ok(push) => {
                    durable.in_flight.insert(push, (item.id, channel));
                }
                Err(SessionError::Encode(error)) => {
                    // It can never be sent: drop it rather than block its topic.
                    log::error!("outbox entry {} cannot be encoded, dropped: {error}", item.id);
                    store.ack(item.id);
                    let reason = AbandonReason::Encode(error);
                    durable.settle(ctx, item.id, Err(PushError::Abandoned(reason)));
                }
                Err(other) => {
                    store.nack(item.id);
                    log::debug!("outbox send of {} deferred: {other}", item.id);
                    return;
                }
            }
        }
    }

    /// A reply: for a durable push, acks the entry and resolves its handle
    /// (`None`); any other push's reply is handed back.
    ///
    /// Every status is acked: `error` is the application's answer to a push
    /// it received (phoenix.js resolves it through `receive("error")`), so
    /// sending it again would not change it.
    pub(crate) fn outbox_on_reply(
        &mut self,
        ctx: &mut Ctx<'_>,
        push: PushId,
        reply: Reply,
    ) -> Option<Reply> {
        let Some(durable) = self.durable.as_mut() else { return Some(reply) };
        let Some((id, _)) = durable.in_flight.remove(&push) else { return Some(reply) };
        durable.shared.store.ack(id);
        durable.settle(ctx, id, outcome_of(reply));
        None
    }

    /// A push timed out: a durable entry goes back to pending and is sent
    /// again (its handle keeps waiting). True if it was durable.
    pub(crate) fn outbox_on_timeout(&mut self, ctx: &mut Ctx<'_>, push: PushId) -> bool {
        let Some(durable) = self.durable.as_mut() else { return false };
        let Some((id, channel)) = durable.in_flight.remove(&push) else { return false };
        durable.shared.store.nack(id);
        self.outbox_send(ctx, channel);
        true
    }

    /// A push was abandoned. For a durable entry: back to pending when its
    /// channel closed (a later join of the topic sends it), dropped when it
    /// cannot be encoded. True if it was durable.
    pub(crate) fn outbox_on_abandoned(
        &mut self,
        ctx: &mut Ctx<'_>,
        push: PushId,
        reason: &AbandonReason,
    ) -> bool {
        let Some(durable) = self.durable.as_mut() else { return false };
        let Some((id, channel)) = durable.in_flight.remove(&push) else { return false };
        if let AbandonReason::Encode(_) = reason {
            durable.shared.store.ack(id);
            durable.settle(ctx, id, Err(PushError::Abandoned(reason.clone())));
        } else {
            durable.shared.store.nack(id);
            self.outbox_send_topic_of(ctx, channel);
        }
        true
    }

    /// A channel changed state: joined sends its entries (replay after every
    /// join and rejoin); `Joined` to `Errored` requeues the ones in flight
    /// (no reply will come; a late `error` reply for the unjoined topic must
    /// not be taken for the answer). `Leaving` keeps them in flight: the
    /// server answers pushes before the leave, and whatever is still in
    /// flight when the channel closes is put back then.
    pub(crate) fn outbox_on_channel_state(
        &mut self,
        ctx: &mut Ctx<'_>,
        channel: ChannelId,
        from: ChannelState,
        to: ChannelState,
    ) {
        let Some(&key) = self.by_id.get(&channel) else { return };
        let Some(durable) = self.durable.as_mut() else { return };
        if from == ChannelState::Joined
            && matches!(to, ChannelState::Errored | ChannelState::Closed)
        {
            durable.requeue(|k| k == key);
        }
        if to == ChannelState::Joined {
            self.outbox_send(ctx, key);
        }
    }

    /// A channel closed for good (left, closed by the server, removed): its
    /// entries stay in the outbox, its handles resolve with `ChannelGone`.
    /// Call before the channel is forgotten.
    pub(crate) fn outbox_on_channel_closed(&mut self, ctx: &mut Ctx<'_>, channel: ChannelId) {
        let Some(&key) = self.by_id.get(&channel) else { return };
        let Some(durable) = self.durable.as_mut() else { return };
        let requeued = durable.requeue(|k| k == key);
        let gone: Vec<OutboxId> =
            durable.waiters.iter().filter(|(_, (k, _))| *k == key).map(|(id, _)| *id).collect();
        for id in gone {
            if let Some((_, entry)) = durable.waiters.remove(&id) {
                durable.by_key.remove(&entry.key);
                resolve_target(ctx, entry.target, Err(PushError::ChannelGone));
            }
        }
        if requeued > 0 {
            self.outbox_send_topic_of(ctx, key);
        }
    }

    /// The connection closed: every entry in flight goes back to pending.
    pub(crate) fn outbox_on_closed(&mut self) {
        if let Some(durable) = self.durable.as_mut() {
            durable.requeue(|_| true);
        }
    }

    /// `Push::then` on a durable push: the callback replaces its handle.
    /// Hands the callback back if `push` is not a waiting durable push.
    pub(crate) fn outbox_then(
        &mut self,
        push: PushKey,
        callback: OutcomeCallback,
    ) -> Result<(), OutcomeCallback> {
        let waiter = self.durable.as_mut().and_then(|durable| {
            let id = durable.by_key.get(&push)?;
            durable.waiters.get_mut(id)
        });
        match waiter {
            Some((_, entry)) => {
                entry.target = PushTarget::Callback(callback);
                Ok(())
            }
            None => Err(callback),
        }
    }

    /// The socket leaves the engine: waiting handles resolve with
    /// `EngineStopped`; the entries stay on disk.
    pub(crate) fn outbox_release(&mut self, ctx: &mut Ctx<'_>) -> Option<ReleasedOutbox> {
        let mut durable = self.durable.take()?;
        durable.requeue(|_| true);
        for (_, (_, entry)) in durable.waiters.drain() {
            resolve_target(ctx, entry.target, Err(PushError::EngineStopped));
        }
        Some(ReleasedOutbox(durable.shared))
    }
}

/// A removed socket's outbox, on its way to being closed.
///
/// When rig-io holds the last reference, dropping it closes the store,
/// which for SQLite waits for the writer thread's last commit: a disk wait.
/// While the engine runs, rig-io hands that drop to a short-lived thread
/// ([`close_off_thread`](Self::close_off_thread); sockets are removed
/// rarely); while it stops, it drops it in place, so that the file is
/// closed when `Engine::shutdown` returns and can be opened again at once.
#[must_use = "dropping closes the outbox in place, which may wait for the disk"]
pub(crate) struct ReleasedOutbox(Arc<OutboxShared>);

impl ReleasedOutbox {
    pub(crate) fn close_off_thread(self) {
        // `into_inner` is atomic: `None` means another holder (a user's
        // handle) drops last and closes the store there.
        let Some(shared) = Arc::into_inner(self.0) else { return };
        let spawned =
            std::thread::Builder::new().name("rig-outbox-close".into()).spawn(move || drop(shared));
        if let Err(error) = spawned {
            log::warn!("could not start a thread to close an outbox ({error}); closed on rig-io");
        }
    }
}
