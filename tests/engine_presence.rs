//! Presence through the engine: two sockets on `presence:lobby` of the
//! embedded server; the first keeps a `PresenceView` fed with its channel's
//! messages and sees the second arrive and go (by leaving, then by
//! disconnecting).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use rig::engine::{Engine, Socket, Status, Subscription};
use rig::protocol::presence::{Handled, PresenceEvent, PresenceView};
use rig::protocol::{Message, Payload, Ref};

use crate::engine_util::{WAIT, engine, server, socket_with, until_status};

/// A view fed with one channel's messages.
struct Watcher {
    view: PresenceView,
    messages: Subscription,
    /// The join ref of the channel's current join, learnt from the
    /// `presence_state` the server pushes to the joiner (the engine drops
    /// messages of earlier joins before they reach the subscription).
    join_ref: Option<Ref>,
    /// Messages read before the state told us the join ref.
    early: Vec<Message>,
}

impl Watcher {
    fn new(messages: Subscription) -> Self {
        Self { view: PresenceView::new(), messages, join_ref: None, early: Vec::new() }
    }

    /// Reads and applies messages until a change satisfies `want`; returns
    /// every presence event seen on the way.
    fn until(&mut self, want: impl Fn(&[PresenceEvent]) -> bool) -> Vec<PresenceEvent> {
        let mut seen = Vec::new();
        loop {
            let message = self.messages.recv_timeout(WAIT).unwrap_or_else(|e| {
                panic!("no presence change within {WAIT:?} ({e}); saw {seen:#?}")
            });
            for events in self.apply(message) {
                let done = want(&events);
                seen.extend(events);
                if done {
                    return seen;
                }
            }
        }
    }

    /// Applies `message` (and any held before the state); returns the
    /// events of each change.
    fn apply(&mut self, message: Message) -> Vec<Vec<PresenceEvent>> {
        if self.join_ref.is_none() {
            if !message.is_event("presence_state") {
                self.early.push(message);
                return Vec::new();
            }
            assert!(message.join_ref.is_some(), "a presence_state is pushed with the join ref");
            self.join_ref.clone_from(&message.join_ref);
            self.early.push(message);
        } else {
            self.early.push(message);
        }
        let mut changes = Vec::new();
        for message in std::mem::take(&mut self.early) {
            match self.view.handle_message(self.join_ref.as_ref(), &message).unwrap() {
                Handled::Synced(events) => changes.push(events),
                Handled::Stale => panic!("stale presence message reached the channel: {message:?}"),
                Handled::Ignored | Handled::Queued => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        changes
    }

    fn keys(&self) -> Vec<&str> {
        self.view.list(|key, _| key)
    }
}

fn joined(key: &str) -> impl Fn(&[PresenceEvent]) -> bool + '_ {
    move |events| events.iter().any(|e| matches!(e, PresenceEvent::Join { key: k, .. } if k == key))
}

fn left(key: &str) -> impl Fn(&[PresenceEvent]) -> bool + '_ {
    move |events| {
        events.iter().any(|e| {
            matches!(e, PresenceEvent::Leave { key: k, current, .. } if k == key && current.metas.is_empty())
        })
    }
}

fn open_socket(engine: &Engine, url: &str) -> Socket {
    let (socket, status) = socket_with(engine, url, |b| b);
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    socket
}

fn lobby(socket: &Socket, user: &str) -> rig::engine::Channel {
    let params = Payload::json(format!(r#"{{"user_id":"{user}","device":"cli"}}"#));
    socket.channel("presence:lobby", params).unwrap()
}

#[test]
fn presence_view_follows_a_second_socket_joining_leaving_and_disconnecting() {
    let server = server();
    let engine = engine();
    let first = open_socket(&engine, server.url());
    let ann = lobby(&first, "ann");
    let mut watcher = Watcher::new(ann.subscribe_all().unwrap());
    assert!(ann.join().wait().unwrap().is_ok());
    watcher.until(joined("ann"));
    assert_eq!(watcher.keys(), ["ann"]);
    assert!(!watcher.view.is_pending(watcher.join_ref.as_ref()));

    // A second socket joins: ann's view gains bob, with his meta.
    let second = open_socket(&engine, server.url());
    let bob = lobby(&second, "bob");
    assert!(bob.join().wait().unwrap().is_ok());
    let events = watcher.until(joined("bob"));
    let Some(PresenceEvent::Join { current: None, joined: bob_joined, .. }) =
        events.iter().find(|e| matches!(e, PresenceEvent::Join { key, .. } if key == "bob"))
    else {
        panic!("bob's first join must be a new key: {events:#?}");
    };
    assert_eq!(bob_joined.metas.len(), 1);
    assert_eq!(bob_joined.metas[0]["device"], "cli");
    assert_eq!(watcher.keys(), ["ann", "bob"]);

    // bob leaves the channel: a diff with his leave.
    assert!(bob.leave().wait().unwrap().is_ok());
    watcher.until(left("bob"));
    assert_eq!(watcher.keys(), ["ann"]);

    // bob joins again, then his socket goes away: the server untracks him.
    let bob = lobby(&second, "bob");
    assert!(bob.join().wait().unwrap().is_ok());
    watcher.until(joined("bob"));
    assert_eq!(watcher.keys(), ["ann", "bob"]);
    second.disconnect().unwrap();
    watcher.until(left("bob"));
    assert_eq!(watcher.keys(), ["ann"]);
    assert_eq!(watcher.view.dropped_diffs(), 0);
}
