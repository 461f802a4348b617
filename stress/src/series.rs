//! The per-second series of a run (`series` in the JSON report, the time
//! charts of `--report`): sampled in the client half once a second, from
//! the end of the ramp to the end of the run, plus the latency and
//! time-to-recover distributions as log-spaced buckets.
//!
//! ```text
//!   handlers ── delivered +1, latency window ──┐
//!   sockets' health (reconnects, state) ───────┼─► stress-series thread, each second ─► Sample
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use rig::engine::{ConnectionState, Socket};
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::hist::histogram;

/// What one second of the run looked like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sample {
    /// The end of the second, in seconds since the faulty phase began.
    pub(crate) t_s: u64,
    /// Stream events the handlers received in this second.
    pub(crate) delivered: u64,
    /// Median end-to-end latency of this second's events, µs (0: none).
    pub(crate) latency_p50_us: u64,
    /// 99th percentile latency of this second's events, µs (0: none).
    pub(crate) latency_p99_us: u64,
    /// Reconnects of every socket in this second.
    pub(crate) reconnects: u64,
    /// Sockets open at the end of the second.
    pub(crate) open_connections: u64,
}

/// One bucket of a distribution: `count` values in (previous `le_us`, `le_us`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Bucket {
    pub(crate) le_us: u64,
    pub(crate) count: u64,
}

/// What the handlers feed the sampler.
#[derive(Debug)]
pub(crate) struct Window {
    delivered: AtomicU64,
    latency: Mutex<Histogram<u64>>,
}

impl Default for Window {
    fn default() -> Self {
        Self { delivered: AtomicU64::new(0), latency: Mutex::new(histogram()) }
    }
}

impl Window {
    /// One event accepted, `latency_us` after the server sent it.
    pub(crate) fn record(&self, latency_us: u64) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.latency.lock().saturating_record(latency_us.max(1));
    }

    /// Empties the window, returning (events, p50, p99) since the last take.
    fn take(&self) -> (u64, u64, u64) {
        let delivered = self.delivered.swap(0, Ordering::Relaxed);
        let mut latency = self.latency.lock();
        let quantiles = if latency.is_empty() {
            (0, 0)
        } else {
            (latency.value_at_quantile(0.5), latency.value_at_quantile(0.99))
        };
        latency.reset();
        (delivered, quantiles.0, quantiles.1)
    }
}

/// A fault on the time axis: `kind` (reset, stall, restart, loss) from
/// `at_s` (seconds since the faulty phase began) until `until_s` when it
/// lasts (a stall, a server down, a loss window).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct FaultMark {
    pub(crate) kind: &'static str,
    pub(crate) at_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) until_s: Option<f64>,
}

impl FaultMark {
    /// A mark from `at` to `until` (when given), both since `start`, in ms steps.
    pub(crate) fn new(
        kind: &'static str,
        start: Instant,
        at: Instant,
        until: Option<Instant>,
    ) -> Self {
        let seconds = |t: Instant| {
            (t.saturating_duration_since(start).as_secs_f64() * 1000.0).round() / 1000.0
        };
        Self { kind, at_s: seconds(at), until_s: until.map(seconds) }
    }
}

/// The sampling thread; [`Sampler::finish`] stops it and hands the samples over.
#[derive(Debug)]
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<Sample>>>,
}

impl Sampler {
    /// Starts sampling `window` and `sockets` every second from now.
    pub(crate) fn start(window: Arc<Window>, sockets: Vec<Socket>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("stress-series".into())
            .spawn(move || run(&window, &sockets, &flag));
        let thread = spawned.map_err(|e| log::warn!("no per-second series: {e}")).ok();
        Self { stop, thread }
    }

    /// Stops sampling; the samples so far (a partial last second is left out).
    pub(crate) fn finish(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take();
        thread
            .and_then(|t| t.join().map_err(|_| log::error!("the series thread panicked")).ok())
            .unwrap_or_default()
    }
}

fn run(window: &Window, sockets: &[Socket], stop: &AtomicBool) -> Vec<Sample> {
    let start = clock::now();
    let mut samples = Vec::new();
    let mut reconnects_before: u64 = sockets.iter().map(|s| s.health().reconnects).sum();
    // The window also holds what came during the ramp: start empty.
    let _ = window.take();
    let mut t_s = 1;
    while !stop.load(Ordering::Relaxed) {
        let due = start + Duration::from_secs(t_s);
        if clock::now() < due {
            clock::sleep(Duration::from_millis(20));
            continue;
        }
        let (delivered, latency_p50_us, latency_p99_us) = window.take();
        let mut reconnects = 0;
        let mut open = 0;
        for socket in sockets {
            let health = socket.health();
            reconnects += health.reconnects;
            open += u64::from(health.state == ConnectionState::Open);
        }
        samples.push(Sample {
            t_s,
            delivered,
            latency_p50_us,
            latency_p99_us,
            reconnects: reconnects.saturating_sub(reconnects_before),
            open_connections: open,
        });
        reconnects_before = reconnects;
        t_s += 1;
    }
    samples
}

/// Bucket bounds: 1, 2, 5 per decade from 10 µs to 10 minutes.
fn bounds() -> impl Iterator<Item = u64> {
    (1..=8)
        .flat_map(|decade| [1, 2, 5].map(|m| m * 10_u64.pow(decade)))
        .take_while(|b| *b <= 600_000_000)
}

/// `h` as log-spaced buckets, from the first non-empty one to the last
/// (the last bound takes everything above it).
pub(crate) fn buckets(h: &Histogram<u64>) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = bounds().map(|le_us| Bucket { le_us, count: 0 }).collect();
    // Each recorded value once, into the first bucket that holds it (the
    // last when above every bound).
    for value in h.iter_recorded() {
        let v = value.value_iterated_to();
        let last = out.len().saturating_sub(1);
        let slot = out.iter().position(|b| v <= b.le_us).unwrap_or(last);
        if let Some(bucket) = out.get_mut(slot) {
            bucket.count += value.count_at_value();
        }
    }
    let first = out.iter().position(|b| b.count > 0).unwrap_or(0);
    let last = out.iter().rposition(|b| b.count > 0).map_or(0, |i| i + 1);
    out.truncate(last);
    out.drain(..first.min(out.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_every_value_once_and_trim_empty_ends() {
        let mut h = histogram();
        for v in [15, 150, 180, 1_500, 3_000_000] {
            h.saturating_record(v);
        }
        let b = buckets(&h);
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 5, "{b:?}");
        assert_eq!(b.first().map(|b| (b.le_us, b.count)), Some((20, 1)), "{b:?}");
        assert_eq!(b.last().map(|b| (b.le_us, b.count)), Some((5_000_000, 1)), "{b:?}");
        assert!(buckets(&histogram()).is_empty());
    }

    #[test]
    fn a_window_empties_when_taken() {
        let w = Window::default();
        for v in 1..=100 {
            w.record(v);
        }
        let (n, p50, p99) = w.take();
        assert_eq!((n, p50, p99), (100, 50, 99));
        assert_eq!(w.take(), (0, 0, 0));
    }
}
