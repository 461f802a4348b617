//! `ServerHandle::stats`: known traffic in, exact counter values out.
//!
//! Counters bumped before the server answers (refusals, closes, joins,
//! frames) are read as soon as the answer arrives; the rest are read after
//! `shutdown_with_stats`, which joins the server thread, or waited for with a
//! deadline when only the server's side of a disconnect can show them.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use tungstenite::Message;

use super::util::{Client, WAIT, connect, server, server_with, try_connect};
use crate::server::{ServerConfig, ServerHandle, ServerStats};
use crate::time::Clock;

/// Waits until the server's counters satisfy `done`, at most [`WAIT`].
fn wait_for(server: &ServerHandle, what: &str, done: impl Fn(&ServerStats) -> bool) {
    let clock = Clock::real();
    let deadline = clock.now() + WAIT;
    loop {
        let stats = server.stats();
        if done(&stats) {
            return;
        }
        assert!(clock.now() < deadline, "{what}: not seen within {WAIT:?}, stats {stats:#?}");
        std::thread::yield_now();
    }
}

/// Sends a raw HTTP request and returns the status line.
fn http_status(server: &ServerHandle, request: &str) -> String {
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8(response).unwrap();
    response.lines().next().unwrap_or_default().to_owned()
}

/// Closes with 1000 and reads until the server has answered and hung up.
fn close_cleanly(client: &mut Client) {
    client.ws.close(None).unwrap();
    loop {
        match client.ws.read() {
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => return,
            Err(e) => panic!("expected a clean close, got {e}"),
        }
    }
}

