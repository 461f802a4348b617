//! Timers driven by the injected clock: a hierarchical timer wheel.
//!
//! [`TimerWheel`] keeps every deadline of a session (heartbeat, push and join
//! timeouts, rejoin and reconnect backoff). It never reads a clock: callers
//! pass `now` to [`TimerWheel::poll`] and ask [`TimerWheel::next_deadline`]
//! how long they may sleep.
//!
//! # Design
//!
//! The wheel follows tokio's (`tokio/src/runtime/time/wheel/`): 6 levels of
//! 64 slots over 1 ms ticks, so level `n` has slots `64^n` ms wide and the
//! wheel spans `2^36` ms (about 2.2 years). A deadline goes to the level of the
//! highest base-64 digit in which it differs from the wheel's current tick; as
//! time reaches a higher-level slot, its entries are re-filed ("cascade") into
//! lower levels, until they land in a 1 ms slot and expire. Each level keeps a
//! `u64` bitmap of occupied slots, so the next slot is a rotate plus a
//! `trailing_zeros`. Deadlines beyond the range park in the top level and are
//! re-filed once per rotation until they come into range.
//!
//! Unlike tokio, entries live in a slab (a `Vec` plus a free list) and are
//! linked by index, so there is no `unsafe`; keys carry the entry's insertion
//! number, so a stale key never cancels an entry that reused its slot.
//!
//! Costs: [`insert`](TimerWheel::insert) and [`cancel`](TimerWheel::cancel) are
//! O(1) (a deadline already in the past walks the short list of overdue
//! entries). [`poll`](TimerWheel::poll) is O(1) per returned entry plus O(1)
//! per cascade step (an entry cascades at most 5 times), and a comparison
//! when nothing can be due;
//! [`next_deadline`](TimerWheel::next_deadline) is O(levels), or O(64) when
//! only the top level (deadlines more than ~12 days away) is occupied.
//!
//! # Rounding and order
//!
//! Deadlines are kept at millisecond resolution and rounded *up*, so a timer
//! never fires early; `now` is rounded down. Times before the origin count as
//! the origin, and times too far out saturate. Expired timers come out of
//! `poll` one at a time, earliest deadline first, ties in insertion order.

mod level;
mod slab;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_model;

use std::fmt;
use std::time::Duration;

use self::level::{Expiration, Level, NUM_LEVELS, TOP_LEVEL, level_for};
use self::slab::{Entry, List, Place, Slab};
use crate::time::Instant;

/// Identifies one armed timer; stale keys (fired or cancelled) are harmless.
///
/// # Examples
///
/// ```
/// use rig::timer::TimerWheel;
/// let (clock, _mock) = rig::time::Clock::mock();
/// let mut wheel = TimerWheel::new(clock.now());
/// let key = wheel.insert(clock.now(), "x");
/// assert_eq!(wheel.cancel(key), Some("x"));
/// assert_eq!(wheel.cancel(key), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerKey {
    /// The entry's cell in the slab.
    index: usize,
    /// The entry's insertion number, unique per wheel: the generation check.
    seq: u64,
}

/// A set of timers ordered by deadline: a hierarchical timer wheel.
///
/// See the [module documentation](self) for the design and costs.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::timer::TimerWheel;
///
/// let (clock, mock) = rig::time::Clock::mock();
/// let mut wheel = TimerWheel::new(clock.now());
/// wheel.insert(clock.now() + Duration::from_millis(10), "heartbeat");
/// assert_eq!(wheel.poll(clock.now()), None);
/// mock.increment(Duration::from_millis(10));
/// assert_eq!(wheel.poll(clock.now()), Some("heartbeat"));
/// ```
pub struct TimerWheel<T> {
    /// The instant of tick 0.
    origin: Instant,
    /// The tick up to which the wheel has processed time. Every entry in the
    /// levels has a later tick; every entry in `expired` has this one or an
    /// earlier one.
    elapsed: u64,
    next_seq: u64,
    slab: Slab<T>,
    levels: Box<[Level; NUM_LEVELS]>,
    /// Entries whose deadline has been reached, in `(tick, seq)` order,
    /// waiting to be returned by `poll`.
    expired: List,
    /// No slot is due before this tick: a lower bound of every occupied
    /// slot's due tick, so a `poll` before it has nothing to do.
    quiet_until: u64,
}

impl<T> TimerWheel<T> {
    /// An empty wheel whose tick 0 is `origin`.
    ///
    /// # Examples
    ///
    /// ```
    /// let wheel = rig::timer::TimerWheel::<()>::new(rig::time::Clock::real().now());
    /// assert!(wheel.is_empty());
    /// ```
    #[must_use]
    pub fn new(origin: Instant) -> Self {
        Self {
            origin,
            elapsed: 0,
            next_seq: 0,
            slab: Slab::new(),
            levels: Box::new(std::array::from_fn(Level::new)),
            expired: List::EMPTY,
            quiet_until: u64::MAX,
        }
    }

