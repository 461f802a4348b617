//! One client connection: HTTP upgrade, then WebSocket frames, then close.
//!
//! ```text
//!  Http --request complete--> Respond(101) --written--> Open --close sent/received--> Closing --> gone
//!    \--refused----------> Respond(4xx) --written--> gone
//! ```
//!
//! Every method is non-blocking: it moves bytes as far as the socket allows
//! and returns. Outgoing messages wait in a byte-counted queue; only a small
//! batch at a time is handed to tungstenite, so a client that stops reading
//! holds at most `max_outgoing` bytes before it is dropped.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::Arc;

use bytestring::ByteString;
use tungstenite::error::ProtocolError;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tungstenite::{Message as WsMessage, WebSocket};

use super::close::CloseReason;
use super::config::ServerConfig;
use super::http::{self, Parsed};
use super::push_log::PushLog;
use super::session::Session;
use super::stats::{Counters, bump};
use super::transport::Transport;
use crate::protocol::{Frame, ServerSerializer};
use crate::time::Instant;

/// The read buffer per connection: what one `recv` may take.
const WS_READ_BUFFER: usize = 2 * 1024;
/// How many bytes of the upgrade request are read per call.
const READ_CHUNK: usize = 4096;
/// How many bytes tungstenite may buffer before it writes to the socket.
const WS_WRITE_BUFFER: usize = 64 * 1024;

/// What a call on the connection left it as.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Health {
    Alive,
    /// Closed or broken: drop it.
    Dead,
}

/// The phases of a connection.
pub(crate) enum Phase {
    /// Reading the HTTP request head.
    Http { transport: Transport, buf: Vec<u8> },
    /// Writing the HTTP response; then upgrade (with the serializer and the
    /// bytes read past the head) or close.
    Respond {
        transport: Transport,
        response: Vec<u8>,
        written: usize,
        upgrade: Option<(Arc<dyn ServerSerializer>, Vec<u8>)>,
    },
    /// A WebSocket carrying Phoenix messages.
    Open(Box<Ws>),
    /// A close frame went out or came in; waiting for the handshake to finish.
    Closing(Box<Ws>),
    /// Nothing left to do.
    Gone,
}

/// The open WebSocket side of a connection.
pub(crate) struct Ws {
    socket: WebSocket<Transport>,
    pub(crate) serializer: Arc<dyn ServerSerializer>,
    pub(crate) session: Session,
    out: VecDeque<WsMessage>,
    out_bytes: usize,
    /// tungstenite holds bytes the socket would not take yet.
    blocked: bool,
    /// A frame over the limit sits half-read in tungstenite, which cannot
    /// parse past it (and asserts, in debug builds, when asked to read
    /// into its full buffer): the peer's close reply is read raw and
    /// discarded.
    unparsable: bool,
    stats: Arc<Counters>,
}

/// What reading produced.
pub(crate) enum Inbound {
    /// A data frame to decode.
    Frame(Frame),
    /// A WebSocket-level violation: close for this reason.
    Violation(CloseReason),
}

impl Ws {
    fn new(
        transport: Transport,
        serializer: Arc<dyn ServerSerializer>,
        leftover: Vec<u8>,
        max_frame: usize,
        stats: &Arc<Counters>,
        push_log: &Arc<PushLog>,
    ) -> Self {
        // A 2 KiB read buffer, not tungstenite's zero-filled 128 KiB: one
        // machine hosts both sides of a 10,000-socket test.
        let config = WebSocketConfig::default()
            .read_buffer_size(WS_READ_BUFFER)
            .write_buffer_size(WS_WRITE_BUFFER)
            .max_message_size(Some(max_frame))
            .max_frame_size(Some(max_frame));
        let socket =
            WebSocket::from_partially_read(transport, leftover, Role::Server, Some(config));
        Self {
            socket,
            serializer,
            session: Session::with_stats(Arc::clone(stats)).with_push_log(Arc::clone(push_log)),
            out: VecDeque::new(),
            out_bytes: 0,
            blocked: false,
            unparsable: false,
            stats: Arc::clone(stats),
        }
    }

    /// Bytes queued and not yet handed to tungstenite.
    pub(crate) fn queued_bytes(&self) -> usize {
        self.out_bytes
    }

