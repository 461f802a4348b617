//! End-to-end latency of the demo's stream events: the server stamps each
//! event with its wall clock (`t`, µs), mapped from a monotonic clock read
//! at its start; the demo maps its own clock the same way so both sides
//! drift alike, and keeps the samples for percentiles.

use std::time::Duration;

use hdrhistogram::Histogram;
use rig::time::{Clock, Instant};

/// The demo's wall clock in µs, mapped onto the monotonic clock.
#[derive(Debug)]
pub(crate) struct WallMicros {
    clock: Clock,
    origin: Instant,
    origin_unix_us: u64,
}

impl WallMicros {
    pub(crate) fn new(clock: Clock) -> Self {
        let origin = clock.now();
        let unix = crate::event_line::unix_now();
        Self { clock, origin, origin_unix_us: u64::try_from(unix.as_micros()).unwrap_or(0) }
    }

    /// Now, in µs since the Unix epoch.
    pub(crate) fn now_us(&self) -> u64 {
        let elapsed = self.clock.now().saturating_duration_since(self.origin).as_micros();
        self.origin_unix_us.saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX))
    }
}

/// Latency samples in µs, in an HDR histogram: constant time per sample and
/// bounded memory however long the demo runs (a sorted `Vec` grew by one
/// `u64` per event and sorted them all for every line), quantiles exact to
/// 3 significant figures.
#[derive(Debug)]
pub(crate) struct Samples {
    micros: Histogram<u64>,
}

impl Default for Samples {
    fn default() -> Self {
        // Auto-resizing: a sample above the initial range widens it instead
        // of being refused, so no latency is ever dropped from the figures.
        // `new` fails only for more than 5 significant figures.
        let mut micros = Histogram::new(3).unwrap_or_else(|_| unreachable!("3 sigfigs are valid"));
        micros.auto(true);
        Self { micros }
    }
}

impl Samples {
    pub(crate) fn push(&mut self, micros: u64) {
        self.micros.saturating_record(micros);
    }

    pub(crate) fn len(&self) -> u64 {
        self.micros.len()
    }

    pub(crate) fn extend(&mut self, other: &Self) {
        // Both histograms auto-resize, so adding never fails for range.
        let _ = self.micros.add(&other.micros);
    }

    pub(crate) fn clear(&mut self) {
        self.micros.reset();
    }

    /// The `q` quantiles (0.0..=1.0) of the samples, `None` when empty.
    pub(crate) fn quantiles<const N: usize>(&self, q: [f64; N]) -> Option<[Duration; N]> {
        if self.micros.is_empty() {
            return None;
        }
        Some(q.map(|q| Duration::from_micros(self.micros.value_at_quantile(q.clamp(0.0, 1.0)))))
    }
}

/// `t` of a stream event payload (`{"seq":n,"t":µs}`).
pub(crate) fn stamp(payload: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(payload).ok()?;
    value.get("t")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_samples() {
        let mut s = Samples::default();
        assert_eq!(s.quantiles([0.5]), None);
        s.push(u64::MAX / 4);
        assert_eq!(s.len(), 1, "a sample beyond the initial range is kept");
        s.clear();
        for m in (1..=100).rev() {
            s.push(m);
        }
        let [p50, p99, max] = s.quantiles([0.5, 0.99, 1.0]).unwrap();
        assert_eq!(p50, Duration::from_micros(50));
        assert_eq!(p99, Duration::from_micros(99));
        assert_eq!(max, Duration::from_micros(100));
        assert_eq!(stamp(r#"{"seq":1,"t":77}"#), Some(77));
        assert_eq!(stamp("{}"), None);
    }

    #[test]
    fn wall_micros_follow_the_mock_clock() {
        let (clock, mock) = Clock::mock();
        let wall = WallMicros::new(clock);
        let start = wall.now_us();
        mock.increment(Duration::from_millis(3));
        assert_eq!(wall.now_us() - start, 3000);
    }
}
