//! Unit tests of the timer wheel, on the mock clock.

use std::sync::Arc;
use std::time::Duration;

use super::TimerWheel;
use super::slab::Place;
use crate::time::{Clock, Instant};

impl<T> TimerWheel<T> {
    /// Asserts the wheel's internal invariants (tests only).
    pub(super) fn check_invariants(&self) {
        let mut count = 0;
        for level in self.levels.iter() {
            count += level.check(&self.slab, self.elapsed);
            for exp in level.expirations(self.elapsed) {
                assert!(exp.deadline > self.elapsed, "slot {exp:?} is behind {}", self.elapsed);
                assert!(
                    self.quiet_until <= exp.deadline,
                    "slot {exp:?} due before {}",
                    self.quiet_until
                );
            }
        }
        let mut prev = None;
        for (_, entry) in self.expired.iter(&self.slab) {
            assert_eq!(entry.place, Place::Expired);
            assert!(entry.tick <= self.elapsed);
            assert!(prev < Some((entry.tick, entry.seq)), "expired list out of order");
            prev = Some((entry.tick, entry.seq));
            count += 1;
        }
        assert_eq!(count, self.len());
    }
}

const DAY: u64 = 24 * 3600 * 1000;
const YEAR: u64 = 365 * DAY;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

struct Fixture {
    clock: Clock,
    mock: Arc<quanta::Mock>,
    origin: Instant,
    wheel: TimerWheel<u32>,
}

impl Fixture {
    fn new() -> Self {
        let (clock, mock) = Clock::mock();
        // Start away from zero so "before the origin" can be expressed.
        mock.increment(ms(1_000));
        let origin = clock.now();
        Self { clock, mock, origin, wheel: TimerWheel::new(origin) }
    }

    fn at(&self, offset_ms: u64) -> Instant {
        self.origin + ms(offset_ms)
    }

    fn advance(&self, n: u64) {
        self.mock.increment(ms(n));
    }

    /// Everything due now, in order.
    fn fire(&mut self) -> Vec<u32> {
        let now = self.clock.now();
        let fired: Vec<u32> = std::iter::from_fn(|| self.wheel.poll(now)).collect();
        self.wheel.check_invariants();
        fired
    }

    fn next_ms(&self) -> Option<u64> {
        self.wheel.next_deadline().map(|d| (d - self.origin).as_millis() as u64)
    }
}

#[test]
fn fires_at_the_deadline_and_not_a_tick_before() {
    let mut f = Fixture::new();
    f.wheel.insert(f.at(100), 1);
    assert_eq!(f.next_ms(), Some(100));
    f.advance(99);
    assert_eq!(f.fire(), Vec::<u32>::new());
    f.advance(1);
    assert_eq!(f.fire(), vec![1]);
    assert!(f.wheel.is_empty());
    assert_eq!(f.next_ms(), None);
}

#[test]
fn deadlines_round_up_to_the_next_millisecond() {
    let mut f = Fixture::new();
    f.wheel.insert(f.at(10) + Duration::from_micros(1), 7);
    assert_eq!(f.next_ms(), Some(11));
    f.advance(10);
    assert_eq!(f.fire(), Vec::<u32>::new(), "10 ms is before 10.001 ms");
    f.mock.increment(Duration::from_micros(999));
    assert_eq!(f.fire(), Vec::<u32>::new(), "now rounds down to 10 ms");
    f.mock.increment(Duration::from_micros(1));
    assert_eq!(f.fire(), vec![7]);
}

#[test]
fn past_deadlines_fire_on_the_next_poll_in_deadline_order() {
    let mut f = Fixture::new();
    f.advance(500);
    f.fire();
    f.wheel.insert(f.at(400), 1);
    f.wheel.insert(f.origin - ms(50), 2); // before the origin: tick 0
    f.wheel.insert(f.at(450), 3);
    f.wheel.insert(f.at(400), 4);
    f.wheel.insert(f.at(500), 5);
    assert_eq!(f.next_ms(), Some(0));
    assert_eq!(f.fire(), vec![2, 1, 4, 3, 5]);
}

#[test]
fn poll_is_earliest_first_with_ties_in_insertion_order() {
    let mut f = Fixture::new();
    let deadlines = [300, 5, 70, 5, 4_100, 70, 300, 1, 262_144, 5, 4_100];
    for (value, &d) in deadlines.iter().enumerate() {
        f.wheel.insert(f.at(d), value as u32);
    }
    f.advance(300_000);
    let mut expected: Vec<(u64, u32)> =
        deadlines.iter().enumerate().map(|(v, &d)| (d, v as u32)).collect();
    expected.sort();
    assert_eq!(f.fire(), expected.into_iter().map(|(_, v)| v).collect::<Vec<_>>());
}

