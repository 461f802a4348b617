//! Plain `ws://`: echo, large messages, ping/pong, the upgrade request,
//! the output cap and the close handshake.

use std::sync::mpsc;
use std::time::Duration;

use tungstenite::handshake::server::{Request, Response};
use tungstenite::http::HeaderValue;
use tungstenite::{Bytes, Message};

use super::{Driver, echo, report, serve_ws};
use crate::transport::{ConnectRequest, Data, SendError, State, WebSocketConfig, WsUrl};

#[test]
fn echoes_text_and_binary_in_order() {
    let addr = serve_ws(echo);
    let mut d = Driver::connect(addr, &format!("ws://{addr}/socket/websocket"), None);
    let response = d.open().unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(response.subprotocol(), None);
    assert!(d.conn.is_open());

    d.conn.send_text("one").unwrap();
    d.conn.send_binary(vec![0_u8, 159, 146, 150]).unwrap();
    d.conn.send(Data::from("three")).unwrap();
    d.conn.flush().unwrap();
    d.run_until(|d| d.frames.len() == 3).unwrap();
    assert_eq!(
        d.frames,
        vec![
            Data::from("one"),
            Data::Binary(Bytes::from_static(&[0, 159, 146, 150])),
            Data::from("three")
        ]
    );
}

#[test]
fn a_large_message_survives_partial_writes() {
    // The server reads nothing until told, so the client must hit
    // WouldBlock, keep the rest queued and finish on writable events.
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let addr = serve_ws(move |ws| {
        if go_rx.recv_timeout(super::DEADLINE).is_ok() {
            echo(ws);
        }
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    d.open().unwrap();
    let big: Vec<u8> = (0..12 << 20).map(|i: u32| (i % 251) as u8).collect();
    d.conn.send_binary(big.clone()).unwrap();
    d.conn.flush().unwrap();
    d.after_call();
    assert!(d.blocked_on_write, "12 MiB must not fit the socket buffers");
    go_tx.send(()).unwrap();
    d.run_until(|d| !d.frames.is_empty()).unwrap();
    assert_eq!(d.frames.len(), 1);
    assert!(d.frames[0].as_bytes() == big.as_slice(), "echo differs");
    assert!(!d.conn.interest().is_writable(), "all output written");
}

#[test]
fn server_ping_is_answered_with_pong() {
    let (tx, wait) = report();
    let addr = serve_ws(move |mut ws| {
        ws.send(Message::Ping(Bytes::from_static(b"are you there"))).unwrap();
        ws.send(Message::text("after ping")).unwrap();
        loop {
            match ws.read() {
                Ok(Message::Pong(payload)) => {
                    tx.send(payload).unwrap();
                    return;
                }
                Ok(_) => {}
                Err(e) => panic!("server read failed: {e}"),
            }
        }
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    d.open().unwrap();
    d.run_until(|d| !d.frames.is_empty()).unwrap();
    assert_eq!(d.texts(), ["after ping"]);
    // The pong went out with the flush after the read batch, unasked.
    assert_eq!(wait(), Bytes::from_static(b"are you there"));
}

#[test]
fn upgrade_request_and_response_are_reported() {
    let (tx, wait) = report();
    let addr = super::serve_tcp(move |stream| {
        let callback = |request: &Request, mut response: Response| {
            let header = |name: &str| {
                request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
            };
            tx.send((
                request.uri().to_string(),
                header("host"),
                header("x-rig"),
                header("sec-websocket-protocol"),
            ))
            .unwrap();
            let headers = response.headers_mut();
            headers.insert("sec-websocket-protocol", HeaderValue::from_static("phoenix"));
            headers.insert("x-served-by", HeaderValue::from_static("test"));
            Ok(response)
        };
        if let Ok(ws) = tungstenite::accept_hdr(stream, callback) {
            echo(ws);
        }
    });
    let url = WsUrl::parse(&format!("ws://localhost:{}/socket/websocket?vsn=2.0.0", addr.port()))
        .unwrap();
    let request = ConnectRequest::new(url)
        .header("x-rig", "yes")
        .subprotocol("phoenix")
        .subprotocol("base64url.bearer.phx.dG9rZW4");
    let mut d = Driver::start(addr, &request, None);
    let response = d.open().unwrap();
    assert_eq!(response.subprotocol(), Some("phoenix"));
    assert_eq!(response.headers()["x-served-by"], "test");
    let (uri, host, custom, offered) = wait();
    assert_eq!(uri, "/socket/websocket?vsn=2.0.0");
    assert_eq!(host, format!("localhost:{}", addr.port()));
    assert_eq!(custom, "yes");
    assert_eq!(offered, "phoenix, base64url.bearer.phx.dG9rZW4");
}

#[test]
fn output_queue_cap_hands_the_frame_back() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let addr = serve_ws(move |ws| {
        // Hold the connection without reading until the test ends.
        let _ = go_rx.recv_timeout(super::DEADLINE);
        drop(ws);
    });
    let limits = WebSocketConfig::default().write_buffer_size(0).max_write_buffer_size(256 * 1024);
    let url = WsUrl::parse(&format!("ws://{addr}/")).unwrap();
    let mut d = Driver::start(addr, &ConnectRequest::new(url).websocket_config(limits), None);
    d.open().unwrap();
    let chunk = Bytes::from(vec![7_u8; 64 * 1024]);
    let mut accepted = 0_usize;
    let refused = loop {
        assert!(accepted < 10_000, "the output queue never filled");
        match d.conn.send_binary(chunk.clone()) {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
    };
    assert!(accepted > 0);
    assert!(matches!(refused, SendError::Full(Data::Binary(ref b)) if *b == chunk), "{refused:?}");
    assert!(d.conn.interest().is_writable());
    assert!(d.conn.is_open(), "a full queue is not fatal");
    drop(go_tx);
}

#[test]
fn sending_before_open_is_refused() {
    let addr = serve_ws(echo);
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    let err = d.conn.send_text("early").unwrap_err();
    assert_eq!(err.into_data(), Some(Data::from("early")));
}

#[test]
fn close_handshake_with_code_and_reason() {
    let (tx, wait) = report();
    let addr = serve_ws(move |mut ws| {
        loop {
            match ws.read() {
                Ok(Message::Close(frame)) => {
                    let frame = frame.unwrap();
                    tx.send((u16::from(frame.code), frame.reason.to_string())).unwrap();
                    // tungstenite queued the reply; flushing it ends the handshake.
                    let _ = ws.flush();
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    d.open().unwrap();
    d.conn.close(4001, "going away now").unwrap();
    d.after_call();
    assert_eq!(d.conn.state(), State::Closing);
    assert!(matches!(d.conn.send_text("late"), Err(SendError::NotOpen(_))));
    d.run_until(|_| false).unwrap();
    assert!(d.closed);
    assert_eq!(d.conn.state(), State::Closed);
    assert_eq!(wait(), (4001, "going away now".to_owned()));
}

#[test]
fn the_read_budget_bounds_one_call_and_asks_for_more() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (sent_tx, wait_sent) = report();
    let addr = serve_ws(move |mut ws| {
        if go_rx.recv_timeout(super::DEADLINE).is_ok() {
            for i in 0..25 {
                ws.send(Message::text(format!("m{i}"))).unwrap();
            }
            sent_tx.send(()).unwrap();
            echo(ws);
        }
    });
    let url = WsUrl::parse(&format!("ws://{addr}/")).unwrap();
    let mut d = Driver::start(addr, &ConnectRequest::new(url).read_budget(10), None);
    d.open().unwrap();
    go_tx.send(()).unwrap();
    wait_sent();
    // Loopback delivered all 25 already: one call reads 10 and asks for more.
    d.ready(true, false).unwrap();
    assert_eq!(d.frames.len(), 10);
    assert!(d.conn.wants_read());
    d.ready(true, false).unwrap();
    d.ready(true, false).unwrap();
    assert_eq!(d.frames.len(), 25);
    assert!(!d.conn.wants_read(), "the socket is drained");
    let expected: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
    assert_eq!(d.texts(), expected);
}

#[test]
fn a_message_over_the_size_limit_is_a_typed_error() {
    let addr = serve_ws(|mut ws| {
        ws.send(Message::text("x".repeat(2048))).unwrap();
        let _ = ws.read();
    });
    let limits = WebSocketConfig::default().max_message_size(Some(1024)).max_frame_size(Some(1024));
    let url = WsUrl::parse(&format!("ws://{addr}/")).unwrap();
    let mut d = Driver::start(addr, &ConnectRequest::new(url).websocket_config(limits), None);
    let err = match d.open() {
        Ok(_) => d.run_until(|_| false).unwrap_err(),
        Err(e) => e,
    };
    assert!(
        matches!(&err, crate::transport::Error::WebSocket(e) if matches!(**e, tungstenite::Error::Capacity(_))),
        "{err:?}"
    );
    assert!(d.frames.is_empty());
}

#[test]
fn a_paused_connection_reads_nothing_and_asks_for_writable_only() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (sent_tx, wait_sent) = report();
    let (got_tx, wait_got) = report();
    let addr = serve_ws(move |mut ws| {
        if go_rx.recv_timeout(super::DEADLINE).is_ok() {
            for i in 0..5 {
                ws.send(Message::text(format!("m{i}"))).unwrap();
            }
            sent_tx.send(()).unwrap();
            // A frame written while the client is paused still arrives.
            if let Ok(Message::Text(text)) = ws.read() {
                got_tx.send(text.to_string()).unwrap();
            }
            echo(ws);
        }
    });
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    d.open().unwrap();
    d.conn.pause_reading(true);
    assert!(d.conn.is_reading_paused());
    assert_eq!(d.conn.interest(), mio::Interest::WRITABLE);
    d.after_call();
    go_tx.send(()).unwrap();
    wait_sent();
    // Readable or not, nothing is read; the loop is not woken for the data.
    d.ready(true, false).unwrap();
    assert!(d.frames.is_empty());
    assert!(!d.conn.wants_read());
    let wakeups = d.wakeups;
    d.run_turns(3, Duration::from_millis(20)).unwrap();
    assert!(d.wakeups <= wakeups + 1, "woken {} times while paused", d.wakeups - wakeups);
    assert!(d.frames.is_empty());
    // Writes go on.
    d.conn.send_text("while paused").unwrap();
    d.conn.flush().unwrap();
    d.after_call();
    assert_eq!(wait_got(), "while paused");
    // Resumed: everything, in order.
    d.conn.pause_reading(false);
    assert!(d.conn.interest().is_readable());
    d.after_call();
    d.ready(true, false).unwrap();
    d.run_until(|d| d.frames.len() == 5).unwrap();
    assert_eq!(d.texts(), ["m0", "m1", "m2", "m3", "m4"]);
}
