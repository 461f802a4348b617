//! The attempt counter of a retry timer and the seeded generator behind
//! jitter.

use std::time::Duration;

use super::{Backoff, Jitter};

/// The attempt counter of one retry timer (phoenix.js `Timer.tries`): the
/// delay is computed for attempt `tries + 1` when the timer is armed, and
/// `tries` grows when it fires. `reset` starts the schedule over.
#[derive(Clone, Debug)]
pub(crate) struct Retry {
    tries: u32,
    previous: Option<Duration>,
    rng: Prng,
}

impl Retry {
    pub(crate) fn new(seed: u64) -> Self {
        Self { tries: 0, previous: None, rng: Prng::new(seed) }
    }

    /// The delay before the next attempt.
    pub(crate) fn schedule(&mut self, backoff: &Backoff) -> Duration {
        let attempt = self.attempt();
        let base = backoff.base(attempt);
        let delay = match backoff.jitter {
            Jitter::None => base,
            Jitter::Full => self.rng.between(Duration::ZERO, base),
            Jitter::Decorrelated => {
                let first = backoff.base(1);
                let cap = backoff.cap();
                let previous = self.previous.unwrap_or(first);
                let high = previous.saturating_mul(3).min(cap).max(first);
                self.rng.between(first, high)
            }
        };
        self.previous = Some(delay);
        delay
    }

    /// Records that the timer fired.
    pub(crate) fn fired(&mut self) {
        self.tries = self.tries.saturating_add(1);
    }

    /// Starts the schedule over (the generator keeps its position).
    pub(crate) fn reset(&mut self) {
        self.tries = 0;
        self.previous = None;
    }

    /// The attempt the next [`schedule`](Self::schedule) is for (from 1).
    pub(crate) fn attempt(&self) -> u32 {
        self.tries.saturating_add(1)
    }

    /// How many times the timer fired since the last reset.
    pub(crate) fn tries(&self) -> u32 {
        self.tries
    }
}

/// SplitMix64: a 64-bit generator with one word of state. Not for secrets;
/// here it only has to spread retries apart, reproducibly.
#[derive(Clone, Debug)]
pub(crate) struct Prng {
    state: u64,
}

impl Prng {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A duration uniform in `[low, high]` (nanosecond resolution). Returns
    /// `low` when `high < low`.
    pub(crate) fn between(&mut self, low: Duration, high: Duration) -> Duration {
        let low_ns = low.as_nanos();
        let span = high.as_nanos().saturating_sub(low_ns).saturating_add(1);
        // Multiply-shift maps the 64 random bits onto [0, span) without a
        // division; the bias is below 2^-64 per value for any span we use.
        let offset = (u128::from(self.next_u64()) * span) >> 64;
        let nanos = low_ns.saturating_add(offset);
        let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
        let sub = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
        Duration::new(secs, sub)
    }
}

/// Mixes a seed with a stream number so that, e.g., every channel of a
/// session draws from its own sequence.
pub(crate) fn mix_seed(seed: u64, stream: u64) -> u64 {
    Prng::new(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64()
}
