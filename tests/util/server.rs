//! `rig serve` as a child process.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use parking_lot::Mutex;

use super::{Deadline, poll_until};

/// How long `rig serve` may take to print its listening line (a debug build
/// on a loaded 2-core machine).
pub(crate) const STARTUP: Duration = Duration::from_secs(20);

/// How long the server may take to exit after SIGINT/SIGTERM.
pub(crate) const SHUTDOWN: Duration = Duration::from_secs(10);

/// A running `rig serve` child, killed and reaped on drop.
///
/// Its stderr is collected and printed when a test fails while it runs, so a
/// failure shows the server's own log next to the assertion.
#[derive(Debug)]
pub(crate) struct RigServer {
    child: Child,
    addr: SocketAddr,
    listening_line: String,
    stdout_rest: Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// The path of the `rig` binary Cargo built for this test run.
pub(crate) fn rig_binary() -> &'static str {
    env!("CARGO_BIN_EXE_rig")
}

impl RigServer {
    /// `rig serve --token secret --addr 127.0.0.1:0`.
    pub(crate) fn start_secret() -> Self {
        Self::start(&["--token", "secret"])
    }

    /// `rig serve --addr 127.0.0.1:0 <args>`, waiting for its listening line.
    ///
    /// # Panics
    ///
    /// When the binary cannot be started, exits early, or does not print
    /// `listening on ws://127.0.0.1:PORT/socket` (or `wss://`) in time.
    pub(crate) fn start(args: &[&str]) -> Self {
        match Self::try_start(args) {
            Ok(server) => server,
            Err(failure) => panic!("rig serve {args:?}: {failure}"),
        }
    }

    /// Like [`RigServer::start`], but returns what went wrong instead of panicking.
    pub(crate) fn try_start(args: &[&str]) -> Result<Self, String> {
        Self::try_start_with_env(args, &[])
    }

    /// Like [`RigServer::try_start`], with these environment variables set.
    pub(crate) fn try_start_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<Self, String> {
        let mut command = Command::new(rig_binary());
        command.arg("serve").envs(env.iter().copied());
        if !args.contains(&"--addr") {
            command.args(["--addr", "127.0.0.1:0"]);
        }
        command.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child =
            command.spawn().map_err(|e| format!("cannot spawn {}: {e}", rig_binary()))?;
        let stderr = collect_stderr(&mut child);
        let lines = stdout_lines(&mut child);
        let deadline = Deadline::after(STARTUP);
        let line = match lines.recv_timeout(deadline.remaining().unwrap_or_default()) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                kill_and_reap(&mut child);
                return Err(format!(
                    "no listening line within {STARTUP:?}; stderr: {}",
                    text(&stderr)
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = wait_with_deadline(&mut child, SHUTDOWN);
                return Err(format!(
                    "stdout closed before the listening line (exit {status:?}); stderr: {}",
                    text(&stderr)
                ));
            }
        };
        let Some(addr) = parse_listening_line(&line) else {
            kill_and_reap(&mut child);
            return Err(format!("unexpected first stdout line {line:?}"));
        };
        Ok(Self { child, addr, listening_line: line, stdout_rest: lines, stderr })
    }

    /// The address the server listens on (the real port, not 0).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The exact first stdout line.
    pub(crate) fn listening_line(&self) -> &str {
        &self.listening_line
    }

    /// The child's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to stderr so far.
    pub(crate) fn stderr_text(&self) -> String {
        text(&self.stderr)
    }

    /// Number of file descriptors the server process has open (Linux `/proc`).
    pub(crate) fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, Iterator::count)
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) and waits for the exit.
    ///
    /// Returns the exit status and every further stdout line.
    ///
    /// # Panics
    ///
    /// When the server has not exited within [`SHUTDOWN`].
    pub(crate) fn stop_with(mut self, signal: libc::c_int) -> (ExitStatus, Vec<String>) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) with the pid of our own, not yet reaped, child.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill({pid}, {signal}) failed");
        let status = wait_with_deadline(&mut self.child, SHUTDOWN).unwrap_or_else(|| {
            panic!(
                "rig serve did not exit within {SHUTDOWN:?} of signal {signal}; stderr: {}",
                self.stderr_text()
            )
        });
        let rest = self.stdout_rest.iter().collect();
        (status, rest)
    }
}

impl Drop for RigServer {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("--- rig serve ({}) stderr ---\n{}", self.addr, self.stderr_text());
        }
        kill_and_reap(&mut self.child);
    }
}

/// Parses `listening on ws://HOST:PORT/socket` (or `wss://`).
pub(crate) fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    let rest = line.strip_prefix("listening on ")?;
    let rest = rest.strip_prefix("ws://").or_else(|| rest.strip_prefix("wss://"))?;
    let host_port = rest.strip_suffix("/socket")?;
    let addr: SocketAddr = host_port.parse().ok()?;
    (addr.port() != 0).then_some(addr)
}

fn stdout_lines(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = crossbeam_channel::unbounded();
    if let Some(stdout) = child.stdout.take() {
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    }
    rx
}

fn collect_stderr(child: &mut Child) -> Arc<Mutex<Vec<u8>>> {
    let sink = Arc::new(Mutex::new(Vec::new()));
    if let Some(mut stderr) = child.stderr.take() {
        let sink = Arc::clone(&sink);
        thread::spawn(move || {
            let mut chunk = [0_u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut chunk) {
                sink.lock().extend_from_slice(chunk.get(..n).unwrap_or_default());
            }
        });
    }
    sink
}

fn text(buffer: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&buffer.lock()).into_owned()
}

fn kill_and_reap(child: &mut Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let _ = child.kill();
    let _ = wait_with_deadline(child, SHUTDOWN);
}

/// Waits for `child` to exit, at most `timeout`.
pub(crate) fn wait_with_deadline(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let mut status = None;
    poll_until(timeout, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    status
}
