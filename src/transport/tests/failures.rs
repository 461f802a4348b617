//! Everything a server can do wrong: refuse, answer with an HTTP error or
//! garbage, stall, or hang up in each state.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

use super::pki::{Ca, Validity};
use super::{Driver, read_request_head, serve_tcp, serve_ws};
use crate::transport::{Error, State};

/// A raw server that reads the upgrade request and writes `response`.
fn answer_with(response: &'static [u8]) -> Driver {
    let addr = serve_tcp(move |mut stream| {
        read_request_head(&mut stream);
        stream.write_all(response).unwrap();
        // Wait for the client to hang up so our bytes are not lost to a reset.
        let _ = stream.read(&mut [0_u8; 64]);
    });
    Driver::connect(addr, &format!("ws://{addr}/socket/websocket"), None)
}

#[test]
fn closed_port_is_refused() {
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    // The listener is dropped: nothing listens there now.
    let url = crate::transport::WsUrl::parse(&format!("ws://{addr}/")).unwrap();
    let request = crate::transport::ConnectRequest::new(url);
    let err = match crate::transport::Connection::start(addr, &request, None) {
        Err(e) => e, // refused synchronously
        Ok(_) => Driver::connect(addr, &format!("ws://{addr}/"), None).open().unwrap_err(),
    };
    assert!(matches!(err, Error::ConnectRefused(a) if a == addr), "{err:?}");
    assert!(err.is_retryable());
}

