//! The live status line of `rig serve` on stderr, and its summary at exit.
//!
//! The main thread samples [`ServerStats`] about once a second and hands each
//! sample to [`StatusLine::sample`], which prints only when the rendered line
//! changed: rewritten in place on a terminal (`\r` + clear to end of line),
//! one line per change otherwise (a pipe or a file).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

use rig::server::ServerStats;
use rig::time::Instant;

/// Every line starts with this, so logs and readers can tell them apart.
pub(crate) const PREFIX: &str = "rig serve: ";

/// Carriage return and ANSI "erase to end of line".
const REWRITE: &str = "\r\x1b[K";

/// The status line's state between samples.
#[derive(Debug)]
pub(crate) struct StatusLine {
    /// Rewrite in place (a terminal) or print one line per change.
    in_place: bool,
    prev: ServerStats,
    prev_at: Instant,
    /// The last line printed (or the idle line nobody needs to see).
    last: String,
    /// Whether an in-place line is on the screen now.
    shown: bool,
}

impl StatusLine {
    /// A status line starting at `now` with every counter at zero.
    pub(crate) fn new(in_place: bool, now: Instant) -> Self {
        let zero = ServerStats::default();
        Self {
            in_place,
            prev: zero,
            prev_at: now,
            last: render(&zero, &zero, Duration::ZERO),
            shown: false,
        }
    }

    /// Renders `stats` (rates since the previous sample) and prints it to
    /// `out` when the line changed.
    pub(crate) fn sample(
        &mut self,
        stats: ServerStats,
        now: Instant,
        out: &mut impl Write,
    ) -> io::Result<()> {
        let line = render(&self.prev, &stats, now.saturating_duration_since(self.prev_at));
        self.prev = stats;
        self.prev_at = now;
        if line == self.last {
            return Ok(());
        }
        if self.in_place {
            write!(out, "{REWRITE}{line}")?;
            self.shown = true;
        } else {
            writeln!(out, "{line}")?;
        }
        self.last = line;
        out.flush()
    }

    /// Clears an in-place line, so what follows starts on a clean line.
    pub(crate) fn clear(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.shown {
            write!(out, "{REWRITE}")?;
            self.shown = false;
            out.flush()?;
        }
        Ok(())
    }
}

/// One status line: gauges, rates since the previous sample, refusals and
/// the closes that point at bad input (the rarer reasons only when seen).
pub(crate) fn render(prev: &ServerStats, now: &ServerStats, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = |before: u64, after: u64| {
        let delta = u64_f64(after.saturating_sub(before));
        if secs > 0.0 { delta / secs } else { 0.0 }
    };
    let mut line = format!(
        "{PREFIX}{} open ({} total), {} channels, in {} fr/s {}/s, out {} fr/s {}/s, \
         refused {}, closed malformed {} idle {}",
        now.connections_open,
        now.connections_accepted,
        now.channels_joined,
        si(rate(prev.frames_in, now.frames_in)),
        bytes(rate(prev.bytes_in, now.bytes_in)),
        si(rate(prev.frames_out, now.frames_out)),
        bytes(rate(prev.bytes_out, now.bytes_out)),
        now.refused(),
        now.closed_malformed,
        now.closed_idle,
    );
    let rare = [
        ("too-big", now.closed_too_big),
        ("bad-utf8", now.closed_bad_utf8),
        ("protocol", now.closed_protocol),
        ("slow", now.dropped_slow),
        ("stalled", now.handshake_timeouts),
    ];
    for (name, count) in rare.into_iter().filter(|(_, count)| *count > 0) {
        let _ = write!(line, " {name} {count}");
    }
    if now.connections_lost > 0 {
        let _ = write!(line, ", lost {}", now.connections_lost);
    }
    line
}

