//! Durable pushes at the edges of a channel's life and of the outbox's
//! bounds: a reply that arrives while the channel is leaving, and a push
//! the outbox drops to make room.

use std::sync::Arc;

use rig::engine::PushError;
use rig::outbox::{FullPolicy, Limits, MemoryOutbox, Outbox};
use rig::protocol::Payload;
use rig::server::PushLog;

use crate::engine_outbox::{reply_of, server_with_log};
use crate::engine_util::{WAIT, engine, socket_with};

/// The server answers a push before the leave that follows it: the answer
/// is acked and resolves the handle, it is not sent again later.
#[test]
fn a_reply_that_arrives_while_leaving_is_acked_and_resolves_the_handle() {
    let log = Arc::new(PushLog::new());
    let server = server_with_log(&log);
    let engine = engine();
    let store = Arc::new(MemoryOutbox::new(Limits::default()));
    let (socket, _status) = socket_with(&engine, server.url(), |o| o.outbox_with(store.clone()));
    socket.connect().unwrap();
    let inbox = socket.channel("inbox:leave", Payload::empty()).unwrap();
    inbox.join().wait().unwrap();
    let mut push = inbox.push_durable("note", Payload::json(r#"{"n":1}"#)).unwrap();
    assert!(inbox.leave().wait().is_ok());
    let outcome = reply_of(&mut push, WAIT);
    assert!(outcome.is_ok(), "the server replied ok: {outcome:?}");
    assert_eq!(log.recorded(), 1);
    assert_eq!(store.stats().entries, 0, "the ok reply was acked");
}

/// Under `FullPolicy::DropOldest` a push dropped to make room resolves
/// with `PushError::Dropped` (it will never be sent), the newer one is
/// delivered.
#[test]
fn a_push_dropped_to_make_room_resolves_its_handle() {
    let log = Arc::new(PushLog::new());
    let server = server_with_log(&log);
    let engine = engine();
    let limits = Limits::default().max_entries(1).policy(FullPolicy::DropOldest);
    let store = Arc::new(MemoryOutbox::new(limits));
    let (socket, _status) = socket_with(&engine, server.url(), |o| o.outbox_with(store.clone()));
    let inbox = socket.channel("inbox:evict", Payload::empty()).unwrap();
    let mut first = inbox.push_durable("note", Payload::json(r#"{"n":1}"#)).unwrap();
    let mut second = inbox.push_durable("note", Payload::json(r#"{"n":2}"#)).unwrap();
    assert_eq!(store.stats().dropped, 1);
    assert!(matches!(reply_of(&mut first, WAIT), Err(PushError::Dropped)));
    socket.connect().unwrap();
    inbox.join().wait().unwrap();
    assert!(reply_of(&mut second, WAIT).is_ok());
    assert_eq!(log.recorded(), 1);
}
