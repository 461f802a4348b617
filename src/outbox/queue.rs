//! The in-memory index shared by both backends: order per topic, bounds,
//! states. The SQLite backend keeps it as a mirror of the file, so that
//! `pending`, `mark_sent`, `ack` and `nack` never touch the disk.

use std::collections::{BTreeMap, HashMap};

use super::limits::entry_size;
use super::tag::Prepared;
use super::{Entry, Error, FullPolicy, Limits, OutboxId, Stats};
use crate::protocol::Payload;

/// Where an entry is in its life (see the diagram in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Handed to the database writer, not yet committed: not visible to
    /// `pending` (its `enqueue` has not returned).
    Writing,
    /// Durable, waiting to be sent.
    Pending,
    /// Sent, waiting for the server's reply.
    Sent,
}

#[derive(Debug)]
struct Slot {
    entry: Entry,
    state: State,
}

/// A push the queue accepted.
#[derive(Debug)]
#[cfg_attr(
    not(feature = "outbox"),
    expect(dead_code, reason = "evictions are read by the SQLite backend only")
)]
pub(crate) struct Admitted {
    /// The accepted entry (a copy for the writer).
    pub(crate) entry: Entry,
    /// Sequence numbers deleted by [`FullPolicy::DropOldest`] to make room.
    pub(crate) evicted: Vec<u64>,
}

/// Entries by topic in sequence order, with the bounds and counters.
#[derive(Debug)]
pub(crate) struct Queue {
    limits: Limits,
    stamp: u64,
    next_seq: u64,
    topics: HashMap<String, BTreeMap<u64, Slot>>,
    /// Every entry's topic by sequence number: the global order, for
    /// `DropOldest` and for finding an id's topic.
    order: BTreeMap<u64, String>,
    bytes: usize,
    in_flight: usize,
    stats: Stats,
}

#[cfg_attr(
    not(feature = "outbox"),
    expect(dead_code, reason = "restoring and write bookkeeping serve the SQLite backend only")
)]
impl Queue {
    /// An empty queue whose ids take `stamp` as their high half.
    pub(crate) fn new(limits: Limits, stamp: u64) -> Self {
        Self {
            limits,
            stamp,
            next_seq: 1,
            topics: HashMap::new(),
            order: BTreeMap::new(),
            bytes: 0,
            in_flight: 0,
            stats: Stats::default(),
        }
    }

    /// Puts back an entry read from disk (durable, pending). Restored entries
    /// may exceed the limits (if they were lowered): nothing accepted is
    /// dropped, new pushes wait for room.
    pub(crate) fn restore(&mut self, entry: Entry) {
        let seq = entry.id.seq();
        self.next_seq = self.next_seq.max(seq.saturating_add(1));
        self.insert(entry, State::Pending);
    }

    fn insert(&mut self, entry: Entry, state: State) {
        let seq = entry.id.seq();
        self.bytes += entry.size();
        self.order.insert(seq, entry.topic.clone());
        self.topics.entry(entry.topic.clone()).or_default().insert(seq, Slot { entry, state });
    }

    /// Accepts a push if it fits (or room is made under `DropOldest`). The
    /// entry starts `Writing` when `durable_later`, else `Pending`.
    pub(crate) fn admit(
        &mut self,
        topic: &str,
        event: &str,
        prepared: Prepared,
        durable_later: bool,
    ) -> Result<Admitted, Error> {
        let seq = self.next_seq;
        let id = OutboxId::from_parts(self.stamp, seq);
        let (payload, tagged) = prepared.finish(id);
        let needed = entry_size(topic, event, &payload);
        let mut evicted = Vec::new();
        if needed > self.limits.get_max_bytes() || self.limits.get_max_entries() == 0 {
            return Err(self.full(needed, prepared.into_original()));
        }
        while !self.fits(needed) {
            if self.limits.get_policy() != FullPolicy::DropOldest {
                return Err(self.full(needed, prepared.into_original()));
            }
            let Some(oldest) = self.oldest_evictable() else {
                return Err(self.full(needed, prepared.into_original()));
            };
            self.forget(oldest);
            self.stats.dropped += 1;
            evicted.push(oldest);
        }
        self.next_seq = seq.saturating_add(1);
        let entry = Entry {
            id,
            topic: topic.to_owned(),
            event: event.to_owned(),
            payload,
            tagged,
            attempts: 0,
        };
        let state = if durable_later { State::Writing } else { State::Pending };
        self.insert(entry.clone(), state);
        self.stats.enqueued += 1;
        Ok(Admitted { entry, evicted })
    }

    fn fits(&self, needed: usize) -> bool {
        self.order.len() < self.limits.get_max_entries()
            && self.bytes.saturating_add(needed) <= self.limits.get_max_bytes()
    }

    fn full(&mut self, needed: usize, payload: Payload) -> Error {
        self.stats.rejected += 1;
        Error::Full {
            entries: self.order.len(),
            bytes: self.bytes,
            max_entries: self.limits.get_max_entries(),
            max_bytes: self.limits.get_max_bytes(),
            needed,
            payload: Box::new(payload),
        }
    }

