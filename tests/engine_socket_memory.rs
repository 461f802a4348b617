//! Memory per idle joined socket (one channel, a status receiver), and
//! nothing kept per socket once it is removed.
//!
//! Each case runs alone in a child process of this test binary (the
//! resident set of a process running other tests says nothing about one
//! of them). The embedded server runs in the same process, so a socket's
//! figure includes its server connection. The bounds are generous: they
//! catch a queue or buffer allocated up front per socket (a 1 024-slot
//! status queue alone was 152 KiB), not a few hundred bytes.

use std::time::Duration;

use rig::engine::{Channel, Engine, EngineConfig, Socket, SocketOptions, Status};
use rig::protocol::Payload;
use rig::time::Clock;

use crate::engine_util::server;

/// A guard against a hung test, not a timing assertion.
const GUARD: Duration = Duration::from_secs(120);
/// Set in the child process that runs one case alone.
const CHILD: &str = "RIG_TEST_ENGINE_SOCKET_MEMORY_CHILD";
/// Sockets per round (client and server side: twice as many descriptors).
const SOCKETS: usize = 300;
/// Resident bytes per idle joined socket, client and server together
/// (about 30 KB measured).
const PER_SOCKET_BOUND: u64 = 48 * 1024;
/// What two more rounds of adding and removing may add to the resident
/// set after the first (allocator arenas settling; a socket's status queue
/// kept after removal would be 300 × 4.6 KiB, a pre-allocated one 45 MiB).
const CHURN_MARGIN_KIB: u64 = 1024;

fn run_child(case: &str) {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([&format!("engine_socket_memory::{case}"), "--exact", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[test]
fn engine_socket_memory_per_idle_joined_socket() {
    run_child("per_socket_child");
}

#[test]
fn engine_socket_memory_returns_after_removal() {
    run_child("churn_child");
}

#[test]
fn per_socket_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let server = server();
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let before = rss_kib();
    let sockets = open_joined(&engine, server.url());
    let grown = rss_kib().saturating_sub(before) * 1024;
    let per_socket = grown / SOCKETS as u64;
    eprintln!("{SOCKETS} idle joined sockets: {per_socket} B per socket (client and server)");
    assert!(per_socket < PER_SOCKET_BOUND, "{per_socket} B per socket");
    drop(sockets);
}

#[test]
fn churn_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let server = server();
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let mut after = Vec::new();
    for _ in 0..3 {
        let sockets = open_joined(&engine, server.url());
        drop(sockets);
        until("every socket removed", || engine.health().sockets == 0);
        after.push(rss_kib());
    }
    eprintln!("resident after each round of {SOCKETS} sockets: {after:?} KiB");
    let (first, last) = (after[0], after[2]);
    assert!(
        last <= first + CHURN_MARGIN_KIB,
        "resident set grew from {first} KiB to {last} KiB over two more rounds"
    );
}

/// Opens [`SOCKETS`] sockets, each with one joined channel and a status
/// receiver (read empty, as a monitoring tool would).
fn open_joined(
    engine: &Engine,
    url: &str,
) -> Vec<(Socket, Channel, crossbeam_channel::Receiver<Status>)> {
    let mut sockets = Vec::with_capacity(SOCKETS);
    let mut joins = Vec::with_capacity(SOCKETS);
    for i in 0..SOCKETS {
        let socket = engine.socket(SocketOptions::builder(url).build().unwrap()).unwrap();
        let status = socket.status().unwrap();
        socket.connect().unwrap();
        let channel = socket.channel(format!("room:idle-{i}"), Payload::json("{}")).unwrap();
        joins.push(channel.join());
        sockets.push((socket, channel, status));
    }
    for join in joins {
        assert_eq!(join.wait().unwrap().status, "ok");
    }
    for (_, _, status) in &sockets {
        while status.try_recv().is_ok() {}
    }
    sockets
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Polls `done` every millisecond until it holds; panics after [`GUARD`].
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let clock = Clock::real();
    let deadline = clock.now() + GUARD;
    while !done() {
        assert!(clock.now() < deadline, "{what}: not within {GUARD:?}");
        std::thread::park_timeout(Duration::from_millis(1));
    }
}
