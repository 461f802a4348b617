//! A raw tungstenite client with deadline-bounded waits.

use std::io;
use std::net::TcpStream;
use std::time::Duration;

use tungstenite::client::IntoClientRequest as _;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

use crate::server::{Server, ServerConfig, ServerHandle};

/// How long any single expectation may take.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

pub(crate) fn server() -> ServerHandle {
    Server::start(ServerConfig::builder().build()).unwrap()
}

pub(crate) fn server_with(config: ServerConfig) -> ServerHandle {
    Server::start(config).unwrap()
}

pub(crate) struct Client {
    pub(crate) ws: WebSocket<TcpStream>,
}

/// Connects to `server` with the given query (e.g. `vsn=2.0.0`).
pub(crate) fn connect(server: &ServerHandle, query: &str) -> Client {
    try_connect(server, query, &[]).unwrap()
}

/// Connects with optional extra request headers; the error is the handshake's.
pub(crate) fn try_connect(
    server: &ServerHandle,
    query: &str,
    headers: &[(&str, &str)],
) -> Result<Client, tungstenite::Error> {
    let url = format!("{}/websocket?{query}", server.url());
    let mut request = url.into_client_request()?;
    for (name, value) in headers {
        request.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    let stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let (ws, _response) = tungstenite::client(request, stream).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(e) => e,
        tungstenite::HandshakeError::Interrupted(_) => panic!("blocking handshake interrupted"),
    })?;
    Ok(Client { ws })
}

impl Client {
    pub(crate) fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).unwrap();
    }

    pub(crate) fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::binary(bytes)).unwrap();
    }

    /// The next data or close message, within `wait`; `None` on timeout.
    pub(crate) fn next_within(&mut self, wait: Duration) -> Option<Message> {
        let clock = crate::time::Clock::real();
        let deadline = clock.now() + wait;
        loop {
            let left = deadline.saturating_duration_since(clock.now());
            if left.is_zero() {
                return None;
            }
            self.ws.get_mut().set_read_timeout(Some(left)).unwrap();
            match self.ws.read() {
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
                Ok(msg) => return Some(msg),
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                {
                    return None;
                }
                Err(e) => panic!("read failed: {e}"),
            }
        }
    }

    pub(crate) fn next(&mut self) -> Message {
        self.next_within(WAIT).expect("no message within the deadline")
    }

    pub(crate) fn expect(&mut self, text: &str) {
        match self.next() {
            Message::Text(got) => assert_eq!(got.as_str(), text),
            other => panic!("expected text {text}, got {other:?}"),
        }
    }

    pub(crate) fn next_text(&mut self) -> String {
        match self.next() {
            Message::Text(got) => got.as_str().to_owned(),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Nothing arrives within `wait`.
    pub(crate) fn expect_silence(&mut self, wait: Duration) {
        if let Some(msg) = self.next_within(wait) {
            panic!("expected nothing, got {msg:?}");
        }
    }

    pub(crate) fn expect_close(&mut self, code: u16) {
        match self.next() {
            Message::Close(Some(frame)) => {
                assert_eq!(frame.code, CloseCode::from(code));
                assert_eq!(frame.reason.as_str(), "");
            }
            other => panic!("expected close {code}, got {other:?}"),
        }
    }
}
