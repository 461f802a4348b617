//! The proxy's single I/O thread: one mio loop over the listener, a waker
//! and every connection's two sockets.
//!
//! Each turn: wait for readiness or the next deadline; accept; pump the
//! connections that are ready; run the commands from the handle; start due
//! stalls and resets; pump the connections whose timers are due. A timer is
//! a heap entry `(time, slot, id)`: stale ones (a closed or re-armed
//! connection) are skipped when they come up.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use mio::net::TcpListener;
use mio::{Events, Poll, Token};

use super::config::ProxyConfig;
use super::conn::{Conn, Outcome};
use super::faults::{Direction, Faults, PerDirection};
use super::handle::Request;
use super::pipe::Gate;
use super::schedule::{Schedule, StallWindows, Ticks};
use super::stats::Counters;

pub(crate) const LISTENER: Token = Token(0);
pub(crate) const WAKER: Token = Token(1);
/// Connection slot `s` owns tokens `FIRST_CONN + 2s` (client) and `+ 1` (server).
pub(crate) const FIRST_CONN: usize = 2;
/// How soon to retry `accept` or a re-`bind` that failed.
pub(crate) const RETRY: Duration = Duration::from_millis(20);
/// Bytes read per `read` call.
const SCRATCH: usize = 64 * 1024;

/// A stall schedule of one direction and where it stands.
#[derive(Debug, Default)]
pub(crate) struct StallState {
    pub(crate) windows: Option<StallWindows>,
    /// When the schedule started: windows are offsets from here.
    pub(crate) epoch: Duration,
    /// The next window, in proxy time.
    pub(crate) next: Option<Range<Duration>>,
    /// Stalled (scheduled or by command) until this time.
    pub(crate) until: Duration,
}

/// Everything the proxy thread owns.
pub(crate) struct Hub {
    pub(crate) poll: Poll,
    pub(crate) listener: Option<TcpListener>,
    pub(crate) local_addr: SocketAddr,
    pub(crate) config: ProxyConfig,
    pub(crate) commands: Receiver<Request>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) origin: std::time::Instant,
    pub(crate) faults: Faults,
    pub(crate) schedule: Schedule,
    pub(crate) conns: Vec<Option<Conn>>,
    pub(crate) free: Vec<usize>,
    pub(crate) next_id: u64,
    pub(crate) timers: BinaryHeap<Reverse<(Duration, usize, u64)>>,
    pub(crate) stalls: PerDirection<StallState>,
    pub(crate) blackhole: bool,
    pub(crate) resets: Option<Ticks>,
    /// When the reset schedule started: ticks are offsets from here.
    pub(crate) reset_epoch: Duration,
    pub(crate) next_reset: Option<Duration>,
    /// When to try `accept` (after a failure) or `bind` (after refusing) again.
    pub(crate) retry_at: Option<Duration>,
    pub(crate) scratch: Box<[u8]>,
}

/// Whether the loop goes on after a batch of commands.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Stop,
}

impl Hub {
    pub(crate) fn new(
        poll: Poll,
        listener: TcpListener,
        local_addr: SocketAddr,
        config: ProxyConfig,
        commands: Receiver<Request>,
        counters: Arc<Counters>,
    ) -> Self {
        let schedule = Schedule::new(config.seed());
        let mut hub = Self {
            poll,
            listener: Some(listener),
            local_addr,
            commands,
            counters,
            origin: start_clock(),
            faults: Faults::default(),
            schedule,
            conns: Vec::new(),
            free: Vec::new(),
            next_id: 0,
            timers: BinaryHeap::new(),
            stalls: PerDirection::default(),
            blackhole: false,
            resets: None,
            reset_epoch: Duration::ZERO,
            next_reset: None,
            retry_at: None,
            scratch: vec![0; SCRATCH].into_boxed_slice(),
            config,
        };
        let faults = *hub.config.faults();
        hub.set_faults(faults, Duration::ZERO);
        hub
    }