/// The line printed at exit: every counter, exact.
pub(crate) fn summary(stats: &ServerStats, uptime: Duration) -> String {
    let s = stats;
    format!(
        "{PREFIX}stopped after {}: {} connections ({} upgraded, refused {}: 400 {} 403 {} 404 {}), \
         joins {} ok {} refused, in {} frames {}, out {} frames {}, {} broadcasts to {}, \
         {} heartbeats, {} channel crashes, closed by clients {}, by the server: malformed {} \
         idle {} too-big {} bad-utf8 {} protocol {} slow {} stalled {} shutdown {}, lost {}",
        clock_time(uptime),
        s.connections_accepted,
        s.upgrades,
        s.refused(),
        s.refused_bad_request,
        s.refused_forbidden,
        s.refused_not_found,
        s.joins_ok,
        s.joins_refused,
        s.frames_in,
        bytes(u64_f64(s.bytes_in)),
        s.frames_out,
        bytes(u64_f64(s.bytes_out)),
        s.broadcasts,
        s.broadcast_messages,
        s.heartbeats,
        s.channel_crashes,
        s.client_closes,
        s.closed_malformed,
        s.closed_idle,
        s.closed_too_big,
        s.closed_bad_utf8,
        s.closed_protocol,
        s.dropped_slow,
        s.handshake_timeouts,
        s.closed_shutdown,
        s.connections_lost,
    )
}

/// For display: counts below 2^53 convert exactly, larger ones lose digits
/// nobody reads.
fn u64_f64(n: u64) -> f64 {
    n as f64
}

/// `value` with an SI prefix, three significant digits at most: `950`,
/// `1.2k`, `80k`, `2.3M`.
fn si(value: f64) -> String {
    let (number, prefix) = scaled(value);
    format!("{number}{prefix}")
}

/// A byte count (or rate) in SI units: `950 B`, `80 kB`, `1.2 MB`.
fn bytes(value: f64) -> String {
    let (number, prefix) = scaled(value);
    format!("{number} {prefix}B")
}

fn scaled(value: f64) -> (String, &'static str) {
    let value = value.max(0.0);
    let mut prefixes = ["", "k", "M", "G", "T"].into_iter().peekable();
    let mut scaled = value;
    let mut prefix = "";
    while let Some(next) = prefixes.next() {
        prefix = next;
        if scaled.round() < 1000.0 || prefixes.peek().is_none() {
            break;
        }
        scaled /= 1000.0;
    }
    // 9.96 would print as "10.0": past 9.95 the decimal is noise.
    let number = if prefix.is_empty() || scaled >= 9.95 {
        format!("{scaled:.0}")
    } else {
        format!("{scaled:.1}")
    };
    (number, prefix)
}

