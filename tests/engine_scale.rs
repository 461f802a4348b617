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

/// Sockets spread over loopback source addresses (as an engine holding
/// more sockets than one address has ephemeral ports would) connect and
/// join; a source address the host lacks fails the connect, typed.
#[test]
fn engine_sockets_from_chosen_local_addresses_join() {
    use std::net::{IpAddr, Ipv4Addr};
    let server = server();
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let mut joins = Vec::new();
    let mut keep = Vec::new();
    for i in 0..50_u8 {
        let from = IpAddr::V4(Ipv4Addr::new(127, 0, 1, i + 1));
        let options = SocketOptions::builder(server.url()).local_addr(from).build().unwrap();
        let socket = engine.socket(options).unwrap();
        socket.connect().unwrap();
        let channel = socket.channel(format!("room:spread-{i}"), Payload::empty()).unwrap();
        joins.push(channel.join());
        keep.push((socket, channel));
    }
    for join in joins {
        assert!(join.wait().unwrap().is_ok());
    }
    let options = SocketOptions::builder(server.url())
        .local_addr(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)))
        .build()
        .unwrap();
    let socket = engine.socket(options).unwrap();
    let status = socket.status().unwrap();
    socket.connect().unwrap();
    let failed = std::iter::from_fn(|| status.recv_timeout(WAIT).ok()).find_map(|s| match s {
        rig::engine::Status::Failed { error } => Some(error.kind()),
        _ => None,
    });
    assert_eq!(failed, Some(rig::engine::ErrorKind::Connect));
}
