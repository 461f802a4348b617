//! The auth-token subprotocol against servers that answer it differently.
//!
//! phoenix.js (1.8) sends its `authToken` as `Sec-WebSocket-Protocol:
//! phoenix, base64url.bearer.phx.<token>`. Phoenix 1.8 answers `phoenix` only
//! when the socket has `auth_token: true`; Phoenix 1.7, and 1.8 without that
//! option, answer no subprotocol at all. RFC 6455 section 4.1 fails only a
//! subprotocol that was not offered, so rig connects when none comes back
//! (browsers and the `ws` package fail that handshake; see
//! `transport/upgrade.rs`) and still fails one it never offered.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use rig::engine::{ErrorKind, SocketOptionsBuilder, Status};

use crate::engine_fake::{Behaviour, FakeServer, Seen};
use crate::engine_util::{WAIT, engine, socket_with, until_status};

fn with_token(o: SocketOptionsBuilder) -> SocketOptionsBuilder {
    o.auth_token("t0k")
}

#[test]
fn engine_token_offered_and_no_subprotocol_answered_connects() {
    let fake = FakeServer::start(|_| Behaviour::Subprotocol(None));
    let engine = engine();
    let (socket, status) = socket_with(&engine, &fake.url(), with_token);
    socket.connect().unwrap();
    let story = until_status(&status, WAIT, |s| matches!(s, Status::Open | Status::Failed { .. }));
    assert_eq!(story.last(), Some(&Status::Open), "{story:#?}");
    let seen = fake.until(WAIT, |s| matches!(s, Seen::Request { .. }));
    let Some(Seen::Request { headers, .. }) = seen.last() else { unreachable!() };
    let offered = headers.iter().find(|(k, _)| k == "sec-websocket-protocol");
    assert_eq!(offered.map(|(_, v)| v.as_str()), Some("phoenix, base64url.bearer.phx.dDBr"));
    engine.shutdown();
}

#[test]
fn engine_subprotocol_not_offered_fails_the_upgrade() {
    let engine = engine();
    // (answer, token offered)
    let cases = [
        // Offered `phoenix` and the token; the server picks something else.
        (Some("mqtt"), true),
        // Subprotocol names are compared exactly (RFC 6455: case-sensitive).
        (Some("Phoenix"), true),
        // Nothing offered, something answered.
        (Some("phoenix"), false),
    ];
    let mut fakes = Vec::new();
    for (answer, token) in cases {
        let fake = FakeServer::start(move |_| Behaviour::Subprotocol(answer));
        let (socket, status) =
            socket_with(&engine, &fake.url(), |o| if token { with_token(o) } else { o });
        socket.connect().unwrap();
        let story =
            until_status(&status, WAIT, |s| matches!(s, Status::Open | Status::Failed { .. }));
        let failed = matches!(story.last(), Some(Status::Failed { error }) if error.kind() == ErrorKind::Protocol);
        assert!(failed, "answer {answer:?}, token {token}: {story:#?}");
        fakes.push((fake, socket));
    }
    engine.shutdown();
}
