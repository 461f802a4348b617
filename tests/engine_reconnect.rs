//! Connection policy against the embedded server: refused credentials,
//! token and params closures on every connect, reconnect after a server
//! restart with rejoins and buffered pushes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use rig::engine::{ChannelChange, ConnectionState, ErrorKind, Status};
use rig::protocol::{Backoff, ChannelState, ErrorCause, Payload};
use rig::server::{Server, ServerConfig};

use crate::engine_util::{WAIT, engine, socket_with, until_status};

/// How long "nothing more happens" is watched for.
const QUIET: Duration = Duration::from_millis(300);

fn token_server() -> rig::server::ServerHandle {
    Server::start(ServerConfig::builder().token("secret").build()).unwrap()
}

#[test]
fn engine_refused_token_is_an_auth_failure_without_reconnect_storm() {
    let server = token_server();
    let engine = engine();
    let (socket, status) = socket_with(&engine, server.url(), |o| {
        o.params([("token", "wrong")])
            .reconnect_backoff(Backoff::constant(Duration::from_millis(10)))
    });
    socket.connect().unwrap();
    let story = until_status(&status, WAIT, |s| matches!(s, Status::Closed { .. }));
    assert_eq!(
        story,
        [
            Status::Connecting { attempt: 0 },
            Status::AuthFailed { status: 403 },
            Status::Closed { code: None, reason: String::new() }
        ]
    );
    // No reconnect: the stream stays quiet and one attempt was made.
    assert_eq!(status.recv_timeout(QUIET).ok(), None);
    let health = socket.health();
    assert_eq!((health.connect_attempts, health.auth_failures, health.connections), (1, 1, 0));
    assert_eq!(health.state, ConnectionState::AuthFailed);
    assert_eq!(health.last_error, Some(ErrorKind::Auth));
    let error = socket.last_error().unwrap();
    assert_eq!(error.http_status(), Some(403));
}

#[test]
fn s03_engine_retry_refused_reads_the_params_again_on_every_connect() {
    let server = token_server();
    let engine = engine();
    let calls = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&calls);
    let (socket, status) = socket_with(&engine, server.url(), move |o| {
        o.retry_refused(true)
            .reconnect_backoff(Backoff::constant(Duration::from_millis(10)))
            .params_fn(move || {
                let n = counted.fetch_add(1, Ordering::SeqCst);
                let token = if n == 0 { "wrong" } else { "secret" };
                vec![("token".to_owned(), token.to_owned())]
            })
    });
    socket.connect().unwrap();
    let story = until_status(&status, WAIT, |s| *s == Status::Open);
    assert!(
        story
            .iter()
            .any(|s| matches!(s, Status::Failed { error } if error.kind() == ErrorKind::Auth)),
        "{story:#?}"
    );
    assert!(story.contains(&Status::Connecting { attempt: 1 }), "{story:#?}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let health = socket.health();
    assert_eq!((health.connect_attempts, health.auth_failures, health.connections), (2, 1, 1));
}

#[test]
fn s08_engine_reconnect_now_after_auth_failure_uses_the_fresh_token() {
    let server = token_server();
    let engine = engine();
    let good = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&good);
    // The token travels in the bearer subprotocol here, not in the query.
    let (socket, status) = socket_with(&engine, server.url(), move |o| {
        o.auth_token_fn(move || {
            if flag.load(Ordering::SeqCst) { "secret" } else { "nope" }.to_owned()
        })
        .header("x-rig-test", "1")
    });
    let room = socket.channel("room:auth", Payload::empty()).unwrap();
    let mut join = room.join();
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| matches!(s, Status::AuthFailed { status: 403 }));
    assert_eq!(join.try_outcome(), None, "the join waits for a connection");
    good.store(true, Ordering::SeqCst);
    socket.reconnect_now().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    assert!(join.wait_timeout(WAIT).unwrap().unwrap().is_ok());
}