    /// The writer committed this entry: it becomes visible to `pending`.
    pub(crate) fn written(&mut self, seq: u64) {
        if let Some(slot) = self.slot_mut(seq)
            && slot.state == State::Writing
        {
            slot.state = State::Pending;
        }
    }

    /// Removes an entry (acked, evicted, or its write failed).
    pub(crate) fn forget(&mut self, seq: u64) -> Option<Entry> {
        let topic = self.order.remove(&seq)?;
        let slots = self.topics.get_mut(&topic)?;
        let slot = slots.remove(&seq)?;
        if slots.is_empty() {
            self.topics.remove(&topic);
        }
        self.bytes = self.bytes.saturating_sub(slot.entry.size());
        if slot.state == State::Sent {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        Some(slot.entry)
    }

    fn slot_mut(&mut self, seq: u64) -> Option<&mut Slot> {
        let topic = self.order.get(&seq)?;
        self.topics.get_mut(topic)?.get_mut(&seq)
    }

    /// The slot of this exact id (the stamp must match too).
    fn slot_of(&mut self, id: OutboxId) -> Option<&mut Slot> {
        self.slot_mut(id.seq()).filter(|slot| slot.entry.id == id)
    }

    /// The entries of `topic` waiting to be sent, in order. Stops at the
    /// first entry still being written, so a later entry is never seen
    /// before an earlier one.
    pub(crate) fn pending(&self, topic: &str) -> Vec<Entry> {
        let Some(slots) = self.topics.get(topic) else { return Vec::new() };
        slots
            .values()
            .take_while(|slot| slot.state != State::Writing)
            .filter(|slot| slot.state == State::Pending)
            .map(|slot| slot.entry.clone())
            .collect()
    }

    /// The topics that hold entries, in the order of their oldest entry.
    pub(crate) fn topics(&self) -> Vec<String> {
        let mut firsts: Vec<(u64, &String)> = self
            .topics
            .iter()
            .filter_map(|(topic, slots)| slots.keys().next().map(|&seq| (seq, topic)))
            .collect();
        firsts.sort_unstable();
        firsts.into_iter().map(|(_, topic)| topic.clone()).collect()
    }

    pub(crate) fn mark_sent(&mut self, id: OutboxId) -> bool {
        let Some(slot) = self.slot_of(id) else { return false };
        if slot.state != State::Pending {
            return false;
        }
        slot.state = State::Sent;
        self.in_flight += 1;
        true
    }

    /// The oldest entry `DropOldest` may delete: not one still being
    /// written, whose `enqueue` has not returned yet and must not return
    /// `Ok` for an entry already gone (the new push is refused instead).
    fn oldest_evictable(&self) -> Option<u64> {
        self.order
            .iter()
            .find(|(seq, topic)| {
                let slot = self.topics.get(*topic).and_then(|slots| slots.get(*seq));
                slot.is_some_and(|slot| slot.state != State::Writing)
            })
            .map(|(seq, _)| *seq)
    }

    /// Whether the entry `id` is still held (any state).
    pub(crate) fn contains(&self, id: OutboxId) -> bool {
        let seq = id.seq();
        let slot = self.order.get(&seq).and_then(|topic| self.topics.get(topic)?.get(&seq));
        slot.is_some_and(|slot| slot.entry.id == id)
    }

    pub(crate) fn nack(&mut self, id: OutboxId) -> bool {
        let Some(slot) = self.slot_of(id) else { return false };
        if slot.state != State::Sent {
            return false;
        }
        slot.state = State::Pending;
        slot.entry.attempts = slot.entry.attempts.saturating_add(1);
        self.in_flight = self.in_flight.saturating_sub(1);
        self.stats.nacked += 1;
        true
    }

    pub(crate) fn requeue_all(&mut self) -> usize {
        let mut sent = Vec::new();
        for slots in self.topics.values() {
            sent.extend(slots.values().filter(|s| s.state == State::Sent).map(|s| s.entry.id));
        }
        sent.into_iter().filter(|&id| self.nack(id)).count()
    }

    /// Acks an entry: true if it was held (and is now forgotten).
    pub(crate) fn ack(&mut self, id: OutboxId) -> bool {
        if self.slot_of(id).is_none() {
            return false;
        }
        self.forget(id.seq());
        self.stats.acked += 1;
        true
    }

    /// The write of an entry failed: its `enqueue` returns the error, so it
    /// was never accepted.
    pub(crate) fn write_failed(&mut self, seq: u64) {
        if self.forget(seq).is_some() {
            self.stats.enqueued = self.stats.enqueued.saturating_sub(1);
        }
    }

    pub(crate) fn note_commit(&mut self) {
        self.stats.commits += 1;
        self.stats.disk_full = false;
    }

    /// A batch failed; `disk_full` when for want of space.
    pub(crate) fn note_write_error(&mut self, disk_full: bool) {
        self.stats.write_errors += 1;
        self.stats.disk_full |= disk_full;
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            entries: self.order.len(),
            bytes: self.bytes,
            in_flight: self.in_flight,
            ..self.stats
        }
    }
}
