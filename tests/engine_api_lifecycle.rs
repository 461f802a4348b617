//! Lifecycle callbacks (socket open, error, close with code, reconnecting;
//! channel error and close) run on the dispatcher pool, and `Channel::send`
//! sends without a reply and without tracking anything.

use crossbeam_channel::Receiver;
use rig::engine::{Engine, EngineConfig, EngineError, ErrorKind, SocketOptions, Status};
use rig::protocol::{CloseReason, ErrorCause, Payload};

use crate::engine_util::{WAIT, engine, server, socket_with, until_status};

/// A callback's sender and the receiver the test reads.
fn seen<T>() -> (crossbeam_channel::Sender<T>, Receiver<T>) {
    crossbeam_channel::unbounded()
}

#[test]
fn socket_callbacks_see_open_and_close_with_its_code_on_a_dispatcher() {
    let server = server();
    let engine = engine();
    let (socket, status) = socket_with(&engine, server.url(), |o| o);
    let (tx, events) = seen();
    let (open, close) = (tx.clone(), tx);
    socket
        .on_open(move || {
            let thread = std::thread::current().name().unwrap_or("").to_owned();
            open.send(format!("open on {thread}")).unwrap();
        })
        .unwrap();
    socket
        .on_close(move |code, reason| close.send(format!("close {code:?} {reason}")).unwrap())
        .unwrap();
    socket.connect().unwrap();
    assert_eq!(events.recv_timeout(WAIT).unwrap(), "open on rig-dispatch-0");
    socket.disconnect_with(4001, "going away").unwrap();
    // The code and reason are the close frame's: the server echoes the code.
    let closed = events.recv_timeout(WAIT).unwrap();
    assert!(closed.starts_with("close Some(4001)"), "{closed}");
    // The status receiver still gets every entry.
    until_status(&status, WAIT, |s| matches!(s, Status::Closed { code: Some(4001), .. }));
}

#[test]
fn socket_callbacks_see_errors_and_scheduled_reconnects() {
    let engine = engine();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (socket, _status) = socket_with(&engine, &format!("ws://{closed}/socket"), |o| o);
    let (errors_tx, errors) = seen();
    let (reconnects_tx, reconnects) = seen();
    socket.on_error(move |error| errors_tx.send(error.kind()).unwrap()).unwrap();
    socket.on_reconnecting(move |attempt, _at| reconnects_tx.send(attempt).unwrap()).unwrap();
    socket.connect().unwrap();
    assert_eq!(errors.recv_timeout(WAIT).unwrap(), ErrorKind::Connect);
    assert_eq!(reconnects.recv_timeout(WAIT).unwrap(), 1);
    socket.disconnect().unwrap();
}

#[test]
fn a_refused_token_reaches_on_error_as_an_auth_error() {
    let server =
        rig::server::Server::start(rig::server::ServerConfig::builder().token("secret").build())
            .unwrap();
    let engine = engine();
    let (socket, _status) = socket_with(&engine, server.url(), |o| o.params([("token", "wrong")]));
    let (tx, errors) = seen();
    socket.on_error(move |error| tx.send(error.kind()).unwrap()).unwrap();
    socket.connect().unwrap();
    assert_eq!(errors.recv_timeout(WAIT).unwrap(), ErrorKind::Auth);
}

#[test]
fn channel_callbacks_see_its_own_error_and_close_only() {
    let server = server();
    let engine = engine();
    let (socket, _status) = socket_with(&engine, server.url(), |o| o);
    socket.connect().unwrap();
    let room = socket.channel("room:crashy", Payload::empty()).unwrap();
    let other = socket.channel("room:other", Payload::empty()).unwrap();
    let (tx, events) = seen();
    let (error, close, other_close) = (tx.clone(), tx.clone(), tx);
    room.on_error(move |cause| {
        error.send(format!("error {}", matches!(cause, ErrorCause::Server { .. }))).unwrap();
    })
    .unwrap();
    room.on_close(move |reason| close.send(format!("close {reason:?}")).unwrap()).unwrap();
    other.on_close(move |reason| other_close.send(format!("other {reason:?}")).unwrap()).unwrap();
    room.join().wait().unwrap();
    other.join().wait().unwrap();

    let _crash = room.push("boom", Payload::empty());
    assert_eq!(events.recv_timeout(WAIT).unwrap(), "error true");
    let mut rejoined = room.push("echo", Payload::empty());
    assert!(rejoined.wait_timeout(WAIT).expect("the channel rejoined").is_ok());
    room.leave().wait().unwrap();
    assert_eq!(events.recv_timeout(WAIT).unwrap(), format!("close {:?}", CloseReason::Left));
    other.leave().wait().unwrap();
    assert_eq!(events.recv_timeout(WAIT).unwrap(), format!("other {:?}", CloseReason::Left));
}

