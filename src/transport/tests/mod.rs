//! Transport tests over real sockets on 127.0.0.1: a mio loop drives one
//! [`Connection`] against a small blocking server thread. Every wait is
//! bounded (a poll deadline in the driver, socket timeouts in the servers).

mod failures;
#[cfg(feature = "native-tls")]
mod native_tls;
mod pki;
mod secrets;
mod tls;
mod url;
mod ws;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use mio::{Events, Interest, Poll, Token};
use tungstenite::WebSocket;

use super::{
    ConnectRequest, Connection, Data, Error, HandshakeResponse, Progress, TlsConnector, WsUrl,
};
use crate::time::Clock;

/// How long any test may wait for one condition before it fails.
const DEADLINE: Duration = Duration::from_secs(5);
/// Socket timeouts in the server threads, so none outlives its test for long.
const SERVER_TIMEOUT: Duration = Duration::from_secs(5);
const TOKEN: Token = Token(7);

/// A mio loop around one connection, recording what happened.
pub(super) struct Driver {
    pub(super) conn: Connection,
    poll: Poll,
    events: Events,
    clock: Clock,
    pub(super) frames: Vec<Data>,
    pub(super) opened: Option<HandshakeResponse>,
    pub(super) closed: bool,
    /// Events delivered for our token.
    pub(super) wakeups: usize,
    /// Whether the interest ever included WRITABLE after open.
    pub(super) blocked_on_write: bool,
}

impl Driver {
    /// Connects to `url` on `addr` (no DNS) with default limits.
    pub(super) fn connect(addr: SocketAddr, url: &str, tls: Option<&TlsConnector>) -> Self {
        Self::start(addr, &ConnectRequest::new(WsUrl::parse(url).unwrap()), tls)
    }

    pub(super) fn start(
        addr: SocketAddr,
        request: &ConnectRequest,
        tls: Option<&TlsConnector>,
    ) -> Self {
        let mut conn = Connection::start(addr, request, tls).unwrap();
        let poll = Poll::new().unwrap();
        conn.register(poll.registry(), TOKEN).unwrap();
        Self {
            conn,
            poll,
            events: Events::with_capacity(8),
            clock: Clock::real(),
            frames: Vec::new(),
            opened: None,
            closed: false,
            wakeups: 0,
            blocked_on_write: false,
        }
    }

    /// Runs the loop until `done` holds, the connection fails (the error is
    /// returned) or closes. Panics after [`DEADLINE`].
    pub(super) fn run_until(&mut self, mut done: impl FnMut(&Self) -> bool) -> Result<(), Error> {
        let deadline = self.clock.now() + DEADLINE;
        while !done(self) && !self.closed {
            let now = self.clock.now();
            assert!(now < deadline, "deadline passed in state {}", self.conn.state());
            self.turn(deadline.saturating_duration_since(now).min(Duration::from_millis(100)))?;
        }
        Ok(())
    }

    /// Runs until the connection is open.
    pub(super) fn open(&mut self) -> Result<&HandshakeResponse, Error> {
        self.run_until(|d| d.opened.is_some())?;
        Ok(self.opened.as_ref().unwrap())
    }

    /// Polls `turns` times, each up to `timeout`, whatever happens.
    pub(super) fn run_turns(&mut self, turns: usize, timeout: Duration) -> Result<(), Error> {
        for _ in 0..turns {
            self.turn(timeout)?;
        }
        Ok(())
    }

    fn turn(&mut self, timeout: Duration) -> Result<(), Error> {
        self.poll.poll(&mut self.events, Some(timeout)).unwrap();
        // As the engine does: a fresh readable edge without a hang-up lets a
        // short read end the reading, so every test here runs that path.
        let ready: Vec<(bool, bool, bool)> = self
            .events
            .iter()
            .inspect(|event| assert_eq!(event.token(), TOKEN))
            .map(|event| {
                let hangup = event.is_read_closed() || event.is_error();
                (event.is_readable() || hangup, event.is_writable(), event.is_readable() && !hangup)
            })
            .collect();
        for (readable, writable, fresh) in ready {
            self.wakeups += 1;
            if fresh {
                self.conn.trust_short_reads();
            }
            self.ready(readable, writable)?;
            // Input left by the read budget: the socket will not signal it.
            while self.conn.wants_read() {
                self.ready(true, false)?;
            }
        }
        self.after_call();
        Ok(())
    }

