//! A Phoenix WebSocket session through the proxy to the embedded server,
//! with partial frames and latency on the way.

use std::io;
use std::net::TcpStream;
use std::time::Duration;

use tungstenite::client::IntoClientRequest as _;
use tungstenite::{Message, WebSocket};

use super::util::{WAIT, now, settle};
use crate::netsim::{DirectionFaults, Faults, Proxy, ProxyConfig};
use crate::server::{Server, ServerConfig};

fn next_text(ws: &mut WebSocket<TcpStream>) -> String {
    loop {
        match ws.read() {
            Ok(Message::Text(text)) => return text.as_str().to_owned(),
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
            Ok(other) => panic!("expected a text frame, got {other:?}"),
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
            {
                panic!("no frame within {WAIT:?}");
            }
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

#[test]
fn a_phoenix_session_survives_sliced_frames_and_latency() {
    let server = Server::start(ServerConfig::builder().build()).unwrap();
    let latency = Duration::from_millis(15);
    let faults = Faults::default()
        .upstream(DirectionFaults::default().latency(latency).slice(3))
        .downstream(
            DirectionFaults::default().latency(latency).jitter(Duration::from_millis(5)).slice(5),
        );
    let proxy =
        Proxy::start(ProxyConfig::builder(server.local_addr()).faults(faults).seed(21).build())
            .unwrap();

    let url = format!("ws://{}/socket/websocket?vsn=2.0.0", proxy.local_addr());
    let stream = TcpStream::connect(proxy.local_addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let (mut ws, response) = match tungstenite::client(url.into_client_request().unwrap(), stream) {
        Ok(pair) => pair,
        Err(e) => panic!("handshake through the proxy failed: {e}"),
    };
    assert_eq!(response.status(), 101);

    let start = now();
    ws.send(Message::text(r#"["1","1","room:lobby","phx_join",{}]"#)).unwrap();
    assert_eq!(
        next_text(&mut ws),
        r#"["1","1","room:lobby","phx_reply",{"response":{"joined":"room:lobby"},"status":"ok"}]"#
    );
    assert!(start.elapsed() >= latency * 2, "a reply came back faster than the latency");

    let body = "x".repeat(2000);
    for i in 2..12 {
        ws.send(Message::text(format!(
            r#"["1","{i}","room:lobby","echo",{{"n":{i},"b":"{body}"}}]"#
        )))
        .unwrap();
    }
    for i in 2..12 {
        assert_eq!(
            next_text(&mut ws),
            format!(
                r#"["1","{i}","room:lobby","phx_reply",{{"response":{{"b":"{body}","n":{i}}},"status":"ok"}}]"#
            )
        );
    }
    ws.send(Message::text(r#"[null,"hb","phoenix","heartbeat",{}]"#)).unwrap();
    assert_eq!(
        next_text(&mut ws),
        r#"[null,"hb","phoenix","phx_reply",{"response":{},"status":"ok"}]"#
    );
    ws.close(None).unwrap();
    settle(&proxy);
    let stats = proxy.stats();
    assert_eq!(stats.connections, 1);
    // Every frame crossed the proxy in pieces of at most 3 and 5 bytes.
    assert!(stats.bytes_upstream > 20_000 && stats.bytes_downstream > 20_000, "{stats:?}");
}