    /// Arms a timer that fires at `deadline` (rounded up to the next ms).
    /// A deadline in the past fires on the next [`poll`](Self::poll).
    ///
    /// # Examples
    ///
    /// ```
    /// let now = rig::time::Clock::real().now();
    /// let mut wheel = rig::timer::TimerWheel::new(now);
    /// wheel.insert(now, 1);
    /// assert_eq!(wheel.len(), 1);
    /// ```
    pub fn insert(&mut self, deadline: Instant, value: T) -> TimerKey {
        let tick = self.tick_ceil(deadline);
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let index = self.slab.insert(Entry::new(value, tick, seq));
        self.file(index, tick);
        TimerKey { index, seq }
    }

    /// Disarms a timer; returns its value if it had not fired yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = rig::time::Clock::real().now();
    /// let mut wheel = rig::timer::TimerWheel::new(now);
    /// let k = wheel.insert(now, 'a');
    /// assert_eq!(wheel.cancel(k), Some('a'));
    /// ```
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        let place = match self.slab.get(key.index) {
            Some(entry) if entry.seq == key.seq => entry.place,
            _ => return None,
        };
        match place {
            Place::Slot { level, slot } => {
                level_at(&mut self.levels, level).unlink(&mut self.slab, slot, key.index);
            }
            Place::Expired => self.expired.unlink(&mut self.slab, key.index),
        }
        self.slab.remove(key.index).map(|entry| entry.value)
    }

    /// Pops one timer whose deadline is at or before `now`, earliest first
    /// (ties in insertion order). Call it until it returns `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = rig::time::Clock::real().now();
    /// let mut wheel = rig::timer::TimerWheel::new(now);
    /// wheel.insert(now, 'a');
    /// assert_eq!(wheel.poll(now), Some('a'));
    /// assert_eq!(wheel.poll(now), None);
    /// ```
    pub fn poll(&mut self, now: Instant) -> Option<T> {
        let now_tick = self.tick_floor(now);
        loop {
            if let Some(head_tick) = self.expired.head_tick(&self.slab) {
                // The head is the earliest timer of all. If it is not due
                // (`now` went backwards), nothing is.
                if head_tick > now_tick {
                    return None;
                }
                let index = self.expired.pop_front(&mut self.slab)?;
                return self.slab.remove(index).map(|entry| entry.value);
            }
            if now_tick < self.quiet_until {
                self.elapsed = self.elapsed.max(now_tick);
                return None;
            }
            match self.next_expiration() {
                Some(expiration) if expiration.deadline <= now_tick => {
                    self.process(expiration);
                }
                next => {
                    self.quiet_until = next.map_or(u64::MAX, |e| e.deadline);
                    self.elapsed = self.elapsed.max(now_tick);
                    return None;
                }
            }
        }
    }

    /// When to call [`poll`](Self::poll) next: never later than the earliest
    /// armed deadline, and usually exactly it.
    ///
    /// It is exact unless the earliest timer of a wheel slot more than 64 ms
    /// ahead was cancelled while that slot held timers inserted out of
    /// deadline order (a slot that only ever received increasing deadlines,
    /// such as one timeout for many pushes, stays exact). Then it may be early,
    /// by at most that slot's width (64 ms, 4 s, 4.4 min, ...): an I/O thread
    /// that sleeps until it wakes once for nothing, and the `poll` at that
    /// time re-files the slot so the next answer is exact. It is never late,
    /// so sleeping until it never delays a timer.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = rig::time::Clock::real().now();
    /// let mut wheel = rig::timer::TimerWheel::new(now);
    /// assert!(wheel.next_deadline().is_none());
    /// wheel.insert(now, ());
    /// assert!(wheel.next_deadline().is_some());
    /// ```
    #[must_use]
    pub fn next_deadline(&self) -> Option<Instant> {
        self.next_deadline_tick().map(|tick| self.instant_at(tick))
    }

    /// The number of armed timers.
    ///
    /// # Examples
    ///
    /// ```
    /// let wheel = rig::timer::TimerWheel::<u8>::new(rig::time::Clock::real().now());
    /// assert_eq!(wheel.len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// Whether `key` is still armed (tests).
    #[cfg(test)]
    pub(crate) fn is_armed(&self, key: TimerKey) -> bool {
        self.slab.get(key.index).is_some_and(|entry| entry.seq == key.seq)
    }

    /// Whether no timer is armed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::timer::TimerWheel::<u8>::new(rig::time::Clock::real().now()).is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slab.len() == 0
    }

    /// Links entry `index` (deadline `tick`) where it belongs.
    fn file(&mut self, index: usize, tick: u64) {
        if tick <= self.elapsed {
            self.push_expired(index, tick);
        } else {
            let level = level_for(self.elapsed, tick);
            let due =
                level_at(&mut self.levels, level).push(&mut self.slab, index, tick, self.elapsed);
            self.quiet_until = self.quiet_until.min(due);
        }
    }

    /// Adds an entry that is due to the expired list, keeping it in
    /// `(tick, seq)` order: an O(1) append unless the deadline was already in
    /// the past when it was inserted.
    fn push_expired(&mut self, index: usize, tick: u64) {
        let Some(seq) = self.slab.get(index).map(|e| e.seq) else { return };
        let tail = self.expired.tail_tick(&self.slab);
        if tail.is_none_or(|tail| tail < tick) || (tail == Some(tick) && self.tail_seq() < seq) {
            self.expired.push_back(&mut self.slab, index, Place::Expired);
        } else {
            self.expired.insert_ordered(&mut self.slab, index, Place::Expired);
        }
    }

    fn tail_seq(&self) -> u64 {
        self.expired.tail().and_then(|t| self.slab.get(t)).map_or(0, |e| e.seq)
    }

    /// The next slot to process: the first occupied slot of the lowest
    /// occupied level. Entries of a higher level are always later, because
    /// they differ from the current tick in a higher digit.
    fn next_expiration(&self) -> Option<Expiration> {
        self.levels.iter().find_map(|level| level.next_expiration(self.elapsed))
    }

    /// Moves the entries of a due slot on: those now due to `expired`, the
    /// others down to the level that fits them, seen from the slot's start.
    fn process(&mut self, expiration: Expiration) {
        self.elapsed = self.elapsed.max(expiration.deadline);
        // Take the whole slot first: a far-future entry may go back into it.
        let mut list = level_at(&mut self.levels, expiration.level).take(expiration.slot);
        while let Some(index) = list.pop_front(&mut self.slab) {
            if let Some(tick) = self.slab.get(index).map(|e| e.tick) {
                self.file(index, tick);
            }
        }
    }

    /// See [`next_deadline`](Self::next_deadline).
    fn next_deadline_tick(&self) -> Option<u64> {
        if let Some(tick) = self.expired.head_tick(&self.slab) {
            return Some(tick);
        }
        let elapsed = self.elapsed;
        for level in self.levels.iter().take(TOP_LEVEL) {
            if let Some(exp) = level.next_expiration(elapsed) {
                // This slot holds the earliest entry: lower levels are empty,
                // higher levels are later. Its start is a lower bound, and so
                // is what the slot knows of its minimum.
                return Some(exp.deadline.max(level.min_tick(&self.slab, exp.slot)));
            }
        }
        // Top-level slots mix rotations: a slot due sooner may hold only
        // deadlines years away. Take the least bound over all of them.
        let top = self.levels.get(TOP_LEVEL)?;
        top.expirations(elapsed)
            .map(|exp| exp.deadline.max(top.min_tick(&self.slab, exp.slot)))
            .min()
    }

    /// Whole milliseconds from the origin to `t`, rounded up, saturating.
    fn tick_ceil(&self, t: Instant) -> u64 {
        let (ms, fraction) = split_millis(t.saturating_duration_since(self.origin));
        if fraction { ms.saturating_add(1) } else { ms }
    }

    /// Whole milliseconds from the origin to `t`, rounded down, saturating.
    fn tick_floor(&self, t: Instant) -> u64 {
        split_millis(t.saturating_duration_since(self.origin)).0
    }

    /// The instant of `tick`. A tick is never past the deadline it came from,
    /// except by the rounding up to a whole ms; if that one is not
    /// representable we answer one ms earlier, which is allowed (early, never
    /// late).
    fn instant_at(&self, tick: u64) -> Instant {
        self.origin
            .checked_add(Duration::from_millis(tick))
            .or_else(|| self.origin.checked_add(Duration::from_millis(tick.saturating_sub(1))))
            .unwrap_or(self.origin)
    }
}

impl<T> fmt::Debug for TimerWheel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerWheel")
            .field("origin", &self.origin)
            .field("elapsed_ms", &self.elapsed)
            .field("len", &self.len())
            .field("next_deadline_ms", &self.next_deadline_tick())
            .finish_non_exhaustive()
    }
}

/// Whole milliseconds of `d` (saturating) and whether a fraction remains.
/// Plain `u64` arithmetic: `Duration::as_millis` goes through `u128`.
fn split_millis(d: Duration) -> (u64, bool) {
    let sub_nanos = d.subsec_nanos();
    let ms = d.as_secs().saturating_mul(1_000).saturating_add(u64::from(sub_nanos / 1_000_000));
    (ms, !sub_nanos.is_multiple_of(1_000_000))
}

/// Level `level` of `levels`. The modulo keeps the index in range; callers
/// pass levels from `level_for` or from an entry's `Place`, always in range.
fn level_at(levels: &mut [Level; NUM_LEVELS], level: usize) -> &mut Level {
    &mut levels[level % NUM_LEVELS]
}
