//! A socket's link: resolving, connecting (TCP, TLS, upgrade), open,
//! closing, and what every failure means for the session.
//!
//! ```text
//!  Idle ── wants_connect ──▶ [Waiting until Retry-After] ──▶ Resolving (names only)
//!    ▲                                                           │
//!    │                                                           ▼
//!    ├──── failure / timeout (next address first) ◀──────── Connecting
//!    │                                                           │ 101
//!    ├──── peer close / error ◀───────────────────────────── Open
//!    │                                                           │ CloseTransport
//!    └──── closed / close timeout ◀──────────────────────── Closing
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use mio::Token;

use super::resolver::Lookup;
use super::slot::SocketSlot;
use super::thread::{Ctx, EngineTimer, LinkTimer};
use super::turn::Ready;
use crate::engine::shared::failure::{ConnectionError, ErrorKind};
use crate::engine::shared::options::SocketOptions;
use crate::engine::shared::status::{ConnectionState, Status};
use crate::protocol::SessionConfig;
use crate::transport::{self, Connection, Host, TlsConnector, WebSocketConfig, WsUrl};

/// Transport settings of a socket, as rig-io keeps them.
#[derive(Debug)]
pub(crate) struct LinkOptions {
    headers: Vec<(String, String)>,
    connect_timeout: Duration,
    close_timeout: Duration,
    tls: Option<TlsConnector>,
    websocket: Option<WebSocketConfig>,
    read_budget: usize,
    local_addr: Option<std::net::IpAddr>,
    pub(crate) retry_refused: bool,
    pub(crate) retry_certificate_errors: bool,
}

impl LinkOptions {
    pub(crate) fn split(options: SocketOptions) -> (SessionConfig, Self) {
        let link = Self {
            headers: options.headers,
            connect_timeout: options.connect_timeout,
            close_timeout: options.close_timeout,
            tls: options.tls,
            websocket: options.websocket,
            read_budget: options.read_budget,
            local_addr: options.local_addr,
            retry_refused: options.retry_refused,
            retry_certificate_errors: options.retry_certificate_errors,
        };
        (options.session, link)
    }
}

/// Where the transport of a socket stands.
pub(crate) enum Link {
    Idle,
    /// Waiting for the server's Retry-After before connecting.
    Waiting {
        generation: u64,
    },
    Resolving {
        generation: u64,
        request: Box<transport::ConnectRequest>,
    },
    Connecting {
        generation: u64,
        conn: Connection,
        request: Box<transport::ConnectRequest>,
        /// Addresses to try if this one fails.
        rest: Vec<SocketAddr>,
    },
    Open {
        conn: Connection,
    },
    Closing {
        conn: Connection,
        code: u16,
    },
}

impl Link {
    fn generation(&self) -> Option<u64> {
        match self {
            Self::Waiting { generation }
            | Self::Resolving { generation, .. }
            | Self::Connecting { generation, .. } => Some(*generation),
            _ => None,
        }
    }

    pub(crate) fn conn_mut(&mut self) -> Option<&mut Connection> {
        match self {
            Self::Connecting { conn, .. } | Self::Open { conn } | Self::Closing { conn, .. } => {
                Some(conn)
            }
            Self::Idle | Self::Waiting { .. } | Self::Resolving { .. } => None,
        }
    }
}

impl SocketSlot {
    fn token(&self) -> Token {
        Token(usize::try_from(self.key.0).unwrap_or(0))
    }

    /// Replaces the link, dropping (and deregistering) any connection and
    /// disarming its timer.
    pub(crate) fn replace_link(&mut self, ctx: &mut Ctx<'_>, link: Link) {
        if let Some(key) = self.link_timer.take() {
            ctx.wheel.cancel(key);
        }
        let mut old = std::mem::replace(&mut self.link, link);
        if let Some(conn) = old.conn_mut() {
            // Dropping the socket removes it from epoll as well.
            let _ = conn.deregister(ctx.registry);
        }
        self.epoch = self.epoch.wrapping_add(1);
    }

    fn arm_link_timer(&mut self, ctx: &mut Ctx<'_>, after: Duration, which: LinkTimer) {
        if let Some(key) = self.link_timer.take() {
            ctx.wheel.cancel(key);
        }
        let at = ctx.now.checked_add(after).unwrap_or(ctx.now);
        self.link_timer =
            Some(ctx.wheel.insert(at, EngineTimer::Link(self.key, self.epoch, which)));
    }

