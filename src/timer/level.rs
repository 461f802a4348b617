//! One level of the wheel: 64 slots, each a FIFO list, and an occupied bitmap.
//!
//! Level `n` has slots `64^n` ms wide, so it spans `64^(n+1)` ms. The bitmap's
//! bit `i` is set when slot `i` holds an entry; the next occupied slot after
//! "now" is one rotate and one `trailing_zeros` away (tokio's `level.rs`).

use super::slab::{List, Place, Slab};

/// Slots per level (a power of two).
pub(super) const LEVEL_SLOTS: usize = 64;
/// log2 of [`LEVEL_SLOTS`].
const SLOT_BITS: u32 = 6;
/// Number of levels: 1 ms slots up to ~12 day slots, ~2.2 years in all.
pub(super) const NUM_LEVELS: usize = 6;
/// The index of the top level, which also holds everything beyond the range.
pub(super) const TOP_LEVEL: usize = NUM_LEVELS - 1;
/// The wheel's range in ticks: a deadline further out than this goes to the
/// top level and is re-filed once per rotation until it comes into range.
pub(super) const MAX_DURATION: u64 = (1 << (SLOT_BITS as usize * NUM_LEVELS)) - 1;

/// A slot of a level that is due to be processed at `deadline`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Expiration {
    pub(super) level: usize,
    pub(super) slot: usize,
    /// The tick at which the slot's time range starts (or, for a top-level
    /// slot that already went by in this rotation, starts again).
    pub(super) deadline: u64,
}

/// One slot: its entries and what we know of their earliest deadline.
#[derive(Clone, Copy, Debug)]
struct Slot {
    list: List,
    /// A lower bound of the slot's ticks: exact until its earliest entry is
    /// cancelled, because cancelling never lowers a minimum.
    min_tick: u64,
    /// The list is in tick order, so its head holds the exact minimum even
    /// after cancellations (the usual case: one timeout for many pushes).
    sorted: bool,
}

impl Slot {
    const EMPTY: Self = Self { list: List::EMPTY, min_tick: u64::MAX, sorted: true };
}

/// One level of the wheel.
///
/// Only occupied slots are stored, in slot order: slot `s` is at the
/// number of occupied slots below it. A session's wheel holds a handful of
/// timers, so its levels cost a few slots instead of 64 each (a full level
/// was 3 KiB, a session's wheel 18 KiB).
#[derive(Debug)]
pub(super) struct Level {
    level: usize,
    occupied: u64,
    slots: Vec<Slot>,
}

impl Level {
    pub(super) fn new(level: usize) -> Self {
        Self { level, occupied: 0, slots: Vec::new() }
    }

    fn is_occupied(&self, slot: usize) -> bool {
        self.occupied & (1 << (slot % LEVEL_SLOTS)) != 0
    }

    /// Where slot `slot` is (or would go) in `slots`.
    fn position(&self, slot: usize) -> usize {
        (self.occupied & ((1 << (slot % LEVEL_SLOTS)) - 1)).count_ones() as usize
    }

    fn slot(&self, slot: usize) -> Slot {
        if !self.is_occupied(slot) {
            return Slot::EMPTY;
        }
        self.slots.get(self.position(slot)).copied().unwrap_or(Slot::EMPTY)
    }

    /// Slot `slot`, made occupied if it was not.
    fn occupy(&mut self, slot: usize) -> Option<&mut Slot> {
        let position = self.position(slot);
        if !self.is_occupied(slot) {
            self.slots.insert(position.min(self.slots.len()), Slot::EMPTY);
            self.occupied |= 1 << (slot % LEVEL_SLOTS);
        }
        self.slots.get_mut(position)
    }

    /// Empties slot `slot` and returns what it held.
    fn vacate(&mut self, slot: usize) -> Slot {
        if !self.is_occupied(slot) {
            return Slot::EMPTY;
        }
        let position = self.position(slot);
        self.occupied &= !(1 << (slot % LEVEL_SLOTS));
        if position < self.slots.len() { self.slots.remove(position) } else { Slot::EMPTY }
    }

