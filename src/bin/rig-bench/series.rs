//! Per-second counts for `--report`: events and a compact latency
//! distribution for each second of the stream, by the server's send time
//! (the payload's `t`), so no clock is read per event.
//!
//! Each second keeps quarter-octave buckets (4 per power of two, each
//! value reported as its bucket's upper bound: at most 19 % high), 416
//! bytes a second, so a long run's peak RSS barely moves; the run's own
//! percentiles still come from the full HDR histogram.

/// Buckets per second: 4 per octave up to 2^26 µs (67 s; above is the last).
const BUCKETS: usize = 104;
/// Seconds kept: a day of stream; later events are left out of the series.
const MAX_SECONDS: u64 = 86_400;

/// One second of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Second {
    pub(super) events: u64,
    latency: Box<[u32; BUCKETS]>,
}

impl Default for Second {
    fn default() -> Self {
        Self { events: 0, latency: Box::new([0; BUCKETS]) }
    }
}

impl Second {
    /// The latency below which `q` of this second's events fall, µs (0: none).
    #[cfg_attr(
        not(any(test, feature = "report")),
        expect(dead_code, reason = "drawn by --report, which needs the report feature")
    )]
    pub(super) fn quantile_us(&self, q: f64) -> u64 {
        let total: u64 = self.latency.iter().map(|&n| u64::from(n)).sum();
        if total == 0 {
            return 0;
        }
        // The rank of the quantile, at least the first event.
        let rank = ((total as f64 * q).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, &n) in self.latency.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                return upper_bound(i);
            }
        }
        upper_bound(BUCKETS - 1)
    }
}

/// The bucket of `us`: values below 4 have their own, then 4 per octave.
fn bucket(us: u64) -> usize {
    if us < 4 {
        return us as usize;
    }
    let octave = 63 - us.leading_zeros() as usize; // >= 2
    let quarter = ((us >> (octave - 2)) & 3) as usize;
    (octave * 4 + quarter - 4).min(BUCKETS - 1)
}

/// The largest value of bucket `i`.
fn upper_bound(i: usize) -> u64 {
    if i < 4 {
        return i as u64;
    }
    let (octave, quarter) = ((i + 4) / 4, (i + 4) % 4);
    ((4 + quarter as u64 + 1) << (octave - 2)) - 1
}

/// The seconds of a stream, from its first event's send time.
#[derive(Clone, Debug, Default)]
pub(super) struct Series {
    first_t: Option<u64>,
    pub(super) seconds: Vec<Second>,
}

impl Series {
    /// An event the server sent at `t` (µs, its wall clock), `latency_us` ago.
    pub(super) fn record(&mut self, t: u64, latency_us: u64) {
        let first = *self.first_t.get_or_insert(t);
        let index = t.saturating_sub(first) / 1_000_000;
        if index >= MAX_SECONDS {
            return;
        }
        // Bounded by MAX_SECONDS above: a server's odd `t` cannot grow it further.
        let index = index as usize;
        if self.seconds.len() <= index {
            self.seconds.resize_with(index + 1, Second::default);
        }
        if let Some(second) = self.seconds.get_mut(index) {
            second.events += 1;
            if let Some(n) = second.latency.get_mut(bucket(latency_us)) {
                *n = n.saturating_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values_and_report_at_most_19_percent_high() {
        for us in [0, 1, 3, 4, 5, 7, 8, 100, 1_000, 123_456, 60_000_000] {
            let top = upper_bound(bucket(us));
            assert!(top >= us && top as f64 <= us as f64 * 1.25 + 1.0, "{us} -> {top}");
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn seconds_follow_the_send_time_and_give_quantiles() {
        let mut s = Series::default();
        for i in 0..100 {
            s.record(5_000_000 + i * 10_000, 1_000 + i);
        }
        s.record(7_500_000, 50_000);
        assert_eq!(s.seconds.len(), 3);
        assert_eq!(s.seconds[0].events, 100);
        assert_eq!(s.seconds[1].events, 0);
        let p50 = s.seconds[0].quantile_us(0.5);
        assert!((1_049..=1_300).contains(&p50), "{p50}");
        assert!(s.seconds[2].quantile_us(0.99) >= 50_000);
        s.record(u64::MAX, 1);
        assert_eq!(s.seconds.len(), 3, "a far-off t is left out");
    }
}