    /// Starts serving the session's connect request, if it has a new one.
    /// Returns whether anything happened.
    pub(crate) fn maybe_connect(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let Some(request) = self.session.wants_connect() else { return false };
        let generation = request.generation();
        if self.link.generation() == Some(generation) {
            return false;
        }
        let (url, protocols) = (request.url().to_owned(), request.protocols().to_vec());
        self.replace_link(ctx, Link::Idle);
        if let Some(at) = self.not_before.filter(|at| *at > ctx.now) {
            self.link = Link::Waiting { generation };
            let wait = at.saturating_duration_since(ctx.now);
            self.arm_link_timer(ctx, wait, LinkTimer::RetryAfter);
            return true;
        }
        self.not_before = None;
        crate::engine::shared::health::add(&self.counters.connect_attempts, 1);
        let url = match WsUrl::parse(&url) {
            Ok(url) => url,
            Err(e) => {
                self.connect_failed(ctx, &e);
                return true;
            }
        };
        let mut request = transport::ConnectRequest::new(url).read_budget(self.options.read_budget);
        if let Some(ip) = self.options.local_addr {
            request = request.local_addr(ip);
        }
        if let Some(limits) = self.options.websocket {
            request = request.websocket_config(limits);
        }
        for (name, value) in &self.options.headers {
            request = request.header(name.clone(), value.clone());
        }
        for protocol in protocols {
            request = request.subprotocol(protocol);
        }
        self.arm_link_timer(ctx, self.options.connect_timeout, LinkTimer::Connect);
        match request.url().host().clone() {
            Host::Ip(ip) => {
                let addr = SocketAddr::new(ip, request.url().port());
                self.start_tcp(ctx, generation, Box::new(request), vec![addr]);
            }
            Host::Domain(_) => {
                let lookup = Lookup { socket: self.key, generation, url: request.url().clone() };
                if ctx.lookups.send(lookup).is_err() {
                    let e = ConnectionError::new(ErrorKind::Dns, "the resolver thread is gone");
                    self.fail(ctx, e, true);
                    return true;
                }
                self.link = Link::Resolving { generation, request: Box::new(request) };
            }
        }
        true
    }

    /// The resolver answered.
    pub(crate) fn resolved(
        &mut self,
        ctx: &mut Ctx<'_>,
        generation: u64,
        addrs: Result<Vec<SocketAddr>, ConnectionError>,
    ) {
        let Link::Resolving { generation: serving, .. } = &self.link else { return };
        if *serving != generation {
            return;
        }
        let Link::Resolving { request, .. } = std::mem::replace(&mut self.link, Link::Idle) else {
            return;
        };
        match addrs {
            Ok(addrs) => self.start_tcp(ctx, generation, request, addrs),
            Err(e) => self.fail(ctx, e, true),
        }
    }

    /// Starts a TCP connect to the first address that takes one.
    pub(crate) fn start_tcp(
        &mut self,
        ctx: &mut Ctx<'_>,
        generation: u64,
        request: Box<transport::ConnectRequest>,
        mut addrs: Vec<SocketAddr>,
    ) {
        addrs.reverse();
        let mut last = None;
        while let Some(addr) = addrs.pop() {
            let started = Connection::start(addr, &request, self.options.tls.as_ref())
                .and_then(|mut conn| conn.register(ctx.registry, self.token()).map(|()| conn));
            match started {
                Ok(conn) => {
                    addrs.reverse();
                    self.link = Link::Connecting { generation, conn, request, rest: addrs };
                    return;
                }
                Err(e) => last = Some(e),
            }
        }
        let e = last.unwrap_or(transport::Error::Closed);
        self.connect_failed(ctx, &e);
    }