#[test]
fn cancel_returns_the_value_once() {
    let mut f = Fixture::new();
    let a = f.wheel.insert(f.at(10), 1);
    let b = f.wheel.insert(f.at(10_000), 2);
    assert_eq!(f.wheel.len(), 2);
    assert_eq!(f.wheel.cancel(a), Some(1));
    assert_eq!(f.wheel.cancel(a), None);
    assert_eq!(f.wheel.len(), 1);
    assert_eq!(f.next_ms(), Some(10_000));
    f.advance(10_000);
    assert_eq!(f.fire(), vec![2]);
    assert_eq!(f.wheel.cancel(b), None, "a fired timer cannot be cancelled");
}

#[test]
fn reinsert_after_cancel_gets_a_new_key_and_stale_keys_miss_reused_cells() {
    let mut f = Fixture::new();
    let old = f.wheel.insert(f.at(50), 1);
    assert_eq!(f.wheel.cancel(old), Some(1));
    // The freed cell is reused by the next insert.
    let new = f.wheel.insert(f.at(50), 2);
    assert_ne!(old, new);
    assert_eq!(f.wheel.cancel(old), None, "a stale key must not cancel the new entry");
    assert_eq!(f.wheel.len(), 1);
    f.advance(50);
    assert_eq!(f.fire(), vec![2]);

    // A key of a fired timer is stale too, even after its cell is reused.
    let reused = f.wheel.insert(f.at(60), 3);
    assert_eq!(f.wheel.cancel(new), None);
    assert_eq!(f.wheel.cancel(reused), Some(3));
}

#[test]
fn cancel_works_in_every_place_an_entry_can_be() {
    let mut f = Fixture::new();
    let level0 = f.wheel.insert(f.at(3), 0);
    let level2 = f.wheel.insert(f.at(5_000), 1);
    let top = f.wheel.insert(f.at(3 * YEAR), 2);
    let expired = f.wheel.insert(f.at(0), 3);
    let stay = f.wheel.insert(f.at(5_000), 4);
    f.wheel.check_invariants();
    assert_eq!(f.wheel.cancel(level0), Some(0));
    assert_eq!(f.wheel.cancel(level2), Some(1));
    assert_eq!(f.wheel.cancel(top), Some(2));
    assert_eq!(f.wheel.cancel(expired), Some(3));
    f.wheel.check_invariants();
    assert_eq!(f.next_ms(), Some(5_000));
    f.advance(3 * YEAR);
    assert_eq!(f.fire(), vec![4]);
    assert_eq!(f.wheel.cancel(stay), None);
}

#[test]
fn timers_days_ahead_fire_exactly_on_time() {
    let mut f = Fixture::new();
    let deadline = 3 * DAY + 17_123;
    f.wheel.insert(f.at(deadline), 1);
    assert_eq!(f.next_ms(), Some(deadline));
    // Walk there the way an I/O thread does: sleep until next_deadline.
    f.advance(deadline - 1);
    assert_eq!(f.fire(), Vec::<u32>::new());
    assert_eq!(f.next_ms(), Some(deadline));
    f.advance(1);
    assert_eq!(f.fire(), vec![1]);
}

#[test]
fn timers_years_ahead_are_refiled_until_they_come_into_range() {
    let mut f = Fixture::new();
    let range = super::level::MAX_DURATION;
    let far = [5 * YEAR + 3, range + 1, 2 * range + 77, 40 * YEAR];
    for (v, &d) in far.iter().enumerate() {
        f.wheel.insert(f.at(d), v as u32);
    }
    f.wheel.insert(f.at(YEAR), 9);
    assert_eq!(f.next_ms(), Some(YEAR));
    let mut fired = Vec::new();
    // Hop from deadline to deadline, as a sleeping I/O thread would.
    let mut hops = 0;
    while let Some(next) = f.next_ms() {
        let now = (f.clock.now() - f.origin).as_millis() as u64;
        f.advance(next.saturating_sub(now));
        let batch = f.fire();
        fired.extend(batch);
        hops += 1;
        assert!(hops < 100, "far timers must not make the wheel spin");
    }
    assert_eq!(fired, vec![9, 1, 2, 0, 3]);
    assert_eq!(hops, 5, "one wakeup per timer: next_deadline is exact here");
}

#[test]
fn poll_jumping_years_ahead_fires_everything_in_order() {
    let mut f = Fixture::new();
    let deadlines = [40 * YEAR, 7, 3 * YEAR, 2 * DAY, 7, 90_000];
    for (v, &d) in deadlines.iter().enumerate() {
        f.wheel.insert(f.at(d), v as u32);
    }
    f.advance(41 * YEAR);
    assert_eq!(f.fire(), vec![1, 4, 5, 3, 2, 0]);
}

