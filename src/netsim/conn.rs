//! One proxied connection: the accepted client socket, the upstream socket,
//! and a [`Pipe`] per direction between them.

use std::io::{self, Read as _, Write as _};
use std::net::Shutdown;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use mio::Registry;
use mio::event::Event;
use mio::net::TcpStream;

use super::faults::{Direction, PerDirection};
use super::pipe::{Gate, Pipe, Ready};
use super::stats::Counters;

/// Read/write rounds per direction and call before others get a turn.
const ROUNDS: usize = 4;

/// One socket and what we know of its readiness (mio is edge-triggered:
/// a flag stays set until an operation returns `WouldBlock`).
#[derive(Debug)]
pub(crate) struct Side {
    pub(crate) stream: TcpStream,
    readable: bool,
    writable: bool,
    /// The peer sent its FIN (or we stopped reading for good).
    read_done: bool,
    /// We forwarded the FIN to this socket.
    write_done: bool,
}

impl Side {
    pub(crate) const fn new(stream: TcpStream) -> Self {
        Self { stream, readable: false, writable: false, read_done: false, write_done: false }
    }

    /// Records readiness; errors and hang-ups count as both, so the next
    /// operation finds out what happened.
    pub(crate) fn on_event(&mut self, event: &Event) {
        let broken = event.is_error() || event.is_read_closed() || event.is_write_closed();
        self.readable |= event.is_readable() || broken;
        self.writable |= event.is_writable() || broken;
    }
}

/// How a connection ended, or when it next needs a turn.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Still open; call again at this time (if any) or on readiness.
    Open(Option<Duration>),
    /// Both directions ended cleanly: close both sockets.
    Finished,
    /// A socket failed: reset the other one too.
    Failed(io::Error),
}

#[derive(Debug)]
pub(crate) struct Conn {
    /// The accept order from 0: a generation for tokens and timers, and the
    /// connection number of the [`Schedule`](super::Schedule).
    pub(crate) id: u64,
    pub(crate) client: Side,
    pub(crate) server: Side,
    /// The upstream connect has completed.
    pub(crate) connected: bool,
    pub(crate) pipes: PerDirection<Pipe>,
    /// The time a timer is armed for, if any.
    pub(crate) scheduled: Option<Duration>,
    /// Buffered bytes last added to the proxy-wide gauge.
    pub(crate) reported: u64,
}

impl Conn {
    /// Checks a pending upstream connect after an event on its socket.
    pub(crate) fn check_connect(&mut self) -> io::Result<()> {
        if self.connected {
            return Ok(());
        }
        if let Some(e) = self.server.stream.take_error()? {
            return Err(e);
        }
        match self.server.stream.peer_addr() {
            Ok(_) => {
                self.connected = true;
                // Small writes (slices) must leave at once, not wait for Nagle.
                self.server.stream.set_nodelay(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Moves bytes both ways as far as readiness, faults and buffers allow.
    pub(crate) fn pump(
        &mut self,
        now: Duration,
        gates: PerDirection<Gate>,
        scratch: &mut [u8],
        counters: &Counters,
    ) -> Outcome {
        if !self.connected {
            // Only the client's bytes can move: buffer them for later.
            let up = &mut self.pipes.upstream;
            return match read_into(&mut self.client, up, now, scratch) {
                Ok(()) => Outcome::Open(None),
                Err(e) => Outcome::Failed(e),
            };
        }
        let mut wake = None;
        for direction in Direction::ALL {
            let (src, dst, counter) = match direction {
                Direction::Upstream => {
                    (&mut self.client, &mut self.server, &counters.bytes_upstream)
                }
                Direction::Downstream => {
                    (&mut self.server, &mut self.client, &counters.bytes_downstream)
                }
            };
            let pipe = self.pipes.get_mut(direction);
            match pump_direction(src, dst, pipe, now, *gates.get(direction), scratch, counter) {
                Ok(at) => wake = earliest(wake, at),
                Err(e) => return Outcome::Failed(e),
            }
        }
        let done = |src: &Side, dst: &Side| src.read_done && dst.write_done;
        if done(&self.client, &self.server) && done(&self.server, &self.client) {
            return Outcome::Finished;
        }
        Outcome::Open(wake)
    }

    /// Bytes held in both pipes.
    pub(crate) fn buffered(&self) -> u64 {
        let held = self.pipes.upstream.len().saturating_add(self.pipes.downstream.len());
        u64::try_from(held).unwrap_or(u64::MAX)
    }

    /// Closes both sockets: with RST (`SO_LINGER` 0) when `reset`, else
    /// normally.
    pub(crate) fn close(mut self, registry: &Registry, reset: bool) {
        for side in [&mut self.client, &mut self.server] {
            if let Err(e) = registry.deregister(&mut side.stream) {
                log::debug!("deregister failed: {e}");
            }
            if reset
                && let Err(e) =
                    socket2::SockRef::from(&side.stream).set_linger(Some(Duration::ZERO))
            {
                log::debug!("cannot set SO_LINGER 0 for a reset: {e}");
            }
        }
    }
}

/// Reads from `src` into `pipe` until `WouldBlock`, the end, or a full pipe.
fn read_into(src: &mut Side, pipe: &mut Pipe, now: Duration, scratch: &mut [u8]) -> io::Result<()> {
    while src.readable && !src.read_done && pipe.space() > 0 {
        let want = pipe.space().min(scratch.len());
        let Some(buf) = scratch.get_mut(..want) else { return Ok(()) };
        match src.stream.read(buf) {
            Ok(0) => {
                src.read_done = true;
                pipe.close(now);
            }
            Ok(n) => {
                pipe.push(now, buf.get(..n).unwrap_or_default());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => src.readable = false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes what `pipe` releases to `dst`; returns when it must be called
/// again without new readiness (a release time, stall end or token refill).
fn write_from(
    dst: &mut Side,
    pipe: &mut Pipe,
    now: Duration,
    gate: Gate,
    counter: &AtomicU64,
) -> io::Result<(Option<Duration>, bool)> {
    let mut wrote = false;
    while dst.writable && !dst.write_done {
        match pipe.poll_ready(now, gate) {
            Ready::Bytes(n) => match dst.stream.write(pipe.front(n)) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(k) => {
                    pipe.consume(now, k);
                    Counters::add(counter, u64::try_from(k).unwrap_or(u64::MAX));
                    wrote = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => dst.writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            },
            Ready::Eof => {
                match dst.stream.shutdown(Shutdown::Write) {
                    Ok(()) => {}
                    // The peer is already gone: the reading side finds out.
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
                    Err(e) => return Err(e),
                }
                dst.write_done = true;
            }
            Ready::At(at) => return Ok((Some(at), wrote)),
            Ready::Idle => break,
        }
    }
    Ok((None, wrote))
}

fn pump_direction(
    src: &mut Side,
    dst: &mut Side,
    pipe: &mut Pipe,
    now: Duration,
    gate: Gate,
    scratch: &mut [u8],
    counter: &AtomicU64,
) -> io::Result<Option<Duration>> {
    let mut wake = None;
    for _ in 0..ROUNDS {
        read_into(src, pipe, now, scratch)?;
        let (at, wrote) = write_from(dst, pipe, now, gate, counter)?;
        wake = at;
        // Writing made room: read again if the source may hold more.
        if !(wrote && src.readable && !src.read_done) {
            return Ok(wake);
        }
    }
    // Out of rounds with work left: come back on the next turn.
    Ok(if src.readable && !src.read_done && pipe.space() > 0 { Some(now) } else { wake })
}

fn earliest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
