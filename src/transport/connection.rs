//! [`Connection`]: one client WebSocket connection driven by mio readiness.

use std::mem;
use std::net::SocketAddr;

use mio::{Interest, Registry, Token};
use tungstenite::WebSocket;
use tungstenite::handshake::client::{ClientHandshake, Request};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::WebSocketConfig;

use super::classify::{io_error, ws_error};
use super::rustls_stream::RustlsStream;
use super::stream::Stream;
use super::tcp::Tcp;
use super::tls::TlsStart;
use super::{
    ConnectRequest, Data, Error, HandshakeResponse, Progress, SendError, State, TlsConnector, open,
};

/// One client WebSocket connection over a non-blocking socket.
///
/// Start it with an already resolved address, register it with a mio
/// [`Registry`], then call [`handle_ready`](Self::handle_ready) on every event
/// for its token and [`reregister`](Self::reregister) after every call that
/// may have changed [`interest`](Self::interest) (it is a no-op otherwise).
/// The connection never blocks, never reads a clock and never sleeps: the
/// driver applies deadlines (connect, close) and reports them as
/// [`Error::Timeout`].
///
/// See the [module docs](super) for the state diagram and a full example.
#[derive(Debug)]
pub struct Connection {
    phase: Phase,
    /// Token and interest last given to the registry.
    registered: Option<(Token, Interest)>,
    /// Frames were queued since the last complete flush.
    unflushed: bool,
    /// An error met right after the handshake, kept so that the call can
    /// report `Opened` first; the next call returns it.
    deferred: Option<Error>,
}

/// The state with the objects each state owns.
#[derive(Debug)]
enum Phase {
    Connecting {
        tcp: Tcp,
        next: Box<Pending>,
    },
    TlsHandshaking {
        tls: Box<RustlsStream>,
        next: Box<Pending>,
    },
    WsHandshaking(MidHandshake<ClientHandshake<Stream>>),
    Open(WebSocket<Stream>),
    /// `by_us`: this side sent the first close frame. `peer_close`: the
    /// peer's close frame (code, reason) once received.
    Closing {
        ws: WebSocket<Stream>,
        by_us: bool,
        peer_close: Option<(u16, String)>,
    },
    Closed,
}

/// What is needed after TCP connects.
#[derive(Debug)]
struct Pending {
    http: Request,
    limits: WebSocketConfig,
    tls: Option<TlsStart>,
}

