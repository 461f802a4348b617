//! The engine against servers that misbehave: unanswered heartbeats, a
//! stalled handshake, garbage, every close code. No panic, the right
//! status, a reconnect where phoenix.js would, and no socket left open.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::time::Duration;

use rig::engine::{ConnectionState, ErrorKind, Status};
use rig::protocol::{Backoff, Payload};

use crate::engine_fake::{Behaviour, FakeServer, Seen, sockets_to};
use crate::engine_util::{WAIT, engine, socket_with, until_status};

/// How long "nothing more happens" is watched for.
const QUIET: Duration = Duration::from_millis(300);

fn fast_retry(o: rig::engine::SocketOptionsBuilder) -> rig::engine::SocketOptionsBuilder {
    o.reconnect_backoff(Backoff::constant(Duration::from_millis(20)))
}

fn failed_with(kind: ErrorKind) -> impl Fn(&Status) -> bool {
    move |s| matches!(s, Status::Failed { error } if error.kind() == kind)
}

#[test]
fn s21_engine_unanswered_heartbeat_is_detected_and_reconnected() {
    let fake = FakeServer::start(|_| Behaviour::SilentWs);
    let engine = engine();
    let (socket, status) = socket_with(&engine, &fake.url(), |o| {
        fast_retry(o)
            .heartbeat_interval(Duration::from_millis(100))
            .heartbeat_timeout(Duration::from_millis(100))
    });
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    // One heartbeat goes out one interval after the open; when it is still
    // unanswered one timeout later, the connection is closed as dead.
    let seen = fake.until(WAIT, |s| matches!(s, Seen::Close(_)));
    let texts: Vec<&Seen> = seen.iter().filter(|s| matches!(s, Seen::Text(_))).collect();
    assert_eq!(texts, [&Seen::Text(r#"[null,"1","phoenix","heartbeat",{}]"#.to_owned())]);
    assert_eq!(seen.last(), Some(&Seen::Close(Some((1000, "heartbeat timeout".to_owned())))));
    let story = until_status(&status, WAIT, |s| *s == Status::Open);
    assert!(failed_with(ErrorKind::HeartbeatTimeout)(&story[0]), "{story:#?}");
    assert!(story.iter().any(|s| matches!(s, Status::WaitingToReconnect { attempt: 1, .. })));
    assert!(story.contains(&Status::Connecting { attempt: 1 }), "{story:#?}");
    assert_eq!(fake.accepted(), 2);
    let health = socket.health();
    assert!(health.heartbeat_timeouts >= 1 && health.reconnects == 1, "{health:?}");
    assert_eq!(health.last_error, Some(ErrorKind::HeartbeatTimeout));
    engine.shutdown();
    assert_eq!(sockets_to(fake.port()), 0);
}

#[test]
fn engine_stalled_handshake_times_out_and_retries() {
    let fake = FakeServer::start(|_| Behaviour::StallHandshake);
    let engine = engine();
    let (socket, status) = socket_with(&engine, &fake.url(), |o| {
        fast_retry(o).connect_timeout(Duration::from_millis(100))
    });
    socket.connect().unwrap();
    let story = until_status(&status, WAIT, |s| *s == Status::Connecting { attempt: 1 });
    assert!(story.iter().any(failed_with(ErrorKind::Timeout)), "{story:#?}");
    until_status(&status, WAIT, failed_with(ErrorKind::Timeout));
    assert!(fake.accepted() >= 2);
    engine.shutdown();
    assert_eq!(sockets_to(fake.port()), 0);
}

/// The first connection behaves as given; later ones stay silent.
fn first_then_silent(first: Behaviour) -> FakeServer {
    FakeServer::start(move |n| if n == 1 { first.clone() } else { Behaviour::SilentWs })
}

#[test]
fn engine_garbage_handshakes_are_typed_failures() {
    let engine = engine();
    let cases = [
        // Not HTTP at all: a protocol failure, retried.
        ("garbage\r\n\r\n", ErrorKind::Protocol, true),
        // A server error: retried.
        ("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n", ErrorKind::Upgrade, true),
        // Not a WebSocket endpoint: retrying cannot help.
        ("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", ErrorKind::Upgrade, false),
    ];
    let mut fakes = Vec::new();
    for (response, kind, retried) in cases {
        let fake = first_then_silent(Behaviour::RawResponse(response));
        let (socket, status) = socket_with(&engine, &fake.url(), fast_retry);
        socket.connect().unwrap();
        let story = until_status(&status, WAIT, failed_with(kind));
        assert_eq!(story.len(), 2, "{response:?}: {story:#?}");
        if retried {
            until_status(&status, WAIT, |s| *s == Status::Open);
        } else {
            until_status(&status, WAIT, |s| matches!(s, Status::Closed { .. }));
            assert_eq!(status.recv_timeout(QUIET).ok(), None, "{response:?} is not retried");
            assert_eq!(socket.state(), ConnectionState::Failed);
            assert_eq!(fake.accepted(), 1);
        }
        fakes.push((fake, socket));
    }
    assert!(engine.health().io_thread_alive);
    engine.shutdown();
    for (fake, _socket) in &fakes {
        assert_eq!(sockets_to(fake.port()), 0);
    }
}

#[test]
fn engine_garbage_frames_and_bad_json_do_not_kill_the_engine() {
    let engine = engine();
    // Invalid frame bytes after the upgrade: a protocol error, reconnect.
    let fake = first_then_silent(Behaviour::GarbageAfterUpgrade(&[0xff; 16]));
    let (socket, status) = socket_with(&engine, &fake.url(), fast_retry);
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    let story = until_status(&status, WAIT, |s| *s == Status::Open);
    assert!(failed_with(ErrorKind::Protocol)(&story[0]), "{story:#?}");
    assert_eq!(socket.health().reconnects, 1);

    // A text frame that is not a Phoenix message: counted, dropped, and
    // the connection stays.
    let fake2 = FakeServer::start(|_| Behaviour::SendText("not json"));
    let (socket2, status2) = socket_with(&engine, &fake2.url(), fast_retry);
    let room = socket2.channel("room:a", Payload::empty()).unwrap();
    let all = room.subscribe_all().unwrap();
    socket2.connect().unwrap();
    until_status(&status2, WAIT, |s| *s == Status::Open);
    assert_eq!(status2.recv_timeout(QUIET).ok(), None, "no failure, no reconnect");
    assert!(all.try_recv().is_err());
    let health = socket2.health();
    assert_eq!((health.decode_errors, health.frames_in, health.connections), (1, 1, 1));
    assert!(engine.health().io_thread_alive);
    drop((socket, socket2, room, all));
    engine.shutdown();
    assert_eq!(sockets_to(fake.port()) + sockets_to(fake2.port()), 0);
}

#[test]
fn engine_rate_limited_upgrade_waits_for_retry_after() {
    let fake = first_then_silent(Behaviour::RawResponse(
        "HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 0\r\n\r\n",
    ));
    let engine = engine();
    let (socket, status) = socket_with(&engine, &fake.url(), fast_retry);
    socket.connect().unwrap();
    let story = until_status(&status, WAIT, |s| matches!(s, Status::WaitingToReconnect { .. }));
    let Some(Status::Failed { error }) = story.get(1) else { panic!("{story:#?}") };
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::RateLimited, Some(429)));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(1)));
    // The backoff alone would retry after 20 ms; Retry-After holds it.
    assert_eq!(status.recv_timeout(QUIET).ok(), None);
    assert_eq!(fake.accepted(), 1);
    until_status(&status, WAIT, |s| *s == Status::Open);
    assert_eq!(fake.accepted(), 2);
    drop(socket);
}

