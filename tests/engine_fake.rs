//! A test-written WebSocket server that misbehaves on purpose: it stalls
//! the handshake, answers with garbage, closes with a chosen code, or
//! accepts the WebSocket and then never answers a Phoenix message. It
//! reports what it saw, and counts connections.
//!
//! Also: counting this process's TCP sockets connected to a port, from
//! `/proc` (so the count is exact even while other tests open sockets).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use tungstenite::handshake::HandshakeError;
use tungstenite::handshake::server::{Callback, ErrorResponse, Request, Response};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

/// How a connection is served.
#[derive(Clone, Debug)]
pub(crate) enum Behaviour {
    /// Upgrade, report every frame, never answer one.
    SilentWs,
    /// Read the upgrade request and never answer it.
    StallHandshake,
    /// Answer the upgrade request with these bytes, then hang up.
    RawResponse(&'static str),
    /// Upgrade, then write these bytes (not a valid frame) and keep reading.
    GarbageAfterUpgrade(&'static [u8]),
    /// Upgrade, then send this text frame and stay silent.
    SendText(&'static str),
    /// Upgrade, then close with this code.
    CloseWith(u16),
    /// Hang up at once, without reading anything.
    HangUp,
    /// Upgrade answering exactly this subprotocol (`None`: no
    /// `Sec-WebSocket-Protocol` header, whatever was offered), then as
    /// [`Behaviour::SilentWs`].
    Subprotocol(Option<&'static str>),
}

/// What the fake server saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Connection number `n` (from 1) was accepted.
    Accepted(usize),
    /// An upgrade request: its path and query, and its headers (lowercase
    /// names, in order).
    Request { uri: String, headers: Vec<(String, String)> },
    /// A text frame from the client.
    Text(String),
    /// The client's close frame.
    Close(Option<(u16, String)>),
}

pub(crate) struct FakeServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    pub(crate) seen: Receiver<Seen>,
}

impl FakeServer {
    /// Serves connection `n` (from 1) as `behaviour(n)` says.
    pub(crate) fn start(behaviour: impl Fn(usize) -> Behaviour + Send + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, seen) = crossbeam_channel::unbounded();
        let (count, halt) = (Arc::clone(&accepted), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                let _ = tx.send(Seen::Accepted(n));
                let (tx, halt, how) = (tx.clone(), Arc::clone(&halt), behaviour(n));
                std::thread::spawn(move || serve(stream, &how, &tx, &halt));
            }
        });
        Self { addr, accepted, stop, seen }
    }

    /// The Phoenix endpoint URL.
    pub(crate) fn url(&self) -> String {
        format!("ws://{}/socket", self.addr)
    }

    pub(crate) fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far.
    pub(crate) fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Waits for something matching `want`; returns what was seen until then.
    pub(crate) fn until(&self, within: Duration, want: impl Fn(&Seen) -> bool) -> Vec<Seen> {
        let clock = rig::time::Clock::real();
        let deadline = clock.now() + within;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(clock.now());
            match self.seen.recv_timeout(left) {
                Ok(s) => {
                    let done = want(&s);
                    seen.push(s);
                    if done {
                        return seen;
                    }
                }
                Err(e) => {
                    panic!("fake server: nothing matching within {within:?} ({e}); saw {seen:#?}")
                }
            }
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Unblock the accept loop.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Polling interval of the blocking reads (they check `stop` in between).
const TICK: Duration = Duration::from_millis(20);

fn would_block(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn serve(stream: TcpStream, how: &Behaviour, tx: &Sender<Seen>, stop: &AtomicBool) {
    stream.set_read_timeout(Some(TICK)).unwrap();
    match how {
        Behaviour::HangUp => drop(stream),
        Behaviour::StallHandshake => drain_raw(stream, stop),
        Behaviour::RawResponse(bytes) => {
            let mut stream = stream;
            read_request(&mut stream, stop);
            let _ = stream.write_all(bytes.as_bytes());
        }
        _ => {
            let answer = match how {
                Behaviour::Subprotocol(answer) => Answer::Exactly(*answer),
                _ => Answer::LikePhoenix,
            };
            let Some(mut ws) = upgrade(stream, tx, stop, answer) else { return };
            match how {
                Behaviour::GarbageAfterUpgrade(bytes) => {
                    let _ = ws.get_mut().write_all(bytes);
                }
                Behaviour::SendText(text) => {
                    let _ = ws.send(Message::text(*text));
                }
                Behaviour::CloseWith(code) => {
                    let frame = CloseFrame { code: CloseCode::from(*code), reason: "bye".into() };
                    let _ = ws.close(Some(frame));
                }
                _ => {}
            }
            read_frames(&mut ws, tx, stop);
        }
    }
}

/// Reads until the request's blank line (or the peer hangs up).
fn read_request(stream: &mut TcpStream, stop: &AtomicBool) {
    let mut request = Vec::new();
    let mut buf = [0_u8; 1024];
    while !stop.load(Ordering::SeqCst) && !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
            Err(e) if would_block(&e) => {}
            Err(_) => return,
        }
    }
}