/// `12s`, `3m05s`, `2h00m07s`.
fn clock_time(uptime: Duration) -> String {
    let secs = uptime.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use rig::time::Clock;

    use super::*;

    fn stats(edit: impl FnOnce(&mut ServerStats)) -> ServerStats {
        let mut stats = ServerStats::default();
        edit(&mut stats);
        stats
    }

    #[test]
    fn the_line_shows_gauges_rates_refusals_and_bad_input() {
        let before = stats(|s| {
            s.frames_in = 1000;
            s.bytes_in = 10_000;
        });
        let after = stats(|s| {
            s.connections_open = 3;
            s.connections_accepted = 12;
            s.channels_joined = 5;
            s.frames_in = 3400;
            s.bytes_in = 170_000;
            s.frames_out = 4600;
            s.bytes_out = 300_000;
            s.refused_forbidden = 1;
            s.closed_idle = 2;
        });
        assert_eq!(
            render(&before, &after, Duration::from_secs(2)),
            "rig serve: 3 open (12 total), 5 channels, in 1.2k fr/s 80 kB/s, \
             out 2.3k fr/s 150 kB/s, refused 1, closed malformed 0 idle 2"
        );
    }

    #[test]
    fn rare_closes_and_lost_connections_appear_once_seen() {
        let now = stats(|s| {
            s.closed_too_big = 1;
            s.closed_protocol = 4;
            s.dropped_slow = 2;
            s.handshake_timeouts = 3;
            s.connections_lost = 7;
        });
        assert_eq!(
            render(&now, &now, Duration::ZERO),
            "rig serve: 0 open (0 total), 0 channels, in 0 fr/s 0 B/s, out 0 fr/s 0 B/s, \
             refused 0, closed malformed 0 idle 0 too-big 1 protocol 4 slow 2 stalled 3, lost 7"
        );
    }

    #[test]
    fn numbers_are_scaled_to_three_digits() {
        let cases = [
            (0.0, "0"),
            (999.4, "999"),
            (999.6, "1.0k"),
            (1234.0, "1.2k"),
            (9960.0, "10k"),
            (80_000.0, "80k"),
            (2_345_678.0, "2.3M"),
            (5e15, "5000T"),
            (-3.0, "0"),
        ];
        for (value, text) in cases {
            assert_eq!(si(value), text, "{value}");
        }
        assert_eq!(bytes(950.0), "950 B");
        assert_eq!(bytes(1_500_000.0), "1.5 MB");
    }

    #[test]
    fn prints_only_changes_one_line_each_when_not_a_terminal() {
        let (clock, mock) = Clock::mock();
        let mut status = StatusLine::new(false, clock.now());
        let mut out = Vec::new();
        mock.increment(Duration::from_secs(1));
        status.sample(ServerStats::default(), clock.now(), &mut out).unwrap();
        assert!(out.is_empty(), "an idle server prints nothing");
        let one = stats(|s| {
            s.connections_open = 1;
            s.connections_accepted = 1;
        });
        mock.increment(Duration::from_secs(1));
        status.sample(one, clock.now(), &mut out).unwrap();
        mock.increment(Duration::from_secs(1));
        status.sample(one, clock.now(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "rig serve: 1 open (1 total), 0 channels, in 0 fr/s 0 B/s, out 0 fr/s 0 B/s, \
             refused 0, closed malformed 0 idle 0\n"
        );
    }

    #[test]
    fn traffic_that_stops_shows_its_zero_rate_once() {
        let (clock, mock) = Clock::mock();
        let mut status = StatusLine::new(false, clock.now());
        let mut out = Vec::new();
        let busy = stats(|s| s.frames_in = 50);
        for _ in 0..3 {
            mock.increment(Duration::from_secs(1));
            status.sample(busy, clock.now(), &mut out).unwrap();
        }
        let text = String::from_utf8(out).unwrap();
        let rates: Vec<_> =
            text.lines().map(|l| l.split(", ").nth(2).unwrap_or_default().to_owned()).collect();
        assert_eq!(rates, ["in 50 fr/s 0 B/s", "in 0 fr/s 0 B/s"]);
    }

    #[test]
    fn a_terminal_line_is_rewritten_in_place_and_cleared() {
        let (clock, mock) = Clock::mock();
        let mut status = StatusLine::new(true, clock.now());
        let mut out = Vec::new();
        status.clear(&mut out).unwrap();
        assert!(out.is_empty(), "nothing to clear before the first line");
        for open in 1..=2 {
            mock.increment(Duration::from_secs(1));
            status.sample(stats(|s| s.connections_open = open), clock.now(), &mut out).unwrap();
        }
        status.clear(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\n'), "{text:?}");
        let parts: Vec<_> = text.split(REWRITE).collect();
        assert_eq!(parts.len(), 4, "two lines and a clear: {text:?}");
        assert!(parts[1].starts_with("rig serve: 1 open"), "{text:?}");
        assert!(parts[2].starts_with("rig serve: 2 open"), "{text:?}");
        assert_eq!(parts[3], "");
    }

    #[test]
    fn the_summary_names_every_counter() {
        let stats = stats(|s| {
            s.connections_accepted = 12;
            s.upgrades = 9;
            s.refused_forbidden = 3;
            s.joins_ok = 5;
            s.frames_in = 1234;
            s.bytes_in = 80_000;
            s.closed_shutdown = 2;
            s.connections_lost = 1;
        });
        assert_eq!(
            summary(&stats, Duration::from_secs(3725)),
            "rig serve: stopped after 1h02m05s: 12 connections (9 upgraded, refused 3: 400 0 \
             403 3 404 0), joins 5 ok 0 refused, in 1234 frames 80 kB, out 0 frames 0 B, \
             0 broadcasts to 0, 0 heartbeats, 0 channel crashes, closed by clients 0, by the \
             server: malformed 0 idle 0 too-big 0 bad-utf8 0 protocol 0 slow 0 stalled 0 \
             shutdown 2, lost 1"
        );
        assert_eq!(clock_time(Duration::from_secs(65)), "1m05s");
        assert_eq!(clock_time(Duration::from_millis(400)), "0s");
    }
}
