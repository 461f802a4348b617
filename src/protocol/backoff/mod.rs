//! Retry schedules for reconnects and rejoins, with optional seeded jitter.
//!
//! The defaults are phoenix.js's: a socket reconnects after 10, 50, 100, 150,
//! 200, 250, 500, 1000, 2000 ms and then every 5000 ms; a channel rejoins after
//! 1000, 2000, 5000 ms and then every 10 000 ms. Attempts count from 1, as the
//! JS client's `tries` do.
//!
//! Jitter spreads the retries of many clients apart. It is deterministic: the
//! randomness comes from a tiny seeded generator ([SplitMix64]), so one seed
//! always gives the same delays and a failing run can be replayed.
//!
//! [SplitMix64]: https://prng.di.unimi.it/splitmix64.c
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use rig::protocol::{Backoff, Jitter};
//!
//! let ms = |n| Duration::from_millis(n);
//! let delays: Vec<_> = Backoff::rejoin().delays(0).take(5).collect();
//! assert_eq!(delays, [ms(1000), ms(2000), ms(5000), ms(10_000), ms(10_000)]);
//!
//! let jittered = Backoff::reconnect().jitter(Jitter::Full);
//! let a: Vec<_> = jittered.delays(7).take(20).collect();
//! let b: Vec<_> = jittered.delays(7).take(20).collect();
//! assert_eq!(a, b, "same seed, same delays");
//! ```

use std::time::Duration;

mod retry;

pub(crate) use retry::{Retry, mix_seed};

/// How a [`Backoff`] randomises its delays.
///
/// # Examples
///
/// ```
/// assert_eq!(rig::protocol::Jitter::default(), rig::protocol::Jitter::None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Jitter {
    /// The schedule as written (phoenix.js behaviour).
    #[default]
    None,
    /// "Full jitter": each delay is uniform in `[0, scheduled delay]`.
    Full,
    /// "Decorrelated jitter": each delay is uniform in
    /// `[first step, 3 × previous delay]`, capped at the schedule's largest
    /// delay. It ignores the middle steps of the schedule.
    Decorrelated,
}

/// A retry schedule: `steps[attempt - 1]`, then `then` for every later
/// attempt, optionally jittered.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::protocol::Backoff;
///
/// let b = Backoff::steps([Duration::from_millis(100), Duration::from_millis(300)], Duration::from_secs(1));
/// assert_eq!(b.base(1), Duration::from_millis(100));
/// assert_eq!(b.base(2), Duration::from_millis(300));
/// assert_eq!(b.base(9), Duration::from_secs(1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    steps: Vec<Duration>,
    then: Duration,
    jitter: Jitter,
}

impl Backoff {
    /// phoenix.js's socket reconnect schedule: 10, 50, 100, 150, 200, 250,
    /// 500, 1000, 2000 ms, then 5000 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = rig::protocol::Backoff::reconnect();
    /// assert_eq!(b.base(1), Duration::from_millis(10));
    /// assert_eq!(b.base(10), Duration::from_millis(5000));
    /// ```
    #[must_use]
    pub fn reconnect() -> Self {
        Self::from_millis(&[10, 50, 100, 150, 200, 250, 500, 1000, 2000], 5000)
    }

    /// phoenix.js's channel rejoin schedule: 1000, 2000, 5000 ms, then 10 000 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = rig::protocol::Backoff::rejoin();
    /// assert_eq!(b.base(3), Duration::from_millis(5000));
    /// assert_eq!(b.base(4), Duration::from_millis(10_000));
    /// ```
    #[must_use]
    pub fn rejoin() -> Self {
        Self::from_millis(&[1000, 2000, 5000], 10_000)
    }

    /// A schedule from explicit steps and the delay used after them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = rig::protocol::Backoff::steps([], Duration::from_secs(2));
    /// assert_eq!(b.base(1), Duration::from_secs(2));
    /// ```
    #[must_use]
    pub fn steps(steps: impl IntoIterator<Item = Duration>, then: Duration) -> Self {
        Self { steps: steps.into_iter().collect(), then, jitter: Jitter::None }
    }

    /// The same delay for every attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = rig::protocol::Backoff::constant(Duration::from_millis(250));
    /// assert_eq!(b.base(1), b.base(100));
    /// ```
    #[must_use]
    pub fn constant(delay: Duration) -> Self {
        Self::steps([], delay)
    }

    fn from_millis(steps: &[u64], then: u64) -> Self {
        Self::steps(steps.iter().map(|&ms| Duration::from_millis(ms)), Duration::from_millis(then))
    }

    /// The same schedule with the given jitter.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Backoff, Jitter};
    /// assert_eq!(Backoff::rejoin().jitter(Jitter::Full).jitter_kind(), Jitter::Full);
    /// ```
    #[must_use]
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// The jitter this schedule applies.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::Backoff::reconnect().jitter_kind(), rig::protocol::Jitter::None);
    /// ```
    #[must_use]
    pub fn jitter_kind(&self) -> Jitter {
        self.jitter
    }

    /// The un-jittered delay before attempt `attempt` (counted from 1; 0 is
    /// read as 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(rig::protocol::Backoff::reconnect().base(2), Duration::from_millis(50));
    /// ```
    #[must_use]
    pub fn base(&self, attempt: u32) -> Duration {
        let index = usize::try_from(attempt.max(1) - 1).unwrap_or(usize::MAX);
        self.steps.get(index).copied().unwrap_or(self.then)
    }

