//! A raw WebSocket client for tests: hand-written HTTP upgrade, then
//! tungstenite frames, every read bounded by a deadline.
//!
//! The upgrade is written by hand (not `tungstenite::client`) so the tests see
//! the exact HTTP response: status, headers and the body of a refusal.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use super::Deadline;
pub(crate) use super::http::{
    FRAME_TIMEOUT, HttpResponse, is_timeout, read_body, read_head, tcp_connect, upgrade_request,
};

/// A byte stream the client can run over: plain TCP or TLS over TCP.
pub(crate) trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

/// One thing read from the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Received {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
    /// A close frame from the server (`code` is `None` for an empty close).
    Close { code: Option<u16>, reason: String },
    /// The TCP connection ended after the close handshake.
    Closed,
    /// The TCP connection ended without any close frame.
    Eof,
    /// A read error (connection reset, protocol violation by the server, ...).
    Error(String),
}

/// The result of an upgrade request.
#[derive(Debug)]
pub(crate) enum Upgrade {
    /// 101: the WebSocket is open.
    Accepted(Box<WsClient>, HttpResponse),
    /// Anything else, with the body read per `content-length` or to EOF.
    Refused(HttpResponse),
}

/// A connected WebSocket client.
pub(crate) struct WsClient {
    ws: WebSocket<Box<dyn ReadWrite>>,
    /// A handle on the same socket, to set read timeouts under TLS too.
    tcp: TcpStream,
    saw_close: bool,
}

impl fmt::Debug for WsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsClient").field("peer", &self.tcp.peer_addr().ok()).finish_non_exhaustive()
    }
}

impl WsClient {
    /// Upgrades `path_query` on a plain TCP connection and expects 101.
    pub(crate) fn connect(addr: SocketAddr, path_query: &str) -> Self {
        match Self::upgrade(addr, path_query, &[]) {
            Upgrade::Accepted(client, _) => *client,
            Upgrade::Refused(response) => {
                panic!("upgrade of {path_query} refused: {response:?}")
            }
        }
    }

    /// Sends an upgrade request for `path_query` with `extra_headers`.
    pub(crate) fn upgrade(
        addr: SocketAddr,
        path_query: &str,
        extra_headers: &[(&str, &str)],
    ) -> Upgrade {
        let tcp = tcp_connect(addr);
        let stream = tcp.try_clone().unwrap_or_else(|e| panic!("clone socket: {e}"));
        Self::upgrade_over(Box::new(stream), tcp, addr, path_query, extra_headers)
    }

    /// Sends an upgrade request over an established `stream` (TCP or TLS);
    /// `tcp` is the socket underneath, used for read timeouts.
    pub(crate) fn upgrade_over(
        mut stream: Box<dyn ReadWrite>,
        tcp: TcpStream,
        addr: SocketAddr,
        path_query: &str,
        extra_headers: &[(&str, &str)],
    ) -> Upgrade {
        let key = tungstenite::handshake::client::generate_key();
        let request = upgrade_request(addr, path_query, &key, extra_headers);
        stream.write_all(request.as_bytes()).unwrap_or_else(|e| panic!("send upgrade: {e}"));
        stream.flush().unwrap_or_else(|e| panic!("send upgrade: {e}"));
        let deadline = Deadline::after(FRAME_TIMEOUT);
        let (mut response, leftover) = read_head(&mut stream, &tcp, deadline)
            .unwrap_or_else(|e| panic!("upgrade of {path_query}: {e}"));
        if response.status != 101 {
            response.body = read_body(&mut stream, &tcp, &response, leftover, deadline)
                .unwrap_or_else(|e| panic!("refusal of {path_query}: {e}"));
            return Upgrade::Refused(response);
        }
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        assert_eq!(
            response.header("sec-websocket-accept"),
            Some(accept.as_str()),
            "wrong sec-websocket-accept in {response:?}"
        );
        assert!(
            response.header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket")),
            "101 without `upgrade: websocket`: {response:?}"
        );
        assert!(
            response
                .header("connection")
                .is_some_and(|v| v.to_ascii_lowercase().contains("upgrade")),
            "101 without `connection: upgrade`: {response:?}"
        );
        let config = WebSocketConfig::default().max_message_size(None).max_frame_size(None);
        let ws = WebSocket::from_partially_read(stream, leftover, Role::Client, Some(config));
        Upgrade::Accepted(Box::new(Self { ws, tcp, saw_close: false }), response)
    }

