//! Hostile and broken input: each case must hurt only its own connection.
//!
//! After every case a separate, healthy client still connects, joins and gets
//! its echo (`util::assert_healthy`). Expected answers follow real Phoenix on
//! Bandit (the malformed.jsonl / connect_refused.jsonl transcripts, Phoenix's
//! `Transports.WebSocket` and Bandit's WebSocket connection code): a malformed
//! Phoenix frame closes with 1011 and an empty reason, a text frame that is
//! not UTF-8 closes with 1007 (RFC 6455 §8.1), a refused connect is a 403
//! with an empty body.

use std::io::Write as _;
use std::time::Duration;

use crate::util::ws::{self, Upgrade};
use crate::util::{Deadline, Received, RigServer, WsClient, assert_healthy, poll_until};

const V2: &str = "/socket/websocket?token=secret&vsn=2.0.0";
const V1: &str = "/socket/websocket?token=secret&vsn=1.0.0";

/// A masked client frame with `opcode` (RFC 6455 §5.2), built by hand so it
/// can carry what tungstenite refuses to send.
fn masked_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37_u8, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x80 | opcode];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | u8::try_from(len).unwrap()),
        len @ 126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&u64::try_from(len).unwrap().to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(byte, m)| byte ^ m));
    frame
}

/// Opens `path_query`, lets `act` misbehave, expects a close with `code`.
fn closes_with(path_query: &str, code: u16, act: impl FnOnce(&mut WsClient)) {
    let server = RigServer::start_secret();
    let mut client = WsClient::connect(server.addr(), path_query);
    act(&mut client);
    client.expect_close(code);
    assert_healthy(&server);
}

#[test]
fn garbage_text_closes_1011() {
    closes_with(V2, 1011, |c| c.send_text("\u{1}\u{2} this is not json }{"));
}

#[test]
fn invalid_utf8_text_frame_closes_1007() {
    closes_with(V2, 1007, |c| c.send_raw(&masked_frame(0x1, b"[\xff\xfe]")).unwrap());
}

