//! A push over the server's message limit: the server sends close 1009 and
//! hangs up while the engine is still writing the message. The engine
//! reports that close (code and reason), not the failed write.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use rig::engine::{PushError, Status};
use rig::protocol::{AbandonReason, ErrorCause, Payload};
use rig::server::{Server, ServerConfig};

use crate::engine_util::{WAIT, engine, socket_with, until_status};

#[test]
fn engine_push_over_the_server_limit_reports_close_1009_not_a_broken_pipe() {
    let server = Server::start(ServerConfig::builder().max_frame(64 * 1024).build()).unwrap();
    let engine = engine();
    let (socket, status) = socket_with(&engine, server.url(), |o| o);
    socket.connect().unwrap();
    let room = socket.channel("room:big", Payload::empty()).unwrap();
    room.join().wait().unwrap();
    // Far more than the socket buffers hold: the write is still going when
    // the server closes.
    let payload = format!(r#"{{"s":"{}"}}"#, "a".repeat(8_000_000));
    let push = room.push("echo", Payload::json(payload));
    let story = until_status(&status, WAIT, |s| matches!(s, Status::Closed { .. }));
    assert!(!story.iter().any(|s| matches!(s, Status::Failed { .. })), "{story:#?}");
    assert!(matches!(story.last(), Some(Status::Closed { code: Some(1009), .. })), "{story:#?}");
    let outcome = push.wait();
    assert!(
        matches!(
            outcome,
            Err(PushError::Abandoned(AbandonReason::ChannelError(ErrorCause::Transport(_))))
        ),
        "{outcome:?}"
    );
    drop((room, socket));
    engine.shutdown();
}

/// A server that reads a frame header over its limit, writes close 1009 and
/// hangs up at once with the rest of the message unread (so the client's
/// side sees a reset right behind the close frame, as with a server on
/// another machine).
fn hang_up_server() -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    use std::net::TcpListener;
    use tungstenite::protocol::WebSocketConfig;
    use tungstenite::protocol::frame::coding::CloseCode;
    use tungstenite::protocol::{CloseFrame, Message};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let thread = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let config = WebSocketConfig::default().max_message_size(Some(64 * 1024));
        let mut ws =
            tungstenite::accept_with_config(stream, Some(config)).expect("websocket upgrade");
        loop {
            match ws.read() {
                Ok(Message::Text(text)) => {
                    let msg: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
                    let reply = serde_json::json!([
                        msg[0], msg[1], msg[2], "phx_reply", {"response": {}, "status": "ok"}
                    ]);
                    ws.send(Message::text(reply.to_string())).unwrap();
                }
                Ok(_) => {}
                Err(tungstenite::Error::Capacity(_)) => break,
                Err(e) => panic!("fake server: {e}"),
            }
        }
        let frame = CloseFrame { code: CloseCode::Size, reason: "message too big".into() };
        let _ = ws.close(Some(frame));
        let _ = ws.flush();
        // Linger 0: the close sends a reset at once, right behind the close
        // frame, as a busy server on another machine does.
        reset_on_close(ws.get_ref());
    });
    (addr, thread)
}

/// The reset may land before or after the client reads the close frame,
/// and while it writes or while it reads; a few rounds meet several orders.
#[test]
fn engine_push_to_a_server_that_hangs_up_after_close_1009_reports_the_close() {
    let engine = engine();
    for round in 0..10 {
        let (addr, server) = hang_up_server();
        let url = format!("ws://{addr}/socket");
        let (socket, status) = socket_with(&engine, &url, |o| o.max_reconnect_attempts(Some(0)));
        socket.connect().unwrap();
        let room = socket.channel("room:big", Payload::empty()).unwrap();
        room.join().wait().unwrap();
        let payload = format!(r#"{{"s":"{}"}}"#, "a".repeat(8_000_000));
        let push = room.push("echo", Payload::json(payload));
        let story = until_status(&status, WAIT, |s| {
            matches!(s, Status::Closed { .. } | Status::Failed { .. })
        });
        assert_eq!(
            story.last(),
            Some(&Status::Closed { code: Some(1009), reason: "message too big".to_owned() }),
            "round {round}: {story:#?}"
        );
        assert!(push.wait().is_err());
        server.join().unwrap();
    }
    engine.shutdown();
}

/// Makes closing `stream` send a reset (SO_LINGER with a zero timeout).
fn reset_on_close(stream: &std::net::TcpStream) {
    use std::os::fd::AsRawFd as _;
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    let size = libc::socklen_t::try_from(size_of::<libc::linger>()).unwrap();
    // SAFETY: a valid socket descriptor and a `linger` of the size given.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            std::ptr::from_ref(&linger).cast(),
            size,
        )
    };
    assert_eq!(rc, 0, "setsockopt SO_LINGER");
}
