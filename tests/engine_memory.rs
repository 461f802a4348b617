//! Memory stays bounded with a consumer that sleeps: a default engine (its
//! default queue capacities) on a `stream:*` burst far larger than its
//! queues, read by an `on` handler and a subscription that both hold off
//! until the queues are full. The peak resident set grows by no more than
//! what the queues can hold (capacity × item size) plus a fixed margin,
//! under [`Overflow::Block`] (nothing lost: every seq once, in order) and
//! under [`Overflow::DropNewest`] (what does not fit is dropped and
//! counted: seen + dropped = sent).
//!
//! Each case runs alone in a child process of this test binary: the
//! resident set of a process that runs other tests in parallel says
//! nothing about one of them. The peak is `VmHWM` after resetting it
//! (`5` written to `/proc/self/clear_refs`) once the engine is connected.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use rig::engine::{
    DEFAULT_DISPATCH_CAPACITY, Engine, EngineConfig, Overflow, Socket, Status, Subscription,
};
use rig::protocol::{Message, Payload};
use rig::time::Clock;

use crate::engine_util::{server, socket_with, until_status};

/// A guard against a hung test, not a timing assertion.
const GUARD: Duration = Duration::from_secs(120);
/// Set in the child process that runs one case alone.
const CHILD: &str = "RIG_TEST_ENGINE_MEMORY_CHILD";
/// Events in the burst: 1 M under Block (the default engine must survive
/// it losing nothing), fewer under DropNewest (most are dropped anyway).
const BLOCK_EVENTS: u64 = 1_000_000;
const DROP_EVENTS: u64 = 200_000;
/// The default subscription capacity (`EngineConfig::builder`).
const SUBSCRIPTION_CAPACITY: usize = 1024;
/// Room for what the queues do not account for: the allocator's arenas of
/// the threads (rig-io, the worker, the consumer, the server), tungstenite's
/// read and write buffers on both sides, the Block stash (at most one read
/// turn: 1 024 frames of ~100 bytes) and the heap's fragmentation.
const MARGIN_KIB: u64 = 8 * 1024;

fn run_child(case: &str) {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([&format!("engine_memory::{case}"), "--exact", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // The child really ran the case (a filter typo would run nothing).
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[test]
fn engine_memory_stays_bounded_under_block() {
    run_child("block_child");
}

#[test]
fn engine_memory_stays_bounded_under_drop_newest() {
    run_child("drop_newest_child");
}

#[test]
fn block_child() {
    if std::env::var_os(CHILD).is_some() {
        bounded_burst(Overflow::Block, BLOCK_EVENTS);
    }
}

#[test]
fn drop_newest_child() {
    if std::env::var_os(CHILD).is_some() {
        bounded_burst(Overflow::DropNewest, DROP_EVENTS);
    }
}

/// One field of /proc/self/status, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn seq_of(message: &Message) -> u64 {
    let value: serde_json::Value =
        serde_json::from_str(message.payload.as_json().unwrap()).unwrap();
    value["seq"].as_u64().unwrap()
}

/// Bytes one queued event costs: the `Message` itself (with the handler's
/// key beside it in a dispatcher batch) plus its heap: the received frame
/// its fields point into, and the shared buffer's header, counted twice
/// for the allocator's rounding.
fn item_bytes(sample: &Message) -> u64 {
    let frame = sample.topic.len() + sample.event.len() + sample.payload.as_json().unwrap().len();
    let bytes = size_of::<(u64, Message)>() + 2 * (frame + 32) + 64;
    bytes as u64
}

/// A consumer that is slow on purpose.
#[expect(
    clippy::disallowed_methods,
    reason = "a deliberately slow consumer, not a timing assertion"
)]
fn stall(duration: Duration) {
    std::thread::sleep(duration);
}

/// Polls `done` every millisecond until it holds; panics after [`GUARD`].
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let clock = Clock::real();
    let deadline = clock.now() + GUARD;
    while !done() {
        assert!(clock.now() < deadline, "{what}: not within {GUARD:?}");
        stall(Duration::from_millis(1));
    }
}

fn connected(engine: &Engine, url: &str) -> Socket {
    let (socket, status) = socket_with(engine, url, |o| o);
    socket.connect().unwrap();
    until_status(&status, GUARD, |s| *s == Status::Open);
    socket
}

