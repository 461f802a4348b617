//! Heartbeat and ping round trips as a fixed-bucket histogram: rig-io
//! records one sample per reply (every heartbeat interval, so the cost is
//! nil), `rig::metrics` reads it when scraped.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds: loopback (sub-millisecond) to a
/// struggling mobile link (10 s); longer round trips land in `+Inf`.
pub(crate) const RTT_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Counts per bucket (the last one is `+Inf`) and the sum of all samples.
#[derive(Debug, Default)]
pub(crate) struct RttHistogram {
    counts: [AtomicU64; RTT_BUCKETS.len() + 1],
    sum_ns: AtomicU64,
}

/// A histogram read at one moment, in the shape OpenMetrics wants.
#[cfg_attr(not(feature = "metrics"), allow(dead_code, reason = "read by rig::metrics only"))]
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RttSnapshot {
    /// Sum of the samples, in seconds.
    pub(crate) sum: f64,
    /// Samples recorded.
    pub(crate) count: u64,
    /// `(upper bound in seconds, samples in that bucket)`, not cumulative;
    /// the last bound is infinity.
    pub(crate) buckets: Vec<(f64, u64)>,
}

impl RttHistogram {
    /// Records one round trip (rig-io is the only writer).
    pub(crate) fn record(&self, rtt: Duration) {
        let seconds = rtt.as_secs_f64();
        let i = RTT_BUCKETS.iter().position(|&bound| seconds <= bound).unwrap_or(RTT_BUCKETS.len());
        if let Some(count) = self.counts.get(i) {
            count.store(count.load(Relaxed) + 1, Relaxed);
        }
        let ns = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX);
        self.sum_ns.store(self.sum_ns.load(Relaxed).saturating_add(ns), Relaxed);
    }

    #[cfg_attr(not(feature = "metrics"), allow(dead_code, reason = "read by rig::metrics only"))]
    pub(crate) fn snapshot(&self) -> RttSnapshot {
        let bounds = RTT_BUCKETS.iter().copied().chain([f64::INFINITY]);
        let buckets: Vec<(f64, u64)> =
            bounds.zip(&self.counts).map(|(bound, n)| (bound, n.load(Relaxed))).collect();
        RttSnapshot {
            sum: Duration::from_nanos(self.sum_ns.load(Relaxed)).as_secs_f64(),
            count: buckets.iter().map(|(_, n)| n).sum(),
            buckets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_land_in_the_first_bucket_that_holds_them() {
        let h = RttHistogram::default();
        h.record(Duration::from_micros(300)); // <= 0.5 ms
        h.record(Duration::from_millis(1)); // exactly 1 ms: the 1 ms bucket
        h.record(Duration::from_secs(60)); // beyond 10 s: +Inf
        let s = h.snapshot();
        assert_eq!(s.count, 3);
        assert_eq!(s.buckets.len(), RTT_BUCKETS.len() + 1);
        assert_eq!(s.buckets.first(), Some(&(0.0005, 1)));
        assert_eq!(s.buckets.get(1), Some(&(0.001, 1)));
        assert_eq!(s.buckets.last(), Some(&(f64::INFINITY, 1)));
        assert!((s.sum - 60.0013).abs() < 1e-9, "{}", s.sum);
    }
}