    /// The largest delay the schedule can produce, with or without jitter.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(rig::protocol::Backoff::reconnect().cap(), Duration::from_millis(5000));
    /// ```
    #[must_use]
    pub fn cap(&self) -> Duration {
        self.steps.iter().copied().fold(self.then, Duration::max)
    }

    /// The delays of attempts 1, 2, 3, … (an endless iterator), drawing jitter
    /// from a generator seeded with `seed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let first: Vec<_> = rig::protocol::Backoff::reconnect().delays(0).take(3).collect();
    /// assert_eq!(first, [10, 50, 100].map(Duration::from_millis));
    /// ```
    #[must_use]
    pub fn delays(&self, seed: u64) -> Delays<'_> {
        Delays { backoff: self, retry: Retry::new(seed) }
    }
}

impl Default for Backoff {
    /// The reconnect schedule.
    fn default() -> Self {
        Self::reconnect()
    }
}

/// The endless iterator returned by [`Backoff::delays`].
///
/// # Examples
///
/// ```
/// let backoff = rig::protocol::Backoff::rejoin();
/// let mut d = backoff.delays(1);
/// assert_eq!(d.next(), Some(std::time::Duration::from_secs(1)));
/// ```
#[derive(Debug)]
pub struct Delays<'a> {
    backoff: &'a Backoff,
    retry: Retry,
}

impl Iterator for Delays<'_> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.retry.schedule(self.backoff);
        self.retry.fired();
        Some(delay)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::retry::Prng;
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn defaults_match_phoenix_js() {
        let reconnect: Vec<_> = Backoff::reconnect().delays(0).take(11).collect();
        let want = [10, 50, 100, 150, 200, 250, 500, 1000, 2000, 5000, 5000].map(ms);
        assert_eq!(reconnect, want);
        let rejoin: Vec<_> = Backoff::rejoin().delays(0).take(5).collect();
        assert_eq!(rejoin, [1000, 2000, 5000, 10_000, 10_000].map(ms));
    }

    #[test]
    fn retry_counts_fired_attempts_and_resets() {
        let b = Backoff::rejoin();
        let mut r = Retry::new(0);
        assert_eq!(r.schedule(&b), ms(1000));
        // Re-arming before it fires keeps the same attempt (phoenix.js Timer).
        assert_eq!(r.schedule(&b), ms(1000));
        r.fired();
        assert_eq!(r.schedule(&b), ms(2000));
        r.fired();
        assert_eq!(r.tries(), 2);
        r.reset();
        assert_eq!(r.attempt(), 1);
        assert_eq!(r.schedule(&b), ms(1000));
    }

    #[test]
    fn between_covers_both_ends_and_handles_empty_ranges() {
        let mut rng = Prng::new(3);
        assert_eq!(rng.between(ms(5), ms(5)), ms(5));
        assert_eq!(rng.between(ms(9), ms(1)), ms(9));
        let draws: Vec<_> =
            (0..2000).map(|_| rng.between(Duration::ZERO, Duration::from_nanos(3))).collect();
        for n in 0..=3 {
            assert!(draws.contains(&Duration::from_nanos(n)), "{n} ns never drawn");
        }
    }

    #[test]
    fn mixed_seeds_differ_per_stream() {
        assert_ne!(mix_seed(1, 1), mix_seed(1, 2));
        assert_eq!(mix_seed(1, 2), mix_seed(1, 2));
    }

    fn schedule() -> impl Strategy<Value = Backoff> {
        (proptest::collection::vec(0u64..100_000, 0..12), 0u64..200_000).prop_map(
            |(mut steps, then)| {
                steps.sort_unstable();
                let then = then.max(steps.last().copied().unwrap_or(0));
                Backoff::steps(steps.into_iter().map(ms), ms(then))
            },
        )
    }

    fn jitter() -> impl Strategy<Value = Jitter> {
        prop_oneof![Just(Jitter::None), Just(Jitter::Full), Just(Jitter::Decorrelated)]
    }

    proptest! {
        #[test]
        fn monotone_without_jitter(b in schedule(), seed in any::<u64>()) {
            let d: Vec<_> = b.delays(seed).take(20).collect();
            prop_assert!(d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
        }

        #[test]
        fn capped(b in schedule(), j in jitter(), seed in any::<u64>()) {
            let b = b.jitter(j);
            for d in b.delays(seed).take(40) {
                prop_assert!(d <= b.cap());
            }
        }

        #[test]
        fn jitter_within_range(b in schedule(), seed in any::<u64>()) {
            let full = b.clone().jitter(Jitter::Full);
            for (attempt, d) in (1u32..).zip(full.delays(seed).take(30)) {
                prop_assert!(d <= b.base(attempt), "attempt {attempt}: {d:?}");
            }
            let deco = b.clone().jitter(Jitter::Decorrelated);
            let mut previous = b.base(1);
            for d in deco.delays(seed).take(30) {
                let high = (previous * 3).min(b.cap()).max(b.base(1));
                prop_assert!(d >= b.base(1) && d <= high, "{d:?} not in [{:?}, {high:?}]", b.base(1));
                previous = d;
            }
        }

        #[test]
        fn same_seed_same_delays(b in schedule(), j in jitter(), seed in any::<u64>()) {
            let b = b.jitter(j);
            let x: Vec<_> = b.delays(seed).take(25).collect();
            let y: Vec<_> = b.delays(seed).take(25).collect();
            prop_assert_eq!(x, y);
        }
    }
}