#[test]
fn truncated_json_closes_1011() {
    closes_with(V2, 1011, |c| c.send_text(r#"[null,"1","phoenix","heartbeat",{"#));
}

#[test]
fn json_object_on_v2_closes_1011() {
    closes_with(V2, 1011, |c| {
        c.send_text(r#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}"#);
    });
}

#[test]
fn wrong_arity_closes_1011() {
    closes_with(V2, 1011, |c| c.send_text(r#"[null,"1","phoenix","heartbeat",{},"extra"]"#));
}

#[test]
fn unknown_binary_kind_closes_1011() {
    closes_with(V2, 1011, |c| c.send_binary(&[9, 1, 1, 1, 1, b'1', b'1', b'x', b'y']));
}

#[test]
fn truncated_binary_closes_1011() {
    // A push header announcing a 200-byte topic that is not there.
    closes_with(V2, 1011, |c| c.send_binary(&[0, 1, 1, 200, 4, b'1', b'1', b'r']));
}

#[test]
fn binary_on_v1_closes_1011() {
    closes_with(V1, 1011, |c| c.send_binary(&[0, 1, 1, 6, 8]));
}

#[test]
fn malformed_frame_after_a_join_closes_only_that_socket() {
    let server = RigServer::start_secret();
    let mut bystander = WsClient::connect(server.addr(), V2);
    bystander.send_text(r#"["1","1","room:shared","phx_join",{}]"#);
    bystander.expect_text(
        r#"["1","1","room:shared","phx_reply",{"response":{"joined":"room:shared"},"status":"ok"}]"#,
    );
    let mut victim = WsClient::connect(server.addr(), V2);
    victim.send_text(r#"["1","1","room:shared","phx_join",{}]"#);
    victim.expect_text(
        r#"["1","1","room:shared","phx_reply",{"response":{"joined":"room:shared"},"status":"ok"}]"#,
    );
    victim.send_text("[[[");
    victim.expect_close(1011);
    bystander.send_text(r#"["1","2","room:shared","shout",{"after":"crash"}]"#);
    bystander.expect_text(r#"[null,null,"room:shared","shout",{"after":"crash"}]"#);
    bystander.close_expecting(1000, 1000);
}

#[test]
fn oversized_frame_is_refused() {
    // Larger than any limit a server should accept for one Phoenix message
    // (tungstenite's default frame limit is 16 MiB).
    const OVERSIZED: usize = 64 * 1024 * 1024 + 1;
    let server = RigServer::start_secret();
    let mut client = WsClient::connect(server.addr(), V2);
    // The header alone announces the size: a server that checks it closes at
    // once; otherwise the payload follows, in chunks, while the socket takes it.
    // FIN + binary, masked, 64-bit length, all-zero mask (the payload is zeros).
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&u64::try_from(OVERSIZED).unwrap().to_be_bytes());
    header.extend_from_slice(&[0, 0, 0, 0]);
    client.send_raw(&header).unwrap();
    let mut received = client.recv(Deadline::after(Duration::from_secs(1)));
    if received.is_none() {
        let chunk = vec![0_u8; 1024 * 1024];
        for _ in 0..=OVERSIZED / chunk.len() {
            if client.send_raw(&chunk).is_err() {
                break;
            }
        }
        received = Some(client.expect_frame());
    }
    match received {
        Some(Received::Close { code: Some(1009 | 1011), .. }) => {}
        other => panic!("an oversized frame must get close 1009 (or 1011), got {other:?}"),
    }
    assert_healthy(&server);
}

fn refused(path_query: &str, extra_headers: &[(&str, &str)]) {
    let server = RigServer::start_secret();
    match WsClient::upgrade(server.addr(), path_query, extra_headers) {
        Upgrade::Refused(response) => {
            assert_eq!(response.status, 403, "{path_query}: {response:?}");
            assert_eq!(response.header("content-length"), Some("0"), "{response:?}");
            assert!(response.body.is_empty(), "{response:?}");
        }
        Upgrade::Accepted(..) => panic!("{path_query} must be refused"),
    }
    assert_healthy(&server);
}

#[test]
fn unknown_vsn_is_403() {
    refused("/socket/websocket?token=secret&vsn=3.0.0", &[]);
}

#[test]
fn wrong_token_is_403() {
    refused("/socket/websocket?token=wrong&vsn=2.0.0", &[]);
}

#[test]
fn missing_token_is_403() {
    refused("/socket/websocket?vsn=2.0.0", &[]);
}

#[test]
fn wrong_subprotocol_token_is_403() {
    // base64url("wrong") without padding.
    refused(
        "/socket/websocket?vsn=2.0.0",
        &[("Sec-WebSocket-Protocol", "phoenix, base64url.bearer.phx.d3Jvbmc")],
    );
}

#[test]
fn subprotocol_token_is_accepted_with_phoenix_protocol() {
    let server = RigServer::start_secret();
    // base64url("secret") without padding, as phoenix.js sends its authToken.
    let offered = [("Sec-WebSocket-Protocol", "phoenix, base64url.bearer.phx.c2VjcmV0")];
    let Upgrade::Accepted(mut client, response) =
        WsClient::upgrade(server.addr(), "/socket/websocket?vsn=2.0.0", &offered)
    else {
        panic!("the subprotocol token must be accepted");
    };
    assert_eq!(response.header("sec-websocket-protocol"), Some("phoenix"), "{response:?}");
    client.send_text(r#"[null,"1","phoenix","heartbeat",{}]"#);
    client.expect_text(r#"[null,"1","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
    client.close_expecting(1000, 1000);
}

/// Sends `request` as raw bytes and reads the HTTP response.
fn raw_http(server: &RigServer, request: &str) -> ws::HttpResponse {
    let mut tcp = ws::tcp_connect(server.addr());
    tcp.write_all(request.as_bytes()).unwrap();
    let mut reader = tcp.try_clone().unwrap();
    let deadline = Deadline::after(ws::FRAME_TIMEOUT);
    let (mut response, rest) = ws::read_head(&mut reader, &tcp, deadline).unwrap();
    response.body = ws::read_body(&mut reader, &tcp, &response, rest, deadline).unwrap();
    response
}

#[test]
fn plain_http_requests_are_answered_not_upgraded() {
    let server = RigServer::start_secret();
    let host = server.addr();
    let other_path = raw_http(&server, &format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n"));
    assert_eq!(other_path.status, 404, "{other_path:?}");
    let no_upgrade = raw_http(
        &server,
        &format!("GET {V2} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(no_upgrade.status, 400, "a GET without upgrade headers: {no_upgrade:?}");
    assert_healthy(&server);
}

#[test]
fn other_methods_on_the_socket_path_are_400() {
    // Phoenix routes the socket path to its WebSocket transport whatever the
    // method, and the transport answers anything but GET with 400.
    let server = RigServer::start_secret();
    let host = server.addr();
    let post = raw_http(
        &server,
        &format!("POST {V2} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"),
    );
    assert_eq!(post.status, 400, "{post:?}");
    assert_healthy(&server);
}

#[test]
fn non_http_bytes_get_no_upgrade() {
    let server = RigServer::start_secret();
    let mut tcp = ws::tcp_connect(server.addr());
    tcp.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n").unwrap();
    let mut reader = tcp.try_clone().unwrap();
    // Either a 400 or the connection closes; never a 101, never a hang.
    match ws::read_head(&mut reader, &tcp, Deadline::after(ws::FRAME_TIMEOUT)) {
        Ok((response, _)) => assert_eq!(response.status, 400, "{response:?}"),
        Err(why) => assert!(why.contains("connection closed"), "{why}"),
    }
    assert_healthy(&server);
}

#[test]
fn stalled_half_request_does_not_block_others() {
    let server = RigServer::start_secret();
    let mut stalled = ws::tcp_connect(server.addr());
    let half = format!("GET {V2} HTTP/1.1\r\nHost: {}\r\nUpgrade: websock", server.addr());
    stalled.write_all(half.as_bytes()).unwrap();
    // And one that connects and never says anything.
    let silent = ws::tcp_connect(server.addr());
    assert_healthy(&server);
    assert_healthy(&server);
    // Finishing the request later still works: the server kept the partial head.
    let rest = "et\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                Sec-WebSocket-Version: 13\r\n\r\n";
    stalled.write_all(rest.as_bytes()).unwrap();
    let mut reader = stalled.try_clone().unwrap();
    let (response, _) =
        ws::read_head(&mut reader, &stalled, Deadline::after(ws::FRAME_TIMEOUT)).unwrap();
    assert_eq!(response.status, 101, "{response:?}");
    drop(silent);
}

#[test]
fn a_thousand_abrupt_disconnects_leak_nothing() {
    let server = RigServer::start_secret();
    assert_healthy(&server);
    let baseline = server.open_fds();
    assert!(baseline > 0, "cannot count the server's file descriptors");
    for round in 0..1000_u32 {
        let mut tcp = ws::tcp_connect(server.addr());
        match round % 4 {
            // Connect and vanish.
            0 => {}
            // Half a request head.
            1 => tcp
                .write_all(b"GET /socket/websocket?token=secret&vsn=2.0.0 HTTP/1.1\r\nHo")
                .unwrap(),
            // A full upgrade, then gone without a close frame.
            2 => {
                let request =
                    ws::upgrade_request(server.addr(), V2, "dGhlIHNhbXBsZSBub25jZQ==", &[]);
                tcp.write_all(request.as_bytes()).unwrap();
            }
            // Upgraded and joined, then gone (a reset when the 101 was not read yet).
            _ => {
                let request =
                    ws::upgrade_request(server.addr(), V2, "dGhlIHNhbXBsZSBub25jZQ==", &[]);
                tcp.write_all(request.as_bytes()).unwrap();
                tcp.write_all(&masked_frame(0x1, br#"["1","1","room:drop","phx_join",{}]"#))
                    .unwrap();
            }
        }
        drop(tcp);
    }
    assert_healthy(&server);
    let settled = poll_until(Duration::from_secs(15), || server.open_fds() <= baseline + 2);
    assert!(
        settled,
        "the server still holds {} descriptors, {baseline} before the disconnects",
        server.open_fds()
    );
}

/// Peak resident memory of a process, in KiB (Linux `VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/{pid}/status"))
}

#[test]
fn a_client_that_never_reads_is_dropped_not_buffered() {
    // Up to 1,000 broadcasts of 64 KiB (64 MiB) for a client that reads
    // nothing: the server must cap what it queues for that client and drop it
    // (its descriptor closes), not grow.
    const SHOUTS: usize = 1000;
    const PEAK_LIMIT_KIB: u64 = 64 * 1024;
    let server = RigServer::start_secret();
    let join = r#"["1","1","room:flood","phx_join",{}]"#;
    let joined =
        r#"["1","1","room:flood","phx_reply",{"response":{"joined":"room:flood"},"status":"ok"}]"#;
    let mut sleeper = WsClient::connect(server.addr(), V2);
    sleeper.send_text(join);
    sleeper.expect_text(joined);
    let mut shouter = WsClient::connect(server.addr(), V2);
    shouter.send_text(join);
    shouter.expect_text(joined);
    let filler = "x".repeat(64 * 1024);
    let fds_with_both = server.open_fds();
    let mut sent = 0;
    for n in 0..SHOUTS {
        if n % 8 == 0 && server.open_fds() < fds_with_both {
            break;
        }
        sent += 1;
        let shout =
            format!(r#"["1","{}","room:flood","shout",{{"n":{n},"fill":"{filler}"}}]"#, n + 2);
        shouter.send_text(&shout);
        let heard = shouter.expect_frame();
        let expected = format!(r#"[null,null,"room:flood","shout",{{"fill":"{filler}","n":{n}}}]"#);
        assert!(heard == Received::Text(expected), "shout {n} did not come back to its sender");
    }
    assert!(
        sent < SHOUTS,
        "the server still holds the sleeper after {SHOUTS} broadcasts of 64 KiB"
    );
    let peak = peak_rss_kib(server.pid());
    assert!(peak < PEAK_LIMIT_KIB, "server peak RSS {peak} KiB while a client did not read");
    // What the sleeper can still read ends early: the server dropped it.
    let mut delivered = 0;
    let end = loop {
        match sleeper.expect_frame() {
            Received::Text(_) => delivered += 1,
            other => break other,
        }
    };
    assert!(delivered < sent, "all {sent} broadcasts were kept for a client that did not read");
    assert!(
        matches!(
            end,
            Received::Eof | Received::Closed | Received::Close { .. } | Received::Error(_)
        ),
        "{end:?}"
    );
    assert_healthy(&server);
}
