//! Filter subscriptions through the real engine and the embedded server:
//! prefix, glob, event and payload filters; overflow policies counted in
//! the subscription, the health and the status stream; Block pausing the
//! socket without loss; a panicking filter callback.

use std::time::Duration;

use crossbeam_channel::Receiver;
use rig::engine::{Engine, EngineConfig, Overflow, Socket, Status};
use rig::filter::{Expr, Filter};
use rig::protocol::{Message, Payload};

use crate::engine_util::{server, socket_with, until_status};

/// A guard against a hung test, not a timing assertion.
pub(crate) const GUARD: Duration = Duration::from_secs(30);

pub(crate) fn connected(engine: &Engine, url: &str) -> (Socket, Receiver<Status>) {
    let (socket, status) = socket_with(engine, url, |o| o);
    socket.connect().unwrap();
    until_status(&status, GUARD, |s| *s == Status::Open);
    (socket, status)
}

pub(crate) fn seq_of(message: &Message) -> u64 {
    let value: serde_json::Value =
        serde_json::from_str(message.payload.as_json().unwrap()).unwrap();
    value["seq"].as_u64().unwrap()
}

fn burst(count: u64) -> Payload {
    Payload::json(format!(r#"{{"mode":"burst","count":{count}}}"#))
}

/// Reads `n` messages (each within the guard).
fn take(rx: &rig::engine::FilterSubscription, n: usize) -> Vec<Message> {
    (0..n).map(|_| rx.recv_timeout(GUARD).unwrap()).collect()
}

fn topics_events_seqs(messages: &[Message]) -> Vec<(String, String, u64)> {
    messages
        .iter()
        .map(|m| {
            let seq = if &*m.event == "event" { seq_of(m) } else { 0 };
            (m.topic.to_string(), m.event.to_string(), seq)
        })
        .collect()
}

/// Each kind of filter gets exactly what it asks for, in server order,
/// while a channel handler on the same topics works as before.
#[test]
fn prefix_glob_event_and_payload_filters() {
    let server = server();
    let engine = Engine::start(EngineConfig::builder().dispatch_workers(2).build()).unwrap();
    let (socket, _status) = connected(&engine, server.url());
    let prefix = socket.subscribe_filter(Filter::topic("stream:fa*").unwrap()).unwrap();
    let glob =
        socket.subscribe_filter(Filter::topic("stream:f?1").unwrap().events(["event"])).unwrap();
    let done = socket.subscribe_filter(Filter::topic("*").unwrap().events(["done"])).unwrap();
    let expr = Expr::parse("payload.seq > 40 && payload.seq <= 45").unwrap();
    let payload = socket
        .subscribe_filter(Filter::topic("stream:fa2").unwrap().events(["event"]).when(expr))
        .unwrap();
    let fa1 = socket.channel("stream:fa1", burst(50)).unwrap();
    let handled = fa1.subscribe("event").unwrap();
    assert!(fa1.join().wait().unwrap().is_ok());
    let fb1 = socket.channel("stream:fb1", burst(50)).unwrap();
    assert!(fb1.join().wait().unwrap().is_ok());
    let fa2 = socket.channel("stream:fa2", burst(50)).unwrap();
    assert!(fa2.join().wait().unwrap().is_ok());

    let mut seen_done: Vec<String> = take(&done, 3).iter().map(|m| m.topic.to_string()).collect();
    seen_done.sort();
    assert_eq!(seen_done, ["stream:fa1", "stream:fa2", "stream:fb1"]);

    // The prefix: both stream:fa* topics, every event, each topic in order.
    let all = topics_events_seqs(&take(&prefix, 102));
    for topic in ["stream:fa1", "stream:fa2"] {
        let mine: Vec<(String, u64)> =
            all.iter().filter(|(t, ..)| t == topic).map(|(_, e, s)| (e.clone(), *s)).collect();
        let mut want: Vec<(String, u64)> = (1..=50).map(|s| ("event".to_owned(), s)).collect();
        want.push(("done".to_owned(), 0));
        assert_eq!(mine, want, "{topic}");
    }
    // The glob: stream:fa1 and stream:fb1 events only.
    let globbed = topics_events_seqs(&take(&glob, 100));
    for topic in ["stream:fa1", "stream:fb1"] {
        let seqs: Vec<u64> = globbed.iter().filter(|(t, ..)| t == topic).map(|x| x.2).collect();
        assert_eq!(seqs, (1..=50).collect::<Vec<_>>(), "{topic}");
    }
    // The payload predicate.
    let picked: Vec<u64> = take(&payload, 5).iter().map(seq_of).collect();
    assert_eq!(picked, [41, 42, 43, 44, 45]);
    // Nothing more for anyone; the channel subscription saw its 50 too.
    for sub in [&prefix, &glob, &done, &payload] {
        assert!(sub.try_recv().is_err());
        assert_eq!(sub.dropped(), 0);
    }
    let seqs: Vec<u64> = (0..50).map(|_| seq_of(&handled.recv_timeout(GUARD).unwrap())).collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
    let health = socket.health();
    assert_eq!(health.filter_delivered, 102 + 100 + 3 + 5);
    assert_eq!(health.filter_dropped, 0);
}

/// Statuses until the `Dropped` counts of each subscription add up to
/// its wanted total; a ping gives the socket a turn (reports are
/// coalesced per second). Returns the sums and the number of entries.
fn dropped_reported(
    socket: &Socket,
    status: &Receiver<Status>,
    want: &[(rig::filter::SubscriptionId, u64)],
) -> (Vec<u64>, Vec<u64>) {
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + GUARD;
    let mut sums = vec![0; want.len()];
    let mut entries = vec![0; want.len()];
    while sums.iter().zip(want).any(|(sum, (_, total))| sum < total) {
        assert!(clock.now() < deadline, "reported {sums:?} of {want:?}");
        let _ = socket.ping().unwrap();
        while let Ok(entry) = status.recv_timeout(Duration::from_millis(200)) {
            if let Status::Dropped { subscription: None, count, .. } = &entry {
                panic!(
                    "a channel-consumer Dropped entry of {count}, yet there is no channel consumer"
                );
            }
            if let Status::Dropped { subscription: Some(of), count, topic } = entry {
                let index = want.iter().position(|(id, _)| *id == of).unwrap();
                assert_eq!(topic, "stream:drop");
                sums[index] += count;
                entries[index] += 1;
            }
        }
    }
    (sums, entries)
}

/// DropNewest keeps the first messages, DropOldest the last; each counts
/// every loss, the health adds them up, and the status stream reports them
/// (coalesced) to the exact total.
#[test]
fn drop_policies_count_in_the_subscription_health_and_status() {
    let server = server();
    let engine = Engine::start(EngineConfig::builder().dispatch_workers(2).build()).unwrap();
    let (socket, status) = connected(&engine, server.url());
    let filter = || Filter::topic("stream:drop").unwrap().events(["event"]);
    let newest = socket.subscribe_filter_with(filter(), Overflow::DropNewest, Some(4)).unwrap();
    let oldest = socket.subscribe_filter_with(filter(), Overflow::DropOldest, Some(4)).unwrap();
    let done = socket.subscribe_filter(Filter::topic("stream:drop").unwrap().events(["done"]));
    let done = done.unwrap();
    let channel = socket.channel("stream:drop", burst(1000)).unwrap();
    assert!(channel.join().wait().unwrap().is_ok());
    done.recv_timeout(GUARD).unwrap();

    assert_eq!(take(&newest, 4).iter().map(seq_of).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(take(&oldest, 4).iter().map(seq_of).collect::<Vec<_>>(), [997, 998, 999, 1000]);
    assert_eq!((newest.dropped(), oldest.dropped()), (996, 996));
    let health = socket.health();
    assert_eq!(health.filter_dropped, 2 * 996);
    assert_eq!(
        health.dropped, health.filter_dropped,
        "no channel consumer: every drop is a filter's"
    );
    assert_eq!(engine.health().filter_dropped, 2 * 996);
    let want = [(newest.id(), 996), (oldest.id(), 996)];
    let (sums, entries) = dropped_reported(&socket, &status, &want);
    assert_eq!(sums, [996, 996]);
    // Coalesced: a handful of entries, not one per lost message.
    assert!(entries.iter().all(|n| *n < 996), "{entries:?} Dropped entries");
}

/// A Block filter subscription that is not read fills its queue, then its
/// worker's: the socket pauses (counted) and nothing is lost; reading it
/// resumes the socket and every event arrives once, in order.
#[test]
fn block_filter_pauses_the_socket_and_loses_nothing() {
    let server = server();
    let config = EngineConfig::builder().dispatch_workers(1).dispatch_capacity(64).build();
    let engine = Engine::start(config).unwrap();
    let (socket, _status) = connected(&engine, server.url());
    let filter = Filter::topic("stream:block").unwrap().events(["event"]);
    let sub = socket.subscribe_filter_with(filter, Overflow::Block, Some(16)).unwrap();
    let channel = socket.channel("stream:block", burst(20_000)).unwrap();
    assert!(channel.join().wait().unwrap().is_ok());
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + GUARD;
    while socket.health().pauses == 0 {
        assert!(clock.now() < deadline, "the socket never paused: {:?}", socket.health());
        std::thread::yield_now();
    }
    for seq in 1..=20_000 {
        assert_eq!(seq_of(&sub.recv_timeout(GUARD).unwrap()), seq);
    }
    assert_eq!(sub.dropped(), 0);
    assert_eq!(socket.health().dropped, 0);
    assert!(socket.is_connected(), "held heartbeats kept the socket alive");
}

/// A filter callback that panics is counted; the worker goes on calling it.
#[test]
fn a_panicking_filter_callback_is_counted() {
    let server = server();
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let (socket, _status) = connected(&engine, server.url());
    let (tx, rx) = crossbeam_channel::unbounded();
    let filter = Filter::topic("stream:p*").unwrap().events(["event"]);
    let binding = socket
        .on_filter(filter, move |m| {
            let seq = seq_of(m);
            assert!(!seq.is_multiple_of(10), "seq {seq} panics on purpose");
            tx.send(seq).unwrap();
        })
        .unwrap();
    let channel = socket.channel("stream:panic", burst(100)).unwrap();
    assert!(channel.join().wait().unwrap().is_ok());
    let seqs: Vec<u64> = (0..90).map(|_| rx.recv_timeout(GUARD).unwrap()).collect();
    assert_eq!(seqs, (1..=100).filter(|s| s % 10 != 0).collect::<Vec<_>>());
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + GUARD;
    while binding.delivered() < 100 {
        assert!(clock.now() < deadline, "the callback stopped at {}", binding.delivered());
        std::thread::yield_now();
    }
    assert_eq!(binding.panics(), 10);
    assert_eq!(engine.health().handler_panics, 10);
    binding.remove().unwrap();
}

/// When the socket goes (its last handle dropped), its filter
/// subscriptions end: their receivers disconnect.
#[test]
fn removing_the_socket_ends_its_filter_subscriptions() {
    let server = server();
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let (socket, _status) = connected(&engine, server.url());
    let sub = socket.subscribe_filter(Filter::topic("room:*").unwrap()).unwrap();
    let room = socket.channel("room:gone", Payload::empty()).unwrap();
    assert!(room.join().wait().unwrap().is_ok());
    drop(room);
    drop(socket);
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + GUARD;
    loop {
        match sub.recv_timeout(Duration::from_millis(50)) {
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            _ => assert!(clock.now() < deadline, "the subscription outlived its socket"),
        }
    }
}
