//! The harness's clocks: monotonic time for schedules and recovery times,
//! the wall clock for end-to-end latency (the server stamps each stream
//! event with its wall clock in µs), and sleeping between schedule steps.
//!
//! The library reads time through an injected clock; the harness drives
//! real sockets in real time, so it reads the real clocks, here only.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Now, on the monotonic clock.
#[expect(clippy::disallowed_methods, reason = "the harness runs in real time")]
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// Now, on the wall clock, in µs since the Unix epoch (0 before 1970).
#[expect(
    clippy::disallowed_methods,
    reason = "latency is measured against the server's wall clock"
)]
pub(crate) fn unix_us() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}

/// Sleeps for `length` (the schedule waits for its next step).
#[expect(clippy::disallowed_methods, reason = "the schedule waits in real time")]
pub(crate) fn sleep(length: Duration) {
    std::thread::sleep(length);
}

/// A `Duration` in whole µs, saturating.
pub(crate) fn micros(length: Duration) -> u64 {
    u64::try_from(length.as_micros()).unwrap_or(u64::MAX)
}
