//! The dispatcher pool through the real engine and the embedded server:
//! bursts on several topics over two sockets, handled by `on` callbacks on
//! a pool of workers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rig::engine::{Channel, Engine, EngineConfig, Overflow, Socket, Status};
use rig::protocol::{Message, Payload};

use crate::engine_util::{server, socket_with, until_status};

/// A guard against a hung test, not a timing assertion.
const GUARD: Duration = Duration::from_secs(30);
const EVENTS: u64 = 3_000;

fn connected(engine: &Engine, url: &str) -> Socket {
    let (socket, status) = socket_with(engine, url, |o| o);
    socket.connect().unwrap();
    until_status(&status, GUARD, |s| *s == Status::Open);
    socket
}

/// What the handlers of one topic saw: each event's seq and the thread.
type Seen = Arc<Mutex<Vec<(u64, String)>>>;

fn seq_of(message: &Message) -> u64 {
    let value: serde_json::Value =
        serde_json::from_str(message.payload.as_json().unwrap()).unwrap();
    value["seq"].as_u64().unwrap()
}

/// Every topic's handler sees the topic's events in server order, exactly
/// once, all on one `rig-dispatch-N` thread, while the topics spread over
/// the workers. Block: a worker that falls behind (as on a loaded machine)
/// pauses reading instead of dropping, so "exactly once" is the engine's
/// promise here, not the scheduler's luck.
#[test]
fn engine_pool_keeps_each_topics_order_exactly_once() {
    let server = server();
    let config = EngineConfig::builder().dispatch_workers(3).overflow(Overflow::Block).build();
    let engine = Engine::start(config).unwrap();
    assert_eq!(engine.health().dispatch_workers, 3);
    let sockets = [connected(&engine, server.url()), connected(&engine, server.url())];
    let (done_tx, done) = crossbeam_channel::unbounded();
    let mut topics: Vec<(String, Seen, Channel)> = Vec::new();
    for i in 0..8 {
        let topic = format!("stream:pool{i}");
        let params = Payload::json(format!(r#"{{"mode":"burst","count":{EVENTS}}}"#));
        let channel = sockets[i % 2].channel(topic.clone(), params).unwrap();
        let seen: Seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        channel
            .on("event", move |m| {
                let thread = std::thread::current().name().unwrap_or("").to_owned();
                sink.lock().push((seq_of(m), thread));
            })
            .unwrap();
        let done_tx = done_tx.clone();
        let name = topic.clone();
        channel.on("done", move |_| done_tx.send(name.clone()).unwrap()).unwrap();
        topics.push((topic, seen, channel));
    }
    for (_, _, channel) in &topics {
        let _join = channel.join();
    }
    for _ in 0..topics.len() {
        done.recv_timeout(GUARD).unwrap();
    }
    assert_eq!(engine.health().dispatch_dropped, 0);
    let mut threads: HashMap<String, usize> = HashMap::new();
    for (topic, seen, _) in &topics {
        let seen = seen.lock();
        let seqs: Vec<u64> = seen.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(seqs, (1..=EVENTS).collect::<Vec<_>>(), "{topic}");
        let thread = &seen[0].1;
        assert!(thread.starts_with("rig-dispatch-"), "{thread}");
        assert!(seen.iter().all(|(_, t)| t == thread), "{topic} changed threads");
        *threads.entry(thread.clone()).or_default() += 1;
    }
    // FNV-1a of stream:pool0..7 modulo 3 uses more than one worker.
    assert!(threads.len() > 1, "{threads:?}");
    let health = engine.health();
    assert_eq!(health.dispatch_dropped, 0);
    assert_eq!(health.handler_panics, 0);
    engine.shutdown();
}
