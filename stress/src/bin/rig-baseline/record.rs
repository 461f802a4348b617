//! The consumer's side: latency, gaps and the report line.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::wire::{Msg, Tick};

/// Latencies above this (µs) are recorded as this: a minute.
const MAX_LATENCY_US: u64 = 60_000_000;

/// What the consumer collected.
#[derive(Debug)]
pub(crate) struct Recorded {
    pub(crate) events: u64,
    pub(crate) gaps: u64,
    next_seq: u64,
    latency_us: Histogram<u64>,
    pub(crate) done: bool,
    /// Set by the driver: join sent to `done` consumed, and the CPU time used.
    pub(crate) elapsed: Duration,
    pub(crate) cpu: Duration,
}

impl Recorded {
    #[expect(
        clippy::expect_used,
        reason = "constant bounds: 1 <= low, high >= 2 * low, sigfig <= 5"
    )]
    pub(crate) fn new() -> Self {
        let latency_us =
            Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant bounds are valid");
        Self {
            events: 0,
            gaps: 0,
            next_seq: 1,
            latency_us,
            done: false,
            elapsed: Duration::ZERO,
            cpu: Duration::ZERO,
        }
    }

    /// Consumes one message; `count` is the stream's length (for `done`).
    pub(crate) fn on_message(&mut self, msg: &Msg, count: u64) {
        match msg.event.as_str() {
            "event" => {
                let Ok(tick) = serde_json::from_str::<Tick>(msg.payload.get()) else { return };
                self.latency_us.saturating_record(unix_us().saturating_sub(tick.t));
                self.events += 1;
                self.gaps += tick.seq.saturating_sub(self.next_seq);
                self.next_seq = self.next_seq.max(tick.seq.saturating_add(1));
            }
            "done" => {
                self.gaps += count.saturating_add(1).saturating_sub(self.next_seq);
                self.done = true;
            }
            _ => {}
        }
    }

    /// The JSON line, with `rig-bench`'s fields.
    pub(crate) fn report(&self, mode: &str) -> String {
        let secs = self.elapsed.as_secs_f64();
        let per_s = if secs > 0.0 { self.events as f64 / secs } else { 0.0 };
        let cpu_pct = if secs > 0.0 { self.cpu.as_secs_f64() / secs * 100.0 } else { 0.0 };
        let h = &self.latency_us;
        serde_json::json!({
            "mode": mode,
            "events": self.events,
            "elapsed_s": round3(secs),
            "events_per_s": per_s.round(),
            "latency_us": {
                "p50": h.value_at_quantile(0.5),
                "p90": h.value_at_quantile(0.9),
                "p99": h.value_at_quantile(0.99),
                "p999": h.value_at_quantile(0.999),
                "max": h.max(),
            },
            "cpu_pct": round3(cpu_pct),
            "vmhwm_kb": vmhwm_kb(),
            "gaps": self.gaps,
        })
        .to_string()
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[expect(
    clippy::disallowed_methods,
    reason = "latency is measured against the server's wall clock"
)]
pub(crate) fn unix_us() -> u64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_micros()).unwrap_or(u64::MAX)
}

/// User + system CPU time of this process so far (getrusage, RUSAGE_SELF).
pub(crate) fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable rusage; getrusage only writes it.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return Duration::ZERO;
    }
    // SAFETY: getrusage returned 0, so it filled the (zeroed) struct.
    let usage = unsafe { usage.assume_init() };
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

fn timeval(tv: libc::timeval) -> Duration {
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let micros = u32::try_from(tv.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
}

/// Peak resident set size, from `VmHWM` in /proc/self/status (0 if absent).
fn vmhwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
