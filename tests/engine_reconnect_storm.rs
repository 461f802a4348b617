//! Reconnect storms: a server that completes the WebSocket upgrade and then
//! breaks every connection (garbage, an oversized frame, bad UTF-8, RSV
//! bits, a masked frame) is retried with a growing backoff, and those
//! cycles count toward `max_reconnect_attempts`, in the library and in the
//! CLI alike.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::time::Duration;

use rig::engine::Status;

use crate::cli_util::{rig, run};
use crate::engine_fake::{Behaviour, FakeServer, Seen};
use crate::engine_util::{WAIT, engine, socket_with, until_status};

/// How long "no more connections come" is watched for.
const QUIET: Duration = Duration::from_millis(500);

/// Bytes that break a client-side WebSocket right after the upgrade.
const BROKEN: [&[u8]; 5] = [
    // Not a frame at all (reserved opcode).
    &[0xff; 16],
    // A binary frame that announces 2^40 bytes: over any frame limit.
    &[0x82, 0x7f, 0, 0, 0x01, 0, 0, 0, 0, 0],
    // A text frame that is not UTF-8.
    &[0x81, 0x02, 0xff, 0xfe],
    // RSV1 set with no extension negotiated.
    &[0xc1, 0x02, b'h', b'i'],
    // A masked frame from the server.
    &[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2],
];

fn breaking_server() -> FakeServer {
    FakeServer::start(|n| Behaviour::GarbageAfterUpgrade(BROKEN[(n - 1) % BROKEN.len()]))
}

/// No connection beyond `count` within [`QUIET`].
fn assert_no_more_connections(fake: &FakeServer, count: usize) {
    let clock = rig::time::Clock::real();
    let end = clock.now() + QUIET;
    while let Ok(seen) = fake.seen.recv_timeout(end.saturating_duration_since(clock.now())) {
        assert!(!matches!(seen, Seen::Accepted(n) if n > count), "connection after giving up");
    }
    assert_eq!(fake.accepted(), count);
}

#[test]
fn engine_broken_connections_back_off_and_count_toward_max_reconnects() {
    let fake = breaking_server();
    let engine = engine();
    let (socket, status) = socket_with(&engine, &fake.url(), |o| o.max_reconnect_attempts(Some(3)));
    socket.connect().unwrap();
    let story = until_status(&status, WAIT, |s| matches!(s, Status::GaveUp { .. }));
    assert_eq!(story.last(), Some(&Status::GaveUp { attempts: 3 }), "{story:#?}");
    let waits: Vec<u32> = story
        .iter()
        .filter_map(|s| match s {
            Status::WaitingToReconnect { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(waits, [1, 2, 3], "the backoff grows over the broken opens: {story:#?}");
    let opens = story.iter().filter(|s| **s == Status::Open).count();
    assert_eq!(opens, 4, "the first connect and three reconnects all opened");
    assert_no_more_connections(&fake, 4);
    drop(socket);
    engine.shutdown();
}

#[test]
fn cli_max_reconnects_ends_a_monitor_against_a_breaking_server_with_exit_3() {
    let fake = breaking_server();
    let url = fake.url();
    let out = run(rig(&["monitor", &url, "-t", "room:a", "--max-reconnects", "3"]), "");
    assert_eq!(out.code, Some(3), "{out:?}");
    assert_no_more_connections(&fake, 4);
}
