//! The server's single I/O thread: a mio loop over the listener, a waker and
//! every connection, with one timer per connection.
//!
//! Each turn: wait for readiness or the next deadline; accept; read and
//! decode frames; run them through each connection's [`Session`]; deliver the
//! effects (replies, broadcasts, presence diffs) into outgoing queues; pull
//! due stream events while queues are short; flush every touched connection;
//! re-arm timers. Nothing here blocks, and nothing a client sends can stop it.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mio::net::TcpListener;
use mio::{Events, Poll, Token};

use super::channels::presence::Tracker;
use super::close::CloseReason;
use super::config::ServerConfig;
use super::conn::{Conn, Health, Inbound, Phase, drive_http};
use super::fanout::PubSub;
use super::pacer::{PACER, Pacer};
use super::stats::{Counters, bump, drop_one};
use super::wall_clock::WallClock;
use crate::time::{Clock, Instant};
use crate::timer::TimerWheel;

pub(crate) const LISTENER: Token = Token(0);
pub(crate) const WAKER: Token = Token(1);
pub(crate) const FIRST_CONN: usize = 2;

/// Frames read from one connection before others get a turn.
const READ_BATCH: usize = 256;
/// Stream events produced per batch.
const STREAM_BATCH: usize = 256;
/// Stream production pauses while this many bytes wait to be sent.
const STREAM_HIGH_WATER: usize = 64 * 1024;
/// How long to wait for the peer's close frame after ours.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Everything the I/O thread owns.
pub(crate) struct Hub {
    pub(crate) poll: Poll,
    pub(crate) listener: TcpListener,
    pub(crate) config: ServerConfig,
    pub(crate) shutdown: Arc<AtomicBool>,
    pub(crate) clock: Clock,
    pub(crate) wall: WallClock,
    pub(crate) conns: Vec<Option<Conn>>,
    pub(crate) free: Vec<usize>,
    pub(crate) next_id: u64,
    pub(crate) timers: TimerWheel<(usize, u64)>,
    /// Sub-millisecond wake-ups for frame-paced streams.
    pub(crate) pacer: Pacer,
    pub(crate) pubsub: PubSub,
    pub(crate) presence: Tracker,
    /// Connections to pump at the end of the turn.
    pub(crate) dirty: Vec<usize>,
    /// Connections over their outgoing cap, dropped at the end of the turn.
    pub(crate) overflowed: Vec<usize>,
    /// Connections that still had frames to read when their batch ended.
    pub(crate) read_again: Vec<usize>,
    /// When to retry accepting after a failure (e.g. out of descriptors).
    pub(crate) accept_retry: Option<Instant>,
    /// Counters read by the handle; this thread is their only writer.
    pub(crate) stats: Arc<Counters>,
}

impl Hub {
    pub(crate) fn new(
        poll: Poll,
        pacer: Pacer,
        listener: TcpListener,
        config: ServerConfig,
        shutdown: Arc<AtomicBool>,
        stats: Arc<Counters>,
    ) -> Self {
        let clock = Clock::real();
        let now = clock.now();
        let mut wall = WallClock::new(now);
        let salt = wall.unix_us(now);
        Self {
            poll,
            listener,
            config,
            shutdown,
            clock,
            wall,
            conns: Vec::new(),
            free: Vec::new(),
            next_id: 0,
            timers: TimerWheel::new(now),
            pacer,
            pubsub: PubSub::default(),
            presence: Tracker::new(salt),
            dirty: Vec::new(),
            overflowed: Vec::new(),
            read_again: Vec::new(),
            accept_retry: None,
            stats,
        }
    }

