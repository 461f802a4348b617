//! Drops are reported in the status stream even when the socket goes
//! quiet: the coalescing window (one report per consumer per second) must
//! not leave the last counts waiting for the next heartbeat.

use std::time::Duration;

use rig::engine::{Engine, EngineConfig, Overflow, Status};
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
