//! The non-blocking client transport: TCP, TLS and WebSocket on a mio socket.
//!
//! In scope: `ws://` / `wss://` URLs, DNS resolution (blocking, kept apart),
//! a non-blocking TCP connect, the TLS handshake (rustls; native-tls with the
//! `native-tls` feature), the WebSocket upgrade (tungstenite), reading and
//! writing frames with size limits and a bounded output queue, ping/pong,
//! and the close handshake. Out of scope:
//! Phoenix (this module never sees a Phoenix message), clocks and deadlines
//! (the driver applies them), reconnecting, and owning the `Poll` loop: one
//! I/O thread drives thousands of [`Connection`]s from its own loop.
//!
//! ```text
//!  start(addr)
//!      │
//!      ▼
//!  Connecting ──tcp up (wss)──▶ TlsHandshaking ──tls done──▶ WsHandshaking ──101──▶ Open
//!      │   └────────────tcp up (ws)──────────────────────────────▲                  │
//!      │                                                 close() or the peer's      │
//!      │                                                 close frame                ▼
//!      └─ any error, in every state ─▶ Closed ◀─ Progress::Closed ──────────────── Closing
//!                                              or Error::PeerClosed
//! ```
//!
//! Every call is driven by readiness: register the connection, call
//! [`Connection::handle_ready`] for each event on its token (and again while
//! [`Connection::wants_read`] says the read budget left input behind), and
//! [`Connection::reregister`] afterwards (it only touches the registry when
//! the [`Connection::interest`] changed: readable unless the driver
//! [paused reading](Connection::pause_reading) (its backpressure), writable
//! while connecting or while output waits for the socket).
//!
//! # Examples
//!
//! A connection to a WebSocket echo server, driven by a small poll loop:
//!
//! ```
//! use std::time::Duration;
//! use mio::{Events, Poll, Token};
//! use rig::transport::{resolve, ConnectRequest, Connection, Data, Progress, WsUrl};
//!
//! # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! # let addr = listener.local_addr()?;
//! # std::thread::spawn(move || -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! #     let mut ws = tungstenite::accept(listener.accept()?.0)?;
//! #     loop {
//! #         let msg = ws.read()?;
//! #         if msg.is_close() { return Ok(()); }
//! #         ws.send(msg)?;
//! #     }
//! # });
//! let url = WsUrl::parse(&format!("ws://{addr}/socket/websocket"))?;
//! let addr = resolve(&url)?[0]; // off the I/O thread in real code: it may block
//! let mut conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
//!
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(16);
//! conn.register(poll.registry(), Token(0))?;
//! let mut frames = Vec::new();
//! let mut sent = false;
//! let mut turns = 0;
//! while frames.is_empty() && turns < 100 {
//!     turns += 1;
//!     poll.poll(&mut events, Some(Duration::from_millis(100)))?;
//!     for event in &events {
//!         let progress = conn.handle_ready(event.is_readable(), event.is_writable(), &mut frames)?;
//!         if let Progress::Opened(response) = progress {
//!             assert_eq!(response.status(), 101);
//!         }
//!     }
//!     if conn.is_open() && !sent {
//!         conn.send_text("hello")?;
//!         conn.flush()?;
//!         sent = true;
//!     }
//!     conn.reregister(poll.registry())?;
//! }
//! assert_eq!(frames, vec![Data::from("hello")]);
//! conn.close(1000, "bye")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod classify;
mod connection;
mod dns;
mod error;
mod open;
mod output;
mod read_pause;
mod ready;
mod request;
mod request_head;
mod response;
mod rustls_stream;
mod salvage;
mod state;
mod stream;
mod tcp;
mod tls;
mod tls_handshake;
#[cfg(feature = "native-tls")]
mod tls_native;
mod tls_pinned;
mod upgrade;
mod url;

#[cfg(test)]
mod tests;

pub use connection::Connection;
pub use dns::resolve;
pub use error::{CertificateError, Error, SendError};
pub use request::{
    ConnectRequest, DEFAULT_MAX_QUEUED_BYTES, DEFAULT_READ_BUDGET, DEFAULT_READ_BUFFER_SIZE,
};
pub use response::HandshakeResponse;
pub use state::{Data, Progress, State};
pub use tls::{TlsConfig, TlsConnector};
pub use tungstenite::protocol::WebSocketConfig;
pub use tungstenite::{Bytes, Utf8Bytes};
pub use url::{Host, Scheme, UrlError, WsUrl};
