//! Shared helpers of the integration tests.
//!
//! In scope: starting `rig serve` as a child process on 127.0.0.1:0 and
//! reading its `listening on ...` line with a deadline (`server`), a raw
//! WebSocket client over tungstenite whose every wait is bounded by a deadline
//! (`ws`, with its hand-written HTTP side in `http`), the real Phoenix
//! transcripts and their comparison rules (`fixtures`) and the engine that
//! replays them (`replay`). Out of scope: rig's own client engine; these
//! helpers talk to the server the way a foreign client would, byte for byte.
//!
//! Every wait ends at a [`Deadline`]; nothing sleeps and then asserts. The
//! only sleep is the short back-off inside [`poll_until`], which waits for a
//! condition on another process and still ends at its deadline.

#![allow(dead_code, reason = "each test module uses a different subset of the helpers")]

pub(crate) mod fixtures;
pub(crate) mod http;
pub(crate) mod replay;
pub(crate) mod server;
pub(crate) mod ws;

use std::time::Duration;

pub(crate) use server::RigServer;
pub(crate) use ws::{Received, WsClient};

/// A point in wall-clock time by which a wait must end.
///
/// The tests drive a real server process over real sockets, so unlike the
/// sans-IO core they need the real monotonic clock; it is read here only.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(std::time::Instant);

impl Deadline {
    /// A deadline `timeout` from now.
    pub(crate) fn after(timeout: Duration) -> Self {
        Self(now() + timeout)
    }

    /// Time left, or `None` once the deadline has passed.
    pub(crate) fn remaining(self) -> Option<Duration> {
        self.0.checked_duration_since(now()).filter(|left| !left.is_zero())
    }

    /// Whether the deadline has passed.
    pub(crate) fn expired(self) -> bool {
        self.remaining().is_none()
    }
}

/// The real monotonic clock (see [`Deadline`] for why the tests read it).
#[expect(clippy::disallowed_methods, reason = "integration tests time a real child process")]
pub(crate) fn now() -> std::time::Instant {
    std::time::Instant::now()
}

/// Checks `condition` until it holds or `timeout` passes; returns whether it held.
///
/// For conditions on another process (its open file descriptors, its exit),
/// which offer nothing to block on.
pub(crate) fn poll_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Deadline::after(timeout);
    loop {
        if condition() {
            return true;
        }
        let Some(left) = deadline.remaining() else { return false };
        pause(left.min(Duration::from_millis(20)));
    }
}

/// A short back-off between two checks of [`poll_until`].
#[expect(clippy::disallowed_methods, reason = "back-off between polls of another process")]
fn pause(duration: Duration) {
    std::thread::sleep(duration);
}

/// The V2 join frame used by the health checks.
pub(crate) const HEALTH_JOIN: &str = r#"["1","1","room:health","phx_join",{}]"#;

/// Proves that `server` still serves: a fresh client connects, joins a room,
/// gets an echo and a heartbeat reply, and closes cleanly.
pub(crate) fn assert_healthy(server: &RigServer) {
    let mut client = WsClient::connect(server.addr(), "/socket/websocket?token=secret&vsn=2.0.0");
    client.send_text(HEALTH_JOIN);
    client.expect_text(
        r#"["1","1","room:health","phx_reply",{"response":{"joined":"room:health"},"status":"ok"}]"#,
    );
    client.send_text(r#"["1","2","room:health","echo",{"still":"alive"}]"#);
    client.expect_text(
        r#"["1","2","room:health","phx_reply",{"response":{"still":"alive"},"status":"ok"}]"#,
    );
    client.send_text(r#"[null,"3","phoenix","heartbeat",{}]"#);
    client.expect_text(r#"[null,"3","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
    client.close_expecting(1000, 1000);
}