    /// Runs until shutdown is requested.
    pub(crate) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = self.clock.now();
            let timeout = if self.read_again.is_empty() {
                [self.timers.next_deadline(), self.accept_retry]
                    .into_iter()
                    .flatten()
                    .min()
                    .map(|d| d.saturating_duration_since(now))
            } else {
                Some(Duration::ZERO)
            };
            self.pacer.arm(now);
            if let Err(e) = self.poll.poll(&mut events, timeout)
                && e.kind() != io::ErrorKind::Interrupted
            {
                log::error!("poll failed, stopping the server: {e}");
                break;
            }
            if self.shutdown.load(Ordering::Acquire) {
                break;
            }
            let now = self.clock.now();
            for event in &events {
                match event.token() {
                    LISTENER => self.accept(now),
                    WAKER => {}
                    PACER => self.pacer.on_ready(),
                    Token(t) => self.on_ready(t.saturating_sub(FIRST_CONN), now),
                }
            }
            if self.accept_retry.is_some_and(|at| at <= now) {
                self.accept_retry = None;
                self.accept(now);
            }
            for slot in std::mem::take(&mut self.read_again) {
                self.on_ready(slot, now);
            }
            while let Some((slot, id)) = self.timers.poll(now) {
                self.on_timer(slot, id, now);
            }
            self.on_pace(self.clock.now());
            self.end_turn();
        }
        self.close_everything();
    }

    /// Readiness (or unread frames) on a connection.
    fn on_ready(&mut self, slot: usize, now: Instant) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else { return };
        if matches!(conn.phase, Phase::Http { .. } | Phase::Respond { .. }) {
            let phase = std::mem::replace(&mut conn.phase, Phase::Gone);
            conn.phase = drive_http(phase, &self.config, &self.stats);
            match conn.phase {
                Phase::Gone => return self.drop_conn(slot),
                Phase::Open(_) => {
                    conn.last_recv = now;
                    conn.phase_deadline = None;
                }
                _ => return self.rearm(slot),
            }
        }
        if matches!(conn.phase, Phase::Closing(_)) {
            return self.service_closing(slot);
        }
        let Phase::Open(ws) = &mut conn.phase else { return };
        let mut inbound = Vec::new();
        let mut peer_closed = false;
        let drained = ws.read(READ_BATCH, &mut inbound, &mut peer_closed);
        if !inbound.is_empty() || peer_closed {
            conn.last_recv = now;
        }
        match drained {
            Err(()) => {
                bump(&self.stats.connections_lost);
                return self.drop_conn(slot);
            }
            Ok(false) => self.read_again.push(slot),
            Ok(true) => {}
        }
        for item in inbound {
            let Some(conn) = self.conn_mut(slot) else { return };
            let Phase::Open(ws) = &mut conn.phase else { break };
            match item {
                Inbound::Frame(frame) => match ws.serializer.decode_client(frame) {
                    Ok(msg) => {
                        log::trace!(
                            "connection {}: in {}",
                            conn.id,
                            crate::redact::text(&format!("{msg:?}"))
                        );
                        ws.session.handle_message(now, msg);
                        let effects = ws.session.take_effects();
                        self.apply(slot, effects, now);
                    }
                    Err(e) => {
                        log::debug!("connection {}: undecodable frame: {e}", conn.id);
                        self.begin_close(slot, CloseReason::Malformed, now);
                        break;
                    }
                },
                Inbound::Violation(reason) => {
                    self.begin_close(slot, reason, now);
                    break;
                }
            }
        }
        if peer_closed {
            if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                if matches!(conn.phase, Phase::Open(_)) {
                    bump(&self.stats.client_closes);
                }
                let phase = std::mem::replace(&mut conn.phase, Phase::Gone);
                conn.phase = match phase {
                    Phase::Open(ws) | Phase::Closing(ws) => Phase::Closing(ws),
                    other => other,
                };
                conn.phase_deadline = now.checked_add(CLOSE_WAIT);
            }
            return self.service_closing(slot);
        }
        self.service(slot);
    }

    fn on_timer(&mut self, slot: usize, id: u64, now: Instant) {
        let idle = self.config.idle_timeout();
        let Some(conn) = self.conn_mut(slot) else { return };
        if conn.id != id {
            return;
        }
        conn.deadline = None;
        if conn.phase_deadline.is_some_and(|d| d <= now) {
            if matches!(conn.phase, Phase::Http { .. } | Phase::Respond { .. }) {
                log::debug!("connection {}: no complete request in time", conn.id);
                bump(&self.stats.handshake_timeouts);
            }
            return self.drop_conn(slot);
        }
        let Phase::Open(ws) = &mut conn.phase else { return self.rearm(slot) };
        if now.saturating_duration_since(conn.last_recv) >= idle {
            log::debug!("connection {} idle for {idle:?}: closing", conn.id);
            return self.begin_close(slot, CloseReason::Idle, now);
        }
        ws.session.handle_timeout(now);
        let effects = ws.session.take_effects();
        self.apply(slot, effects, now);
        self.service(slot);
    }

    /// Services every connection whose frame-paced stream is due.
    fn on_pace(&mut self, now: Instant) {
        while let Some((at, slot, id)) = self.pacer.pop_due(now) {
            let Some(conn) = self.conn_mut(slot) else { continue };
            if conn.id != id {
                continue;
            }
            if conn.pace_at == Some(at) {
                conn.pace_at = None;
            }
            if matches!(conn.phase, Phase::Open(_)) {
                self.service(slot);
            }
        }
    }

    /// Pulls due stream events while the queue is short, flushes, re-arms.
    /// A frame-paced stream yields one event per round, so each goes out
    /// in a write (and a flush) of its own.
    pub(crate) fn service(&mut self, slot: usize) {
        let mut now;
        loop {
            // A long burst spans many batches: stamp each with its own time.
            now = self.clock.now();
            let unix_us = self.wall.unix_us(now);
            let Some(conn) = self.conn_mut(slot) else { return };
            let Phase::Open(ws) = &mut conn.phase else { break };
            if ws.pump() == Health::Dead {
                bump(&self.stats.connections_lost);
                return self.drop_conn(slot);
            }
            if ws.is_blocked()
                || ws.queued_bytes() >= STREAM_HIGH_WATER
                || !ws.session.has_due_stream(now)
            {
                break;
            }
            ws.session.produce_streams(now, unix_us, STREAM_BATCH);
            let effects = ws.session.take_effects();
            self.apply(slot, effects, now);
        }
        self.rearm(slot);
    }

    fn service_closing(&mut self, slot: usize) {
        let Some(conn) = self.conn_mut(slot) else { return };
        let Phase::Closing(ws) = &mut conn.phase else { return };
        if ws.finish_close() == Health::Dead {
            return self.drop_conn(slot);
        }
        self.rearm(slot);
    }

    /// Sends a close frame for `reason`; the connection goes once the peer answers.
    pub(crate) fn begin_close(&mut self, slot: usize, reason: CloseReason, now: Instant) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else { return };
        let phase = std::mem::replace(&mut conn.phase, Phase::Gone);
        let Phase::Open(mut ws) = phase else {
            conn.phase = phase;
            return;
        };
        self.stats.closed(reason);
        let health = ws.close(reason);
        conn.phase = Phase::Closing(ws);
        conn.phase_deadline = now.checked_add(CLOSE_WAIT);
        if health == Health::Dead {
            return self.drop_conn(slot);
        }
        // The channels end with the socket, as when Phoenix's socket process exits.
        self.end_session(slot, now);
        self.rearm(slot);
    }

    /// Re-arms the connection's single timer at its earliest deadline.
    pub(crate) fn rearm(&mut self, slot: usize) {
        let idle = self.config.idle_timeout();
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else { return };
        let mut wanted = conn.phase_deadline;
        if let Phase::Open(ws) = &conn.phase {
            let idle_at = conn.last_recv.checked_add(idle);
            let session_at = ws.session.next_deadline(!ws.is_blocked());
            wanted = [wanted, idle_at, session_at].into_iter().flatten().min();
            // A blocked connection resumes on writability instead.
            let pace_at = if ws.is_blocked() { None } else { ws.session.next_pace_deadline() };
            if let Some(at) = pace_at.filter(|at| conn.pace_at != Some(*at)) {
                conn.pace_at = Some(at);
                self.pacer.schedule(at, slot, conn.id);
            }
        }
        if conn.deadline.map(|(at, _)| at) == wanted {
            return;
        }
        if let Some((_, key)) = conn.deadline.take() {
            self.timers.cancel(key);
        }
        if let Some(at) = wanted {
            conn.deadline = Some((at, self.timers.insert(at, (slot, conn.id))));
        }
    }

    pub(crate) fn conn_mut(&mut self, slot: usize) -> Option<&mut Conn> {
        self.conns.get_mut(slot).and_then(Option::as_mut)
    }

    /// Drops overflowing connections and flushes every touched one; repeats
    /// while that touches more (a drop broadcasts presence leaves).
    fn end_turn(&mut self) {
        while !self.overflowed.is_empty() || !self.dirty.is_empty() {
            let cap = self.config.max_outgoing();
            for slot in std::mem::take(&mut self.overflowed) {
                // A slot may be listed twice, or have been dropped and reused
                // for a new connection since it was listed.
                let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
                    continue;
                };
                if !matches!(&conn.phase, Phase::Open(ws) if ws.queued_bytes() > cap) {
                    continue;
                }
                log::warn!("connection {} does not read its messages: dropping it", conn.id);
                bump(&self.stats.dropped_slow);
                self.drop_conn(slot);
            }
            for slot in std::mem::take(&mut self.dirty) {
                let Some(conn) = self.conn_mut(slot) else { continue };
                conn.dirty = false;
                if matches!(conn.phase, Phase::Open(_)) {
                    self.service(slot);
                }
            }
        }
    }

    /// Removes a connection: its channels end and its socket closes.
    pub(crate) fn drop_conn(&mut self, slot: usize) {
        let now = self.clock.now();
        self.end_session(slot, now);
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else { return };
        // Before the socket closes (when `conn` drops), so a peer that sees
        // the end also sees the gauge without it.
        drop_one(&self.stats.connections_open);
        if let Some((_, key)) = conn.deadline.take() {
            self.timers.cancel(key);
        }
        if let Some(transport) = conn.phase.transport() {
            let _ = self.poll.registry().deregister(transport.socket());
        }
        log::debug!("connection {} closed", conn.id);
        self.free.push(slot);
    }

    fn close_everything(&mut self) {
        let now = self.clock.now();
        for slot in 0..self.conns.len() {
            self.begin_close(slot, CloseReason::Shutdown, now);
            self.drop_conn(slot);
        }
        self.conns.clear();
    }
}