impl Connection {
    /// Starts a non-blocking TCP connect to `addr` for `request`. `tls` is
    /// required for `wss://` and ignored for `ws://`.
    ///
    /// # Errors
    ///
    /// [`Error::BadRequest`] for an invalid header, [`Error::TlsRequired`]
    /// for `wss://` without `tls`, [`Error::Url`] for a host that is not a
    /// valid TLS server name, and [`Error::ConnectRefused`] /
    /// [`Error::Connect`] when the socket fails at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::transport::{ConnectRequest, Connection, State, WsUrl};
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let url = WsUrl::parse(&format!("ws://{}/socket", listener.local_addr()?))?;
    /// let conn = Connection::start(listener.local_addr()?, &ConnectRequest::new(url), None)?;
    /// assert_eq!(conn.state(), State::Connecting);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start(
        addr: SocketAddr,
        request: &ConnectRequest,
        tls: Option<&TlsConnector>,
    ) -> Result<Self, Error> {
        let http = request.to_http()?;
        let tls = if request.url().scheme().is_secure() {
            Some(tls.ok_or(Error::TlsRequired)?.prepare(request.url().host())?)
        } else {
            None
        };
        let tcp = Tcp::connect(addr)?;
        let next = Box::new(Pending { http, limits: *request.limits(), tls });
        Ok(Self {
            phase: Phase::Connecting { tcp, next },
            registered: None,
            unflushed: false,
            deferred: None,
        })
    }

    /// Registers the socket with `registry` under `token`, with the current
    /// [`interest`](Self::interest).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] from the registry; [`Error::Closed`] once closed.
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn register(&mut self, registry: &Registry, token: Token) -> Result<(), Error> {
        let interest = self.interest();
        let tcp = self.tcp_mut().ok_or(Error::Closed)?;
        registry.register(tcp.source(), token, interest)?;
        self.registered = Some((token, interest));
        Ok(())
    }

    /// Re-registers with the current interest if it changed since the last
    /// (re)registration; returns whether it did. Call it after every
    /// `handle_ready`, send, `flush` or `close`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] from the registry. A closed or unregistered connection
    /// does nothing.
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn reregister(&mut self, registry: &Registry) -> Result<bool, Error> {
        let interest = self.interest();
        let Some((token, registered)) = self.registered else { return Ok(false) };
        if registered == interest {
            return Ok(false);
        }
        let Some(tcp) = self.tcp_mut() else { return Ok(false) };
        registry.reregister(tcp.source(), token, interest)?;
        self.registered = Some((token, interest));
        Ok(true)
    }

    /// Removes the socket from `registry`. Dropping a closed connection
    /// closes the socket, which also removes it.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] from the registry.
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn deregister(&mut self, registry: &Registry) -> Result<(), Error> {
        if self.registered.take().is_some() {
            if let Some(tcp) = self.tcp_mut() {
                registry.deregister(tcp.source())?;
            }
        }
        Ok(())
    }

    /// The readiness this connection waits for: always readable; writable
    /// while connecting, while TLS has bytes to send, and while queued output
    /// waits for the socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let url = WsUrl::parse(&format!("ws://{}/", listener.local_addr()?))?;
    /// let conn = Connection::start(listener.local_addr()?, &ConnectRequest::new(url), None)?;
    /// assert_eq!(conn.interest(), mio::Interest::READABLE | mio::Interest::WRITABLE);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn interest(&self) -> Interest {
        // A deferred error asks for WRITABLE: re-registering then reports the
        // (writable) socket at once, so the next call comes without new data.
        let wants_write = self.deferred.is_some()
            || match &self.phase {
                Phase::Connecting { .. } => true,
                Phase::TlsHandshaking { tls, .. } => tls.wants_write(),
                Phase::WsHandshaking(mid) => mid.get_ref().get_ref().wants_write(),
                Phase::Open(ws) | Phase::Closing { ws, .. } => {
                    self.unflushed || ws.get_ref().wants_write()
                }
                Phase::Closed => false,
            };
        if wants_write { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE }
    }

    /// The current state.
    ///
    /// # Examples
    ///
    /// See [`Connection::start`].
    #[must_use]
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Connecting { .. } => State::Connecting,
            Phase::TlsHandshaking { .. } => State::TlsHandshaking,
            Phase::WsHandshaking(_) => State::WsHandshaking,
            Phase::Open(_) => State::Open,
            Phase::Closing { .. } => State::Closing,
            Phase::Closed => State::Closed,
        }
    }

    /// Whether frames can be sent.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let url = WsUrl::parse(&format!("ws://{}/", listener.local_addr()?))?;
    /// let conn = Connection::start(listener.local_addr()?, &ConnectRequest::new(url), None)?;
    /// assert!(!conn.is_open());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open(_))
    }

    /// Advances the connection after a readiness event (spurious events are
    /// fine) and appends every complete message read to `out`, in order.
    ///
    /// It connects, runs the TLS and WebSocket handshakes, and once open reads
    /// until the socket is drained (the only way to re-arm an edge-triggered
    /// event), answers pings, then flushes queued output.
    ///
    /// # Errors
    ///
    /// Any [`Error`]; all are fatal and leave the connection
    /// [`State::Closed`]. Frames read before the error are still in `out`:
    /// handle them first.
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn handle_ready(
        &mut self,
        readable: bool,
        writable: bool,
        out: &mut Vec<Data>,
    ) -> Result<Progress, Error> {
        let result = match self.deferred.take() {
            Some(e) => Err(e),
            None => self.advance(readable, writable, out),
        };
        if result.is_err() || matches!(result, Ok(Progress::Closed)) {
            self.phase = Phase::Closed;
        }
        result
    }

    fn advance(
        &mut self,
        readable: bool,
        writable: bool,
        out: &mut Vec<Data>,
    ) -> Result<Progress, Error> {
        // Each arm either parks the connection in a state and returns, or
        // moves to the next state and loops: the next step may be possible
        // without waiting for another event.
        loop {
            match mem::replace(&mut self.phase, Phase::Closed) {
                Phase::Connecting { mut tcp, next } => {
                    if !tcp.poll_connected()? {
                        self.phase = Phase::Connecting { tcp, next };
                        return Ok(Progress::Continue);
                    }
                    log::debug!("tcp connected");
                    let Pending { http, limits, tls } = *next;
                    self.phase = match tls {
                        Some(start) => Phase::TlsHandshaking {
                            tls: Box::new(start.begin(tcp)?),
                            next: Box::new(Pending { http, limits, tls: None }),
                        },
                        None => start_ws(Stream::Plain(tcp), http, limits)?,
                    };
                }
                Phase::TlsHandshaking { mut tls, next } => {
                    if !tls.handshake().map_err(|e| io_error(e, State::TlsHandshaking))? {
                        self.phase = Phase::TlsHandshaking { tls, next };
                        return Ok(Progress::Continue);
                    }
                    log::debug!("tls handshake done");
                    self.phase = start_ws(Stream::Rustls(tls), next.http, next.limits)?;
                }
                Phase::WsHandshaking(mid) => match mid.handshake() {
                    Ok((ws, response)) => {
                        log::debug!("websocket open");
                        self.phase = Phase::Open(ws);
                        // Frames may have arrived with the response; the
                        // socket will not signal them again. A failure among
                        // them is reported by the next call, after `Opened`.
                        if let Err(e) = self.read_and_flush(true, out) {
                            self.deferred = Some(e);
                        }
                        let response = HandshakeResponse::from(response);
                        return Ok(Progress::Opened(Box::new(response)));
                    }
                    Err(HandshakeError::Interrupted(mid)) => {
                        self.phase = Phase::WsHandshaking(mid);
                        return Ok(Progress::Continue);
                    }
                    Err(HandshakeError::Failure(e)) => {
                        return Err(ws_error(e, State::WsHandshaking));
                    }
                },
                phase @ (Phase::Open(_) | Phase::Closing { .. }) => {
                    self.phase = phase;
                    // A writable-only event needs no read; an event with
                    // neither flag (a driver unsure why it woke) reads too.
                    return self.read_and_flush(readable || !writable, out);
                }
                Phase::Closed => return Err(Error::Closed),
            }
        }
    }

    /// Queues a text message. Call [`flush`](Self::flush) after a batch (or
    /// let the next writable event do it: queued output makes the interest
    /// writable).
    ///
    /// # Errors
    ///
    /// [`SendError::NotOpen`] before the handshake or after close,
    /// [`SendError::Full`] at the output cap (both hand the frame back), and
    /// [`SendError::Failed`] when the socket failed (the connection is closed).
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn send_text(&mut self, text: impl Into<tungstenite::Utf8Bytes>) -> Result<(), SendError> {
        self.send(Data::Text(text.into()))
    }

    /// Queues a binary message; see [`send_text`](Self::send_text).
    ///
    /// # Errors
    ///
    /// As for [`send_text`](Self::send_text).
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn send_binary(&mut self, bytes: impl Into<tungstenite::Bytes>) -> Result<(), SendError> {
        self.send(Data::Binary(bytes.into()))
    }

    /// Queues a message; see [`send_text`](Self::send_text).
    ///
    /// # Errors
    ///
    /// As for [`send_text`](Self::send_text).
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn send(&mut self, data: Data) -> Result<(), SendError> {
        let Phase::Open(ws) = &mut self.phase else { return Err(SendError::NotOpen(data)) };
        match open::queue(ws, data) {
            Ok(()) => {
                self.unflushed = true;
                Ok(())
            }
            Err(SendError::Failed(e)) => {
                self.phase = Phase::Closed;
                Err(SendError::Failed(e))
            }
            Err(refused) => Err(refused),
        }
    }

    /// Writes queued output until done or the socket is full (then the
    /// interest turns writable and the next event continues).
    ///
    /// # Errors
    ///
    /// A fatal [`Error`] from the socket; the connection is closed then.
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn flush(&mut self) -> Result<(), Error> {
        let result = self.flush_output();
        if result.is_err() {
            self.phase = Phase::Closed;
        }
        result
    }

    /// Flushes without changing state on failure (the caller decides).
    fn flush_output(&mut self) -> Result<(), Error> {
        let state = self.state();
        if let Phase::Open(ws) | Phase::Closing { ws, .. } = &mut self.phase {
            self.unflushed = !open::flush(ws, state)?;
        }
        Ok(())
    }

    /// Starts the close handshake with `code` and `reason` (cut to the 123
    /// bytes a close frame holds). Keep calling `handle_ready`: it reports
    /// [`Progress::Closed`] when the server has answered and closed; apply a
    /// deadline and drop the connection if it does not. Before the WebSocket
    /// is open this aborts at once (the connection is dropped to closed).
    ///
    /// # Errors
    ///
    /// A fatal [`Error`] from the socket; the connection is closed then.
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        match mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Open(mut ws) => {
                open::start_close(&mut ws, code, reason)?;
                self.unflushed = true;
                self.phase = Phase::Closing { ws, by_us: true, peer_close: None };
                self.flush()
            }
            closing @ Phase::Closing { .. } => {
                self.phase = closing;
                Ok(())
            }
            // Nothing to say to the peer before the upgrade: just drop.
            _ => Ok(()),
        }
    }

    fn read_and_flush(&mut self, readable: bool, out: &mut Vec<Data>) -> Result<Progress, Error> {
        let during = self.state();
        let (Phase::Open(ws) | Phase::Closing { ws, .. }) = &mut self.phase else {
            return Ok(Progress::Continue);
        };
        let read = if readable { open::read_frames(ws, out) } else { Ok(open::Read::default()) };
        let read = match read {
            Ok(read) => read,
            // We started closing and the peer hung up without answering:
            // closed all the same.
            Err(tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            )) if matches!(self.phase, Phase::Closing { by_us: true, .. }) => {
                return Ok(Progress::Closed);
            }
            Err(e) => return Err(ws_error(e, during)),
        };
        if let Some(close) = read.peer_close {
            self.phase = match mem::replace(&mut self.phase, Phase::Closed) {
                Phase::Open(ws) => Phase::Closing { ws, by_us: false, peer_close: Some(close) },
                // The peer's answer to our close: nothing to report.
                other => other,
            };
        }
        if read.finished {
            // The caller moves to Closed; the socket stays until then.
            return match &mut self.phase {
                Phase::Closing { by_us: false, peer_close, .. } => {
                    let (code, reason) =
                        peer_close.take().map_or((None, String::new()), |(c, r)| (Some(c), r));
                    Err(Error::PeerClosed { during: State::Open, code, reason })
                }
                _ => Ok(Progress::Closed),
            };
        }
        self.flush_output()?;
        Ok(Progress::Continue)
    }

    fn tcp_mut(&mut self) -> Option<&mut Tcp> {
        match &mut self.phase {
            Phase::Connecting { tcp, .. } => Some(tcp),
            Phase::TlsHandshaking { tls, .. } => Some(tls.tcp_mut()),
            Phase::WsHandshaking(mid) => Some(mid.get_mut().get_mut().tcp_mut()),
            Phase::Open(ws) | Phase::Closing { ws, .. } => Some(ws.get_mut().tcp_mut()),
            Phase::Closed => None,
        }
    }
}

/// Writes the upgrade request (as far as the socket takes it) and parks the
/// handshake; it is resumed in the loop.
fn start_ws(stream: Stream, http: Request, limits: WebSocketConfig) -> Result<Phase, Error> {
    let mid = ClientHandshake::start(stream, http, Some(limits))
        .map_err(|e| ws_error(e, State::WsHandshaking))?;
    Ok(Phase::WsHandshaking(mid))
}
