//! The engine against the embedded server: join, push, reply, server
//! pushes, broadcasts, binary frames; over ws and wss.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::time::Duration;

use rig::engine::{Engine, PushError, SocketOptionsBuilder, Status};
use rig::protocol::{ChannelState, Payload};
use rig::server::{Server, ServerConfig, ServerHandle, TlsConfig as ServerTls};

use crate::engine_util::{WAIT, engine, server, socket_with, until_status};

/// The whole channel round trip on one socket.
fn round_trip(
    engine: &Engine,
    url: &str,
    configure: impl FnOnce(SocketOptionsBuilder) -> SocketOptionsBuilder,
) {
    let (socket, status) = socket_with(engine, url, configure);
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    assert!(socket.is_connected());

    let room = socket.channel("room:lobby", Payload::json(r#"{"user":"ann"}"#)).unwrap();
    let all = room.subscribe_all().unwrap();
    let shouts = room.subscribe("shout").unwrap();
    let mut join = room.join();
    let reply = join.wait_timeout(WAIT).expect("join in time").unwrap();
    assert!(reply.is_ok());
    assert_eq!(reply.response.as_json(), Some(r#"{"joined":"room:lobby"}"#));
    assert_eq!(room.state(), ChannelState::Joined);

    // push / reply, both statuses
    let reply = room.push("echo", Payload::json(r#"{"n":1}"#)).wait().unwrap();
    assert_eq!((&*reply.status, reply.response.as_json()), ("ok", Some(r#"{"n":1}"#)));
    let refused = room.push("echo_error", Payload::json(r#"{"n":2}"#)).wait().unwrap_err();
    let reply = refused.reply().expect("an error reply is an Err with the reply inside");
    assert_eq!((&*reply.status, reply.response.as_json()), ("error", Some(r#"{"n":2}"#)));

    // a server push arrives before the reply to the push that caused it
    let reply = room.push("push_me", Payload::json(r#"{"p":3}"#)).wait().unwrap();
    assert!(reply.is_ok());
    let pushed = all.recv_timeout(WAIT).unwrap();
    assert_eq!((&*pushed.event, pushed.payload.as_json()), ("pushed", Some(r#"{"p":3}"#)));

    // a broadcast reaches the sender's own subscriptions, filtered by event
    room.send("shout", Payload::json(r#"{"s":4}"#)).unwrap();
    let shout = shouts.recv_timeout(WAIT).unwrap();
    assert_eq!(shout.payload.as_json(), Some(r#"{"s":4}"#));
    assert!(shout.join_ref.is_none() && shout.r#ref.is_none());
    assert_eq!(&*all.recv_timeout(WAIT).unwrap().event, "shout");

    // binary: push, reply, server push, broadcast
    let reply = room.push("binary", Payload::binary(vec![1_u8, 2, 3])).wait().unwrap();
    assert!(reply.is_ok());
    assert_eq!(reply.response, Payload::binary(vec![1_u8, 2, 3]));
    let reply = room.push("binary_push", Payload::binary(vec![9_u8])).wait().unwrap();
    assert!(reply.is_ok());
    let bin = all.recv_timeout(WAIT).unwrap();
    assert_eq!((&*bin.event, &bin.payload), ("bin_push", &Payload::binary(vec![9_u8])));
    let _no_reply = room.push("binary_shout", Payload::binary(vec![7_u8, 7]));
    let bin = all.recv_timeout(WAIT).unwrap();
    assert_eq!((&*bin.event, &bin.payload), ("bin_shout", &Payload::binary(vec![7_u8, 7])));

    // a refused join is an error reply
    let forbidden = socket.channel("room:forbidden", Payload::empty()).unwrap();
    let refused = forbidden.join().wait().unwrap_err();
    let reply = refused.reply().expect("the refusal is kept");
    assert_eq!(
        (&*reply.status, reply.response.as_json()),
        ("error", Some(r#"{"reason":"unauthorized"}"#))
    );

    // leave: ok, then the channel is closed and its subscriptions end
    assert!(room.leave().wait().unwrap().is_ok());
    assert_eq!(room.state(), ChannelState::Closed);
    assert!(matches!(
        all.recv_timeout(WAIT),
        Err(crossbeam_channel::RecvTimeoutError::Disconnected)
    ));
    assert_eq!(room.push("echo", Payload::empty()).wait(), Err(PushError::ChannelGone));

    let health = socket.health();
    assert_eq!(health.connections, 1);
    assert!(health.frames_in >= 10 && health.frames_out >= 10, "{health:?}");
    assert_eq!(health.dropped, 0);
    socket.disconnect().unwrap();
    until_status(&status, WAIT, |s| matches!(s, Status::Closed { .. }));
}

#[test]
fn engine_join_push_reply_broadcast_binary_over_ws() {
    let server = server();
    let engine = engine();
    round_trip(&engine, server.url(), |o| o);
}

fn tls_server() -> (ServerHandle, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = certified.cert.pem();
    let key_pem = certified.signing_key.serialize_pem();
    let tls = ServerTls::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
    let server = Server::start(ServerConfig::builder().tls(tls).build()).unwrap();
    (server, cert_pem)
}

#[test]
fn engine_join_push_reply_broadcast_binary_over_wss() {
    let (server, ca) = tls_server();
    let engine = engine();
    // "localhost" goes through the resolver thread and may yield ::1 first,
    // where nothing listens: the next address is tried.
    let url = format!("wss://localhost:{}/socket", server.local_addr().port());
    let tls = rig::transport::TlsConfig::new().webpki_roots(false).ca_pem(ca).build().unwrap();
    round_trip(&engine, &url, |o| o.tls(tls));
}

#[test]
fn engine_untrusted_certificate_is_reported_typed_and_not_retried() {
    let (server, _ca) = tls_server();
    let engine = engine();
    let url = format!("wss://localhost:{}/socket", server.local_addr().port());
    // Default roots: the self-signed certificate is unknown.
    let (socket, status) = socket_with(&engine, &url, |o| o);
    socket.connect().unwrap();
    let story = until_status(&status, WAIT, |s| matches!(s, Status::Failed { .. }));
    let Some(Status::Failed { error }) = story.last() else { unreachable!() };
    assert_eq!(error.kind(), rig::engine::ErrorKind::Certificate);
    assert_eq!(error.certificate(), Some(&rig::transport::CertificateError::UnknownIssuer));
    until_status(&status, WAIT, |s| matches!(s, Status::Closed { .. }));
    // Nothing more: no reconnect storm.
    assert_eq!(status.recv_timeout(Duration::from_millis(300)).ok(), None);
    assert_eq!(socket.health().connect_attempts, 1);
    assert_eq!(socket.state(), rig::engine::ConnectionState::Failed);
}

#[cfg(feature = "native-tls")]
#[test]
fn engine_join_push_reply_broadcast_binary_over_wss_with_native_tls() {
    let (server, ca) = tls_server();
    let engine = engine();
    let url = format!("wss://localhost:{}/socket", server.local_addr().port());
    let tls =
        rig::transport::TlsConfig::new().webpki_roots(false).ca_pem(ca).build_native_tls().unwrap();
    round_trip(&engine, &url, |o| o.tls(tls));
}

#[test]
fn engine_large_payloads_cross_partial_writes_intact() {
    let server = server();
    let engine = engine();
    let (socket, status) = socket_with(&engine, server.url(), |o| o);
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);
    let room = socket.channel("room:big", Payload::empty()).unwrap();
    room.join().wait().unwrap();
    // More than the socket buffers hold at once: writes block part way and
    // resume on writability.
    let pushes: Vec<_> = (0..8_u8)
        .map(|i| {
            let text = format!(r#""{}""#, char::from(b'a' + i).to_string().repeat(400_000));
            (text.clone(), room.push("echo", Payload::json(text)))
        })
        .collect();
    for (text, push) in pushes {
        let reply = push.wait().unwrap();
        assert_eq!(reply.response.as_json(), Some(text.as_str()));
    }
    assert!(socket.health().bytes_out > 3_200_000);
}