#[test]
fn s27_s29_engine_close_codes_decide_the_reconnect() {
    let engine = engine();
    let mut fakes = Vec::new();
    for code in [1000_u16, 1001, 1002, 1008, 1011, 4000] {
        let fake = first_then_silent(Behaviour::CloseWith(code));
        let (socket, status) = socket_with(&engine, &fake.url(), fast_retry);
        socket.connect().unwrap();
        until_status(&status, WAIT, |s| *s == Status::Open);
        let closed = until_status(&status, WAIT, |s| matches!(s, Status::Closed { .. }));
        assert_eq!(
            closed.last(),
            Some(&Status::Closed { code: Some(code), reason: "bye".to_owned() })
        );
        if code == 1000 {
            // S27: a normal close is final.
            assert_eq!(status.recv_timeout(QUIET).ok(), None, "no reconnect after 1000");
            assert_eq!(socket.state(), ConnectionState::Idle);
        } else {
            // S28/S29: any other code reconnects.
            let story = until_status(&status, WAIT, |s| *s == Status::Open);
            assert!(story.contains(&Status::Connecting { attempt: 1 }), "{code}: {story:#?}");
        }
        fakes.push((fake, socket));
    }
    engine.shutdown();
    for (fake, _socket) in &fakes {
        assert_eq!(sockets_to(fake.port()), 0);
    }
}

