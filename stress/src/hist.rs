//! Percentile summaries of HDR histograms (latency, time to recover).

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// µs from 1 to one hour, 3 significant figures.
#[expect(
    clippy::expect_used,
    reason = "constant bounds that new_with_bounds accepts (low >= 1, high >= 2 * low, sigfig <= 5)"
)]
pub(crate) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// Counts and percentiles in µs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Percentiles {
    pub(crate) count: u64,
    pub(crate) p50: u64,
    pub(crate) p90: u64,
    pub(crate) p99: u64,
    pub(crate) p999: u64,
    pub(crate) max: u64,
}

impl Percentiles {
    /// The summary of `h` (all zero when empty).
    pub(crate) fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_spread() {
        let mut h = histogram();
        for v in 1..=1000 {
            h.saturating_record(v);
        }
        let p = Percentiles::of(&h);
        assert_eq!((p.count, p.p50, p.max), (1000, 500, 1000));
        assert_eq!(Percentiles::of(&histogram()), Percentiles::default());
    }
}
