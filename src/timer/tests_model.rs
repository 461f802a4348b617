//! Property test: the wheel against a `BTreeMap` model, on a mock clock.
//!
//! The model keeps `(tick, seq) -> value`: the first key is the next timer,
//! and "fire everything due" is "pop keys while tick <= now". Random
//! sequences of inserts (near, far, years away, in the past), cancels (live
//! and stale keys), clock advances and "sleep until next_deadline" hops must
//! fire the same values in the same order. `next_deadline` must never be later
//! than the model's; it must be equal as long as no timer has been cancelled
//! (a cancel may make it early, see `TimerWheel::next_deadline`), and hopping
//! from one `next_deadline` to the next must reach every timer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

use super::{TimerKey, TimerWheel};
use crate::time::{Clock, Instant};

const DAY_MS: u64 = 24 * 3600 * 1000;
const YEAR_MS: u64 = 365 * DAY_MS;

#[derive(Clone, Debug)]
enum Op {
    /// Arm a timer `delay_ms` ms + `extra_us` µs after now.
    Insert { delay_ms: u64, extra_us: u64 },
    /// Arm a timer `ago_ms` before now (it is due at once).
    InsertPast { ago_ms: u64 },
    /// Cancel the `pick`-th key ever issued (modulo), live or stale.
    Cancel { pick: usize },
    /// Move the clock forward, then fire everything due.
    Advance { by_ms: u64, extra_us: u64 },
    /// Move the clock to `next_deadline()`, then fire everything due.
    HopToNextDeadline,
}

fn delay_ms() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0..100u64,
        4 => 0..5_000u64,
        3 => 0..400_000u64,
        2 => 0..30 * DAY_MS,
        1 => 0..6 * YEAR_MS,
    ]
}

fn advance_ms() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0..70u64,
        3 => 0..5_000u64,
        2 => 0..500_000u64,
        1 => 0..40 * DAY_MS,
        1 => 0..YEAR_MS,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (delay_ms(), 0..1_000u64).prop_map(|(delay_ms, extra_us)| Op::Insert { delay_ms, extra_us }),
        1 => (0..10_000u64).prop_map(|ago_ms| Op::InsertPast { ago_ms }),
        3 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        3 => (advance_ms(), 0..1_000u64).prop_map(|(by_ms, extra_us)| Op::Advance { by_ms, extra_us }),
        2 => Just(Op::HopToNextDeadline),
    ]
}

/// The wheel, the model and the clock, stepped together.
struct Run {
    clock: Clock,
    mock: Arc<quanta::Mock>,
    origin: Instant,
    wheel: TimerWheel<u32>,
    model: BTreeMap<(u64, u64), u32>,
    keys: Vec<(TimerKey, (u64, u64))>,
    next_value: u32,
    cancelled_any: bool,
}

impl Run {
    fn new() -> Self {
        let (clock, mock) = Clock::mock();
        // Leave room before the origin for deadlines in the past.
        mock.increment(Duration::from_secs(60));
        let origin = clock.now();
        Self {
            clock,
            mock,
            origin,
            wheel: TimerWheel::new(origin),
            model: BTreeMap::new(),
            keys: Vec::new(),
            next_value: 0,
            cancelled_any: false,
        }
    }

    /// The model's rounding: whole ms since the origin, up, from 0.
    fn ceil_tick(&self, t: Instant) -> u64 {
        let nanos = t.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos.div_ceil(1_000_000)).unwrap()
    }

    fn floor_tick(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.origin).as_millis()).unwrap()
    }

    fn insert(&mut self, deadline: Instant) {
        let value = self.next_value;
        self.next_value += 1;
        let key = self.wheel.insert(deadline, value);
        let model_key = (self.ceil_tick(deadline), u64::from(value));
        self.model.insert(model_key, value);
        self.keys.push((key, model_key));
    }

    fn fire_due(&mut self) -> Result<(), TestCaseError> {
        let now = self.clock.now();
        let now_tick = self.floor_tick(now);
        let fired: Vec<u32> = std::iter::from_fn(|| self.wheel.poll(now)).collect();
        let mut expected = Vec::new();
        while let Some(entry) = self.model.first_entry() {
            if entry.key().0 > now_tick {
                break;
            }
            expected.push(entry.remove());
        }
        prop_assert_eq!(fired, expected, "fired at tick {}", now_tick);
        Ok(())
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = self.clock.now();
        match *op {
            Op::Insert { delay_ms, extra_us } => {
                let delay = Duration::from_millis(delay_ms) + Duration::from_micros(extra_us);
                self.insert(now + delay);
            }
            Op::InsertPast { ago_ms } => self.insert(now - Duration::from_millis(ago_ms)),
            Op::Cancel { pick } => {
                if !self.keys.is_empty() {
                    let (key, model_key) = self.keys[pick % self.keys.len()];
                    let expected = self.model.remove(&model_key);
                    self.cancelled_any |= expected.is_some();
                    prop_assert_eq!(self.wheel.cancel(key), expected);
                }
            }
            Op::Advance { by_ms, extra_us } => {
                self.mock.increment(Duration::from_millis(by_ms) + Duration::from_micros(extra_us));
                self.fire_due()?;
            }
            Op::HopToNextDeadline => {
                if let Some(deadline) = self.wheel.next_deadline() {
                    self.mock.increment(deadline.saturating_duration_since(now));
                }
                self.fire_due()?;
            }
        }
        self.check()
    }

    fn check(&self) -> Result<(), TestCaseError> {
        self.wheel.check_invariants();
        prop_assert_eq!(self.wheel.len(), self.model.len());
        let wheel_next = self.wheel.next_deadline().map(|d| self.ceil_tick(d));
        let model_next = self.model.keys().next().map(|&(tick, _)| tick);
        prop_assert_eq!(wheel_next.is_some(), model_next.is_some());
        prop_assert!(
            wheel_next <= model_next,
            "late: wheel {:?} model {:?}",
            wheel_next,
            model_next
        );
        if !self.cancelled_any {
            prop_assert_eq!(wheel_next, model_next, "exact while nothing was cancelled");
        }
        Ok(())
    }

    /// Sleeps from one `next_deadline` to the next until every timer fired.
    fn drain_by_hops(&mut self) -> Result<(), TestCaseError> {
        let mut idle_hops = 0;
        while !self.model.is_empty() {
            let before = self.model.len();
            self.step(&Op::HopToNextDeadline)?;
            if self.model.len() == before {
                prop_assert!(
                    self.cancelled_any,
                    "a wakeup for nothing although no timer was cancelled"
                );
                idle_hops += 1;
                // Each early wakeup re-files one slot with a stale minimum.
                prop_assert!(idle_hops <= 6 * 64, "next_deadline does not converge");
            } else {
                idle_hops = 0;
            }
        }
        prop_assert!(self.wheel.is_empty());
        prop_assert_eq!(self.wheel.next_deadline(), None);
        Ok(())
    }
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut run = Run::new();
    for op in ops {
        run.step(op)?;
    }
    run.drain_by_hops()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn wheel_matches_btreemap_model(ops in prop::collection::vec(op(), 1..80)) {
        run(&ops)?;
    }

    #[test]
    fn wheel_next_deadline_is_exact_without_cancels(ops in prop::collection::vec(op(), 1..80)) {
        let ops: Vec<Op> = ops.into_iter().filter(|op| !matches!(op, Op::Cancel { .. })).collect();
        run(&ops)?;
    }
}