    /// Whether the socket refused bytes and a writable event is awaited.
    pub(crate) fn is_blocked(&self) -> bool {
        self.blocked || self.socket.get_ref().wants_write()
    }

    /// Queues a message; the caller checks [`Self::queued_bytes`] against its cap.
    pub(crate) fn enqueue(&mut self, msg: WsMessage) {
        self.out_bytes += msg.len();
        self.out.push_back(msg);
    }

    /// Reads up to `max` frames. `Ok(true)` when the socket was drained
    /// (`WouldBlock`), `Ok(false)` when `max` was reached first. A received
    /// close is answered by tungstenite; the caller moves to `Closing`.
    /// `Err` when the connection is gone without a close (end of stream,
    /// reset, I/O or TLS error): drop it.
    pub(crate) fn read(
        &mut self,
        max: usize,
        got: &mut Vec<Inbound>,
        closed: &mut bool,
    ) -> Result<bool, ()> {
        for _ in 0..max {
            match self.socket.read() {
                Ok(WsMessage::Text(text)) => {
                    self.stats.frame_in(text.len());
                    let bytes = bytes::Bytes::from(text);
                    match ByteString::try_from(bytes) {
                        Ok(text) => got.push(Inbound::Frame(Frame::Text(text))),
                        Err(_) => got.push(Inbound::Violation(CloseReason::BadUtf8)),
                    }
                }
                Ok(WsMessage::Binary(bytes)) => {
                    self.stats.frame_in(bytes.len());
                    got.push(Inbound::Frame(Frame::Binary(bytes)));
                }
                Ok(WsMessage::Close(_)) => {
                    *closed = true;
                    return Ok(true);
                }
                Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_)) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(true);
                }
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(tungstenite::Error::Capacity(_)) => {
                    self.unparsable = true;
                    got.push(Inbound::Violation(CloseReason::TooBig));
                    return Ok(true);
                }
                Err(tungstenite::Error::Utf8(_)) => {
                    got.push(Inbound::Violation(CloseReason::BadUtf8));
                    return Ok(true);
                }
                // The peer hung up without a close frame: nobody is left to
                // read one, and the end is a lost connection, not a violation.
                Err(tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => {
                    return Err(());
                }
                Err(tungstenite::Error::Protocol(_)) => {
                    got.push(Inbound::Violation(CloseReason::Protocol));
                    return Ok(true);
                }
                Err(_) => return Err(()),
            }
        }
        Ok(false)
    }

    /// Moves queued messages into tungstenite and flushes, until done or
    /// the socket would block.
    pub(crate) fn pump(&mut self) -> Health {
        loop {
            if self.blocked {
                match self.socket.flush() {
                    Ok(()) => self.blocked = false,
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Health::Alive;
                    }
                    Err(_) => return Health::Dead,
                }
            }
            let Some(msg) = self.out.pop_front() else { break };
            let len = msg.len();
            self.out_bytes = self.out_bytes.saturating_sub(len);
            match self.socket.write(msg) {
                Ok(()) => self.stats.frame_out(len),
                // The message is buffered; the rest waits for writability.
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.stats.frame_out(len);
                    self.blocked = true;
                }
                Err(tungstenite::Error::WriteBufferFull(msg)) => {
                    self.out_bytes += msg.len();
                    self.out.push_front(*msg);
                    self.blocked = true;
                }
                Err(_) => return Health::Dead,
            }
        }
        match self.socket.flush() {
            Ok(()) => Health::Alive,
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                self.blocked = true;
                Health::Alive
            }
            Err(_) => Health::Dead,
        }
    }

    /// Sends what is queued (best effort) and then a close frame for `reason`.
    pub(crate) fn close(&mut self, reason: CloseReason) -> Health {
        while let Some(msg) = self.out.pop_front() {
            let len = msg.len();
            match self.socket.write(msg) {
                Ok(()) => self.stats.frame_out(len),
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.stats.frame_out(len);
                }
                Err(_) => break,
            }
        }
        self.out_bytes = 0;
        let frame = CloseFrame { code: CloseCode::from(reason.code()), reason: "".into() };
        match self.socket.close(Some(frame)) {
            Ok(()) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return Health::Dead,
        }
        self.blocked = true;
        self.pump()
    }

    /// While closing: reads until the peer's close completes the handshake.
    pub(crate) fn finish_close(&mut self) -> Health {
        if self.unparsable {
            return self.discard_input();
        }
        loop {
            match self.socket.read() {
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    return self.pump();
                }
                Err(_) => return Health::Dead,
            }
        }
    }

    /// Reads and drops what the peer sends, until its end of stream.
    fn discard_input(&mut self) -> Health {
        let mut sink = [0_u8; 512];
        loop {
            match self.socket.get_mut().read(&mut sink) {
                Ok(0) => return Health::Dead,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return self.pump(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Health::Dead,
            }
        }
    }

    pub(crate) fn transport(&mut self) -> &mut Transport {
        self.socket.get_mut()
    }
}