#[test]
fn refusals_timeouts_and_lost_connections_are_counted() {
    let config =
        ServerConfig::builder().token("secret").idle_timeout(Duration::from_millis(300)).build();
    let server = server_with(config);
    let forbidden = try_connect(&server, "token=wrong&vsn=2.0.0", &[]).err().unwrap();
    assert!(matches!(forbidden, tungstenite::Error::Http(r) if r.status() == 403));
    assert_eq!(server.stats().refused_forbidden, 1);
    let request = |target: &str| format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(http_status(&server, &request("/nope")), "HTTP/1.1 404 Not Found");
    assert_eq!(
        http_status(&server, &request("/socket/websocket?token=secret")),
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(server.stats().refused(), 3);
    // Connect and vanish before a request: lost.
    drop(TcpStream::connect(server.local_addr()).unwrap());
    wait_for(&server, "a lost connection", |s| s.connections_lost == 1);
    // Half a request head, then silence: dropped at the handshake deadline.
    let mut stalled = TcpStream::connect(server.local_addr()).unwrap();
    stalled.write_all(b"GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHo").unwrap();
    wait_for(&server, "a handshake timeout", |s| s.handshake_timeouts == 1);
    let expected = ServerStats {
        connections_accepted: 5,
        refused_bad_request: 1,
        refused_forbidden: 1,
        refused_not_found: 1,
        handshake_timeouts: 1,
        connections_lost: 1,
        ..ServerStats::default()
    };
    assert_eq!(server.shutdown_with_stats(), expected);
}

#[test]
fn violations_are_counted_by_close_reason() {
    let server = server_with(ServerConfig::builder().max_frame(1024).build());
    let mut malformed = connect(&server, "vsn=2.0.0");
    malformed.send("not json at all");
    malformed.expect_close(1011);
    let mut too_big = connect(&server, "vsn=2.0.0");
    too_big.send(&"x".repeat(2048));
    too_big.expect_close(1009);
    let mut bad_utf8 = connect(&server, "vsn=2.0.0");
    // A masked text frame whose payload is not UTF-8.
    bad_utf8.ws.get_mut().write_all(&[0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]).unwrap();
    bad_utf8.expect_close(1007);
    let mut unmasked = connect(&server, "vsn=2.0.0");
    // A client frame must be masked: a protocol violation.
    unmasked.ws.get_mut().write_all(&[0x81, 0x02, b'h', b'i']).unwrap();
    unmasked.expect_close(1002);
    let stats = server.stats();
    assert_eq!(
        (stats.closed_malformed, stats.closed_too_big, stats.closed_bad_utf8),
        (1, 1, 1),
        "{stats:#?}"
    );
    assert_eq!((stats.closed_protocol, stats.closed_idle), (1, 0), "{stats:#?}");
    // Upgraded, then gone without a close frame: lost, not a violation.
    let abrupt = connect(&server, "vsn=2.0.0");
    drop(abrupt);
    wait_for(&server, "the abrupt disconnect", |s| s.connections_lost == 1);
    let expected = ServerStats {
        connections_accepted: 5,
        upgrades: 5,
        closed_malformed: 1,
        closed_too_big: 1,
        closed_bad_utf8: 1,
        closed_protocol: 1,
        connections_lost: 1,
        frames_in: 1,
        bytes_in: "not json at all".len() as u64,
        ..ServerStats::default()
    };
    assert_eq!(server.shutdown_with_stats(), expected);
}

#[test]
fn an_idle_close_is_counted_apart_from_protocol_errors() {
    let server =
        server_with(ServerConfig::builder().idle_timeout(Duration::from_millis(300)).build());
    let mut idle = connect(&server, "vsn=2.0.0");
    idle.expect_close(1002);
    let expected = ServerStats {
        connections_accepted: 1,
        upgrades: 1,
        closed_idle: 1,
        ..ServerStats::default()
    };
    assert_eq!(server.shutdown_with_stats(), expected);
}

#[test]
fn join_echo_and_shout_to_two_clients_are_counted_exactly() {
    let server = server();
    let mut a = connect(&server, "vsn=2.0.0");
    let mut b = connect(&server, "vsn=2.0.0");
    let shout = r#"[null,null,"room:x","shout",{"hi":1}]"#;
    // (client, sent, expected replies), in order.
    let script: [(usize, &str, &[&str]); 7] = [
        (
            0,
            r#"["1","1","room:x","phx_join",{}]"#,
            &[r#"["1","1","room:x","phx_reply",{"response":{"joined":"room:x"},"status":"ok"}]"#],
        ),
        (
            1,
            r#"["2","2","room:x","phx_join",{}]"#,
            &[r#"["2","2","room:x","phx_reply",{"response":{"joined":"room:x"},"status":"ok"}]"#],
        ),
        (
            0,
            r#"["1","3","room:x","echo",{"n":1}]"#,
            &[r#"["1","3","room:x","phx_reply",{"response":{"n":1},"status":"ok"}]"#],
        ),
        (0, r#"["1","4","room:x","shout",{"hi":1}]"#, &[shout]),
        (
            1,
            r#"[null,"5","phoenix","heartbeat",{}]"#,
            &[shout, r#"[null,"5","phoenix","phx_reply",{"response":{},"status":"ok"}]"#],
        ),
        (
            1,
            r#"["6","6","room:forbidden","phx_join",{}]"#,
            &[
                r#"["6","6","room:forbidden","phx_reply",{"response":{"reason":"unauthorized"},"status":"error"}]"#,
            ],
        ),
        (1, r#"["2","7","room:x","boom",{}]"#, &[r#"["2","2","room:x","phx_error",{}]"#]),
    ];
    let (mut bytes_in, mut bytes_out, mut frames_out) = (0, 0, 0);
    for (who, sent, replies) in script {
        let client = if who == 0 { &mut a } else { &mut b };
        client.send(sent);
        bytes_in += sent.len() as u64;
        for reply in replies {
            client.expect(reply);
            bytes_out += reply.len() as u64;
            frames_out += 1;
        }
    }
    let live = server.stats();
    assert_eq!((live.connections_open, live.channels_joined), (2, 1), "{live:#?}");
    assert_eq!((live.frames_in, live.bytes_in), (7, bytes_in), "{live:#?}");
    assert_eq!((live.frames_out, live.bytes_out), (frames_out, bytes_out), "{live:#?}");
    close_cleanly(&mut a);
    let expected = ServerStats {
        connections_accepted: 2,
        upgrades: 2,
        client_closes: 1,
        closed_shutdown: 1,
        frames_in: 7,
        bytes_in,
        frames_out: 8,
        bytes_out,
        joins_ok: 2,
        joins_refused: 1,
        channel_crashes: 1,
        broadcasts: 1,
        broadcast_messages: 2,
        heartbeats: 1,
        ..ServerStats::default()
    };
    assert_eq!(server.shutdown_with_stats(), expected);
    b.expect_close(1001);
}

#[test]
fn a_client_that_does_not_read_is_counted_as_dropped_slow() {
    let server = server_with(ServerConfig::builder().max_outgoing(256 * 1024).build());
    let join = r#"["1","1","room:flood","phx_join",{}]"#;
    let mut sleeper = connect(&server, "vsn=2.0.0");
    sleeper.send(join);
    sleeper.next_text();
    let mut shouter = connect(&server, "vsn=2.0.0");
    shouter.send(join);
    shouter.next_text();
    let fill = "x".repeat(64 * 1024);
    let mut shouts = 0;
    while server.stats().dropped_slow == 0 {
        assert!(shouts < 1000, "a client that reads nothing was kept through {shouts} shouts");
        shouts += 1;
        shouter.send(&format!(r#"["1","2","room:flood","shout",{{"fill":"{fill}"}}]"#));
        assert!(matches!(shouter.next(), Message::Text(_)));
    }
    let stats = server.shutdown_with_stats();
    assert_eq!(stats.dropped_slow, 1, "{stats:#?}");
    assert_eq!((stats.broadcasts, stats.closed_shutdown), (shouts, 1), "{stats:#?}");
    assert_eq!((stats.connections_lost, stats.connections_open), (0, 0), "{stats:#?}");
    drop(sleeper);
}

#[test]
fn stream_events_count_every_event_but_not_done() {
    let server = server();
    let mut client = connect(&server, "vsn=2.0.0");
    client.send(r#"["1","1","stream:s","phx_join",{"mode":"burst","count":3}]"#);
    wait_for(&server, "three stream events", |s| s.stream_events == 3 && s.frames_out == 5);
    assert_eq!(server.shutdown_with_stats().stream_events, 3);
}
