//! Drops are reported in the status stream to the last one: when the
//! socket goes quiet, the coalescing window (one report per consumer per
//! second) must not leave counts waiting for the next heartbeat, and a
//! subscription removed between two reports still has its drops reported.

use std::time::Duration;

use rig::engine::{Engine, EngineConfig, Overflow, Status};
use rig::filter::Filter;
use rig::protocol::Payload;

use crate::engine_util::{server, socket_with, until_status};

/// A guard against a hung test, not a timing assertion: the heartbeat is
/// set far beyond it, so only the report timer can deliver the counts.
const GUARD: Duration = Duration::from_secs(20);

#[test]
fn drops_left_in_the_coalescing_window_are_reported_without_more_traffic() {
    let server = server();
    let engine = Engine::start(EngineConfig::builder().subscription_capacity(4).build()).unwrap();
    let (socket, status) =
        socket_with(&engine, server.url(), |o| o.heartbeat_interval(Duration::from_secs(600)));
    socket.connect().unwrap();
    until_status(&status, GUARD, |s| *s == Status::Open);
    let channel =
        socket.channel("stream:quiet", Payload::json(r#"{"mode":"burst","count":2000}"#)).unwrap();
    // Never read while the burst runs: all but 4 events are dropped.
    let events = channel.subscribe_with("event", Overflow::DropNewest).unwrap();
    let done = channel.subscribe("done").unwrap();
    assert!(channel.join().wait().unwrap().is_ok());
    done.recv_timeout(GUARD).unwrap();

    let clock = rig::time::Clock::real();
    let deadline = clock.now() + GUARD;
    let mut reported = 0;
    let mut entries = 0;
    loop {
        let dropped = socket.health().dropped;
        if dropped > 0 && reported == dropped && events.dropped() == dropped {
            break;
        }
        assert!(clock.now() < deadline, "reported {reported} of {dropped} drops");
        if let Ok(Status::Dropped { subscription: None, count, .. }) =
            status.recv_timeout(Duration::from_millis(100))
        {
            reported += count;
            entries += 1;
        }
    }
    assert_eq!(reported + 4, 2000, "every event not kept was dropped and reported");
    assert!(entries < reported, "coalesced: {entries} entries for {reported} drops");
    assert_eq!(events.try_recv().map(|m| m.event.to_string()).ok().as_deref(), Some("event"));
}

/// A filter subscription removed before the next report still has its
/// last drops reported: the status entries add up to its `dropped()`.
#[test]
fn a_removed_filter_subscription_has_its_last_drops_reported() {
    let server = server();
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let (socket, status) = socket_with(&engine, server.url(), |o| o);
    socket.connect().unwrap();
    until_status(&status, GUARD, |s| *s == Status::Open);
    let filter = Filter::topic("stream:gone").unwrap().events(["event"]);
    let sub = socket.subscribe_filter_with(filter, Overflow::DropNewest, Some(4)).unwrap();
    let id = sub.id();
    let done = socket.subscribe_filter(Filter::topic("stream:gone").unwrap().events(["done"]));
    let done = done.unwrap();
    let channel =
        socket.channel("stream:gone", Payload::json(r#"{"mode":"burst","count":1000}"#)).unwrap();
    assert!(channel.join().wait().unwrap().is_ok());
    done.recv_timeout(GUARD).unwrap();
    let dropped = sub.dropped();
    assert_eq!(dropped, 996, "4 kept of 1000");
    sub.remove().unwrap();

    let clock = rig::time::Clock::real();
    let deadline = clock.now() + GUARD;
    let mut reported = 0;
    while reported < dropped {
        assert!(clock.now() < deadline, "reported {reported} of {dropped}");
        let _ = socket.ping().unwrap(); // a turn of the socket
        while let Ok(entry) = status.recv_timeout(Duration::from_millis(100)) {
            if let Status::Dropped { subscription: Some(of), count, .. } = entry {
                assert_eq!(of, id);
                reported += count;
            }
        }
    }
    assert_eq!(reported, dropped);
}

/// Messages a paused socket holds for a full Block consumer when the
/// engine stops are counted as that consumer's drops, not lost silently.
#[test]
fn messages_held_for_a_block_consumer_at_shutdown_count_as_drops() {
    let server = server();
    let engine = Engine::start(EngineConfig::builder().subscription_capacity(4).build()).unwrap();
    let (socket, status) = socket_with(&engine, server.url(), |o| o);
    socket.connect().unwrap();
    until_status(&status, GUARD, |s| *s == Status::Open);
    let channel =
        socket.channel("stream:held", Payload::json(r#"{"mode":"burst","count":5000}"#)).unwrap();
    let events = channel.subscribe_with("event", Overflow::Block).unwrap();
    assert!(channel.join().wait().unwrap().is_ok());
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + GUARD;
    while socket.health().pauses == 0 {
        assert!(clock.now() < deadline, "the socket never paused: {:?}", socket.health());
        std::thread::yield_now();
    }
    assert_eq!(events.dropped(), 0, "Block drops nothing while the engine runs");
    let health = socket.health();
    engine.shutdown();
    let held = events.dropped();
    assert!(held > 0, "the stash held messages when the engine stopped");
    assert_eq!(health.dropped, 0);
    assert_eq!(socket.health().dropped, held, "counted for the socket too");
    assert_eq!(events.receiver().len(), 4, "the queue keeps what it had");
}