#[test]
fn s18_s25_s33_engine_server_restart_reconnects_rejoins_and_sends_buffered_pushes() {
    let server = Server::start(ServerConfig::builder().build()).unwrap();
    let addr = server.local_addr();
    let url = server.url().to_owned();
    let engine = engine();
    let (socket, status) = socket_with(&engine, &url, |o| {
        o.reconnect_backoff(Backoff::constant(Duration::from_millis(20)))
    });
    socket.connect().unwrap();
    let a = socket.channel("room:a", Payload::empty()).unwrap();
    let b = socket.channel("room:b", Payload::empty()).unwrap();
    let shouts = a.subscribe("shout").unwrap();
    assert!(a.join().wait().unwrap().is_ok());
    assert!(b.join().wait().unwrap().is_ok());
    until_status(
        &status,
        WAIT,
        |s| matches!(s, Status::Channel { channel, change: ChannelChange::State { to: ChannelState::Joined, .. } } if channel.topic() == "room:b"),
    );

    server.shutdown();
    let down = until_status(&status, WAIT, |s| matches!(s, Status::WaitingToReconnect { .. }));
    for topic in ["room:a", "room:b"] {
        assert!(
            down.iter().any(|s| matches!(s, Status::Channel { channel, change: ChannelChange::Error(cause) } if matches!(**cause, ErrorCause::Transport(_)) && channel.topic() == topic)),
            "{topic} errored: {down:#?}"
        );
    }
    assert!(down.iter().any(|s| matches!(s, Status::Closed { .. })), "{down:#?}");
    // Attempts fail while the server is down.
    let failing = until_status(
        &status,
        WAIT,
        |s| matches!(s, Status::Failed { error } if error.kind() == ErrorKind::Connect),
    );
    assert!(failing.iter().any(|s| matches!(s, Status::Connecting { attempt } if *attempt >= 1)));
    assert_ne!(socket.state(), ConnectionState::Open);

    // Pushed while offline: buffered until the rejoin.
    let mut echo = a.push("echo", Payload::json(r#"{"offline":true}"#));
    let _no_reply = a.push("shout", Payload::json(r#"{"after":"restart"}"#));

    let _server = Server::start(ServerConfig::builder().addr(addr).build()).unwrap();
    let back = until_status(&status, WAIT, |s| *s == Status::Open);
    assert!(back.iter().all(|s| *s != Status::AuthFailed { status: 403 }));
    let reply = echo.wait_timeout(WAIT).expect("buffered push answered").unwrap();
    assert_eq!(reply.response.as_json(), Some(r#"{"offline":true}"#));
    assert_eq!(
        shouts.recv_timeout(WAIT).unwrap().payload.as_json(),
        Some(r#"{"after":"restart"}"#)
    );
    let mut rejoined = Vec::new();
    while rejoined.len() < 2 {
        let story = until_status(&status, WAIT, |s| {
            matches!(
                s,
                Status::Channel {
                    change: ChannelChange::State { to: ChannelState::Joined, .. },
                    ..
                }
            )
        });
        if let Some(Status::Channel { channel, .. }) = story.last() {
            rejoined.push(channel.topic().to_owned());
        }
    }
    rejoined.sort();
    assert_eq!(rejoined, ["room:a", "room:b"]);
    assert_eq!((a.state(), b.state()), (ChannelState::Joined, ChannelState::Joined));
    let health = socket.health();
    assert_eq!((health.connections, health.reconnects), (2, 1));
    assert!(health.connect_attempts >= 3, "{health:?}");
}

#[test]
fn engine_reconnect_now_skips_the_backoff_wait() {
    let engine = engine();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    // A backoff far longer than any wait below.
    let (socket, status) = socket_with(&engine, &format!("ws://{free}/socket"), |o| {
        o.reconnect_backoff(Backoff::constant(Duration::from_secs(60)))
    });
    socket.connect().unwrap();
    let story = until_status(&status, WAIT, |s| matches!(s, Status::WaitingToReconnect { .. }));
    assert!(
        story
            .iter()
            .any(|s| matches!(s, Status::Failed { error } if error.kind() == ErrorKind::Connect))
    );
    assert_eq!(socket.state(), ConnectionState::WaitingToReconnect);
    let _server = Server::start(ServerConfig::builder().addr(free).build()).unwrap();
    socket.reconnect_now().unwrap();
    let story = until_status(&status, WAIT, |s| *s == Status::Open);
    assert_eq!(story.first(), Some(&Status::Connecting { attempt: 0 }), "{story:#?}");
    assert_eq!(socket.health().connect_attempts, 2);
}
