//! `Channel::presence` against the embedded server's `presence:*` channel:
//! two sockets joining and leaving, callbacks on the dispatcher, and the
//! view reset by the new state after a reconnect (diffs held until it
//! arrives, keys it lacks reported as leaves).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use crossbeam_channel::Receiver;
use rig::engine::{Channel, ChannelPresence, Engine, Socket, Status};
use rig::protocol::Payload;

use crate::engine_util::{WAIT, engine, server, socket_with, until_status};

/// A callback call, as the test sees it.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    /// A key joined; whether it was new.
    Join {
        key: String,
        new: bool,
    },
    /// A key lost metas; how many it has left.
    Leave {
        key: String,
        remaining: usize,
    },
    Sync,
}

/// Records every callback (and checks the thread it runs on).
fn watch(presence: &ChannelPresence) -> Receiver<Seen> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let on_dispatcher = || {
        let name = std::thread::current().name().unwrap_or_default().to_owned();
        assert!(name.starts_with("rig-dispatch-"), "callback on {name}");
    };
    let joins = tx.clone();
    presence.on_join(move |key, current, _| {
        on_dispatcher();
        joins.send(Seen::Join { key: key.to_owned(), new: current.is_none() }).unwrap();
    });
    let leaves = tx.clone();
    presence.on_leave(move |key, current, _| {
        on_dispatcher();
        leaves.send(Seen::Leave { key: key.to_owned(), remaining: current.metas.len() }).unwrap();
    });
    presence.on_sync(move || {
        on_dispatcher();
        tx.send(Seen::Sync).unwrap();
    });
    rx
}

/// Reads callbacks until `want` is seen; returns everything read.
fn until_seen(seen: &Receiver<Seen>, want: &Seen) -> Vec<Seen> {
    let mut all = Vec::new();
    loop {
        match seen.recv_timeout(WAIT) {
            Ok(s) => {
                let done = s == *want;
                all.push(s);
                if done {
                    return all;
                }
            }
            Err(e) => panic!("no {want:?} within {WAIT:?} ({e}); saw {all:#?}"),
        }
    }
}

fn keys(presence: &ChannelPresence) -> Vec<String> {
    presence.list().into_iter().map(|(key, _)| key).collect()
}

fn open_socket(engine: &Engine, url: &str) -> (Socket, Receiver<Status>) {
    let (socket, status) = socket_with(engine, url, |b| b);
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    (socket, status)
}

fn lobby(socket: &Socket, user: &str) -> Channel {
    let params = Payload::json(format!(r#"{{"user_id":"{user}","device":"cli"}}"#));
    socket.channel("presence:lobby", params).unwrap()
}

fn join(channel: &Channel) {
    assert!(channel.join().wait_timeout(WAIT).unwrap().is_ok());
}

#[test]
fn r10_engine_presence_view_follows_a_second_socket_joining_and_leaving() {
    let server = server();
    let engine = engine();
    let (first, _) = open_socket(&engine, server.url());
    let ann = lobby(&first, "ann");
    let presence = ann.presence().unwrap();
    let seen = watch(&presence);
    assert!(!presence.is_synced());
    join(&ann);
    until_seen(&seen, &Seen::Join { key: "ann".into(), new: true });
    until_seen(&seen, &Seen::Sync);
    assert!(presence.is_synced());
    assert_eq!(keys(&presence), ["ann"]);

    // bob joins from another socket, with his meta.
    let (second, _) = open_socket(&engine, server.url());
    let bob = lobby(&second, "bob");
    join(&bob);
    let events = until_seen(&seen, &Seen::Join { key: "bob".into(), new: true });
    assert!(!events.iter().any(|e| matches!(e, Seen::Leave { .. })), "{events:?}");
    until_seen(&seen, &Seen::Sync);
    assert_eq!(keys(&presence), ["ann", "bob"]);
    let state = presence.state();
    assert_eq!(state["bob"].metas.len(), 1);
    assert_eq!(state["bob"].metas[0]["device"], "cli");

    // bob leaves: gone from the view.
    assert!(bob.leave().wait_timeout(WAIT).unwrap().is_ok());
    until_seen(&seen, &Seen::Leave { key: "bob".into(), remaining: 0 });
    until_seen(&seen, &Seen::Sync);
    assert_eq!(keys(&presence), ["ann"]);

    // bob comes back, then his socket goes away.
    let bob_again = lobby(&second, "bob");
    join(&bob_again);
    until_seen(&seen, &Seen::Join { key: "bob".into(), new: true });
    second.disconnect().unwrap();
    until_seen(&seen, &Seen::Leave { key: "bob".into(), remaining: 0 });
    until_seen(&seen, &Seen::Sync);
    assert_eq!(keys(&presence), ["ann"]);
    assert_eq!((presence.decode_errors(), presence.dropped_diffs()), (0, 0));
    assert_eq!(engine.health().handler_panics, 0);
}

#[test]
fn r12_engine_presence_view_is_reset_by_the_state_after_a_reconnect() {
    let server = server();
    let engine = engine();
    let (first, status) = open_socket(&engine, server.url());
    let ann = lobby(&first, "ann");
    let presence = ann.presence().unwrap();
    let seen = watch(&presence);
    join(&ann);
    let (second, _) = open_socket(&engine, server.url());
    let bob = lobby(&second, "bob");
    join(&bob);
    until_seen(&seen, &Seen::Join { key: "bob".into(), new: true });
    until_seen(&seen, &Seen::Sync);
    let old_ref = presence.state()["ann"].metas[0]["phx_ref"].clone();

    // ann's socket goes down; bob leaves meanwhile (ann cannot hear it).
    first.disconnect().unwrap();
    until_status(&status, WAIT, |s| matches!(s, Status::Closed { .. }));
    assert!(bob.leave().wait_timeout(WAIT).unwrap().is_ok());
    assert_eq!(keys(&presence), ["ann", "bob"], "nothing heard while away");

    // Reconnected: the channel rejoins, the new state replaces the view.
    // ann's own join diff comes before the state (the server broadcasts it
    // first, as Phoenix does) and is held: nothing syncs before the state
    // has replaced the view and reported bob gone.
    let before: Vec<Seen> = seen.try_iter().collect();
    assert!(before.is_empty(), "nothing heard while away: {before:?}");
    first.connect().unwrap();
    let events = until_seen(&seen, &Seen::Leave { key: "bob".into(), remaining: 0 });
    assert!(!events.contains(&Seen::Sync), "a change applied before the state: {events:?}");
    assert!(!events.contains(&Seen::Leave { key: "ann".into(), remaining: 0 }), "{events:?}");
    until_seen(&seen, &Seen::Sync);
    assert!(presence.is_synced());
    assert_eq!(keys(&presence), ["ann"]);
    let metas = &presence.state()["ann"].metas;
    assert_eq!(metas.len(), 1, "{metas:?}");
    assert_ne!(metas[0]["phx_ref"], old_ref, "the new connection's meta");
    assert_eq!(engine.health().handler_panics, 0);
}