#[test]
fn many_timers_in_one_slot_keep_insertion_order() {
    let mut f = Fixture::new();
    for v in 0..10_000 {
        f.wheel.insert(f.at(1_234), v);
    }
    assert_eq!(f.wheel.len(), 10_000);
    f.advance(1_234);
    assert_eq!(f.fire(), (0..10_000).collect::<Vec<_>>());
}

#[test]
fn many_timers_in_one_high_slot_fire_sorted() {
    let mut f = Fixture::new();
    // 4096..8191 ms is one slot of level 2; insert in a scrambled order.
    let ticks: Vec<u64> = (0..4_096u64).map(|i| 4_096 + (i * 1_237) % 4_096).collect();
    for (v, &t) in ticks.iter().enumerate() {
        f.wheel.insert(f.at(t), v as u32);
    }
    assert_eq!(f.next_ms(), Some(4_096));
    let mut expected: Vec<(u64, u32)> =
        ticks.iter().enumerate().map(|(v, &t)| (t, v as u32)).collect();
    expected.sort();
    f.advance(8_191);
    assert_eq!(f.fire(), expected.into_iter().map(|(_, v)| v).collect::<Vec<_>>());
}

#[test]
fn next_deadline_stays_exact_when_in_order_timers_are_cancelled() {
    let mut f = Fixture::new();
    // Push timeouts: one timeout, increasing deadlines, answered in order.
    let keys: Vec<_> = (0..100).map(|i| f.wheel.insert(f.at(10_000 + i), i as u32)).collect();
    for (i, key) in keys.iter().enumerate().take(99) {
        assert_eq!(f.next_ms(), Some(10_000 + i as u64));
        assert!(f.wheel.cancel(*key).is_some());
    }
    assert_eq!(f.next_ms(), Some(10_099));
}

#[test]
fn next_deadline_may_be_early_after_a_cancel_but_never_late() {
    let mut f = Fixture::new();
    let early = f.wheel.insert(f.at(5_000), 1);
    f.wheel.insert(f.at(6_000), 2);
    f.wheel.insert(f.at(4_500), 3); // same level-2 slot, out of order
    assert_eq!(f.next_ms(), Some(4_500));
    let k = f.wheel.insert(f.at(4_200), 4);
    assert_eq!(f.next_ms(), Some(4_200));
    f.wheel.cancel(k);
    f.wheel.cancel(early);
    let next = f.next_ms().unwrap();
    assert!((4_096..=4_500).contains(&next), "never late, at most one slot early: {next}");
    // Waking at the early deadline fires nothing and makes the answer exact.
    f.advance(next);
    assert_eq!(f.fire(), Vec::<u32>::new());
    assert_eq!(f.next_ms(), Some(4_500));
    f.advance(4_500 - next);
    assert_eq!(f.fire(), vec![3]);
    assert_eq!(f.next_ms(), Some(6_000));
}

#[test]
fn poll_with_an_earlier_now_fires_nothing() {
    let mut f = Fixture::new();
    f.wheel.insert(f.at(10), 1);
    f.wheel.insert(f.at(20), 2);
    assert_eq!(f.wheel.poll(f.at(15)), Some(1));
    assert_eq!(f.wheel.poll(f.at(5)), None);
    f.wheel.insert(f.at(12), 3);
    assert_eq!(f.wheel.poll(f.at(11)), None, "12 ms is not due at 11 ms");
    assert_eq!(f.wheel.poll(f.at(20)), Some(3));
    assert_eq!(f.wheel.poll(f.at(20)), Some(2));
    f.wheel.check_invariants();
}

#[test]
fn insert_during_a_drain_of_the_same_tick_comes_after() {
    let mut f = Fixture::new();
    f.wheel.insert(f.at(30), 1);
    f.wheel.insert(f.at(30), 2);
    f.advance(30);
    let now = f.clock.now();
    assert_eq!(f.wheel.poll(now), Some(1));
    f.wheel.insert(now, 3); // due now: after the one already due
    f.wheel.insert(f.at(29), 4); // already past: before everything
    assert_eq!(f.fire(), vec![4, 2, 3]);
}

#[test]
fn len_counts_armed_timers_only() {
    let mut f = Fixture::new();
    assert!(f.wheel.is_empty());
    let keys: Vec<_> = (0..10).map(|i| f.wheel.insert(f.at(i * 1_000), i as u32)).collect();
    assert_eq!(f.wheel.len(), 10);
    f.wheel.cancel(keys[3]);
    f.advance(4_500);
    assert_eq!(f.fire(), vec![0, 1, 2, 4]);
    assert_eq!(f.wheel.len(), 5);
    assert!(!f.wheel.is_empty());
}

#[test]
fn debug_output_is_a_summary() {
    let mut f = Fixture::new();
    f.wheel.insert(f.at(5), 1);
    let text = format!("{:?}", f.wheel);
    assert!(text.contains("len: 1") && text.contains("next_deadline_ms: Some(5)"), "{text}");
}
