//! The live status of a socket on stderr: a one-line display rewritten in
//! place on a terminal, plain lines for each change otherwise.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use rig::engine::{ConnectionState, SocketHealth};

/// A short name for a connection state.
pub(crate) fn state_name(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Idle => "idle",
        ConnectionState::Connecting => "connecting",
        ConnectionState::Open => "open",
        ConnectionState::Closing => "closing",
        ConnectionState::WaitingToReconnect => "reconnecting",
        ConnectionState::AuthFailed => "auth-failed",
        ConnectionState::Failed => "failed",
        ConnectionState::GaveUp => "gave-up",
        _ => "unknown",
    }
}

/// A round trip as `1.23ms`, or `-` when none is known.
pub(crate) fn rtt_text(rtt: Option<Duration>) -> String {
    rtt.map_or_else(|| "-".to_owned(), |d| format!("{:.2}ms", d.as_secs_f64() * 1000.0))
}

/// The one-line status: state, RTT, event rate, reconnects, drops.
pub(crate) fn render(health: &SocketHealth, rate: f64, events: u64, drops: u64) -> String {
    format!(
        "{} rtt={} ev/s={rate:.0} events={events} reconnects={} drops={drops}",
        state_name(health.state),
        rtt_text(health.heartbeat_rtt),
        health.reconnects,
    )
}

/// Writes status to stderr: in place on a terminal, as lines otherwise.
/// Cloned handles share one display: the watch loop redraws and notes,
/// the stdout writer thread prints event lines [`above`](Self::above) it.
#[derive(Debug, Clone)]
pub(crate) struct StatusWriter {
    live: bool,
    /// stdout is the same kind of terminal: event lines must not be
    /// appended to the live line.
    shares_terminal: bool,
    display: Arc<Mutex<Display>>,
}

/// What is on the terminal's last line.
#[derive(Debug, Default)]
struct Display {
    /// The live line is on screen.
    drawn: bool,
    /// Event lines are being printed: a redraw waits for them.
    printing: bool,
    /// The final counts are out: nothing is drawn after them.
    finished: bool,
    last: String,
}

impl Display {
    fn draw(&mut self, line: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K{line}").and_then(|()| stderr.flush());
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K").and_then(|()| stderr.flush());
            self.drawn = false;
        }
    }
}

impl StatusWriter {
    pub(crate) fn new() -> Self {
        let live = std::io::stderr().is_terminal();
        let shares_terminal = live && std::io::stdout().is_terminal();
        Self { live, shares_terminal, display: Arc::default() }
    }

    /// Whether the status line is live (stderr is a terminal).
    pub(crate) fn is_live(&self) -> bool {
        self.live
    }

    /// Redraws the live line (nothing when stderr is not a terminal). While
    /// event lines are being printed, the line is drawn after them.
    pub(crate) fn redraw(&self, line: &str) {
        if self.live {
            let mut display = self.display.lock();
            if display.finished {
                return;
            }
            line.clone_into(&mut display.last);
            if !display.printing {
                display.draw(line);
            }
        }
    }

    /// Runs `print`, which writes to stdout, above the live line when both
    /// streams are one terminal: clear the line, print, draw it again. The
    /// lock is not held while `print` runs, so a stalled stdout never
    /// stalls the status.
    pub(crate) fn above<T>(&self, print: impl FnOnce() -> T) -> T {
        if !self.shares_terminal {
            return print();
        }
        {
            let mut display = self.display.lock();
            display.clear();
            display.printing = true;
        }
        let printed = print();
        let mut display = self.display.lock();
        display.printing = false;
        if !display.finished && !display.last.is_empty() {
            let last = std::mem::take(&mut display.last);
            display.draw(&last);
            display.last = last;
        }
        printed
    }

    /// Prints a line that stays (a status change).
    pub(crate) fn note(&self, line: &str) {
        self.write_note(line, false);
    }

    /// Prints the last line (the final counts): no live line after it.
    pub(crate) fn finish(&self, line: &str) {
        self.write_note(line, true);
    }

    fn write_note(&self, line: &str, last: bool) {
        let mut display = self.display.lock();
        display.clear();
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "rig: {line}").and_then(|()| stderr.flush());
        display.finished |= last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_names_everything() {
        let mut health = SocketHealth::default();
        health.state = ConnectionState::Open;
        health.heartbeat_rtt = Some(Duration::from_micros(1234));
        health.reconnects = 2;
        assert_eq!(
            render(&health, 999.6, 10, 3),
            "open rtt=1.23ms ev/s=1000 events=10 reconnects=2 drops=3"
        );
        assert_eq!(rtt_text(None), "-");
    }
}
