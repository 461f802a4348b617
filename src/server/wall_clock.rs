//! The server's wall clock, for the `t` of stream events.

use std::time::Duration;

use crate::time::Instant;

/// How long one reading of the system clock is extended with the monotonic
/// clock. quanta's TSC clock and the NTP-disciplined system clock drift
/// apart (measured: 1.2 ms after 12 minutes), and on these VMs a
/// one-second extension was off by tens of microseconds: the benchmark
/// floor (one thread, ~15 µs over loopback) showed p50 latencies of 0-3 µs,
/// events stamped after they arrived. A millisecond keeps the error in
/// nanoseconds; the system clock is a vDSO read (~25 ns), once per
/// millisecond at most.
const REANCHOR: Duration = Duration::from_millis(1);

/// Maps the wall clock onto the injected monotonic clock, renewed every
/// [`REANCHOR`].
pub(crate) struct WallClock {
    origin: Instant,
    origin_unix_us: u64,
}

impl WallClock {
    pub(crate) fn new(now: Instant) -> Self {
        Self { origin: now, origin_unix_us: system_unix_us() }
    }

    /// The wall clock at `now`, in µs since the Unix epoch.
    pub(crate) fn unix_us(&mut self, now: Instant) -> u64 {
        self.unix_us_with(now, system_unix_us)
    }

    /// [`unix_us`](Self::unix_us) with the system clock read by `read`.
    fn unix_us_with(&mut self, now: Instant, read: impl FnOnce() -> u64) -> u64 {
        let elapsed = now.saturating_duration_since(self.origin);
        if elapsed >= REANCHOR {
            *self = Self { origin: now, origin_unix_us: read() };
            return self.origin_unix_us;
        }
        let elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.origin_unix_us.saturating_add(elapsed_us)
    }
}

#[expect(clippy::disallowed_methods, reason = "stream events carry the server's wall-clock time")]
fn system_unix_us() -> u64 {
    let since_epoch =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_micros()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Clock;

    #[test]
    fn extends_one_reading_then_reads_the_system_clock_again() {
        let (clock, mock) = Clock::mock();
        let mut wall = WallClock { origin: clock.now(), origin_unix_us: 1_000 };
        mock.increment(Duration::from_micros(500));
        let unread = || panic!("the system clock is not read within a millisecond");
        assert_eq!(wall.unix_us_with(clock.now(), unread), 1_500);
        mock.increment(Duration::from_micros(500));
        // A millisecond on: the system clock's reading wins over the extension.
        assert_eq!(wall.unix_us_with(clock.now(), || 9_000_000), 9_000_000);
        mock.increment(Duration::from_micros(250));
        assert_eq!(wall.unix_us_with(clock.now(), unread), 9_000_250);
    }
}