/// Reads and ignores everything until the peer hangs up.
fn drain_raw(mut stream: TcpStream, stop: &AtomicBool) {
    let mut buf = [0_u8; 1024];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if would_block(&e) => {}
            Err(_) => return,
        }
    }
}

/// The `Sec-WebSocket-Protocol` a fake upgrade answers.
#[derive(Clone, Copy)]
enum Answer {
    /// `phoenix` when offered, else nothing.
    LikePhoenix,
    /// This one, or no header.
    Exactly(Option<&'static str>),
}

/// Records the upgrade request and answers with a subprotocol as told.
struct Record(Sender<Seen>, Answer);

impl Callback for Record {
    fn on_request(
        self,
        request: &Request,
        mut response: Response,
    ) -> Result<Response, ErrorResponse> {
        let headers = request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
            .collect();
        let _ = self.0.send(Seen::Request { uri: request.uri().to_string(), headers });
        // As Phoenix 1.8 with `auth_token: true`: a client that offers
        // `phoenix` gets it back.
        let offered = request.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok());
        let answer = match self.1 {
            Answer::LikePhoenix => offered
                .is_some_and(|v| v.split(',').any(|p| p.trim() == "phoenix"))
                .then_some("phoenix"),
            Answer::Exactly(answer) => answer,
        };
        if let Some(answer) = answer {
            response.headers_mut().insert("sec-websocket-protocol", answer.parse().unwrap());
        }
        Ok(response)
    }
}

fn upgrade(
    stream: TcpStream,
    tx: &Sender<Seen>,
    stop: &AtomicBool,
    answer: Answer,
) -> Option<WebSocket<TcpStream>> {
    let mut attempt = tungstenite::accept_hdr(stream, Record(tx.clone(), answer));
    loop {
        match attempt {
            Ok(ws) => return Some(ws),
            Err(HandshakeError::Interrupted(mid)) if !stop.load(Ordering::SeqCst) => {
                attempt = mid.handshake();
            }
            Err(_) => return None,
        }
    }
}

fn read_frames(ws: &mut WebSocket<TcpStream>, tx: &Sender<Seen>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match ws.read() {
            Ok(Message::Text(text)) => {
                let _ = tx.send(Seen::Text(text.to_string()));
            }
            Ok(Message::Close(frame)) => {
                let close = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                let _ = tx.send(Seen::Close(close));
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e)) if would_block(&e) => {}
            Err(_) => return,
        }
    }
}

/// TCP sockets of this process whose remote port is `port` (the client
/// ends of connections to a local server on that port).
pub(crate) fn sockets_to(port: u16) -> usize {
    let mut inodes = std::collections::HashSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(remote), Some(inode)) = (fields.get(2), fields.get(9)) else { continue };
            let remote_port =
                remote.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            if remote_port == Some(port) && *inode != "0" {
                inodes.insert((*inode).to_owned());
            }
        }
    }
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(target.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .filter(|inode| inodes.contains(inode))
        .count()
}
