//! rig-bench's JSON line, and the process figures it carries (CPU time
//! from getrusage, peak RSS from /proc).

use std::time::Duration;

use super::{Recorded, Report, Setup};

pub(crate) fn report(
    recorded: &Recorded,
    elapsed: Duration,
    cpu: Duration,
    setup: &Setup,
) -> Report {
    let secs = elapsed.as_secs_f64();
    let per_s = if secs > 0.0 { recorded.events as f64 / secs } else { 0.0 };
    let cpu_pct = if secs > 0.0 { cpu.as_secs_f64() / secs * 100.0 } else { 0.0 };
    let h = &recorded.latency_us;
    let line = serde_json::json!({
        "mode": "engine",
        "events": recorded.events,
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
        "gaps": recorded.gaps,
        "consumer": setup.consumer.name(),
        "idle": format!("{:?}", setup.idle),
    });
    Report {
        line: line.to_string(),
        gaps: recorded.gaps,
        value: line,
        series: recorded.series.clone(),
        latency_us: recorded.latency_us.clone(),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// User + system CPU time of this process so far (getrusage, RUSAGE_SELF).
pub(crate) fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid, writable rusage; getrusage only writes it.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return Duration::ZERO;
    }
    // SAFETY: getrusage returned 0, so it filled the struct (and it was
    // zeroed before, so every field is initialised either way).
    let usage = unsafe { usage.assume_init() };
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

fn timeval(tv: libc::timeval) -> Duration {
    let secs = u64::try_from(tv.tv_sec).unwrap_or(0);
    let micros = u32::try_from(tv.tv_usec).unwrap_or(0);
    Duration::from_secs(secs) + Duration::from_micros(u64::from(micros))
}

/// Peak resident set size, from `VmHWM` in /proc/self/status (0 if absent).
pub(crate) fn vmhwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
