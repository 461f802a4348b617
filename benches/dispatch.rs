//! Dispatcher-pool throughput: a burst of server pushes on four `stream:*`
//! topics (embedded server, same process, loopback), each event handled by
//! an `on` callback (`rig_engine_N_workers`) or by a filter callback
//! (`rig_filters_N_workers`: `Socket::on_filter` with `stream:*` + event
//! `event`, matched on the workers among 100 other filter subscriptions
//! that do not match), with 1, 2 and 4 `rig-dispatch-N` workers; beside
//! it, in the same group, a bare crossbeam hand-off of the same number of
//! messages (one per send, to a consumer thread) as the baseline.
//!
//! The engine rows also pay the socket, the WebSocket and JSON decoding on
//! rig-io; the baseline pays only the thread hand-off. The ratio is what
//! the whole callback pipeline costs over the cheapest possible hand-off.
//! On a 2-core machine more workers cannot run in parallel with rig-io and
//! the server: the 2/4 rows show the cost of the routing, not a speed-up.
//!
//! Run with `cargo bench --bench dispatch --features server`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails loudly"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crossbeam_channel::{Receiver, Sender};
use rig::engine::{Engine, EngineConfig, FilterBinding, Socket, SocketOptions, Status};
use rig::filter::Filter;
use rig::protocol::{Message, Payload};
use rig::server::{Server, ServerConfig};

const TOPICS: u64 = 4;
const PER_TOPIC: u64 = 5_000;
const EVENTS: u64 = TOPICS * PER_TOPIC;
const WAIT: Duration = Duration::from_secs(30);

fn connect_engine(url: &str, workers: usize) -> (Engine, Socket) {
    let config = EngineConfig::builder().dispatch_workers(workers).build();
    let engine = Engine::start(config).unwrap();
    let socket = engine.socket(SocketOptions::builder(url).build().unwrap()).unwrap();
    let status = socket.status().unwrap();
    socket.connect().unwrap();
    while status.recv_timeout(WAIT).unwrap() != Status::Open {}
    (engine, socket)
}

/// One burst per topic, every event through an `on` callback.
fn engine_burst(socket: &Socket, n: u64) {
    let handled = Arc::new(AtomicU64::new(0));
    let (done_tx, done) = crossbeam_channel::unbounded();
    let params = Payload::json(format!(r#"{{"mode":"burst","count":{PER_TOPIC}}}"#));
    let channels: Vec<_> = (0..TOPICS)
        .map(|t| {
            let channel = socket.channel(format!("stream:b{n}t{t}"), params.clone()).unwrap();
            let counter = Arc::clone(&handled);
            channel
                .on("event", move |m| {
                    black_box(m);
                    counter.fetch_add(1, Ordering::Relaxed);
                })
                .unwrap();
            let done_tx = done_tx.clone();
            channel.on("done", move |_| done_tx.send(()).unwrap()).unwrap();
            let _join = channel.join();
            channel
        })
        .collect();
    for _ in 0..TOPICS {
        done.recv_timeout(WAIT).unwrap();
    }
    assert_eq!(handled.load(Ordering::Relaxed), EVENTS);
    for channel in channels {
        channel.leave().wait().unwrap();
    }
}

/// One burst per topic, every event through one filter callback matched
/// on the workers among `others` filters that never match.
fn filter_burst(socket: &Socket, n: u64) {
    let handled = Arc::new(AtomicU64::new(0));
    let (done_tx, done) = crossbeam_channel::unbounded();
    let counter = Arc::clone(&handled);
    let events = Filter::topic(&format!("stream:f{n}t*")).unwrap().events(["event"]);
    let on_event = socket
        .on_filter(events, move |m| {
            black_box(m);
            counter.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
    let ends = Filter::topic(&format!("stream:f{n}t*")).unwrap().events(["done"]);
    let on_done = socket.on_filter(ends, move |_| done_tx.send(()).unwrap()).unwrap();
    let params = Payload::json(format!(r#"{{"mode":"burst","count":{PER_TOPIC}}}"#));
    let channels: Vec<_> = (0..TOPICS)
        .map(|t| {
            let channel = socket.channel(format!("stream:f{n}t{t}"), params.clone()).unwrap();
            let _join = channel.join();
            channel
        })
        .collect();
    for _ in 0..TOPICS {
        done.recv_timeout(WAIT).unwrap();
    }
    assert_eq!(handled.load(Ordering::Relaxed), EVENTS);
    for channel in channels {
        channel.leave().wait().unwrap();
    }
    on_event.remove().unwrap();
    on_done.remove().unwrap();
}

/// Filter subscriptions that never match the bench's topics: the table a
/// worker searches is not trivially small.
fn other_filters(socket: &Socket) -> Vec<FilterBinding> {
    (0..100)
        .map(|i| {
            let filter = match i % 4 {
                0 => Filter::topic(&format!("room:{i}")),
                1 => Filter::topic(&format!("user:{i}:*")),
                2 => Filter::topic(&format!("*:{i}:admin")),
                _ => Filter::topic(&format!("stream:{i}")).map(|f| f.events(["event"])),
            };
            socket.on_filter(filter.unwrap(), |m| panic!("unexpected {m:?}")).unwrap()
        })
        .collect()
}

/// A consumer thread that counts messages and says when it saw `EVENTS`.
fn spawn_consumer() -> (Sender<Message>, Receiver<()>) {
    let (tx, rx) = crossbeam_channel::bounded::<Message>(1 << 16);
    let (ack_tx, ack) = crossbeam_channel::bounded(1);
    std::thread::spawn(move || {
        let mut seen = 0;
        for message in rx {
            black_box(&message);
            seen += 1;
            if seen == EVENTS {
                seen = 0;
                ack_tx.send(()).unwrap();
            }
        }
    });
    (tx, ack)
}

fn dispatch_burst(c: &mut Criterion) {
    let server = Server::start(ServerConfig::builder().build()).unwrap();
    let mut group = c.benchmark_group("dispatch/burst");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);
    let mut n = 0;
    for workers in [1, 2, 4] {
        let (engine, socket) = connect_engine(server.url(), workers);
        group.bench_function(format!("rig_engine_{workers}_workers"), |b| {
            b.iter(|| {
                n += 1;
                engine_burst(&socket, n);
            });
        });
        drop(socket);
        engine.shutdown();
    }
    for workers in [1, 2, 4] {
        let (engine, socket) = connect_engine(server.url(), workers);
        let others = other_filters(&socket);
        group.bench_function(format!("rig_filters_{workers}_workers"), |b| {
            b.iter(|| {
                n += 1;
                filter_burst(&socket, n);
            });
        });
        drop(others);
        drop(socket);
        engine.shutdown();
    }
    let (tx, ack) = spawn_consumer();
    let template = Message::new(None, None, "stream:x", "event", Payload::json(r#"{"seq":1}"#));
    group.bench_function("bare_crossbeam_handoff", |b| {
        b.iter(|| {
            for _ in 0..EVENTS {
                tx.send(template.clone()).unwrap();
            }
            ack.recv_timeout(WAIT).unwrap();
        });
    });
    group.finish();
}

criterion_group!(benches, dispatch_burst);
criterion_main!(benches);