impl Phase {
    /// The socket to register with the poller.
    pub(crate) fn transport(&mut self) -> Option<&mut Transport> {
        match self {
            Self::Http { transport, .. } | Self::Respond { transport, .. } => Some(transport),
            Self::Open(ws) | Self::Closing(ws) => Some(ws.transport()),
            Self::Gone => None,
        }
    }
}

/// Drives the HTTP phases as far as the socket allows, counting refusals,
/// upgrades and connections lost on the way.
pub(crate) fn drive_http(phase: Phase, config: &ServerConfig, stats: &Arc<Counters>) -> Phase {
    let lost = || {
        bump(&stats.connections_lost);
        Phase::Gone
    };
    let supported = |vsn: &str| config.serializer_for(vsn).is_some();
    let mut phase = phase;
    loop {
        phase = match phase {
            Phase::Http { mut transport, mut buf } => {
                let mut chunk = [0u8; READ_CHUNK];
                match transport.read(&mut chunk) {
                    Ok(0) => return lost(),
                    Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Phase::Http { transport, buf };
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return lost(),
                }
                match http::parse_request(&buf, config.token(), supported) {
                    Parsed::Partial => Phase::Http { transport, buf },
                    Parsed::Reject(rejection) => {
                        log::debug!("refusing upgrade: {rejection:?}");
                        stats.refused(rejection);
                        Phase::Respond {
                            transport,
                            response: http::refusal(rejection),
                            written: 0,
                            upgrade: None,
                        }
                    }
                    Parsed::Upgrade { upgrade, head_len } => {
                        match config.serializer_for(&upgrade.vsn) {
                            Some(serializer) => {
                                let serializer = Arc::clone(serializer);
                                let leftover = buf.get(head_len..).unwrap_or_default().to_vec();
                                let response = http::switching_protocols(&upgrade);
                                Phase::Respond {
                                    transport,
                                    response,
                                    written: 0,
                                    upgrade: Some((serializer, leftover)),
                                }
                            }
                            None => {
                                stats.refused(http::Rejection::Forbidden);
                                let response = http::refusal(http::Rejection::Forbidden);
                                Phase::Respond { transport, response, written: 0, upgrade: None }
                            }
                        }
                    }
                }
            }
            Phase::Respond { mut transport, response, mut written, upgrade } => {
                while let Some(rest) = response.get(written..).filter(|r| !r.is_empty()) {
                    match transport.write(rest) {
                        Ok(0) => return lost(),
                        Ok(n) => written += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            return Phase::Respond { transport, response, written, upgrade };
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return lost(),
                    }
                }
                match transport.flush() {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Phase::Respond { transport, response, written, upgrade };
                    }
                    Err(_) => return lost(),
                }
                match upgrade {
                    Some((serializer, leftover)) => {
                        bump(&stats.upgrades);
                        return Phase::Open(Box::new(Ws::new(
                            transport,
                            serializer,
                            leftover,
                            config.max_frame(),
                            stats,
                            config.push_log(),
                        )));
                    }
                    None => {
                        let _ = transport.socket().shutdown(std::net::Shutdown::Write);
                        return Phase::Gone;
                    }
                }
            }
            other => return other,
        };
    }
}

/// Per-connection bookkeeping kept by the event loop.
pub(crate) struct Conn {
    pub(crate) id: u64,
    pub(crate) phase: Phase,
    pub(crate) last_recv: Instant,
    pub(crate) deadline: Option<(Instant, crate::timer::TimerKey)>,
    /// When the current phase must be over (handshake, close handshake).
    pub(crate) phase_deadline: Option<Instant>,
    /// Queued for a pump at the end of this loop turn.
    pub(crate) dirty: bool,
}
