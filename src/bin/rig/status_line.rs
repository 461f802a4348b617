//! The live status of a socket on stderr: a one-line display rewritten in
//! place on a terminal, plain lines for each change otherwise.

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

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
#[derive(Debug)]
pub(crate) struct StatusWriter {
    live: bool,
    /// stdout is the same kind of terminal: event lines must not be
    /// appended to the live line.
    shares_terminal: bool,
    drawn: bool,
    last: String,
}

impl StatusWriter {
    pub(crate) fn new() -> Self {
        let live = std::io::stderr().is_terminal();
        let shares_terminal = live && std::io::stdout().is_terminal();
        Self { live, shares_terminal, drawn: false, last: String::new() }
    }

    /// Whether the status line is live (stderr is a terminal).
    pub(crate) fn is_live(&self) -> bool {
        self.live
    }

    /// Redraws the live line (nothing when stderr is not a terminal).
    pub(crate) fn redraw(&mut self, line: &str) {
        if self.live {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K{line}").and_then(|()| stderr.flush());
            self.drawn = true;
            line.clone_into(&mut self.last);
        }
    }

    /// Runs `print`, which writes to stdout, above the live line when both
    /// streams are one terminal: clear the line, print, draw it again.
    pub(crate) fn above<T>(&mut self, print: impl FnOnce() -> T) -> T {
        if !(self.shares_terminal && self.drawn) {
            return print();
        }
        {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K").and_then(|()| stderr.flush());
        }
        let printed = print();
        let last = std::mem::take(&mut self.last);
        self.redraw(&last);
        printed
    }

    /// Prints a line that stays (a status change, the final counts).
    pub(crate) fn note(&mut self, line: &str) {
        let mut stderr = std::io::stderr().lock();
        let clear = if self.drawn { "\r\x1b[2K" } else { "" };
        let _ = writeln!(stderr, "{clear}rig: {line}").and_then(|()| stderr.flush());
        self.drawn = false;
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