    /// Files entry `index` (with deadline `tick`) into the slot for `tick`
    /// and returns when that slot is due (seen from `now`).
    pub(super) fn push<T>(&mut self, slab: &mut Slab<T>, index: usize, tick: u64, now: u64) -> u64 {
        let slot_index = slot_for(tick, self.level);
        let level = self.level;
        if let Some(slot) = self.occupy(slot_index) {
            if slot.list.tail_tick(slab).is_some_and(|tail| tail > tick) {
                slot.sorted = false;
            }
            slot.min_tick = slot.min_tick.min(tick);
            slot.list.push_back(slab, index, Place::Slot { level, slot: slot_index });
        }
        self.slot_start(now, slot_index)
    }

    /// Unlinks entry `index` from `slot`.
    pub(super) fn unlink<T>(&mut self, slab: &mut Slab<T>, slot_index: usize, index: usize) {
        if !self.is_occupied(slot_index) {
            return;
        }
        let position = self.position(slot_index);
        let Some(slot) = self.slots.get_mut(position) else { return };
        slot.list.unlink(slab, index);
        if slot.list.is_empty() {
            self.vacate(slot_index);
        }
    }

    /// Empties `slot` and returns its entries, oldest first.
    pub(super) fn take(&mut self, slot_index: usize) -> List {
        self.vacate(slot_index).list
    }

    /// A lower bound of the ticks in `slot` (exact unless its earliest entry
    /// was cancelled while the slot was out of order).
    pub(super) fn min_tick<T>(&self, slab: &Slab<T>, slot_index: usize) -> u64 {
        let slot = self.slot(slot_index);
        if slot.sorted { slot.list.head_tick(slab).unwrap_or(slot.min_tick) } else { slot.min_tick }
    }

    /// Checks the bitmap and the slot bookkeeping against the lists (tests).
    #[cfg(test)]
    pub(super) fn check<T>(&self, slab: &Slab<T>, elapsed: u64) -> usize {
        let mut count = 0;
        assert_eq!(self.slots.len(), self.occupied.count_ones() as usize);
        for index in 0..LEVEL_SLOTS {
            let slot = self.slot(index);
            let entries: Vec<_> = slot.list.iter(slab).collect();
            assert_eq!(
                self.occupied & (1 << index) != 0,
                !entries.is_empty(),
                "level {} slot {index}",
                self.level
            );
            let mut prev_tick = 0;
            for (i, (_, entry)) in entries.iter().enumerate() {
                assert_eq!(entry.place, Place::Slot { level: self.level, slot: index });
                assert!(
                    entry.tick > elapsed,
                    "tick {} filed at or before elapsed {elapsed}",
                    entry.tick
                );
                assert_eq!(slot_for(entry.tick, self.level), index);
                assert!(slot.min_tick <= entry.tick);
                if slot.sorted && i > 0 {
                    assert!(prev_tick <= entry.tick);
                }
                prev_tick = entry.tick;
            }
            count += entries.len();
        }
        count
    }

    /// The occupied slot that comes next after `now`, and when it is due.
    pub(super) fn next_expiration(&self, now: u64) -> Option<Expiration> {
        let slot = self.next_occupied_slot(now)?;
        Some(Expiration { level: self.level, slot, deadline: self.slot_start(now, slot) })
    }

    /// Every occupied slot with its due tick (used for the top level, whose
    /// slots mix entries of several rotations).
    pub(super) fn expirations(&self, now: u64) -> impl Iterator<Item = Expiration> + '_ {
        let mut bits = self.occupied;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let slot = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(Expiration { level: self.level, slot, deadline: self.slot_start(now, slot) })
        })
    }

    fn next_occupied_slot(&self, now: u64) -> Option<usize> {
        if self.occupied == 0 {
            return None;
        }
        // Search from the slot after now's, wrapping round to now's own slot
        // last. Below the top level now's slot is always empty (its entries
        // would sit in a lower level); in the top level it can only hold
        // deadlines a rotation or more away, so it must come last, or it would
        // hide the other slots (tokio searches from now's slot, which is
        // harmless there only because tokio caps deadlines at the range).
        let first = (now >> (SLOT_BITS as usize * self.level)).wrapping_add(1) % LEVEL_SLOTS as u64;
        let rotated = self.occupied.rotate_right(first as u32);
        let zeros = u64::from(rotated.trailing_zeros());
        Some(((zeros + first) % LEVEL_SLOTS as u64) as usize)
    }

    /// The tick at which `slot` starts, at or after `now`'s level window.
    fn slot_start(&self, now: u64, slot: usize) -> u64 {
        let level_range = level_range(self.level);
        let level_start = now & !(level_range - 1);
        let start = level_start.saturating_add(slot as u64 * slot_range(self.level));
        if start <= now && self.level == TOP_LEVEL {
            // The top level is a ring: a slot "behind" now belongs to the next
            // rotation (it holds deadlines beyond the wheel's range). Lower
            // levels never hold a slot behind now: it would have been processed.
            start.saturating_add(level_range)
        } else {
            start
        }
    }
}

