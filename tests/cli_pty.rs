//! `rig monitor` on a pseudo-terminal, as a person runs it: the live status
//! line is redrawn in place on stderr, and Ctrl-C (SIGINT) ends the watch
//! cleanly with the final counts.

use std::fs::File;
use std::io::Read as _;
use std::os::fd::{FromRawFd as _, OwnedFd};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::cli_util::{rig, socket_url};
use crate::util::server::wait_with_deadline;
use crate::util::{Deadline, RigServer};

/// A pseudo-terminal: the master side and the path of its slave.
fn open_pty() -> (File, String) {
    // SAFETY: posix_openpt takes flags only and returns a new fd or -1.
    let master = unsafe { libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY) };
    assert!(master >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
    // SAFETY: `master` is a fresh fd that nothing else owns.
    let master = unsafe { OwnedFd::from_raw_fd(master) };
    let fd = std::os::fd::AsRawFd::as_raw_fd(&master);
    // SAFETY: grantpt/unlockpt on the valid master fd opened above.
    assert_eq!(unsafe { libc::grantpt(fd) }, 0, "grantpt");
    // SAFETY: as above.
    assert_eq!(unsafe { libc::unlockpt(fd) }, 0, "unlockpt");
    let mut name = [0u8; 128];
    // SAFETY: the buffer is writable for its whole length, which is passed.
    let rc = unsafe { libc::ptsname_r(fd, name.as_mut_ptr().cast(), name.len()) };
    assert_eq!(rc, 0, "ptsname_r");
    let len = name.iter().position(|&b| b == 0).unwrap();
    let path = String::from_utf8(name[..len].to_vec()).unwrap();
    (File::from(master), path)
}

#[test]
fn live_status_line_on_a_terminal_then_ctrl_c_exits_0() {
    let server = RigServer::start_secret();
    let url = socket_url(&server);
    let (mut master, slave_path) = open_pty();
    let slave = File::options().read(true).write(true).open(&slave_path).unwrap();
    let args = ["monitor", &url, "-t", "stream:tty", "--join-param", "rate=50"];
    let mut command = rig(&[&args[..], &["--join-param", "count=1000000"]].concat());
    command
        .env("RIG_TOKEN", "secret")
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    let mut child = command.spawn().unwrap();
    // The child holds the only slave fds now: the master reads EOF (EIO)
    // once it exits.
    drop(command);
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = master.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Deadline::after(Duration::from_secs(60));
    // Three redraws while events arrive: events were printed between them.
    let drawn = |text: &str| {
        let live = |line: &&str| line.starts_with("open ") && line.contains(" ev/s=");
        text.split("\r\x1b[2K").filter(live).count() >= 3
    };
    while !drawn(&String::from_utf8_lossy(&seen)) {
        let wait = deadline.remaining().expect("a live status line within 60 s");
        if let Ok(chunk) = rx.recv_timeout(wait) {
            seen.extend(chunk);
        }
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with our own child's pid and a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = wait_with_deadline(&mut child, Duration::from_secs(30)).expect("exits on SIGINT");
    assert_eq!(status.code(), Some(0), "{}", String::from_utf8_lossy(&seen));
    reader.join().unwrap();
    seen.extend(rx.try_iter().flatten());
    let text = String::from_utf8_lossy(&seen);
    // Events went to stdout on the same terminal.
    assert!(text.contains(r#""topic":"stream:tty","event":"event""#), "{text}");
    // ... each on a line of its own, never glued to the end of the live line.
    for (at, _) in text.match_indices(r#"{"ts":"#) {
        let before = &text[..at];
        assert!(
            before.is_empty() || before.ends_with('\n') || before.ends_with("\r\x1b[2K"),
            "{text:?}"
        );
    }
    // The final counts clear the live line and stay.
    let (before, last) = text.trim_end().rsplit_once("\r\x1b[2K").unwrap();
    assert!(last.starts_with("rig: "), "{last:?}");
    assert!(before.ends_with(" drops=0") || before.ends_with('\n'), "{before:?}");
    assert!(last.contains(" events printed, ") && last.contains(" reconnects"), "{last:?}");
}

/// Runs `rig args` on a fresh pseudo-terminal until it exits (at most
/// `within`); its exit status and everything it wrote.
fn run_on_a_terminal(args: &[&str], within: Duration) -> (std::process::ExitStatus, String) {
    let (mut master, slave_path) = open_pty();
    let slave = File::options().read(true).write(true).open(&slave_path).unwrap();
    let mut command = rig(args);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    let mut child = command.spawn().unwrap();
    drop(command);
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = master.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
        }
        seen
    });
    let status = wait_with_deadline(&mut child, within).expect("rig exits in time");
    let seen = reader.join().unwrap();
    (status, String::from_utf8_lossy(&seen).into_owned())
}

#[test]
fn demo_on_a_terminal_redraws_a_topic_table_in_place() {
    let (status, text) =
        run_on_a_terminal(&["demo", "--duration", "3", "--rate", "100"], Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{text}");
    for word in ["TOPIC", "EVENTS/S", "stream:demo", "room:demo", "presence:demo", "joined"] {
        assert!(text.contains(word), "{word} missing: {text:?}");
    }
    // Each redraw (and each line logged above the table) moves the cursor
    // up over the 5 lines of the last drawing and erases them.
    assert!(text.matches("\x1b[5A\r\x1b[J").count() >= 2, "{text:?}");
    // The table is erased before the summary, which stays.
    let (_, last) = text.trim_end().rsplit_once("\r\x1b[J").unwrap();
    assert!(last.starts_with("summary: "), "{last:?}");
}

#[test]
fn monitor_top_on_a_terminal_redraws_a_topic_table_and_counts_what_it_saw() {
    let server = RigServer::start(&[]);
    let url = socket_url(&server);
    let args = ["monitor", &url, "--top", "-t", "stream:top", "-t", "room:top"];
    let stream = ["--join-param", "rate=200", "--join-param", "count=1000000", "--duration", "3"];
    let (status, text) =
        run_on_a_terminal(&[&args[..], &stream[..]].concat(), Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{text}");
    for word in ["TOPIC", "EVENTS/S", "LAST", "stream:top", "room:top", "joined", "socket open"] {
        assert!(text.contains(word), "{word} missing: {text:?}");
    }
    // Redrawn in place: the cursor moves up over the 4 lines of the last
    // drawing (summary, header, two topics), at least twice in 3 s.
    assert!(text.matches("\x1b[4A\r\x1b[J").count() >= 2, "{text:?}");
    // No event is printed as a line of its own.
    assert!(!text.contains(r#"{"ts":"#), "{text:?}");
    // The final counts add up; only what was in flight when the deadline
    // came (an event or two at 200 ev/s on a loaded machine) is dropped.
    let last = text.trim_end().lines().last().unwrap_or_default();
    assert!(last.contains(" events counted, "), "{last:?}");
    let numbers: Vec<u64> = last.split([' ', ',']).filter_map(|w| w.parse().ok()).collect();
    let [counted, received, filtered, dropped, _reconnects] = numbers[..] else { panic!("{last}") };
    assert_eq!(counted + filtered + dropped, received, "{last:?}");
    assert!(received >= 200 && dropped <= 5, "{last:?}");
}