#[test]
fn engine_unresolvable_host_fails_off_the_io_thread_and_is_retried() {
    let engine = engine();
    let (socket, status) = socket_with(&engine, "ws://nonexistent.invalid/socket", |o| {
        fast_retry(o).connect_timeout(Duration::from_secs(2))
    });
    socket.connect().unwrap();
    let story = until_status(&status, WAIT, |s| matches!(s, Status::WaitingToReconnect { .. }));
    // NXDOMAIN normally; a resolver without network may time out instead.
    assert!(
        story.iter().any(|s| failed_with(ErrorKind::Dns)(s) || failed_with(ErrorKind::Timeout)(s)),
        "{story:#?}"
    );
    assert!(engine.health().io_thread_alive);
}

#[test]
fn engine_idle_does_not_wake_up() {
    let server = rig::server::Server::start(rig::server::ServerConfig::builder().build()).unwrap();
    let engine = engine();
    let (socket, status) = socket_with(&engine, server.url(), |o| o);
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    // Open and idle: the next deadline is the heartbeat, 30 s away. (A
    // straggling readiness event from the connect may still come: a
    // periodic tick would show up as hundreds.)
    let before = engine.health().wakeups;
    assert_eq!(status.recv_timeout(QUIET).ok(), None);
    let woke = engine.health().wakeups - before;
    assert!(woke <= 2, "woke {woke} times while idle");
}

#[test]
fn engine_peer_hangs_up_in_every_connect_state() {
    let engine = engine();
    // Nothing listens: TCP connect refused.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (refused, status) = socket_with(&engine, &format!("ws://{closed_port}/socket"), fast_retry);
    refused.connect().unwrap();
    until_status(&status, WAIT, failed_with(ErrorKind::Connect));
    until_status(&status, WAIT, |s| matches!(s, Status::WaitingToReconnect { .. }));

    // Accepted, then hung up on before the upgrade answer (ws) and before
    // the TLS handshake (wss).
    let fake = FakeServer::start(|_| Behaviour::HangUp);
    let mut sockets = vec![refused];
    for url in [fake.url(), fake.url().replace("ws://", "wss://")] {
        let (socket, status) = socket_with(&engine, &url, fast_retry);
        socket.connect().unwrap();
        let story = until_status(&status, WAIT, |s| matches!(s, Status::Failed { .. }));
        let Some(Status::Failed { error }) = story.last() else { unreachable!() };
        assert!(matches!(error.kind(), ErrorKind::PeerClosed | ErrorKind::Tls), "{url}: {error}");
        until_status(&status, WAIT, |s| matches!(s, Status::WaitingToReconnect { .. }));
        sockets.push(socket);
    }
    assert!(engine.health().io_thread_alive);
    engine.shutdown();
    assert_eq!(sockets_to(fake.port()) + sockets_to(closed_port.port()), 0);
}

#[test]
fn s04_s08_engine_upgrade_request_carries_params_token_headers_and_vsn() {
    let fake = FakeServer::start(|_| Behaviour::SilentWs);
    let engine = engine();
    let (socket, status) = socket_with(&engine, &fake.url(), |o| {
        o.params([("token", "a b"), ("user", "ann")])
            .auth_token("t0k")
            .header("x-trace", "42")
            .header("origin", "http://localhost")
    });
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    let seen = fake.until(WAIT, |s| matches!(s, Seen::Request { .. }));
    let Some(Seen::Request { uri, headers }) = seen.last() else { unreachable!() };
    assert_eq!(uri, "/socket/websocket?token=a%20b&user=ann&vsn=2.0.0");
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(header("x-trace"), Some("42"));
    assert_eq!(header("origin"), Some("http://localhost"));
    // "t0k" in standard base64 without padding.
    assert_eq!(header("sec-websocket-protocol"), Some("phoenix, base64url.bearer.phx.dDBr"));
}