    /// Readiness for this socket's connection.
    pub(crate) fn on_ready(&mut self, ctx: &mut Ctx<'_>, ready: Ready) {
        let Ready { readable, writable, fresh } = ready;
        let mut frames = std::mem::take(&mut self.frames);
        let Some(conn) = self.link.conn_mut() else { return };
        let during = conn.state();
        // Paused by a full Block consumer: write, do not read.
        let paused = self.backpressure.paused;
        if fresh && !paused {
            conn.trust_short_reads();
        }
        let result = conn.handle_ready(readable && !paused, writable, &mut frames);
        if !paused {
            if conn.wants_read() {
                ctx.read_again.push(self.key);
            } else if readable {
                // Read dry since the resume: held timers may run again.
                self.backpressure.catching_up = false;
            }
        }
        match result {
            Ok(transport::Progress::Opened(response)) => {
                log::debug!("socket {} open (HTTP {})", self.key.0, response.status());
                let Link::Connecting { conn, .. } = std::mem::replace(&mut self.link, Link::Idle)
                else {
                    return;
                };
                self.replace_link(ctx, Link::Open { conn });
                self.session.handle_open(ctx.now);
                self.feed(ctx, &mut frames);
            }
            Ok(transport::Progress::Closed) => {
                self.feed(ctx, &mut frames);
                let code = match self.link {
                    Link::Closing { code, .. } => Some(code),
                    _ => None,
                };
                self.replace_link(ctx, Link::Idle);
                self.session.handle_close(ctx.now, code, "");
            }
            Ok(_) => self.feed(ctx, &mut frames),
            Err(e) => {
                self.feed(ctx, &mut frames);
                self.link_failed(ctx, e, during);
            }
        }
        self.frames = frames;
    }

    /// The session asks for the transport to close (disconnect, heartbeat
    /// timeout, or a connect that is being abandoned).
    pub(crate) fn close_transport(&mut self, ctx: &mut Ctx<'_>, code: u16, reason: &str) {
        let timeouts = self.session.stats().heartbeat_timeouts;
        let dead = timeouts > self.heartbeat_timeouts_seen;
        self.heartbeat_timeouts_seen = timeouts;
        if dead {
            crate::engine::shared::health::add(&self.counters.heartbeat_timeouts, 1);
            let e = ConnectionError::new(ErrorKind::HeartbeatTimeout, "heartbeat timeout");
            self.counters.set_error(&e);
            self.status(Status::Failed { error: e });
        }
        match &mut self.link {
            Link::Open { conn } => {
                let closing = conn.close(code, reason).is_ok();
                if closing && !dead {
                    let Link::Open { conn } = std::mem::replace(&mut self.link, Link::Idle) else {
                        return;
                    };
                    self.link = Link::Closing { conn, code };
                    self.arm_link_timer(ctx, self.options.close_timeout, LinkTimer::Close);
                    return;
                }
                // A dead peer will not answer the close: the frame went out
                // (best effort); do not wait for its echo.
                self.replace_link(ctx, Link::Idle);
                self.session.handle_close(ctx.now, None, reason.to_owned());
            }
            Link::Closing { .. } => {}
            Link::Idle
            | Link::Waiting { .. }
            | Link::Resolving { .. }
            | Link::Connecting { .. } => {
                self.replace_link(ctx, Link::Idle);
                self.session.handle_close(ctx.now, None, reason.to_owned());
            }
        }
    }

    pub(crate) fn on_link_timer(&mut self, ctx: &mut Ctx<'_>, which: LinkTimer) {
        match which {
            LinkTimer::Connect => {
                let state =
                    self.link.conn_mut().map_or(transport::State::Connecting, |c| c.state());
                if matches!(self.link, Link::Resolving { .. } | Link::Connecting { .. }) {
                    self.connect_failed(ctx, &transport::Error::Timeout(state));
                }
            }
            LinkTimer::Close => {
                if matches!(self.link, Link::Closing { .. }) {
                    log::debug!("socket {}: close handshake timed out", self.key.0);
                    self.replace_link(ctx, Link::Idle);
                    self.session.handle_close(ctx.now, None, "close timeout");
                }
            }
            LinkTimer::RetryAfter => {
                if matches!(self.link, Link::Waiting { .. }) {
                    self.not_before = None;
                    self.replace_link(ctx, Link::Idle);
                    if let Some(attempt) = self.deferred_attempt.take() {
                        self.set_state(ConnectionState::Connecting);
                        self.status(Status::Connecting { attempt });
                    }
                    // finish_turn's maybe_connect starts the attempt.
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_attempts_have_a_generation() {
        assert_eq!(Link::Idle.generation(), None);
        assert_eq!(Link::Waiting { generation: 3 }.generation(), Some(3));
    }
}