#[test]
fn http_403_is_an_upgrade_refusal() {
    let mut d = answer_with(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 9\r\n\r\nforbidden");
    let err = d.open().unwrap_err();
    assert!(matches!(err, Error::UpgradeRefused { status: 403, retry_after: None }), "{err:?}");
    assert!(!err.is_retryable());
    assert_eq!(d.conn.state(), State::Closed);
}

#[test]
fn http_429_carries_retry_after() {
    let mut d = answer_with(
        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\ncontent-length: 0\r\n\r\n",
    );
    let err = d.open().unwrap_err();
    assert!(
        matches!(err, Error::UpgradeRefused { status: 429, retry_after: Some(d) } if d == Duration::from_secs(7)),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.to_string(), "upgrade refused: http status 429, retry after 7s");
}

#[test]
fn http_200_is_an_upgrade_refusal() {
    let mut d = answer_with(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
    let err = d.open().unwrap_err();
    assert!(matches!(err, Error::UpgradeRefused { status: 200, .. }), "{err:?}");
}

#[test]
fn garbage_instead_of_http_is_a_typed_error() {
    let mut d = answer_with(b"SSH-2.0-OpenSSH_9.6\r\n\x00\xff\xfe garbage \x01\x02\r\n\r\n");
    let err = d.open().unwrap_err();
    assert!(matches!(err, Error::WebSocket(_)), "{err:?}");
    assert_eq!(d.conn.state(), State::Closed);
}

#[test]
fn a_101_without_the_right_accept_key_is_refused() {
    let mut d = answer_with(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n",
    );
    let err = d.open().unwrap_err();
    assert!(matches!(err, Error::WebSocket(_)), "{err:?}");
}

/// A server that accepts TCP, reads what it is sent and never answers.
fn stalling_server(stop: mpsc::Receiver<()>) -> std::net::SocketAddr {
    serve_tcp(move |mut stream| {
        stream.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let mut sink = [0_u8; 4096];
        while stop.try_recv() == Err(mpsc::TryRecvError::Empty) {
            if let Ok(0) = stream.read(&mut sink) {
                return;
            }
        }
    })
}

#[test]
fn a_stalled_websocket_handshake_stays_pending_without_spinning() {
    let (stop, rx) = mpsc::channel();
    let addr = stalling_server(rx);
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    d.run_until(|d| d.conn.state() == State::WsHandshaking).unwrap();
    // Ten idle turns: a busy loop would wake on every one of them.
    let before = d.wakeups;
    d.run_turns(10, Duration::from_millis(20)).unwrap();
    assert_eq!(d.conn.state(), State::WsHandshaking);
    assert!(d.wakeups - before <= 1, "{} wake-ups while stalled", d.wakeups - before);
    assert!(!d.conn.interest().is_writable(), "the request was written; only reading is left");
    drop(stop);
}

#[test]
fn a_stalled_tls_handshake_stays_pending_without_spinning() {
    let (stop, rx) = mpsc::channel();
    let addr = stalling_server(rx);
    let client = Ca::new("rig test ca").client();
    let mut d = Driver::connect(addr, &format!("wss://localhost:{}/", addr.port()), Some(&client));
    d.run_until(|d| d.conn.state() == State::TlsHandshaking).unwrap();
    let before = d.wakeups;
    d.run_turns(10, Duration::from_millis(20)).unwrap();
    assert_eq!(d.conn.state(), State::TlsHandshaking);
    assert!(d.wakeups - before <= 1, "{} wake-ups while stalled", d.wakeups - before);
    drop(stop);
}

#[test]
fn peer_hangs_up_during_the_tls_handshake() {
    let addr = serve_tcp(|mut stream| {
        // Read the whole ClientHello record (so closing sends FIN, not RST).
        let mut header = [0_u8; 5];
        stream.read_exact(&mut header).unwrap();
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        stream.read_exact(&mut vec![0_u8; len]).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let _ = stream.read(&mut [0_u8; 64]);
    });
    let client = Ca::new("rig test ca").client();
    let mut d = Driver::connect(addr, &format!("wss://localhost:{}/", addr.port()), Some(&client));
    let err = d.open().unwrap_err();
    assert!(
        matches!(err, Error::PeerClosed { during: State::TlsHandshaking, code: None, .. }),
        "{err:?}"
    );
}

#[test]
fn peer_hangs_up_during_the_websocket_handshake() {
    let addr = serve_tcp(|mut stream| {
        read_request_head(&mut stream);
        stream.shutdown(Shutdown::Write).unwrap();
        let _ = stream.read(&mut [0_u8; 64]);
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    let err = d.open().unwrap_err();
    assert!(matches!(err, Error::PeerClosed { during: State::WsHandshaking, .. }), "{err:?}");
}

#[test]
fn peer_hangs_up_while_open_without_a_close_frame() {
    let addr = serve_ws(|mut ws| {
        ws.send(Message::text("last words")).unwrap();
        ws.get_mut().shutdown(Shutdown::Write).unwrap();
        let _ = ws.get_mut().read(&mut [0_u8; 64]);
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    d.open().unwrap();
    let err = d.run_until(|_| false).unwrap_err();
    assert!(matches!(err, Error::PeerClosed { during: State::Open, code: None, .. }), "{err:?}");
    // What came before the hang-up was delivered.
    assert_eq!(d.texts(), ["last words"]);
    assert_eq!(d.conn.state(), State::Closed);
}

#[test]
fn a_hang_up_arriving_with_the_handshake_is_reported_after_opened() {
    // One write: the 101, a text frame and the FIN arrive together, so the
    // call that opens also meets the end of the stream.
    let addr = serve_tcp(|mut stream| {
        let head = read_request_head(&mut stream);
        let key = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("sec-websocket-key:")
                    .map(|_| l[18..].trim().to_owned())
            })
            .unwrap();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let mut bytes = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .into_bytes();
        bytes.extend_from_slice(b"\x81\x05hello");
        stream.write_all(&bytes).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let _ = stream.read(&mut [0_u8; 64]);
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    d.open().unwrap();
    assert_eq!(d.texts(), ["hello"]);
    let err = d.run_until(|_| false).unwrap_err();
    assert!(matches!(err, Error::PeerClosed { during: State::Open, code: None, .. }), "{err:?}");
}

#[test]
fn peer_closes_while_open_with_code_and_reason() {
    let addr = serve_ws(|mut ws| {
        ws.send(Message::text("before close")).unwrap();
        let frame = CloseFrame { code: CloseCode::from(4000), reason: "server restart".into() };
        ws.close(Some(frame)).unwrap();
        // Wait for the client's reply, then drop (the server closes TCP first).
        while ws.read().is_ok() {}
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    d.open().unwrap();
    let err = d.run_until(|_| false).unwrap_err();
    assert!(
        matches!(err, Error::PeerClosed { during: State::Open, code: Some(4000), ref reason } if reason == "server restart"),
        "{err:?}"
    );
    assert_eq!(d.texts(), ["before close"]);
    assert_eq!(
        err.to_string(),
        "peer closed the connection while open (code 4000: server restart)"
    );
}

#[test]
fn peer_hangs_up_while_we_are_closing() {
    let addr = serve_ws(|mut ws| {
        // Read our close frame, then vanish without answering it.
        while !matches!(ws.read(), Ok(Message::Close(_)) | Err(_)) {}
        let _ = ws.get_mut().shutdown(Shutdown::Both);
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    d.open().unwrap();
    d.conn.close(1000, "bye").unwrap();
    d.after_call();
    d.run_until(|_| false).unwrap();
    assert!(d.closed, "closing ends in Closed even without the peer's reply");
    assert_eq!(d.conn.state(), State::Closed);
}

#[test]
fn calls_after_close_report_closed() {
    let addr = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = addr.local_addr().unwrap().port();
    let mut d =
        Driver::connect(addr.local_addr().unwrap(), &format!("ws://127.0.0.1:{port}/"), None);
    d.conn.close(1000, "").unwrap();
    assert_eq!(d.conn.state(), State::Closed);
    let mut out = Vec::new();
    assert!(matches!(d.conn.handle_ready(true, true, &mut out), Err(Error::Closed)));
    drop(TcpStream::connect(addr.local_addr().unwrap()));
    let _ = Validity::Current;
}

#[test]
fn a_response_trickling_in_one_byte_per_read_is_not_an_attack() {
    // A slow or segmenting path can deliver an honest 101 one byte per
    // read; tungstenite's own reader calls more than 64 reads averaging
    // under 128 bytes an attack. Found through `netsim` with `slice(1)`.
    let addr = serve_tcp(|mut stream| {
        let head = read_request_head(&mut stream);
        let key = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("sec-websocket-key:")
                    .map(|_| l[18..].trim().to_owned())
            })
            .unwrap();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let padding = "p".repeat(200);
        let mut bytes = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Padding: {padding}\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .into_bytes();
        bytes.extend_from_slice(b"\x81\x05hello");
        stream.set_nodelay(true).unwrap();
        let (_never, pace) = mpsc::channel::<()>();
        for byte in bytes {
            stream.write_all(&[byte]).unwrap();
            // A pause between bytes, so each one is a read of its own.
            let _ = pace.recv_timeout(Duration::from_micros(300));
        }
        let _ = stream.read(&mut [0_u8; 64]);
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    d.open().unwrap();
    d.run_until(|d| !d.texts().is_empty()).unwrap();
    assert_eq!(d.texts(), ["hello"]);
}

#[test]
fn an_endless_response_head_is_refused_at_64_kib() {
    let addr = serve_tcp(|mut stream| {
        read_request_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 101 Switching Protocols\r\n");
        let line = format!("X-Padding: {}\r\n", "p".repeat(1000));
        for _ in 0..80 {
            if stream.write_all(line.as_bytes()).is_err() {
                return;
            }
        }
        let _ = stream.read(&mut [0_u8; 64]);
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    let err = d.open().unwrap_err();
    assert!(
        matches!(&err, Error::WebSocket(e) if matches!(**e, tungstenite::Error::Capacity(_))),
        "{err:?}"
    );
}
