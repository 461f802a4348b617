//! A live table redrawn in place on a terminal (`rig monitor --top`, `rig
//! demo`): a summary line on top, one row per topic below. Lines logged
//! meanwhile (status changes) scroll above the table: the table is erased,
//! the line printed, the table drawn again, so neither garbles the other.
//! Off a terminal the caller prints plain periodic lines instead.

use std::io::{self, Write};
use std::time::Duration;

use rig::protocol::ChannelState;
use rig::time::Instant;

/// Cursor to column 0 and erase to the end of the screen.
const ERASE_BELOW: &str = "\r\x1b[J";

/// One topic's row.
#[derive(Clone, Debug)]
pub(crate) struct TopicRow {
    pub(crate) topic: String,
    /// Events in the last window, per second.
    pub(crate) rate: f64,
    pub(crate) total: u64,
    pub(crate) drops: u64,
    /// Since the last event; `None` before the first.
    pub(crate) last_event: Option<Duration>,
    pub(crate) state: ChannelState,
}

/// Events counted for one topic between two drawings, and in all.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) total: u64,
    window: u64,
    last: Option<Instant>,
}

impl Tally {
    pub(crate) fn count(&mut self, now: Instant) {
        self.total += 1;
        self.window += 1;
        self.last = Some(now);
    }

    /// The row for a drawing `span` after the last one (starts a new window).
    pub(crate) fn row(
        &mut self,
        topic: &str,
        span: Duration,
        now: Instant,
        drops: u64,
        state: ChannelState,
    ) -> TopicRow {
        let rate = self.window as f64 / span.as_secs_f64().max(1e-3);
        self.window = 0;
        TopicRow {
            topic: topic.to_owned(),
            rate,
            total: self.total,
            drops,
            last_event: self.last.map(|at| now.saturating_duration_since(at)),
            state,
        }
    }
}

/// The table as last drawn, and how many lines it took.
#[derive(Debug, Default)]
pub(crate) struct TopView {
    frame: Vec<String>,
    drawn: usize,
}

impl TopView {
    /// Replaces the drawing with `summary` and `rows`.
    pub(crate) fn draw(
        &mut self,
        out: &mut impl Write,
        summary: &str,
        rows: &[TopicRow],
    ) -> io::Result<()> {
        self.frame = frame(summary, rows);
        let mut text = self.erase();
        for line in &self.frame {
            text.push_str(line);
            text.push('\n');
        }
        self.drawn = self.frame.len();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Prints `line` above the table.
    pub(crate) fn log(&mut self, out: &mut impl Write, line: &str) -> io::Result<()> {
        let mut text = self.erase();
        text.push_str(line);
        text.push('\n');
        for l in &self.frame {
            text.push_str(l);
            text.push('\n');
        }
        self.drawn = self.frame.len();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Removes the table from the screen (before the final summary).
    pub(crate) fn clear(&mut self, out: &mut impl Write) -> io::Result<()> {
        let text = self.erase();
        self.drawn = 0;
        self.frame.clear();
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// Cursor up over the last drawing, then erase it.
    fn erase(&self) -> String {
        match self.drawn {
            0 => String::new(),
            n => format!("\x1b[{n}A{ERASE_BELOW}"),
        }
    }
}

/// The lines of one drawing: the summary, a header, one row per topic.
pub(crate) fn frame(summary: &str, rows: &[TopicRow]) -> Vec<String> {
    let width = rows.iter().map(|r| r.topic.chars().count()).max().unwrap_or(0).max(5);
    let mut lines = vec![summary.to_owned()];
    lines.push(format!(
        "{:<width$}  {:>9}  {:>10}  {:>8}  {:>10}  {}",
        "TOPIC", "EVENTS/S", "TOTAL", "DROPS", "LAST", "STATE"
    ));
    for r in rows {
        let last = r.last_event.map_or_else(|| "-".to_owned(), age);
        lines.push(format!(
            "{:<width$}  {:>9.0}  {:>10}  {:>8}  {:>10}  {}",
            r.topic,
            r.rate,
            r.total,
            r.drops,
            last,
            r.state.as_str()
        ));
    }
    lines
}

/// `850ms`, `12.3s`, `4m05s`.
fn age(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms ago")
    } else if ms < 60_000 {
        format!("{:.1}s ago", d.as_secs_f64())
    } else {
        format!("{}m{:02}s ago", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(topic: &str, total: u64) -> TopicRow {
        TopicRow {
            topic: topic.to_owned(),
            rate: 12.0,
            total,
            drops: 1,
            last_event: Some(Duration::from_millis(250)),
            state: ChannelState::Joined,
        }
    }

    #[test]
    fn rows_are_aligned_under_the_header() {
        let lines = frame("socket open", &[row("room:a", 5), row("stream:longer", 123_456)]);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "socket open");
        let end = |line: &str, s: &str| line.find(s).map(|i| i + s.len());
        assert_eq!(end(&lines[1], "EVENTS/S"), end(&lines[2], " 12"), "{lines:#?}");
        assert_eq!(end(&lines[1], "TOTAL"), end(&lines[3], "123456"), "{lines:#?}");
        assert!(lines[2..].iter().all(|l| l.contains("250ms ago") && l.ends_with("joined")));
    }

    #[test]
    fn a_redraw_moves_up_over_the_last_drawing_and_a_log_line_goes_above() {
        let mut view = TopView::default();
        let mut out = Vec::new();
        view.draw(&mut out, "s1", &[row("a", 1)]).unwrap();
        assert!(!String::from_utf8_lossy(&out).contains('\x1b'), "nothing to erase at first");
        out.clear();
        view.log(&mut out, "status: open").unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(text.starts_with("\x1b[3A\r\x1b[J"), "{text:?}");
        assert!(text.contains("status: open\ns1\n"), "{text:?}");
        out.clear();
        view.draw(&mut out, "s2", &[row("a", 2), row("b", 1)]).unwrap();
        let text = String::from_utf8_lossy(&out).into_owned();
        assert!(text.starts_with("\x1b[3A\r\x1b[J"), "{text:?}");
        assert_eq!(text.lines().count(), 4);
        out.clear();
        view.clear(&mut out).unwrap();
        assert_eq!(String::from_utf8_lossy(&out), "\x1b[4A\r\x1b[J");
    }

    #[test]
    fn a_tally_gives_the_window_rate_and_the_age_of_the_last_event() {
        let (clock, mock) = rig::time::Clock::mock();
        let mut tally = Tally::default();
        for _ in 0..30 {
            tally.count(clock.now());
        }
        mock.increment(Duration::from_millis(500));
        let r = tally.row("t", Duration::from_secs(2), clock.now(), 3, ChannelState::Joined);
        assert_eq!((r.rate, r.total, r.drops), (15.0, 30, 3));
        assert_eq!(r.last_event, Some(Duration::from_millis(500)));
        let r = tally.row("t", Duration::from_secs(1), clock.now(), 3, ChannelState::Joined);
        assert_eq!((r.rate, r.total), (0.0, 30), "a new window after each row");
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(Duration::from_millis(850)), "850ms ago");
        assert_eq!(age(Duration::from_millis(12_340)), "12.3s ago");
        assert_eq!(age(Duration::from_secs(245)), "4m05s ago");
    }
}