fn bounded_burst(overflow: Overflow, events: u64) {
    let server = server();
    let engine = Engine::start(EngineConfig::builder().overflow(overflow).build()).unwrap();
    let socket = connected(&engine, server.url());
    let params = Payload::json(format!(r#"{{"mode":"burst","count":{events}}}"#));
    let channel = socket.channel("stream:memory", params).unwrap();

    // The handler holds its first event until the test opens the gate,
    // then sleeps a little every 10 000 events; it checks the order.
    let (gate_tx, gate) = crossbeam_channel::bounded::<()>(1);
    let handled = Arc::new(AtomicU64::new(0));
    let (count, mut next, mut held) = (Arc::clone(&handled), 1, false);
    channel
        .on("event", move |message| {
            if !held {
                held = true;
                gate.recv_timeout(GUARD).unwrap();
            }
            let seq = seq_of(message);
            if overflow == Overflow::Block {
                assert_eq!(seq, next, "handler: out of order or lost");
            } else {
                assert!(seq >= next, "handler: out of order");
            }
            next = seq + 1;
            if count.fetch_add(1, SeqCst) % 10_000 == 9_999 {
                stall(Duration::from_millis(1));
            }
        })
        .unwrap();
    let sub = channel.subscribe("event").unwrap();

    // Baseline: connected, nothing joined yet.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kib("VmRSS:");
    let _join = channel.join();

    // Both consumers hold off until the queues are full.
    if overflow == Overflow::Block {
        until("socket paused", || socket.health().pauses > 0);
    } else {
        until("drops", || engine.health().dispatch_dropped > 0 && sub.dropped() > 0);
    }
    let first = sub.recv_timeout(GUARD).unwrap();
    let item = item_bytes(&first);
    gate_tx.send(()).unwrap();
    let read = read_sub(&sub, first, overflow, events);

    let bound_kib =
        (DEFAULT_DISPATCH_CAPACITY + SUBSCRIPTION_CAPACITY) as u64 * item / 1024 + MARGIN_KIB;
    if overflow == Overflow::Block {
        until("handler done", || {
            assert_eq!(engine.health().handler_panics, 0);
            handled.load(SeqCst) == events
        });
        assert_eq!(read, events);
        assert_eq!(sub.dropped(), 0);
        let (health, socket_health) = (engine.health(), socket.health());
        assert_eq!((health.dispatch_dropped, socket_health.dropped), (0, 0));
        assert_eq!(socket_health.heartbeat_timeouts, 0);
    } else {
        until("handler done", || {
            let health = engine.health();
            assert_eq!(health.handler_panics, 0);
            handled.load(SeqCst) + health.dispatch_dropped == events
        });
        assert_eq!(read + sub.dropped(), events);
        assert!(sub.dropped() > 0);
    }
    let grown = status_kib("VmHWM:").saturating_sub(before);
    eprintln!(
        "{overflow:?}: {events} events, item {item} B, peak RSS +{grown} KiB, bound {bound_kib} KiB"
    );
    assert!(grown < bound_kib, "peak RSS grew by {grown} KiB, bound {bound_kib} KiB");
    // Reading everything instead would hold `events` messages.
    assert!(bound_kib < events * item / 1024);
}

/// Reads the subscription (slowly: a sleep every 10 000 events) until
/// every event is accounted for; returns how many were read. Under Block
/// every seq comes once, in order.
fn read_sub(sub: &Subscription, first: Message, overflow: Overflow, events: u64) -> u64 {
    let mut next = seq_of(&first) + 1;
    let mut read = 1;
    if overflow == Overflow::Block {
        assert_eq!(next, 2, "subscription: the first event is seq 1");
    }
    while read + sub.dropped() < events {
        let message = sub.recv_timeout(GUARD).unwrap();
        let seq = seq_of(&message);
        if overflow == Overflow::Block {
            assert_eq!(seq, next, "subscription: out of order or lost");
        } else {
            assert!(seq >= next, "subscription: out of order");
        }
        next = seq + 1;
        read += 1;
        if read % 10_000 == 0 {
            stall(Duration::from_millis(1));
        }
    }
    read
}
