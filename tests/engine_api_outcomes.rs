//! A push's outcome cannot be mistaken: `Ok` only for an `ok` reply; an
//! `error` reply, a timeout and a lost channel are each an `Err` (the reply
//! kept inside), and the phoenix.js per-status callbacks see the same.

use std::time::Duration;

use crossbeam_channel::Receiver;
use rig::engine::{Channel, PushError, Socket};
use rig::protocol::{AbandonReason, Payload};

use crate::engine_util::{WAIT, engine, server, socket_with};

/// A long push timeout, so only the server's doing can resolve a push.
const LONG: Duration = Duration::from_secs(60);

fn joined(socket: &Socket, topic: &str) -> Channel {
    socket.connect().unwrap();
    let room = socket.channel(topic, Payload::empty()).unwrap();
    room.join().wait().unwrap();
    room
}

#[test]
fn waiting_gives_ok_only_for_an_ok_reply() {
    let server = server();
    let engine = engine();
    let (socket, _status) = socket_with(&engine, server.url(), |o| o);
    let room = joined(&socket, "room:outcomes");

    let reply = room.push("echo", Payload::json(r#"{"n":1}"#)).wait().unwrap();
    assert_eq!(reply.response.as_json(), Some(r#"{"n":1}"#));

    let err = room.push("echo_error", Payload::json(r#"{"n":2}"#)).wait().unwrap_err();
    let reply = err.reply().expect("the error reply is inside the Err");
    assert_eq!((&*reply.status, reply.response.as_json()), ("error", Some(r#"{"n":2}"#)));
    assert!(err.to_string().contains(r#"{"n":2}"#), "{err}");

    let err = room.push_timeout("noreply", Payload::empty(), Duration::from_millis(50)).wait();
    assert_eq!(err, Err(PushError::Timeout));

    // The server closes the channel while a push waits for its reply.
    let mut pending = room.push_timeout("noreply", Payload::empty(), LONG);
    let _closing = room.push("close", Payload::empty());
    let lost = pending.wait_timeout(WAIT).expect("resolved when the channel closed");
    assert_eq!(lost, Err(PushError::Abandoned(AbandonReason::ChannelClosed)));
}

#[test]
fn a_refused_join_is_an_err_that_stops_the_question_mark() {
    let server = server();
    let engine = engine();
    let (socket, _status) = socket_with(&engine, server.url(), |o| o);
    socket.connect().unwrap();
    let forbidden = socket.channel("room:forbidden", Payload::empty()).unwrap();
    let join = || -> Result<&'static str, PushError> {
        forbidden.join().wait()?;
        Ok("carried on")
    };
    let err = join().unwrap_err();
    let reply = err.reply().expect("the refusal is kept");
    assert_eq!(reply.response.as_json(), Some(r#"{"reason":"unauthorized"}"#));
}

/// Runs a push with all three status callbacks; returns what ran.
fn callbacks_of(push: rig::engine::Push) -> Receiver<String> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let (ok, error, timeout) = (tx.clone(), tx.clone(), tx);
    let _handed_over_on_drop = push
        .on_ok(move |reply| ok.send(format!("ok {}", reply.response.as_json().unwrap())).unwrap())
        .on_error(move |reply| error.send(format!("error {}", reply.status)).unwrap())
        .on_timeout(move || timeout.send("timeout".to_owned()).unwrap());
    rx
}

#[test]
fn each_status_runs_its_own_callback_on_a_dispatcher() {
    let server = server();
    let engine = engine();
    let (socket, _status) = socket_with(&engine, server.url(), |o| o);
    let room = joined(&socket, "room:callbacks");

    let ok = callbacks_of(room.push("echo", Payload::json("[1]")));
    assert_eq!(ok.recv_timeout(WAIT).unwrap(), "ok [1]");
    let error = callbacks_of(room.push("echo_error", Payload::empty()));
    assert_eq!(error.recv_timeout(WAIT).unwrap(), "error error");
    let timeout =
        callbacks_of(room.push_timeout("noreply", Payload::empty(), Duration::from_millis(1)));
    assert_eq!(timeout.recv_timeout(WAIT).unwrap(), "timeout");
    // Each ran once, and only its own.
    for rx in [ok, error, timeout] {
        assert!(rx.recv_timeout(WAIT).is_err(), "every sender is gone after one callback");
    }
}

#[test]
fn callbacks_run_beside_wait_and_then() {
    let server = server();
    let engine = engine();
    let (socket, _status) = socket_with(&engine, server.url(), |o| o);
    let room = joined(&socket, "room:callbacks_wait");

    let (tx, rx) = crossbeam_channel::unbounded();
    let seen = tx.clone();
    let outcome = room
        .push("echo_error", Payload::empty())
        .on_error(move |reply| seen.send(format!("on_error {}", reply.status)).unwrap())
        .wait();
    assert!(outcome.unwrap_err().reply().is_some());
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), "on_error error");

    let seen = tx.clone();
    room.push("echo", Payload::empty())
        .on_ok(move |_| seen.send("on_ok".into()).unwrap())
        .then(move |outcome| tx.send(format!("then {}", outcome.is_ok())).unwrap());
    let mut both = [rx.recv_timeout(WAIT).unwrap(), rx.recv_timeout(WAIT).unwrap()];
    both.sort();
    assert_eq!(both, ["on_ok", "then true"]);
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
struct Echo {
    n: u32,
}

#[test]
fn typed_payloads_go_in_and_come_out_through_the_engine() {
    let server = server();
    let engine = engine();
    let (socket, _status) = socket_with(&engine, server.url(), |o| o);
    let room = joined(&socket, "room:typed");
    let all = room.subscribe_all().unwrap();

    let reply = room.push("echo", Payload::from_serde(&Echo { n: 7 }).unwrap()).wait().unwrap();
    assert_eq!(reply.decode::<Echo>().unwrap(), Echo { n: 7 });

    let pushed = room.push("push_me", Payload::from(serde_json::json!({"n": "seven"})));
    assert!(pushed.wait().is_ok());
    let message = all.recv_timeout(WAIT).unwrap();
    let err = message.decode::<Echo>().unwrap_err();
    let rig::protocol::PayloadError::Json { context, message: why, line, column } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(context, r#"event "pushed" on room:typed"#);
    assert!(why.starts_with("invalid type: string \"seven\""), "{why}");
    assert_eq!((*line, *column), (1, 12));
}

#[test]
fn on_decoded_hands_the_handler_typed_events_or_the_reason_they_do_not_fit() {
    let server = server();
    let engine = engine();
    let (socket, _status) = socket_with(&engine, server.url(), |o| o);
    socket.connect().unwrap();
    let room = socket.channel("room:typed_on", Payload::empty()).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    room.on_decoded("shout", move |echo: Result<Echo, _>| tx.send(echo).unwrap()).unwrap();
    room.join().wait().unwrap();
    room.send("shout", Payload::from_serde(&Echo { n: 3 }).unwrap()).unwrap();
    room.send("shout", Payload::json(r#"{"m":3}"#)).unwrap();
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), Ok(Echo { n: 3 }));
    let err = rx.recv_timeout(WAIT).unwrap().unwrap_err();
    assert!(err.to_string().contains("missing field `n`"), "{err}");
}
