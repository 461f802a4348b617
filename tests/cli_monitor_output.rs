//! `rig monitor`'s stdout under pressure, with `rig serve`'s burst streams:
//! a stdout nobody reads never holds the deadline or a signal, the final
//! counts add up exactly (printed + dropped + filtered = received, and
//! printed = the lines on stdout), the default loses nothing, and
//! `--count` ends a watch that drops.

use std::io::{BufRead as _, BufReader, Read as _};
use std::os::fd::AsRawFd as _;
use std::process::{Child, ChildStdout, Stdio};
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::cli_util::{rig, socket_url};
use crate::util::server::wait_with_deadline;
use crate::util::{RigServer, poll_until};

const WAIT: Duration = Duration::from_secs(60);

/// The final line's counts: printed, received, filtered, dropped.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    printed: u64,
    received: u64,
    filtered: u64,
    dropped: u64,
}

fn counts(stderr: &str) -> Counts {
    let last = stderr.lines().rfind(|l| l.contains(" events printed, ")).expect(stderr);
    let numbers: Vec<u64> = last.split([' ', ',']).filter_map(|word| word.parse().ok()).collect();
    let [printed, received, filtered, dropped, _reconnects] = numbers[..] else { panic!("{last}") };
    Counts { printed, received, filtered, dropped }
}

/// `rig monitor` of one burst stream, stdout and stderr piped, stderr
/// forwarded line by line.
fn burst_monitor(server: &RigServer, count: u64, extra: &[&str]) -> (Child, Receiver<String>) {
    let url = socket_url(server);
    let count = format!("count={count}");
    let args = ["monitor", &url, "-t", "stream:b", "--join-param", "mode=burst"];
    let mut command = rig(&[&args[..], &["--join-param", &count], extra].concat());
    command.env("RIG_TOKEN", "secret").stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (tx, lines) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, lines)
}

/// Bytes waiting in the pipe (FIONREAD).
fn unread(pipe: &ChildStdout) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int through the valid pointer, on a
    // pipe fd this process owns.
    let rc = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &raw mut n) };
    assert_eq!(rc, 0, "FIONREAD");
    usize::try_from(n).unwrap()
}

/// Waits for a stderr line containing `text`; all lines seen so far.
fn stderr_until(lines: &Receiver<String>, text: &str) -> Vec<String> {
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains(text)) {
        match lines.recv_timeout(WAIT) {
            Ok(line) => seen.push(line),
            Err(e) => panic!("no {text:?} on stderr ({e}): {seen:?}"),
        }
    }
    seen
}

/// Whole lines in what was left on stdout.
fn whole_lines(mut stdout: ChildStdout) -> u64 {
    let mut text = Vec::new();
    stdout.read_to_end(&mut text).unwrap();
    text.iter().filter(|&&b| b == b'\n').count() as u64
}

/// A full pipe: rig's stdout is blocked. Bytes alone cannot tell: the
/// pipe holds a number of pages, not bytes (64 KiB by default, one or two
/// pages once the user's pipes pass `fs/pipe-user-pages-soft`, as on a busy
/// machine), and a write that does not fit in the last page's room takes a
/// new page. So: something is waiting and nothing has been added for
/// 300 ms, while the burst of a million events is far from done.
fn until_blocked(stdout: &ChildStdout) {
    // `poll_until` looks every 20 ms: 15 unchanged looks are 300 ms.
    let (mut last, mut unchanged) = (0, 0);
    let blocked = poll_until(WAIT, || {
        let now = unread(stdout);
        unchanged = if now == last { unchanged + 1 } else { 0 };
        last = now;
        now > 0 && unchanged >= 15
    });
    assert!(blocked, "stdout never filled: {last} bytes");
}

#[test]
fn a_blocked_stdout_does_not_hold_the_deadline_and_counts_add_up() {
    let server = RigServer::start_secret();
    let (mut child, stderr) = burst_monitor(&server, 1_000_000, &["--duration", "2"]);
    let stdout = child.stdout.take().unwrap();
    // Nobody reads stdout: the deadline alone ends the watch.
    let status = wait_with_deadline(&mut child, WAIT).expect("--duration honoured");
    assert_eq!(status.code(), Some(0));
    let lines = stderr.iter().collect::<Vec<_>>().join("\n");
    let c = counts(&lines);
    assert_eq!(c.printed + c.dropped + c.filtered, c.received, "{c:?}");
    assert!(c.received <= 1_000_001, "{c:?}");
    // Lost at exit: the output queue (8192 lines), the event waiting for
    // room, and the engine's full subscription queue (1024) in front.
    assert!(c.dropped >= 8192 + 1 + 1024, "{c:?}");
    assert_eq!(c.printed, whole_lines(stdout), "printed = lines on stdout: {c:?}");
}

#[test]
fn sigterm_and_sigint_end_a_watch_blocked_on_stdout() {
    let server = RigServer::start_secret();
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let (mut child, stderr) = burst_monitor(&server, 1_000_000, &[]);
        let stdout = child.stdout.take().unwrap();
        until_blocked(&stdout);
        let pid = i32::try_from(child.id()).unwrap();
        // SAFETY: kill(2) with our own child's pid and a valid signal number.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let status = wait_with_deadline(&mut child, WAIT).expect("the signal is honoured");
        assert_eq!(status.code(), Some(0), "signal {signal}");
        let c = counts(&stderr.iter().collect::<Vec<_>>().join("\n"));
        assert_eq!(c.printed + c.dropped + c.filtered, c.received, "{c:?}");
        assert_eq!(c.printed, whole_lines(stdout), "{c:?}");
    }
}

#[test]
fn the_default_loses_nothing_at_burst_rate() {
    let server = RigServer::start_secret();
    let sent = 200_000;
    let (mut child, stderr) = burst_monitor(&server, sent, &["--count", "200001"]);
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || whole_lines(stdout));
    let status = wait_with_deadline(&mut child, WAIT).expect("--count reached");
    assert_eq!(status.code(), Some(0));
    let c = counts(&stderr.iter().collect::<Vec<_>>().join("\n"));
    let all = sent + 1; // and `done`
    assert_eq!(c, Counts { printed: all, received: all, filtered: 0, dropped: 0 });
    assert_eq!(reader.join().unwrap(), all);
}

#[test]
fn count_ends_a_watch_that_drops() {
    let server = RigServer::start_secret();
    let sent = 100_000;
    for policy in ["drop-newest", "drop-oldest"] {
        let args = ["--overflow", policy, "--count", "100001"];
        let (mut child, stderr) = burst_monitor(&server, sent, &args);
        let stdout = child.stdout.take().unwrap();
        // Lines are dropped while nobody reads; then the reader catches up.
        stderr_until(&stderr, &format!("stdout is behind: dropping lines (--overflow {policy})"));
        let reader = std::thread::spawn(move || whole_lines(stdout));
        let status = wait_with_deadline(&mut child, WAIT).expect("--count reached despite drops");
        assert_eq!(status.code(), Some(0));
        let c = counts(&stderr.iter().collect::<Vec<_>>().join("\n"));
        assert_eq!(c.received, sent + 1, "{policy}: {c:?}");
        assert_eq!(c.printed + c.dropped + c.filtered, c.received, "{policy}: {c:?}");
        assert!(c.dropped > 0, "{policy}: {c:?}");
        assert_eq!(reader.join().unwrap(), c.printed, "{policy}: {c:?}");
    }
}
