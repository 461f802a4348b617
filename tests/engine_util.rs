//! Helpers for the engine tests: an embedded server, an engine, and
//! deadline-bounded waits on status streams.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::time::Duration;

use crossbeam_channel::Receiver;
use rig::engine::{Engine, EngineConfig, Socket, SocketOptions, SocketOptionsBuilder, Status};
use rig::server::{Server, ServerConfig, ServerHandle};

/// The longest any single wait may take.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

pub(crate) fn server() -> ServerHandle {
    Server::start(ServerConfig::builder().build()).unwrap()
}

pub(crate) fn engine() -> Engine {
    Engine::start(EngineConfig::default()).unwrap()
}

/// A socket to `url` with the given options, plus its status stream
/// (subscribed before anything happens).
pub(crate) fn socket_with(
    engine: &Engine,
    url: &str,
    configure: impl FnOnce(SocketOptionsBuilder) -> SocketOptionsBuilder,
) -> (Socket, Receiver<Status>) {
    let options = configure(SocketOptions::builder(url)).build().unwrap();
    let socket = engine.socket(options).unwrap();
    let status = socket.status().unwrap();
    (socket, status)
}

/// Reads statuses until one matches `want`; returns everything read (the
/// match last). Panics with the story so far when `within` passes.
pub(crate) fn until_status(
    status: &Receiver<Status>,
    within: Duration,
    want: impl Fn(&Status) -> bool,
) -> Vec<Status> {
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + within;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(clock.now());
        match status.recv_timeout(left) {
            Ok(s) => {
                let done = want(&s);
                seen.push(s);
                if done {
                    return seen;
                }
            }
            Err(e) => panic!("no matching status within {within:?} ({e}); saw {seen:#?}"),
        }
    }
}
