//! Delivery: bursts in order, bounded queues with both overflow policies,
//! callbacks off the I/O thread, pings, shutdown and handle drops.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::RecvTimeoutError;
use rig::engine::{Engine, EngineConfig, Overflow, PushError, Socket, Status};
use rig::protocol::{ChannelParams, Message, Payload};

use crate::engine_fake::{Behaviour, FakeServer, Seen};
use crate::engine_util::{WAIT, engine, server, socket_with, until_status};

fn seq(message: &Message) -> u64 {
    let json: serde_json::Value = serde_json::from_str(message.payload.as_json().unwrap()).unwrap();
    json["seq"].as_u64().unwrap()
}

fn connected(engine: &Engine, url: &str) -> Socket {
    let (socket, status) = socket_with(engine, url, |o| o);
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    socket
}

#[test]
fn engine_burst_stream_arrives_complete_and_in_order() {
    let server = server();
    let engine =
        Engine::start(EngineConfig::builder().subscription_capacity(1 << 15).build()).unwrap();
    let socket = connected(&engine, server.url());
    let count = 20_000;
    let stream = socket
        .channel("stream:burst", Payload::json(format!(r#"{{"mode":"burst","count":{count}}}"#)))
        .unwrap();
    let events = stream.subscribe("event").unwrap();
    let done = stream.subscribe("done").unwrap();
    assert!(stream.join().wait().unwrap().is_ok());
    for n in 1..=count {
        assert_eq!(seq(&events.recv_timeout(WAIT).unwrap()), n);
    }
    let done = done.recv_timeout(WAIT).unwrap();
    assert!(done.payload.as_json().unwrap().starts_with(&format!(r#"{{"count":{count},"#)));
    assert_eq!(events.dropped(), 0);
    let health = socket.health();
    assert_eq!((health.dropped, health.delivered), (0, count + 1));
}

/// A burst of 100 into a queue of 8 nobody reads until `done`.
fn overflow(policy: Overflow) -> (Vec<u64>, u64, u64) {
    let server = server();
    let config = EngineConfig::builder().subscription_capacity(8).overflow(policy).build();
    let engine = Engine::start(config).unwrap();
    let socket = connected(&engine, server.url());
    let stream =
        socket.channel("stream:small", Payload::json(r#"{"mode":"burst","count":100}"#)).unwrap();
    let events = stream.subscribe("event").unwrap();
    let done = stream.subscribe("done").unwrap();
    stream.join().wait().unwrap();
    // `done` comes after every event: once it is here, all were handled.
    done.recv_timeout(WAIT).unwrap();
    let kept: Vec<u64> = events.receiver().try_iter().map(|m| seq(&m)).collect();
    (kept, events.dropped(), socket.health().dropped)
}

#[test]
fn engine_full_subscription_drops_the_newest_and_counts() {
    let (kept, dropped, socket_dropped) = overflow(Overflow::DropNewest);
    assert_eq!(kept, (1..=8).collect::<Vec<_>>());
    assert_eq!((dropped, socket_dropped), (92, 92));
}

#[test]
fn engine_full_subscription_can_drop_the_oldest_instead() {
    let (kept, dropped, socket_dropped) = overflow(Overflow::DropOldest);
    assert_eq!(kept, (93..=100).collect::<Vec<_>>());
    assert_eq!((dropped, socket_dropped), (92, 92));
}

#[test]
fn engine_callbacks_run_off_the_io_thread_and_survive_panics() {
    let server = server();
    let engine = engine();
    let socket = connected(&engine, server.url());
    let room = socket.channel("room:cb", Payload::empty()).unwrap();
    let (tx, seen) = crossbeam_channel::unbounded();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    room.on("pushed", move |message| {
        if counted.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("a handler bug");
        }
        let thread = std::thread::current().name().map(str::to_owned);
        tx.send((thread, message.payload.as_json().map(str::to_owned))).unwrap();
    })
    .unwrap();
    room.join().wait().unwrap();
    room.push("push_me", Payload::json(r#"{"n":1}"#)).wait().unwrap();
    room.push("push_me", Payload::json(r#"{"n":2}"#)).wait().unwrap();
    let (thread, payload) = seen.recv_timeout(WAIT).unwrap();
    assert!(thread.as_deref().is_some_and(|t| t.starts_with("rig-dispatch-")), "{thread:?}");
    assert_eq!(payload.as_deref(), Some(r#"{"n":2}"#));
    assert_eq!(engine.health().handler_panics, 1);

    // A push callback runs on a dispatcher worker too.
    let (tx, outcome) = crossbeam_channel::bounded(1);
    room.push("echo", Payload::json("7")).then(move |result| {
        let thread = std::thread::current().name().map(str::to_owned);
        tx.send((thread, result)).unwrap();
    });
    let (thread, result) = outcome.recv_timeout(WAIT).unwrap();
    assert!(thread.as_deref().is_some_and(|t| t.starts_with("rig-dispatch-")), "{thread:?}");
    assert_eq!(result.unwrap().response.as_json(), Some("7"));
}

#[test]
fn s43_engine_ping_reports_the_round_trip() {
    let server = server();
    let engine = engine();
    let (idle, _status) = socket_with(&engine, server.url(), |o| o);
    // S44: not connected, no ping.
    assert_eq!(idle.ping().unwrap().recv_timeout(WAIT), Err(RecvTimeoutError::Disconnected));
    let socket = connected(&engine, server.url());
    let rtt = socket.ping().unwrap().recv_timeout(WAIT).unwrap();
    assert_eq!(socket.health().heartbeat_rtt, Some(rtt));
}

#[test]
fn engine_shutdown_resolves_what_is_pending() {
    let fake = FakeServer::start(|_| Behaviour::SilentWs);
    let engine = engine();
    let socket = connected(&engine, &fake.url());
    let room = socket.channel("room:never", Payload::empty()).unwrap();
    let all = room.subscribe_all().unwrap();
    let join = room.join();
    // The join reached the server, which never answers.
    fake.until(WAIT, |s| matches!(s, Seen::Text(t) if t.contains("phx_join")));
    engine.shutdown();
    assert_eq!(join.wait(), Err(PushError::EngineStopped));
    assert_eq!(all.recv_timeout(WAIT).err(), Some(RecvTimeoutError::Disconnected));
    // The server got a normal close.
    fake.until(WAIT, |s| *s == Seen::Close(Some((1000, "shutdown".to_owned()))));
    assert_eq!(room.push("x", Payload::empty()).wait(), Err(PushError::EngineStopped));
}

#[test]
fn engine_dropping_the_last_handle_closes_the_socket() {
    let fake = FakeServer::start(|_| Behaviour::SilentWs);
    let engine = engine();
    let (socket, status) = socket_with(&engine, &fake.url(), |o| o);
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    let room = socket.channel("room:a", Payload::empty()).unwrap();
    drop(socket);
    // The channel handle still holds the socket.
    let quiet = std::time::Duration::from_millis(200);
    assert_eq!(fake.seen.recv_timeout(quiet).ok(), Some(Seen::Accepted(1)));
    assert_eq!(
        fake.seen.recv_timeout(quiet).ok().map(|s| matches!(s, Seen::Request { .. })),
        Some(true)
    );
    assert_eq!(fake.seen.recv_timeout(quiet).ok(), None);
    drop(room);
    fake.until(WAIT, |s| *s == Seen::Close(Some((1000, "removed".to_owned()))));
    // Once closed, the socket leaves the engine and its status streams end.
    let rest = until_disconnected(&status);
    assert!(rest.iter().any(|s| matches!(s, Status::Closed { .. })), "{rest:#?}");
    assert_eq!(engine.health().sockets, 0);
}

/// Everything a status stream still delivers before it disconnects.
fn until_disconnected(status: &crossbeam_channel::Receiver<Status>) -> Vec<Status> {
    let mut seen = Vec::new();
    loop {
        match status.recv_timeout(WAIT) {
            Ok(s) => seen.push(s),
            Err(RecvTimeoutError::Disconnected) => return seen,
            Err(RecvTimeoutError::Timeout) => panic!("the status stream stayed open: {seen:#?}"),
        }
    }
}

#[test]
fn engine_panicking_join_params_fall_back_to_empty() {
    let server = server();
    let engine = engine();
    let socket = connected(&engine, server.url());
    let room =
        socket.channel("room:params", ChannelParams::dynamic(|| panic!("params bug"))).unwrap();
    assert!(room.join().wait().unwrap().is_ok());
    assert!(engine.health().io_thread_alive);
}
