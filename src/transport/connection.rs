//! [`Connection`]: one client WebSocket connection driven by mio readiness.

use std::net::SocketAddr;

use mio::{Interest, Registry, Token};
use tungstenite::WebSocket;
use tungstenite::handshake::client::Request;
use tungstenite::protocol::WebSocketConfig;

use super::stream::Stream;
use super::tcp::Tcp;
use super::tls::TlsStart;
use super::tls_handshake::TlsHandshake;
use super::upgrade::Upgrade;
use super::{ConnectRequest, Error, State, TlsConnector};

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
    pub(super) phase: Phase,
    /// Token and interest last given to the registry.
    registered: Option<(Token, Interest)>,
    /// Frames were queued since the last complete flush.
    pub(super) unflushed: bool,
    /// An error met right after the handshake, kept so that the call can
    /// report `Opened` first; the next call returns it.
    pub(super) deferred: Option<Error>,
    /// Most messages one `handle_ready` reads.
    pub(super) read_budget: usize,
    /// The last read stopped on the budget, not on an empty socket.
    pub(super) input_pending: bool,
    /// The driver asked not to read for now (see `pause_reading`).
    pub(super) read_paused: bool,
    /// Set by [`trust_short_reads`](Self::trust_short_reads) for the next
    /// `handle_ready` only.
    pub(super) trust_short_reads: bool,
}

/// The state with the objects each state owns.
#[derive(Debug)]
pub(super) enum Phase {
    Connecting {
        tcp: Tcp,
        next: Box<Pending>,
    },
    TlsHandshaking {
        tls: TlsHandshake,
        next: Box<Pending>,
    },
    WsHandshaking(Upgrade),
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
pub(super) struct Pending {
    pub(super) http: Request,
    pub(super) limits: WebSocketConfig,
    pub(super) tls: Option<TlsStart>,
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
        let tcp = Tcp::connect(addr, request.local_addr_value())?;
        let next = Box::new(Pending { http, limits: *request.limits(), tls });
        Ok(Self {
            phase: Phase::Connecting { tcp, next },
            registered: None,
            unflushed: false,
            deferred: None,
            read_budget: request.read_budget_value(),
            input_pending: false,
            read_paused: false,
            trust_short_reads: false,
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
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let addr = listener.local_addr()?;
    /// # let url = WsUrl::parse(&format!("ws://{addr}/"))?;
    /// # let mut conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
    /// let poll = mio::Poll::new()?;
    /// conn.register(poll.registry(), mio::Token(1))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let addr = listener.local_addr()?;
    /// # let url = WsUrl::parse(&format!("ws://{addr}/"))?;
    /// # let mut conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
    /// let poll = mio::Poll::new()?;
    /// conn.register(poll.registry(), mio::Token(1))?;
    /// // Nothing happened since: the interest is unchanged, no syscall.
    /// assert!(!conn.reregister(poll.registry())?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reregister(&mut self, registry: &Registry) -> Result<bool, Error> {
        let interest = self.interest();
        let Some((token, registered)) = self.registered else { return Ok(false) };
        // A deferred error re-registers even with unchanged interest: the
        // modification re-arms the edge-triggered event, so the next call
        // comes at once.
        if registered == interest && self.deferred.is_none() {
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
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let addr = listener.local_addr()?;
    /// # let url = WsUrl::parse(&format!("ws://{addr}/"))?;
    /// # let mut conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
    /// let poll = mio::Poll::new()?;
    /// conn.register(poll.registry(), mio::Token(1))?;
    /// conn.deregister(poll.registry())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deregister(&mut self, registry: &Registry) -> Result<(), Error> {
        if self.registered.take().is_some()
            && let Some(tcp) = self.tcp_mut()
        {
            registry.deregister(tcp.source())?;
        }
        Ok(())
    }

    /// The readiness this connection waits for: readable (unless reading is
    /// [paused](Self::pause_reading) on an open connection); writable while
    /// connecting, while TLS has bytes to send, and while queued output
    /// waits for the socket. A paused open connection with nothing to send
    /// waits for writable only: mio needs a non-empty interest, and an
    /// edge-triggered writable socket signals once, not again until a
    /// write fills it.
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
                Phase::WsHandshaking(upgrade) => upgrade.stream().wants_write(),
                Phase::Open(ws) | Phase::Closing { ws, .. } => {
                    self.unflushed || ws.get_ref().wants_write()
                }
                Phase::Closed => false,
            };
        if self.is_reading_paused() {
            return Interest::WRITABLE;
        }
        if wants_write { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE }
    }

    /// Lets the next [`handle_ready`](Self::handle_ready) stop reading
    /// after a read that took less than it asked for, instead of reading
    /// again to hear `WouldBlock`: one system call saved per event at paced
    /// rates. Call it only when that call serves a fresh readable event from
    /// the poll that reported no hang-up or error (mio's
    /// `is_read_closed()` / `is_error()` false): data or a hang-up arriving
    /// later raise a new edge-triggered event, but one already signalled,
    /// or one that came while the driver did not read, would be missed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let url = WsUrl::parse(&format!("ws://{}/", listener.local_addr()?))?;
    /// let mut conn = Connection::start(listener.local_addr()?, &ConnectRequest::new(url), None)?;
    /// conn.trust_short_reads();
    /// let mut frames = Vec::new();
    /// let _ = conn.handle_ready(true, false, &mut frames);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trust_short_reads(&mut self) {
        self.trust_short_reads = true;
    }

    /// The current state.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, State, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let addr = listener.local_addr()?;
    /// # let url = WsUrl::parse(&format!("ws://{addr}/"))?;
    /// let conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
    /// assert_eq!(conn.state(), State::Connecting);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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

    /// Whether the last [`handle_ready`](Self::handle_ready) stopped on the
    /// read budget with input left: call it again (readable) before waiting
    /// for events, since the edge-triggered socket will not signal again.
    /// The budget keeps one busy connection from starving the others.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let url = WsUrl::parse(&format!("ws://{}/", listener.local_addr()?))?;
    /// let conn = Connection::start(listener.local_addr()?, &ConnectRequest::new(url), None)?;
    /// assert!(!conn.wants_read());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn wants_read(&self) -> bool {
        self.input_pending
            && !self.read_paused
            && matches!(self.phase, Phase::Open(_) | Phase::Closing { .. })
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

    pub(super) fn tcp_mut(&mut self) -> Option<&mut Tcp> {
        match &mut self.phase {
            Phase::Connecting { tcp, .. } => Some(tcp),
            Phase::TlsHandshaking { tls, .. } => Some(tls.tcp_mut()),
            Phase::WsHandshaking(upgrade) => Some(upgrade.stream_mut().tcp_mut()),
            Phase::Open(ws) | Phase::Closing { ws, .. } => Some(ws.get_mut().tcp_mut()),
            Phase::Closed => None,
        }
    }
}
