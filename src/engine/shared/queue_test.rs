//! The bound is exact, a full `send` waits for room (or for the receiver
//! to go), and an idle queue holds no slots.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail by panicking")]

use std::time::Duration;

use crossbeam_channel::TrySendError;

use super::{Bound, bounded};
use crate::protocol::Message;

/// Set in the child process that measures memory alone.
const CHILD: &str = "RIG_TEST_QUEUE_MEMORY_CHILD";

#[test]
fn holds_exactly_its_capacity() {
    let (tx, rx) = bounded::<u32>(3);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    assert!(matches!(tx.try_send(3), Err(TrySendError::Full(3))));
    assert_eq!(tx.len(), 3);
    assert_eq!(rx.try_recv().ok(), Some(0));
    tx.try_send(3).unwrap();
    assert!(matches!(tx.try_send(4), Err(TrySendError::Full(4))));
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2, 3]);
    drop(rx);
    assert!(matches!(tx.try_send(5), Err(TrySendError::Disconnected(5))));
}

#[test]
fn capacity_zero_holds_one() {
    let (tx, _rx) = bounded::<u8>(0);
    tx.try_send(1).unwrap();
    assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
}

#[test]
fn a_bound_on_a_crossbeam_bounded_queue_keeps_the_smaller() {
    let (tx, _rx) = crossbeam_channel::bounded::<u8>(2);
    let default = Bound::default();
    default.try_send(&tx, 1).unwrap();
    default.try_send(&tx, 2).unwrap();
    assert!(matches!(default.try_send(&tx, 3), Err(TrySendError::Full(3))));
    let (tx, _rx) = crossbeam_channel::unbounded::<u8>();
    let one = Bound::new(1);
    one.try_send(&tx, 1).unwrap();
    assert!(one.is_full(&tx));
    assert!(matches!(one.try_send(&tx, 2), Err(TrySendError::Full(2))));
}

#[test]
fn many_producers_never_exceed_the_bound() {
    let (tx, rx) = bounded::<usize>(8);
    std::thread::scope(|s| {
        for _ in 0..4 {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..2_000 {
                    let _ = tx.try_send(i);
                    assert!(tx.len() <= 8);
                }
            });
        }
        s.spawn(|| {
            for _ in 0..2_000 {
                let _ = rx.try_recv();
                assert!(rx.len() <= 8);
            }
        });
    });
}

#[test]
fn a_full_send_waits_for_room() {
    let (tx, rx) = bounded::<u32>(1);
    tx.send(1).unwrap();
    std::thread::scope(|s| {
        let sender = s.spawn(|| tx.send(2));
        // The second send can only finish once the first is read.
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)).ok(), Some(1));
        assert!(sender.join().unwrap().is_ok());
    });
    assert_eq!(rx.try_recv().ok(), Some(2));
}

#[test]
fn a_full_send_fails_when_the_receiver_goes() {
    let (tx, rx) = bounded::<u32>(1);
    tx.send(1).unwrap();
    std::thread::scope(|s| {
        let sender = s.spawn(|| tx.send(2));
        drop(rx);
        assert_eq!(sender.join().unwrap().map_err(|e| e.0), Err(2));
    });
}

/// 200 idle queues of 1 024 messages: crossbeam's `bounded` would hold
/// 200 × 1 024 × 232 bytes (46 MiB) resident; these hold a few hundred
/// bytes each. Measured alone in a child process (this test binary again).
#[test]
fn idle_queues_hold_no_slots() {
    if std::env::var_os(CHILD).is_some() {
        return idle_queues_child();
    }
    let name = "engine::shared::queue::tests::idle_queues_hold_no_slots";
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}

fn idle_queues_child() {
    const QUEUES: usize = 200;
    let before = rss_kib();
    let queues: Vec<_> = (0..QUEUES).map(|_| bounded::<Message>(1024)).collect();
    let grown = rss_kib().saturating_sub(before);
    eprintln!("{QUEUES} idle queues: +{grown} KiB");
    assert!(grown < 4 * 1024, "{QUEUES} idle queues: +{grown} KiB");
    // Used, each grows up to its bound and no further.
    let (tx, rx) = &queues[0];
    let message = Message::new(None, None, "t", "e", crate::protocol::Payload::json("{}"));
    for _ in 0..1024 {
        tx.try_send(message.clone()).unwrap();
    }
    assert!(matches!(tx.try_send(message), Err(TrySendError::Full(_))));
    assert_eq!(rx.len(), 1024);
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}
