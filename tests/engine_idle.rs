//! Idle strategies and invoker mode: every path delivers a burst complete
//! and in order, whatever the strategy; the invoker's inline handlers run
//! on the caller's thread (a parked idle engine not waking is
//! `engine_faults::engine_idle_does_not_wake_up`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rig::engine::{Engine, EngineConfig, EngineError, IdleStrategy, Overflow, SocketOptions};
use rig::protocol::{Message, Payload};

use crate::engine_util::{WAIT, server};

const STRATEGIES: [IdleStrategy; 3] =
    [IdleStrategy::Park, IdleStrategy::Backoff { spins: 200, yields: 10 }, IdleStrategy::BusySpin];

fn seq(message: &Message) -> u64 {
    let json: serde_json::Value = serde_json::from_str(message.payload.as_json().unwrap()).unwrap();
    json["seq"].as_u64().unwrap()
}

fn burst(count: u64) -> Payload {
    Payload::json(format!(r#"{{"mode":"burst","count":{count}}}"#))
}

/// A subscription, an `on` handler on the pool and a filter subscription
/// each see 1..=count once, in order, with every strategy.
#[test]
fn every_strategy_delivers_bursts_complete_and_in_order() {
    let server = server();
    let count = 5_000;
    for idle in STRATEGIES {
        let config = EngineConfig::builder().idle(idle).overflow(Overflow::Block).build();
        let engine = Engine::start(config).unwrap();
        let socket = engine.socket(SocketOptions::builder(server.url()).build().unwrap()).unwrap();
        socket.connect().unwrap();
        let filter = rig::filter::Filter::topic("stream:*").unwrap().events(["event"]);
        let filtered = socket.subscribe_filter(filter).unwrap();
        let stream = socket.channel("stream:idle", burst(count)).unwrap();
        let events = stream.subscribe("event").unwrap();
        let (seen_tx, seen) = crossbeam_channel::unbounded();
        stream.on("event", move |m| seen_tx.send(seq(m)).unwrap()).unwrap();
        let done = stream.subscribe("done").unwrap();
        assert!(stream.join().wait().unwrap().is_ok(), "{idle:?}");
        for n in 1..=count {
            assert_eq!(seq(&events.recv_timeout(WAIT).unwrap()), n, "{idle:?} subscription");
            assert_eq!(seq(&filtered.recv_timeout(WAIT).unwrap()), n, "{idle:?} filter");
        }
        done.recv().unwrap();
        for n in 1..=count {
            assert_eq!(seen.recv_timeout(WAIT).unwrap(), n, "{idle:?} on");
        }
        assert_eq!(socket.health().dropped, 0, "{idle:?}");
        engine.shutdown();
    }
}

/// Invoker mode: inline handlers run on this thread, in order, with the
/// pool and queues still working beside them; shutdown ends the loop.
#[test]
fn invoker_runs_inline_handlers_on_the_callers_thread_in_order() {
    let server = server();
    let count = 5_000;
    for idle in STRATEGIES {
        let config = EngineConfig::builder()
            .idle(idle)
            .overflow(Overflow::Block)
            .subscription_capacity(1 << 14)
            .build();
        let (engine, mut invoker) = Engine::start_invoker(config).unwrap();
        let socket = engine.socket(SocketOptions::builder(server.url()).build().unwrap()).unwrap();
        socket.connect().unwrap();
        let stream = socket.channel("stream:invoker", burst(count)).unwrap();
        let inline = Arc::new(Mutex::new(Vec::new()));
        let (me, sink) = (std::thread::current().id(), Arc::clone(&inline));
        stream
            .on_inline("event", move |m| {
                assert_eq!(std::thread::current().id(), me, "inline runs on the invoker");
                sink.lock().unwrap().push(seq(m));
            })
            .unwrap();
        let queued = stream.subscribe("event").unwrap();
        let pooled = Arc::new(AtomicU64::new(0));
        let on_pool = Arc::clone(&pooled);
        stream
            .on("event", move |_| {
                on_pool.fetch_add(1, Relaxed);
            })
            .unwrap();
        let done = Arc::new(AtomicU64::new(0));
        let done_flag = Arc::clone(&done);
        stream.on_inline("done", move |_| done_flag.store(1, Relaxed)).unwrap();
        let join = stream.join();
        invoker.run_until(|| done.load(Relaxed) == 1).unwrap();
        assert!(join.wait().unwrap().is_ok());
        assert_eq!(*inline.lock().unwrap(), (1..=count).collect::<Vec<_>>(), "{idle:?}");
        for n in 1..=count {
            // The queue fills as the loop runs: keep turning while reading.
            let message = loop {
                if let Ok(message) = queued.try_recv() {
                    break message;
                }
                invoker.poll(Duration::from_millis(1)).unwrap();
            };
            assert_eq!(seq(&message), n, "{idle:?}");
        }
        invoker.run_until(|| pooled.load(Relaxed) == count).unwrap();
        assert_eq!(engine.health().handler_panics, 0);
        engine.shutdown();
        let mut turns = 0;
        while invoker.poll(Duration::from_millis(10)).is_ok() {
            turns += 1;
            assert!(turns < 1_000, "the invoker never stopped");
        }
        assert!(!invoker.is_running());
        assert!(matches!(invoker.poll(Duration::ZERO), Err(EngineError::Stopped)));
    }
}

/// A panicking or slow inline handler is counted; the loop goes on.
#[test]
fn inline_handler_panics_and_slow_runs_are_counted() {
    let server = server();
    let config = EngineConfig::builder().slow_handler(Duration::from_millis(2)).build();
    let (engine, mut invoker) = Engine::start_invoker(config).unwrap();
    let socket = engine.socket(SocketOptions::builder(server.url()).build().unwrap()).unwrap();
    socket.connect().unwrap();
    let stream = socket.channel("stream:bad", burst(10)).unwrap();
    let calls = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&calls);
    stream
        .on_inline("event", move |m| {
            counter.fetch_add(1, Relaxed);
            match seq(m) {
                3 => panic!("handler bug"),
                5 => std::thread::park_timeout(Duration::from_millis(20)),
                _ => {}
            }
        })
        .unwrap();
    let done = stream.subscribe("done").unwrap();
    let _join = stream.join();
    invoker.run_until(|| !done.receiver().is_empty()).unwrap();
    assert_eq!(calls.load(Relaxed), 10);
    let health = engine.health();
    assert_eq!(health.handler_panics, 1);
    assert!(health.slow_handlers >= 1, "{health:?}");
}

/// Dropping the invoker shuts the engine down: pushes resolve, threads end.
#[test]
fn dropping_the_invoker_shuts_the_engine_down() {
    let server = server();
    let (engine, mut invoker) = Engine::start_invoker(EngineConfig::default()).unwrap();
    let socket = engine.socket(SocketOptions::builder(server.url()).build().unwrap()).unwrap();
    socket.connect().unwrap();
    let room = socket.channel("room:drop", Payload::empty()).unwrap();
    let mut join = room.join();
    invoker.run_until(|| join.try_outcome().is_some()).unwrap();
    drop(invoker);
    assert!(!engine.health().io_thread_alive);
    let push = room.push("echo", Payload::json("{}")).wait();
    assert!(push.is_err());
}
