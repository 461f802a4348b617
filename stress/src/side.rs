//! The client half as the host sees it: in this process ([`Local`]) or in
//! a `--role clients` child inside the lossy namespace ([`Remote`]).
//!
//! The child speaks JSON lines: the host writes commands on its stdin,
//! the child answers on its stdout (its stderr is the host's):
//!
//! ```text
//!   host → child                              child → host
//!   {"cmd":"ready","timeout_ms":N}            {"never_joined":N}
//!   {"cmd":"fault","kind":"reset"}            (no answer: marked at once)
//!   {"cmd":"settle","timeout_ms":N}           {"unrecovered":N}
//!   {"cmd":"finish","timeout_ms":N}           {"report":{...ClientsReport}}, then exits 0
//! ```

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clients::{Clients, ClientsReport};
use crate::schedule::FaultKind;

/// One command of the host to the client half.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub(crate) enum Request {
    Ready { timeout_ms: u64 },
    Fault { kind: String },
    Settle { timeout_ms: u64 },
    Finish { timeout_ms: u64 },
}

/// One answer of the client half.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Answer {
    Ready { never_joined: u64 },
    Settled { unrecovered: u64 },
    Report { report: Box<ClientsReport> },
}

/// What the host asks of the client half.
pub(crate) trait ClientSide {
    /// Waits for every channel's first event; returns how many never came.
    fn ready(&mut self, timeout: Duration) -> Result<u64, String>;
    /// A fault happened just now.
    fn fault(&mut self, kind: FaultKind) -> Result<(), String>;
    /// Waits for recovery; returns how many channels have not recovered.
    fn settle(&mut self, timeout: Duration) -> Result<u64, String>;
    /// Ends the run and reports.
    fn finish(self: Box<Self>, timeout: Duration) -> Result<ClientsReport, String>;
    /// Shows the clients in `metrics` (only those in this process can be).
    fn watch(&self, metrics: &rig::metrics::Metrics) {
        let _ = metrics;
    }
}

fn ms(length: Duration) -> u64 {
    crate::clock::micros(length) / 1000
}

/// The client half in this process.
#[derive(Debug)]
pub(crate) struct Local(pub(crate) Clients);

impl ClientSide for Local {
    fn ready(&mut self, timeout: Duration) -> Result<u64, String> {
        Ok(self.0.ready(timeout))
    }

    fn fault(&mut self, kind: FaultKind) -> Result<(), String> {
        self.0.fault(kind);
        Ok(())
    }

    fn settle(&mut self, timeout: Duration) -> Result<u64, String> {
        Ok(self.0.settle(timeout))
    }

    fn finish(self: Box<Self>, timeout: Duration) -> Result<ClientsReport, String> {
        Ok(self.0.finish(timeout))
    }

    fn watch(&self, metrics: &rig::metrics::Metrics) {
        self.0.watch_metrics(metrics);
    }
}

/// The client half in a child process.
#[derive(Debug)]
pub(crate) struct Remote {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Remote {
    /// Starts `command` (already holding the program and its arguments).
    pub(crate) fn spawn(mut command: Command) -> Result<Self, String> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the client process: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the client process has no pipes".into());
        };
        Ok(Self { child, stdin, stdout: BufReader::new(stdout) })
    }

    fn send(&mut self, request: &Request) -> Result<(), String> {
        let mut line = serde_json::to_string(request).map_err(|e| e.to_string())?;
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("the client process is gone: {e}"))
    }

    fn answer(&mut self) -> Result<Answer, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err("the client process exited early (see its messages above)".into()),
            Ok(_) => serde_json::from_str(&line)
                .map_err(|e| format!("bad answer from the client process: {e}: {line}")),
            Err(e) => Err(format!("cannot read the client process: {e}")),
        }
    }
}

impl Drop for Remote {
    /// A host that fails half-way takes its child down with it (after
    /// `finish` the child has already exited).
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl ClientSide for Remote {
    fn ready(&mut self, timeout: Duration) -> Result<u64, String> {
        self.send(&Request::Ready { timeout_ms: ms(timeout) })?;
        match self.answer()? {
            Answer::Ready { never_joined } => Ok(never_joined),
            other => Err(format!("expected the ready answer, got {other:?}")),
        }
    }

    fn fault(&mut self, kind: FaultKind) -> Result<(), String> {
        self.send(&Request::Fault { kind: kind.name().into() })
    }

    fn settle(&mut self, timeout: Duration) -> Result<u64, String> {
        self.send(&Request::Settle { timeout_ms: ms(timeout) })?;
        match self.answer()? {
            Answer::Settled { unrecovered } => Ok(unrecovered),
            other => Err(format!("expected the settle answer, got {other:?}")),
        }
    }

    fn finish(mut self: Box<Self>, timeout: Duration) -> Result<ClientsReport, String> {
        self.send(&Request::Finish { timeout_ms: ms(timeout) })?;
        let report = match self.answer()? {
            Answer::Report { report } => *report,
            other => return Err(format!("expected the report, got {other:?}")),
        };
        match self.child.wait() {
            Ok(status) if status.success() => Ok(report),
            Ok(status) => Err(format!("the client process ended with {status}")),
            Err(e) => Err(format!("cannot wait for the client process: {e}")),
        }
    }
}

/// The `--role clients` main loop: serves the host's requests on stdin.
pub(crate) fn serve(mut clients: Clients) -> Result<(), String> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| format!("cannot read stdin: {e}"))?;
        let request: Request =
            serde_json::from_str(&line).map_err(|e| format!("bad request {line:?}: {e}"))?;
        let answer = match request {
            Request::Ready { timeout_ms } => {
                Answer::Ready { never_joined: clients.ready(Duration::from_millis(timeout_ms)) }
            }
            Request::Fault { kind } => {
                let kind =
                    FaultKind::from_name(&kind).ok_or_else(|| format!("unknown fault {kind:?}"))?;
                clients.fault(kind);
                continue;
            }
            Request::Settle { timeout_ms } => {
                Answer::Settled { unrecovered: clients.settle(Duration::from_millis(timeout_ms)) }
            }
            Request::Finish { timeout_ms } => {
                let report = clients.finish(Duration::from_millis(timeout_ms));
                write_answer(&mut stdout, &Answer::Report { report: Box::new(report) })?;
                return Ok(());
            }
        };
        write_answer(&mut stdout, &answer)?;
    }
    Err("the host closed the pipe before finishing".into())
}

fn write_answer(out: &mut impl Write, answer: &Answer) -> Result<(), String> {
    let mut line = serde_json::to_string(answer).map_err(|e| e.to_string())?;
    line.push('\n');
    out.write_all(line.as_bytes()).and_then(|()| out.flush()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_answers_round_trip_as_json_lines() {
        let request = Request::Fault { kind: "reset".into() };
        let line = serde_json::to_string(&request).unwrap();
        assert_eq!(line, r#"{"cmd":"fault","kind":"reset"}"#);
        assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), request);
        let answer: Answer = serde_json::from_str(r#"{"unrecovered":2}"#).unwrap();
        assert_eq!(answer, Answer::Settled { unrecovered: 2 });
        let report = Answer::Report { report: Box::default() };
        let line = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<Answer>(&line).unwrap(), report);
    }
}
