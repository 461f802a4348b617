//! What the process costs: peak RSS, CPU time (whole process and the
//! engine's own threads), and the open-files limit 10,000 sockets need.
//!
//! Read from `/proc` (Linux only, like the rest of the harness's network
//! setup). CPU times there are in clock ticks of `USER_HZ`, which Linux
//! fixes at 100 for user space whatever the kernel's HZ.

use std::fs;
use std::time::Duration;

/// Ticks per second in `/proc/*/stat` (`USER_HZ`).
const USER_HZ: u64 = 100;

/// Thread names of the engine (its I/O thread, DNS thread and dispatcher
/// pool), whose CPU is reported apart from the server's and the proxy's.
const ENGINE_THREADS: [&str; 3] = ["rig-io", "rig-dns", "rig-dispatch"];

/// Peak resident set size of this process in KiB (`VmHWM`), 0 if unknown.
pub(crate) fn peak_rss_kb() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of one `/proc/.../stat` line, in ticks.
fn stat_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces: count from the last ')'.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace();
    // After ')': state is field 3, so utime (14) is the 12th, stime the 13th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time used so far: the whole process, and the engine's live threads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CpuTime {
    pub(crate) process: Duration,
    pub(crate) engine: Duration,
}

fn ticks(ticks: u64) -> Duration {
    Duration::from_millis(ticks.saturating_mul(1000 / USER_HZ))
}

/// Reads the CPU times now.
pub(crate) fn cpu_time() -> CpuTime {
    let process = fs::read_to_string("/proc/self/stat").ok().as_deref().and_then(stat_ticks);
    let mut engine = 0;
    if let Ok(tasks) = fs::read_dir("/proc/self/task") {
        for task in tasks.flatten() {
            let path = task.path();
            let comm = fs::read_to_string(path.join("comm")).unwrap_or_default();
            if !ENGINE_THREADS.iter().any(|name| comm.trim_end().starts_with(name)) {
                continue;
            }
            let stat = fs::read_to_string(path.join("stat")).unwrap_or_default();
            engine += stat_ticks(&stat).unwrap_or(0);
        }
    }
    CpuTime { process: ticks(process.unwrap_or(0)), engine: ticks(engine) }
}

/// `used` over `wall` as a percentage of one core (100 = one core busy).
pub(crate) fn percent(used: Duration, wall: Duration) -> f64 {
    if wall.is_zero() {
        return 0.0;
    }
    let pct = used.as_secs_f64() / wall.as_secs_f64() * 100.0;
    (pct * 10.0).round() / 10.0
}

/// Raises the open-files limit towards `want`: the soft limit up to the
/// hard one, and the hard one too when allowed (`CAP_SYS_RESOURCE`).
/// Returns the soft limit in force.
pub(crate) fn raise_nofile(want: u64) -> u64 {
    let (soft, hard) = rlimit::Resource::NOFILE.get().unwrap_or((1024, 1024));
    if soft >= want {
        return soft;
    }
    if hard < want && rlimit::Resource::NOFILE.set(want, want).is_ok() {
        return want;
    }
    rlimit::increase_nofile_limit(want).unwrap_or(soft)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_past_a_command_with_spaces() {
        let line = "42 (rig io) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(stat_ticks(line), Some(300));
        assert_eq!(stat_ticks("garbage"), None);
    }

    #[test]
    fn this_process_has_a_peak_rss_and_cpu_time() {
        assert!(peak_rss_kb() > 0);
        let _ = cpu_time();
        assert_eq!(percent(Duration::from_millis(500), Duration::from_secs(1)), 50.0);
        assert_eq!(percent(Duration::from_secs(1), Duration::ZERO), 0.0);
    }
}
