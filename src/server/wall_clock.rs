//! The server's wall clock, for the `t` of stream events.

use crate::time::Instant;

/// Maps the wall clock onto the injected monotonic clock, read once at start.
pub(crate) struct WallClock {
    origin: Instant,
    origin_unix_us: u64,
}

impl WallClock {
    #[expect(
        clippy::disallowed_methods,
        reason = "stream events carry the server's wall-clock time"
    )]
    pub(crate) fn new(now: Instant) -> Self {
        let since_epoch =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Self { origin: now, origin_unix_us: u64::try_from(since_epoch.as_micros()).unwrap_or(0) }
    }

    pub(crate) fn unix_us(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.origin).as_micros();
        self.origin_unix_us.saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX))
    }
}
