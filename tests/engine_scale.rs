//! A thousand sockets on one engine (one I/O thread) against the embedded
//! server, every one joined, every one receiving a broadcast.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use rig::engine::{Engine, EngineConfig, SocketOptions};
use rig::protocol::Payload;

use crate::engine_fake::sockets_to;
use crate::engine_util::{WAIT, server};

#[test]
fn engine_a_thousand_sockets_on_one_engine_all_join() {
    // Client and server ends both live in this process.
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let wanted = 1000_usize;
    assert!(limit >= 2 * wanted as u64 + 100, "open files limit too low: {limit}");
    let server = server();
    let engine = Engine::start(EngineConfig::builder().subscription_capacity(8).build()).unwrap();

    let mut sockets = Vec::with_capacity(wanted);
    let mut joins = Vec::with_capacity(wanted);
    let mut shouts = Vec::with_capacity(wanted);
    for i in 0..wanted {
        let options = SocketOptions::builder(server.url()).seed(i as u64).build().unwrap();
        let socket = engine.socket(options).unwrap();
        socket.connect().unwrap();
        let room = socket.channel("room:scale", Payload::empty()).unwrap();
        shouts.push(room.subscribe("shout").unwrap());
        joins.push(room.join());
        sockets.push((socket, room));
    }
    for (i, join) in joins.iter_mut().enumerate() {
        let reply = join.wait_timeout(WAIT).unwrap_or_else(|| panic!("join {i} in time"));
        assert!(reply.unwrap().is_ok(), "join {i}");
    }
    let health = engine.health();
    assert_eq!(health.sockets, wanted as u64);
    assert!(health.io_thread_alive);
    let connections: u64 = sockets.iter().map(|(s, _)| s.health().connections).sum();
    assert_eq!(connections, wanted as u64);

    let _no_reply = sockets[0].1.push("shout", Payload::json(r#"{"to":"everyone"}"#));
    for (i, shout) in shouts.iter().enumerate() {
        let message = shout.recv_timeout(WAIT).unwrap_or_else(|e| panic!("socket {i}: {e}"));
        assert_eq!(message.payload.as_json(), Some(r#"{"to":"everyone"}"#));
    }
    engine.shutdown();
    assert_eq!(sockets_to(server.local_addr().port()), 0);
}
