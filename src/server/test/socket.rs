//! HTTP refusals, malformed frames, idle timeout and restart.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use super::util::{WAIT, connect, server, server_with, try_connect};
use crate::server::ServerConfig;

/// Sends a raw HTTP request and returns the whole response.
fn raw_http(server: &crate::server::ServerHandle, request: &str) -> String {
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    String::from_utf8(response).unwrap()
}

fn status(err: tungstenite::Error) -> u16 {
    match err {
        tungstenite::Error::Http(response) => {
            assert_eq!(response.body().as_deref().unwrap_or_default(), b"");
            response.status().as_u16()
        }
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[test]
fn refuses_bad_tokens_and_versions_with_403() {
    let server = server_with(ServerConfig::builder().token("secret").build());
    let refused = |query: &str| status(try_connect(&server, query, &[]).err().unwrap());
    assert_eq!(refused("token=wrong&vsn=2.0.0"), 403);
    assert_eq!(refused("vsn=2.0.0"), 403);
    assert_eq!(refused("token=secret&vsn=3.0.0"), 403);
    let mut ok = connect(&server, "token=secret&vsn=2.0.0");
    ok.send(r#"[null,"1","phoenix","heartbeat",{}]"#);
    ok.next_text();
    // btoa("secret") without padding, offered the way phoenix.js does.
    let protocols = [("sec-websocket-protocol", "phoenix, base64url.bearer.phx.c2VjcmV0")];
    let mut by_protocol = try_connect(&server, "vsn=2.0.0", &protocols).unwrap();
    by_protocol.send(r#"[null,"1","phoenix","heartbeat",{}]"#);
    by_protocol.next_text();
    let response = raw_http(&server, "GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{response}");
    assert!(response.contains("content-length: 0\r\n") && response.ends_with("\r\n\r\n"));
}

#[test]
fn other_paths_get_404_and_plain_gets_400() {
    let server = server();
    let response = raw_http(&server, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 404 Not Found\r\n"), "{response}");
    let response = raw_http(&server, "GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{response}");
}

#[test]
fn malformed_frames_close_only_their_connection_with_1011() {
    let server = server();
    let mut healthy = connect(&server, "vsn=2.0.0");
    healthy.send(r#"["1","1","room:ok","phx_join",{}]"#);
    healthy.next_text();
    let probes: [&dyn Fn(&mut super::util::Client); 5] = [
        &|c| c.send("not json at all"),
        &|c| c.send(r#"{"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": "1"}"#),
        &|c| c.send(r#"[null, "1", "phoenix", "heartbeat"]"#),
        &|c| c.send_binary(vec![7, 1, 2, 3]),
        &|c| c.send_binary(vec![0, 5, 5]),
    ];
    for probe in probes {
        let mut bad = connect(&server, "vsn=2.0.0");
        probe(&mut bad);
        bad.expect_close(1011);
        healthy.send(r#"["1","2","room:ok","echo",{"still":"here"}]"#);
        healthy.expect(
            r#"["1","2","room:ok","phx_reply",{"response":{"still":"here"},"status":"ok"}]"#,
        );
    }
}

#[test]
fn oversized_messages_close_with_1009() {
    let server = server_with(ServerConfig::builder().max_frame(1024).build());
    let mut c = connect(&server, "vsn=2.0.0");
    let big = format!(r#"[null,"1","phoenix","heartbeat",{{"x":"{}"}}]"#, "a".repeat(2048));
    c.send(&big);
    c.expect_close(1009);
}

#[test]
fn idle_connections_close_with_1002() {
    let server =
        server_with(ServerConfig::builder().idle_timeout(Duration::from_millis(300)).build());
    let mut c = connect(&server, "vsn=2.0.0");
    c.expect_close(1002);
}

#[test]
fn restart_on_the_same_port_right_after_shutdown() {
    let first = server();
    let addr = first.local_addr();
    let mut c = connect(&first, "vsn=2.0.0");
    first.shutdown();
    c.expect_close(1001);
    let second = server_with(ServerConfig::builder().addr(addr).build());
    let mut c = connect(&second, "vsn=2.0.0");
    c.send(r#"[null,"1","phoenix","heartbeat",{}]"#);
    c.next_text();
}

/// A serializer registered under another `vsn`: V2 frames, version 9.0.0.
#[derive(Debug)]
struct Nine(crate::protocol::V2Serializer);

impl crate::protocol::ServerSerializer for Nine {
    fn vsn(&self) -> &'static str {
        "9.0.0"
    }

    fn decode_client(
        &self,
        frame: crate::protocol::Frame,
    ) -> Result<crate::protocol::Message, crate::protocol::DecodeError> {
        self.0.decode_client(frame)
    }

    fn encode_server(
        &self,
        msg: &crate::protocol::Message,
    ) -> Result<crate::protocol::Frame, crate::protocol::EncodeError> {
        self.0.encode_server(msg)
    }
}

#[test]
fn serializers_are_chosen_by_vsn_and_pluggable() {
    let nine = std::sync::Arc::new(Nine(crate::protocol::V2Serializer::default()));
    let server = server_with(ServerConfig::builder().serializer(nine).build());
    let mut c = connect(&server, "vsn=9.0.2");
    c.send(r#"[null,"1","phoenix","heartbeat",{}]"#);
    c.expect(r#"[null,"1","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
    assert_eq!(status(try_connect(&server, "vsn=9.1.0", &[]).err().unwrap()), 403);
    let mut v2 = connect(&server, "vsn=2.0.0");
    v2.send(r#"[null,"1","phoenix","heartbeat",{}]"#);
    v2.next_text();
}

#[test]
fn a_stalled_http_request_is_dropped_at_the_handshake_deadline() {
    let server =
        server_with(ServerConfig::builder().idle_timeout(Duration::from_millis(300)).build());
    let mut stalled = TcpStream::connect(server.local_addr()).unwrap();
    stalled.set_read_timeout(Some(WAIT)).unwrap();
    stalled.write_all(b"GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut buf = [0u8; 64];
    match stalled.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the server to hang up, got {other:?}"),
    }
}

#[test]
fn invalid_utf8_text_closes_with_1007() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    // A text frame whose payload is not UTF-8, written below tungstenite's checks.
    let frame = [0x81u8, 0x82, 0, 0, 0, 0, 0xff, 0xfe];
    c.ws.get_mut().write_all(&frame).unwrap();
    c.expect_close(1007);
}