    /// One `handle_ready` call, recording its progress.
    pub(super) fn ready(&mut self, readable: bool, writable: bool) -> Result<(), Error> {
        match self.conn.handle_ready(readable, writable, &mut self.frames)? {
            Progress::Opened(response) => self.opened = Some(*response),
            Progress::Closed => self.closed = true,
            _ => {}
        }
        Ok(())
    }

    /// What the engine does after every call into the connection.
    pub(super) fn after_call(&mut self) {
        if self.conn.is_open() && self.conn.interest().is_writable() {
            self.blocked_on_write = true;
        }
        self.conn.reregister(self.poll.registry()).unwrap();
    }

    /// The text frames received so far.
    pub(super) fn texts(&self) -> Vec<&str> {
        self.frames
            .iter()
            .filter_map(|f| match f {
                Data::Text(t) => Some(t.as_str()),
                Data::Binary(_) => None,
            })
            .collect()
    }
}

/// Accepts one TCP connection on a fresh port and runs `handler` on it in a
/// thread.
pub(super) fn serve_tcp(handler: impl FnOnce(TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(SERVER_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(SERVER_TIMEOUT)).unwrap();
        handler(stream);
    });
    addr
}

/// A WebSocket server for one connection; `handler` gets the open socket.
pub(super) fn serve_ws(handler: impl FnOnce(WebSocket<TcpStream>) + Send + 'static) -> SocketAddr {
    serve_tcp(move |stream| {
        if let Ok(ws) = tungstenite::accept(stream) {
            handler(ws);
        }
    })
}

/// Echoes every data message until the client closes.
pub(super) fn echo<S: Read + Write>(mut ws: WebSocket<S>) {
    while let Ok(message) = ws.read() {
        if (message.is_text() || message.is_binary()) && ws.send(message).is_err() {
            return;
        }
    }
}

/// Reads an HTTP request head (up to the blank line) from a raw socket.
pub(super) fn read_request_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A channel whose receiver waits at most [`DEADLINE`].
pub(super) fn report<T>() -> (mpsc::Sender<T>, impl FnOnce() -> T) {
    let (tx, rx) = mpsc::channel();
    (tx, move || rx.recv_timeout(DEADLINE).expect("the server thread reported in time"))
}

#[test]
fn interest_is_writable_only_while_needed() {
    let addr = serve_ws(echo);
    let mut d = Driver::connect(addr, &format!("ws://{addr}/"), None);
    assert_eq!(d.conn.interest(), Interest::READABLE | Interest::WRITABLE);
    d.open().unwrap();
    assert_eq!(d.conn.interest(), Interest::READABLE);
    d.conn.send_text("queued").unwrap();
    // Queued but not flushed: the next writable event would flush it.
    assert!(d.conn.interest().is_writable());
    d.conn.flush().unwrap();
    assert_eq!(d.conn.interest(), Interest::READABLE);
    assert!(!d.conn.reregister(d.poll.registry()).unwrap(), "unchanged interest: no syscall");
    d.run_until(|d| !d.frames.is_empty()).unwrap();
    assert_eq!(d.texts(), ["queued"]);
}

#[test]
fn public_types_can_move_to_the_io_thread() {
    fn assert_send<T: Send + 'static>() {}
    assert_send::<Connection>();
    assert_send::<Error>();
    assert_send::<super::SendError>();
    assert_send::<TlsConnector>();
    fn assert_sync<T: Sync>() {}
    assert_sync::<TlsConnector>();
    assert_sync::<Error>();
}

#[test]
fn timeouts_name_the_state() {
    let err = Error::Timeout(super::State::TlsHandshaking);
    assert_eq!(err.to_string(), "timed out while handshaking tls");
    assert!(err.is_retryable());
}