    /// Sends a text frame.
    pub(crate) fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).unwrap_or_else(|e| panic!("send text {text:?}: {e}"));
    }

    /// Sends a binary frame.
    pub(crate) fn send_binary(&mut self, bytes: &[u8]) {
        self.ws
            .send(Message::binary(bytes.to_vec()))
            .unwrap_or_else(|e| panic!("send binary {bytes:?}: {e}"));
    }

    /// Writes raw bytes to the socket, bypassing the WebSocket framing (for
    /// frames tungstenite refuses to build). Returns the write error, if any.
    pub(crate) fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let stream = self.ws.get_mut();
        stream.write_all(bytes)?;
        stream.flush()
    }

    /// Starts the close handshake with `code` and an empty reason.
    pub(crate) fn send_close(&mut self, code: u16) {
        let frame = CloseFrame { code: CloseCode::from(code), reason: "".into() };
        self.ws.close(Some(frame)).unwrap_or_else(|e| panic!("send close {code}: {e}"));
    }

    /// The next frame or connection event, or `None` at the deadline.
    pub(crate) fn recv(&mut self, deadline: Deadline) -> Option<Received> {
        loop {
            let left = deadline.remaining()?;
            if let Err(e) = self.tcp.set_read_timeout(Some(left)) {
                return Some(Received::Error(format!("set_read_timeout: {e}")));
            }
            let received = match self.ws.read() {
                Ok(Message::Text(text)) => Received::Text(text.as_str().to_owned()),
                Ok(Message::Binary(bytes)) => Received::Binary(bytes.to_vec()),
                Ok(Message::Close(frame)) => {
                    self.saw_close = true;
                    let (code, reason) = frame
                        .map(|f| (Some(u16::from(f.code)), f.reason.as_str().to_owned()))
                        .unwrap_or_default();
                    Received::Close { code, reason }
                }
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
                Err(tungstenite::Error::Io(e)) if is_timeout(&e) => continue,
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    Received::Closed
                }
                Err(tungstenite::Error::Io(_)) if self.saw_close => Received::Closed,
                Err(tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                )) => Received::Eof,
                Err(e) => Received::Error(e.to_string()),
            };
            return Some(received);
        }
    }

    /// Sends a WebSocket ping with `payload` and expects the pong with the
    /// same payload before any data frame.
    pub(crate) fn ping_expecting_pong(&mut self, payload: &[u8]) {
        self.ws
            .send(Message::Ping(payload.to_vec().into()))
            .unwrap_or_else(|e| panic!("send ping: {e}"));
        let deadline = Deadline::after(FRAME_TIMEOUT);
        loop {
            let left =
                deadline.remaining().unwrap_or_else(|| panic!("no pong within {FRAME_TIMEOUT:?}"));
            self.tcp.set_read_timeout(Some(left)).unwrap_or_else(|e| panic!("{e}"));
            match self.ws.read() {
                Ok(Message::Pong(got)) => {
                    assert_eq!(got.as_ref(), payload, "the pong must carry the ping's payload");
                    return;
                }
                Ok(Message::Ping(_)) => {}
                Err(tungstenite::Error::Io(e)) if is_timeout(&e) => {}
                other => panic!("expected a pong, got {other:?}"),
            }
        }
    }

    /// The next frame or connection event within [`FRAME_TIMEOUT`].
    pub(crate) fn expect_frame(&mut self) -> Received {
        self.recv(Deadline::after(FRAME_TIMEOUT))
            .unwrap_or_else(|| panic!("nothing received within {FRAME_TIMEOUT:?}"))
    }

    /// Expects exactly the text frame `expected` next.
    pub(crate) fn expect_text(&mut self, expected: &str) {
        let received = self.expect_frame();
        assert_eq!(received, Received::Text(expected.to_owned()), "unexpected frame");
    }

    /// Expects the server to close with `code` and an empty reason, then end
    /// the TCP connection.
    pub(crate) fn expect_close(&mut self, code: u16) {
        let received = self.expect_frame();
        assert_eq!(
            received,
            Received::Close { code: Some(code), reason: String::new() },
            "expected a close frame with code {code}"
        );
        self.expect_closed();
    }

    /// Expects the TCP connection to end (after a close handshake).
    pub(crate) fn expect_closed(&mut self) {
        let received = self.expect_frame();
        assert_eq!(received, Received::Closed, "connection should end after the close handshake");
    }

    /// Expects nothing at all to arrive for `quiet`.
    pub(crate) fn expect_quiet(&mut self, quiet: Duration) {
        if let Some(received) = self.recv(Deadline::after(quiet)) {
            panic!("expected nothing for {quiet:?}, got {received:?}");
        }
    }

    /// Starts the close handshake with a close frame that has no status code.
    pub(crate) fn send_close_empty(&mut self) {
        self.ws.close(None).unwrap_or_else(|e| panic!("send empty close: {e}"));
    }

    /// Closes with `code`; expects the server's close reply with
    /// `reply_code` and no data frame before it, then the end of the connection.
    pub(crate) fn close_expecting(&mut self, code: u16, reply_code: u16) {
        self.send_close(code);
        let received = self.expect_frame();
        assert_eq!(
            received,
            Received::Close { code: Some(reply_code), reason: String::new() },
            "reply to a client close with {code}"
        );
        self.expect_closed();
    }
}
