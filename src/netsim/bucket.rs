//! A token bucket in integer arithmetic: the bandwidth cap of one direction.

use std::num::NonZeroU64;
use std::time::Duration;

/// Nanoseconds per second: tokens are kept in byte-nanoseconds so that
/// refilling at any rate over any interval is exact.
const SCALE: u128 = 1_000_000_000;
/// The bucket holds this fraction of a second's worth of bytes (1/50 = 20 ms).
const BURST_DIVISOR: u64 = 50;

#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate: u64,
    /// The most bytes the bucket holds.
    burst: u64,
    /// Bytes available, times [`SCALE`].
    tokens: u128,
    /// When `tokens` was last brought up to date.
    updated: Duration,
}

impl TokenBucket {
    /// A full bucket for `rate` bytes per second.
    pub(crate) fn new(rate: NonZeroU64, now: Duration) -> Self {
        let rate = rate.get();
        let burst = (rate / BURST_DIVISOR).max(1);
        Self { rate, burst, tokens: u128::from(burst) * SCALE, updated: now }
    }

    /// Whole bytes that may be sent at `now`.
    pub(crate) fn available(&mut self, now: Duration) -> usize {
        self.refill(now);
        usize::try_from(self.tokens / SCALE).unwrap_or(usize::MAX)
    }

    /// Spends `bytes` (never below empty).
    pub(crate) fn take(&mut self, bytes: usize) {
        let spent = u128::try_from(bytes).unwrap_or(u128::MAX).saturating_mul(SCALE);
        self.tokens = self.tokens.saturating_sub(spent);
    }

    /// When at least one byte will be available.
    pub(crate) fn next_byte_at(&self, now: Duration) -> Duration {
        let missing = SCALE.saturating_sub(self.tokens);
        let rate = u128::from(self.rate);
        let wait_nanos = missing.div_ceil(rate);
        let wait = Duration::from_nanos(u64::try_from(wait_nanos).unwrap_or(u64::MAX));
        now.max(self.updated).saturating_add(wait)
    }

    fn refill(&mut self, now: Duration) {
        let Some(elapsed) = now.checked_sub(self.updated) else { return };
        let full = u128::from(self.burst) * SCALE;
        let earned = elapsed.as_nanos().saturating_mul(u128::from(self.rate));
        self.tokens = self.tokens.saturating_add(earned).min(full);
        self.updated = now;
    }
}
