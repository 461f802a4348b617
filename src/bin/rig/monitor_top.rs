//! `rig monitor --top`: instead of printing events, a table of the topics
//! (events/s, total, drops, last event age, join state) under the socket's
//! state, round trip and reconnects, redrawn every second. On a terminal
//! it is redrawn in place and status lines scroll above it; otherwise it
//! is a block of plain lines per second, for logs and pipes.

use std::time::Duration;

use rig::engine::SocketHealth;
use rig::time::{Clock, Instant};

use crate::monitor_watch::Topic;
use crate::status_line::{rtt_text, state_name};
use crate::top::{Tally, TopView, TopicRow};

/// How often the table is drawn.
pub(crate) const TOP_EVERY: Duration = Duration::from_secs(1);

/// The table's state between drawings.
#[derive(Debug)]
pub(crate) struct TopBoard {
    /// In-place drawing on a terminal; `None`: plain lines.
    view: Option<TopView>,
    tallies: Vec<Tally>,
    clock: Clock,
    started: Instant,
    last_draw: Instant,
}

impl TopBoard {
    pub(crate) fn new(topics: usize, terminal: bool) -> Self {
        let clock = Clock::real();
        let now = clock.now();
        Self {
            view: terminal.then(TopView::default),
            tallies: std::iter::repeat_with(Tally::default).take(topics).collect(),
            clock,
            started: now,
            last_draw: now,
        }
    }

    /// One event of topic `index` (after the filters).
    pub(crate) fn count(&mut self, index: usize) {
        let now = self.clock.now();
        if let Some(tally) = self.tallies.get_mut(index) {
            tally.count(now);
        }
    }

    /// Prints a status line above the table when the table is on a
    /// terminal; `false` when the caller should print it as usual.
    pub(crate) fn note(&mut self, line: &str) -> bool {
        match &mut self.view {
            Some(view) => {
                let _ = view.log(&mut std::io::stdout().lock(), &format!("rig: {line}"));
                true
            }
            None => false,
        }
    }

    /// Draws the table for this second.
    pub(crate) fn draw(&mut self, health: &SocketHealth, topics: &[Topic]) {
        let now = self.clock.now();
        let span = now.saturating_duration_since(self.last_draw);
        self.last_draw = now;
        let rows: Vec<TopicRow> =
            self.tallies
                .iter_mut()
                .zip(topics)
                .map(|(tally, topic)| {
                    let (drops, state) = topic.joined.as_ref().map_or(
                        (0, rig::protocol::ChannelState::Closed),
                        |(channel, subscription)| (subscription.dropped(), channel.state()),
                    );
                    tally.row(&topic.name, span, now, drops, state)
                })
                .collect();
        let elapsed = now.saturating_duration_since(self.started).as_secs_f64();
        let summary = format!(
            "{elapsed:6.1}s  socket {}  rtt {}  reconnects {}  frames in {}",
            state_name(health.state),
            rtt_text(health.heartbeat_rtt),
            health.reconnects,
            health.frames_in
        );
        let mut stdout = std::io::stdout().lock();
        let _ = match &mut self.view {
            Some(view) => view.draw(&mut stdout, &summary, &rows),
            None => plain(&mut stdout, &summary, &rows),
        };
    }

    /// Takes the table off the screen before the final counts.
    pub(crate) fn finish(&mut self) {
        if let Some(view) = &mut self.view {
            let _ = view.clear(&mut std::io::stdout().lock());
        }
    }
}

/// Off a terminal: the summary, then one line per topic, each second.
fn plain(out: &mut impl std::io::Write, summary: &str, rows: &[TopicRow]) -> std::io::Result<()> {
    let mut text = format!("{}\n", summary.trim_start());
    for r in rows {
        let last = r.last_event.map_or_else(|| "-".to_owned(), |d| rtt_text(Some(d)));
        text.push_str(&format!(
            "  {} events/s={:.0} total={} drops={} last={} state={}\n",
            r.topic,
            r.rate,
            r.total,
            r.drops,
            last,
            r.state.as_str()
        ));
    }
    out.write_all(text.as_bytes())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_name_every_figure() {
        let row = TopicRow {
            topic: "stream:x".into(),
            rate: 99.6,
            total: 1200,
            drops: 2,
            last_event: Some(Duration::from_millis(5)),
            state: rig::protocol::ChannelState::Joined,
        };
        let mut out = Vec::new();
        plain(&mut out, "   1.0s  socket open", &[row]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1.0s  socket open\n  stream:x events/s=100 total=1200 drops=2 last=5.00ms state=joined\n"
        );
    }
}