    /// Time since the proxy started.
    #[expect(
        clippy::disallowed_methods,
        reason = "netsim delays real sockets in real time; it has no injected clock by design"
    )]
    fn now(&self) -> Duration {
        std::time::Instant::now().saturating_duration_since(self.origin)
    }

    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = self.now();
            let timeout = self.next_deadline().map(|at| at.saturating_sub(now));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                log::error!("netsim poll failed, the proxy stops: {e}");
                return;
            }
            let now = self.now();
            for event in &events {
                match event.token() {
                    LISTENER => self.accept(now),
                    WAKER => {
                        if self.run_commands(now) == Flow::Stop {
                            return;
                        }
                    }
                    Token(token) => self.on_socket_event(token, event, now),
                }
            }
            self.fire_timers(now);
        }
    }

    fn next_deadline(&self) -> Option<Duration> {
        let conn = self.timers.peek().map(|Reverse((at, _, _))| *at);
        let stalls = Direction::ALL
            .into_iter()
            .filter_map(|d| self.stalls.get(d).next.as_ref().map(|w| w.start));
        [conn, self.next_reset, self.retry_at].into_iter().flatten().chain(stalls).min()
    }

    /// What may pass `direction` at `now`.
    fn gate(&self, direction: Direction, now: Duration) -> Gate {
        let until = self.stalls.get(direction).until;
        if self.blackhole {
            Gate::Closed
        } else if until > now {
            Gate::Until(until)
        } else {
            Gate::Open
        }
    }

    fn on_socket_event(&mut self, token: usize, event: &mio::event::Event, now: Duration) {
        let Some(index) = token.checked_sub(FIRST_CONN) else { return };
        let slot = index / 2;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else { return };
        if index % 2 == 0 {
            conn.client.on_event(event);
        } else {
            conn.server.on_event(event);
            if let Err(e) = conn.check_connect() {
                log::debug!("connection {}: upstream connect failed: {e}", conn.id);
                Counters::add(&self.counters.upstream_failures, 1);
                self.close(slot, true);
                return;
            }
        }
        self.service(slot, now);
    }

    /// Pumps one connection and re-arms its timer or closes it.
    pub(crate) fn service(&mut self, slot: usize, now: Duration) {
        let gates = PerDirection {
            upstream: self.gate(Direction::Upstream, now),
            downstream: self.gate(Direction::Downstream, now),
        };
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else { return };
        let outcome = conn.pump(now, gates, &mut self.scratch, &self.counters);
        let held = conn.buffered();
        if held >= conn.reported {
            Counters::add(&self.counters.buffered_bytes, held - conn.reported);
        } else {
            Counters::sub(&self.counters.buffered_bytes, conn.reported - held);
        }
        conn.reported = held;
        match outcome {
            Outcome::Open(Some(at)) if conn.scheduled.is_none_or(|armed| at < armed) => {
                conn.scheduled = Some(at);
                self.timers.push(Reverse((at, slot, conn.id)));
            }
            Outcome::Open(_) => {}
            Outcome::Finished => self.close(slot, false),
            Outcome::Failed(e) => {
                log::debug!("connection {}: {e}; resetting the other side", conn.id);
                self.close(slot, true);
            }
        }
    }

    pub(crate) fn service_all(&mut self, now: Duration) {
        for slot in 0..self.conns.len() {
            self.service(slot, now);
        }
    }

    /// Closes the connection in `slot`, with RST to both ends when `reset`.
    pub(crate) fn close(&mut self, slot: usize, reset: bool) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::take) else { return };
        self.free.push(slot);
        Counters::sub(&self.counters.open_connections, 1);
        Counters::sub(&self.counters.buffered_bytes, conn.reported);
        log::debug!("connection {} closed{}", conn.id, if reset { " with a reset" } else { "" });
        conn.close(self.poll.registry(), reset);
    }

    fn fire_timers(&mut self, now: Duration) {
        if self.retry_at.is_some_and(|at| at <= now) {
            self.retry_at = None;
            if self.listener.is_some() {
                self.accept(now);
            } else if !self.faults.is_refusing() {
                self.set_refusing(false, now);
            }
        }
        for direction in Direction::ALL {
            let state = self.stalls.get_mut(direction);
            while let Some(window) = state.next.take_if(|w| w.start <= now) {
                state.until = state.until.max(window.end);
                Counters::add(&self.counters.stalls, 1);
                state.next = next_window(&mut state.windows, state.epoch);
            }
        }
        while self.next_reset.take_if(|at| *at <= now).is_some() {
            self.reset_all();
            self.next_reset = self.next_reset_tick();
        }
        while let Some(Reverse((at, slot, id))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else { continue };
            if conn.id != id || conn.scheduled != Some(at) {
                continue;
            }
            conn.scheduled = None;
            self.service(slot, now);
        }
    }
}

impl Hub {
    pub(crate) fn next_reset_tick(&mut self) -> Option<Duration> {
        let offset = self.resets.as_mut()?.next()?;
        Some(self.reset_epoch.saturating_add(offset))
    }
}

pub(crate) fn next_window(
    windows: &mut Option<StallWindows>,
    base: Duration,
) -> Option<Range<Duration>> {
    let window = windows.as_mut()?.next()?;
    Some(base.saturating_add(window.start)..base.saturating_add(window.end))
}

#[expect(
    clippy::disallowed_methods,
    reason = "netsim delays real sockets in real time; it has no injected clock by design"
)]
fn start_clock() -> std::time::Instant {
    std::time::Instant::now()
}