#[test]
fn send_goes_without_a_reply_and_only_on_a_joined_channel() {
    let server = server();
    let engine = engine();
    let (socket, _status) = socket_with(&engine, server.url(), |o| o);
    socket.connect().unwrap();
    let room = socket.channel("room:send", Payload::empty()).unwrap();
    let shouts = room.subscribe("shout").unwrap();
    assert!(matches!(
        room.send("shout", Payload::empty()),
        Err(EngineError::NotJoined { ref topic, .. }) if topic == "room:send"
    ));
    room.join().wait().unwrap();
    room.send("shout", Payload::json(r#"{"s":1}"#)).unwrap();
    let shout = shouts.recv_timeout(WAIT).unwrap();
    assert_eq!(shout.payload.as_json(), Some(r#"{"s":1}"#));
    // A send the server does answer: the reply resolves nothing and is
    // counted as unmatched; the channel carries on.
    room.send("echo", Payload::empty()).unwrap();
    assert!(room.push("echo", Payload::empty()).wait().is_ok());
}

/// A send that rig-io cannot make any more (the channel left, or was
/// removed, between the call and rig-io's turn) is counted, never lost
/// silently. The invoker runs rig-io's turns on this thread, so the
/// commands queue up behind each other: the leave goes first.
#[test]
fn a_send_overtaken_by_a_leave_or_a_removal_is_counted() {
    let server = server();
    let (engine, mut invoker) = Engine::start_invoker(EngineConfig::default()).unwrap();
    let socket = engine.socket(SocketOptions::builder(server.url()).build().unwrap()).unwrap();
    socket.connect().unwrap();
    let room = socket.channel("room:late", Payload::empty()).unwrap();
    let other = socket.channel("room:gone", Payload::empty()).unwrap();
    let (mut joined, mut other_joined) = (room.join(), other.join());
    invoker
        .run_until(|| joined.try_outcome().is_some() && other_joined.try_outcome().is_some())
        .unwrap();
    room.send("shout", Payload::empty()).unwrap();
    assert_eq!(socket.health().sends_lost, 0);
    let mut left = room.leave();
    room.send("shout", Payload::empty()).unwrap();
    other.remove().unwrap();
    other.send("shout", Payload::empty()).unwrap();
    invoker.run_until(|| left.try_outcome().is_some()).unwrap();
    assert_eq!(socket.health().sends_lost, 2);
}

/// `Socket::off` removes one lifecycle callback (phoenix.js
/// `socket.off(refs)`), a channel's as well; the others stay.
#[test]
fn off_removes_one_callback_and_keeps_the_others() {
    let server = server();
    let engine = engine();
    let (socket, status) = socket_with(&engine, server.url(), |o| o);
    let (tx, events) = seen();
    let (first, second) = (tx.clone(), tx.clone());
    let gone = socket.on_open(move || first.send("first").unwrap()).unwrap();
    socket.on_open(move || second.send("second").unwrap()).unwrap();
    socket.connect().unwrap();
    let mut opened: Vec<_> = (0..2).map(|_| events.recv_timeout(WAIT).unwrap()).collect();
    opened.sort_unstable();
    assert_eq!(opened, ["first", "second"]);
    let room = socket.channel("room:off", Payload::empty()).unwrap();
    let closed = tx.clone();
    let close = room.on_close(move |_| closed.send("room closed").unwrap()).unwrap();
    room.join().wait().unwrap();
    socket.off(gone).unwrap();
    socket.off(close).unwrap();
    socket.off(close).unwrap(); // a ref already gone is ignored
    room.leave().wait().unwrap();
    socket.disconnect().unwrap();
    until_status(&status, WAIT, |s| matches!(s, Status::Closed { .. }));
    socket.connect().unwrap();
    // Worker 0 runs the callbacks in order: "second" for the new open
    // comes after anything the removed ones would have seen.
    assert_eq!(events.recv_timeout(WAIT).unwrap(), "second");
    assert!(events.try_recv().is_err());
}
