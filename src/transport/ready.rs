//! Driving a [`Connection`] on readiness: connect, TLS and WebSocket
//! handshakes, then reading frames in the open and closing states.

use std::mem;

use super::classify::ws_error;
use super::connection::{Connection, Pending, Phase};
use super::stream::Stream;
use super::tls_handshake::TlsProgress;
use super::upgrade::{Upgrade, UpgradeStep};
use super::{Data, Error, HandshakeResponse, Progress, State, open};

impl Connection {
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
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, State, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let addr = listener.local_addr()?;
    /// # let url = WsUrl::parse(&format!("ws://{addr}/"))?;
    /// # let mut conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
    /// let mut poll = mio::Poll::new()?;
    /// conn.register(poll.registry(), mio::Token(0))?;
    /// let mut events = mio::Events::with_capacity(4);
    /// let mut frames = Vec::new();
    /// // The listener's backlog completes the TCP connect; the upgrade
    /// // request goes out and the connection waits for the response.
    /// while conn.state() == State::Connecting {
    ///     poll.poll(&mut events, Some(std::time::Duration::from_secs(5)))?;
    ///     for event in &events {
    ///         conn.handle_ready(event.is_readable(), event.is_writable(), &mut frames)?;
    ///     }
    ///     conn.reregister(poll.registry())?;
    /// }
    /// assert_eq!(conn.state(), State::WsHandshaking);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handle_ready(
        &mut self,
        readable: bool,
        writable: bool,
        out: &mut Vec<Data>,
    ) -> Result<Progress, Error> {
        let trust = mem::take(&mut self.trust_short_reads);
        if let Some(tcp) = self.tcp_mut() {
            tcp.rearm_reads(trust);
        }
        let result = match self.deferred.take() {
            Some(e) => Err(self.salvage_peer_close(e, out)),
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
                    let next = Box::new(Pending { http, limits, tls: None });
                    self.phase = match tls {
                        Some(start) => tls_step(start.begin(tcp)?, next)?,
                        None => start_ws(Stream::Plain(tcp), next)?,
                    };
                    if let Phase::TlsHandshaking { .. } = self.phase {
                        return Ok(Progress::Continue);
                    }
                }
                Phase::TlsHandshaking { tls, next } => {
                    self.phase = tls_step(tls.resume()?, next)?;
                    if let Phase::TlsHandshaking { .. } = self.phase {
                        return Ok(Progress::Continue);
                    }
                }
                Phase::WsHandshaking(upgrade) => match upgrade.resume() {
                    Ok(UpgradeStep::Done(ws, response)) => {
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
                    Ok(UpgradeStep::Pending(upgrade)) => {
                        self.phase = Phase::WsHandshaking(upgrade);
                        return Ok(Progress::Continue);
                    }
                    Err(e) => return Err(ws_error(e, State::WsHandshaking)),
                },
                phase @ (Phase::Open(_) | Phase::Closing { .. }) => {
                    self.phase = phase;
                    // A writable-only event needs no read; an event with
                    // neither flag (a driver unsure why it woke) reads too.
                    // Paused by the driver: write only.
                    let read = (readable || !writable) && !self.read_paused;
                    return self.read_and_flush(read, out);
                }
                Phase::Closed => return Err(Error::Closed),
            }
        }
    }

    fn read_and_flush(&mut self, readable: bool, out: &mut Vec<Data>) -> Result<Progress, Error> {
        let during = self.state();
        let (Phase::Open(ws) | Phase::Closing { ws, .. }) = &mut self.phase else {
            return Ok(Progress::Continue);
        };
        let read = if readable {
            open::read_frames(ws, out, self.read_budget)
        } else {
            Ok(open::Read::default())
        };
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
        self.input_pending = read.exhausted;
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
        if let Err(e) = self.flush_output() {
            return Err(self.salvage_peer_close(e, out));
        }
        Ok(Progress::Continue)
    }
}

/// The state after a TLS handshake step: still handshaking, or upgrading.
fn tls_step(progress: TlsProgress, next: Box<Pending>) -> Result<Phase, Error> {
    match progress {
        TlsProgress::Pending(tls) => Ok(Phase::TlsHandshaking { tls, next }),
        TlsProgress::Done(stream) => {
            log::debug!("tls handshake done");
            start_ws(stream, next)
        }
    }
}

/// Prepares the upgrade request and parks the handshake; the loop resumes
/// it at once, writing as much as the socket takes.
fn start_ws(stream: Stream, next: Box<Pending>) -> Result<Phase, Error> {
    let Pending { http, limits, .. } = *next;
    let upgrade =
        Upgrade::start(stream, http, limits).map_err(|e| ws_error(e, State::WsHandshaking))?;
    Ok(Phase::WsHandshaking(upgrade))
}
