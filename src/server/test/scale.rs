//! Many sockets, fan-out, bursts and clients that stop reading.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;

use super::util::{WAIT, connect, server, server_with};
use crate::server::ServerConfig;

#[test]
fn a_thousand_sockets_all_receive_a_broadcast() {
    // Client and server ends both live in this process.
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    let clients_wanted = 1000usize.min(usize::try_from(limit / 2).unwrap_or(0).saturating_sub(50));
    assert!(clients_wanted >= 500, "open files limit too low: {limit}");
    let server = server();
    let mut clients = Vec::with_capacity(clients_wanted);
    for i in 0..clients_wanted {
        let mut c = connect(&server, "vsn=2.0.0");
        c.send(&format!(r#"["{i}","{i}","room:scale","phx_join",{{}}]"#));
        clients.push(c);
    }
    for c in &mut clients {
        assert!(c.next_text().contains(r#""joined":"room:scale""#));
    }
    clients[0].send(r#"["0","x","room:scale","shout",{"to":"everyone"}]"#);
    for c in &mut clients {
        c.expect(r#"[null,null,"room:scale","shout",{"to":"everyone"}]"#);
    }
}

#[test]
fn a_burst_stream_delivers_every_event_in_order() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","stream:big","phx_join",{"mode":"burst","count":20000}]"#);
    c.expect(r#"["1","1","stream:big","phx_reply",{"response":{"count":20000,"joined":"stream:big","mode":"burst","rate":1000},"status":"ok"}]"#);
    for seq in 1..=20000 {
        let text = c.next_text();
        let prefix = format!(r#"["1",null,"stream:big","event",{{"seq":{seq},"t":"#);
        assert!(text.starts_with(&prefix), "{text}");
    }
    assert!(
        c.next_text()
            .starts_with(r#"["1",null,"stream:big","done",{"count":20000,"server_elapsed_us":"#)
    );
    // The socket still answers afterwards.
    c.send(r#"[null,"2","phoenix","heartbeat",{}]"#);
    c.expect(r#"[null,"2","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
}

#[test]
fn a_rate_stream_is_paced_and_ends_with_done() {
    let server = server();
    let mut c = connect(&server, "vsn=2.0.0");
    c.send(r#"["1","1","stream:paced","phx_join",{"rate":2000,"count":50}]"#);
    c.next_text();
    for seq in 1..=50 {
        assert!(c.next_text().contains(&format!(r#"{{"seq":{seq},"t":"#)));
    }
    let done = c.next_text();
    let elapsed: u64 = done
        .rsplit(r#""server_elapsed_us":"#)
        .next()
        .and_then(|s| s.trim_end_matches("}]").parse().ok())
        .unwrap();
    // 49 intervals of 500 µs: the server cannot finish early.
    assert!(elapsed >= 24_500, "{done}");
}

#[test]
fn a_client_that_stops_reading_is_dropped_and_others_go_on() {
    let server = server_with(ServerConfig::builder().max_outgoing(256 * 1024).build());
    // The stalled client: a raw socket that upgrades, joins, then never reads.
    let mut stalled = TcpStream::connect(server.local_addr()).unwrap();
    stalled.set_read_timeout(Some(WAIT)).unwrap();
    stalled
        .write_all(
            b"GET /socket/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
              Sec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
    let join = br#"["1","1","room:flood","phx_join",{}]"#;
    // A masked client text frame (mask 0: payload unchanged).
    let mut frame = vec![0x81, 0x80 | u8::try_from(join.len()).unwrap(), 0, 0, 0, 0];
    frame.extend_from_slice(join);
    stalled.write_all(&frame).unwrap();

    let mut shouter = connect(&server, "vsn=2.0.0");
    shouter.send(r#"["1","1","room:flood","phx_join",{}]"#);
    shouter.next_text();
    let big = "x".repeat(60_000);
    // Far more than the socket buffers and the 256 KiB cap can hold.
    for i in 0..400 {
        shouter.send(&format!(r#"["1","{i}","room:flood","shout",{{"b":"{big}"}}]"#));
        assert!(shouter.next_text().contains(r#""shout""#));
    }
    shouter.send(r#"[null,"hb","phoenix","heartbeat",{}]"#);
    shouter.expect(r#"[null,"hb","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
    // The stalled socket was closed by the server: reading drains what the
    // kernel buffered, then ends (EOF or reset) instead of blocking.
    let mut sink = vec![0u8; 1 << 16];
    let mut total = 0usize;
    loop {
        match stalled.read(&mut sink) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the server kept a client that does not read");
            }
            Err(_) => break,
        }
        assert!(total < 64 << 20, "the server kept sending to a dropped client");
    }
}