/// The width of one slot of `level`, in ticks.
pub(super) fn slot_range(level: usize) -> u64 {
    1 << (SLOT_BITS as usize * level)
}

/// The span of all slots of `level`, in ticks.
fn level_range(level: usize) -> u64 {
    slot_range(level) << SLOT_BITS
}

/// The slot of `level` that holds deadline `tick`.
pub(super) fn slot_for(tick: u64, level: usize) -> usize {
    ((tick >> (SLOT_BITS as usize * level)) % LEVEL_SLOTS as u64) as usize
}

/// The level for a deadline `when` seen from `elapsed` (`when >= elapsed`):
/// the level of the highest bit in which they differ.
pub(super) fn level_for(elapsed: u64, when: u64) -> usize {
    let mut masked = (elapsed ^ when) | (LEVEL_SLOTS as u64 - 1);
    if masked >= MAX_DURATION {
        // Beyond the wheel's range: park it in the top level.
        masked = MAX_DURATION - 1;
    }
    let significant = 63 - masked.leading_zeros() as usize;
    (significant / SLOT_BITS as usize).min(TOP_LEVEL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_for_picks_the_level_of_the_highest_differing_digit() {
        for tick in 0..64 {
            assert_eq!(level_for(0, tick), 0, "tick {tick}");
        }
        for level in 1..NUM_LEVELS {
            for digit in 1..64u64 {
                let tick = digit * slot_range(level);
                assert_eq!(level_for(0, tick), level, "tick {tick}");
                assert_eq!(level_for(0, tick + 1), level, "tick {}", tick + 1);
                assert_eq!(level_for(0, tick + slot_range(level) - 1), level);
            }
        }
        assert_eq!(level_for(0, MAX_DURATION + 1), TOP_LEVEL);
        assert_eq!(level_for(0, u64::MAX), TOP_LEVEL);
        assert_eq!(level_for(100, 100), 0);
        assert_eq!(level_for(63, 64), 1);
    }

    #[test]
    fn slot_for_takes_the_levels_digit() {
        for level in 0..NUM_LEVELS {
            for digit in 0..64u64 {
                assert_eq!(slot_for(digit * slot_range(level), level), digit as usize);
            }
        }
        assert_eq!(slot_for(u64::MAX, TOP_LEVEL), 63);
    }

    #[test]
    fn next_expiration_rotates_from_now() {
        let mut slab = Slab::new();
        let mut level = Level::new(1);
        for tick in [5 * 64 + 3, 2 * 64] {
            let i = slab.insert(super::super::slab::Entry::new((), tick, 0));
            level.push(&mut slab, i, tick, 64);
        }
        let exp = level.next_expiration(64).unwrap();
        assert_eq!((exp.slot, exp.deadline), (2, 128));
        assert_eq!(level.min_tick(&slab, 5), 5 * 64 + 3);
        let _ = level.take(2);
        assert_eq!(level.next_expiration(64).unwrap().deadline, 320);
    }

    #[test]
    fn top_level_slots_behind_now_belong_to_the_next_rotation() {
        let mut slab = Slab::new();
        let mut top = Level::new(TOP_LEVEL);
        let now = 3 * slot_range(TOP_LEVEL) + 17;
        let far = now + 2 * level_range(TOP_LEVEL);
        let i = slab.insert(super::super::slab::Entry::new((), far, 0));
        top.push(&mut slab, i, far, now);
        let exp = top.next_expiration(now).unwrap();
        assert_eq!(exp.slot, 3);
        assert_eq!(exp.deadline, 3 * slot_range(TOP_LEVEL) + level_range(TOP_LEVEL));
    }
}
