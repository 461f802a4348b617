//! One turn of rig-io's loop, and the loop: wait in `poll` as the idle
//! strategy says, then serve what is ready. The thread (`IoThread::run`)
//! and an [`Invoker`](crate::engine::Invoker) drive the same turn.

use std::io;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use mio::Events;

use super::thread::{EngineTimer, IoThread, WAKER};
use crate::engine::shared::idle::Step;
use crate::engine::shared::ids::SocketKey;

/// The engine has shut down: the loop ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stopped;

/// What the poll said of one socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ready {
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// A readable edge from the poll with no hang-up or error: the
    /// connection may trust a short read (`Connection::trust_short_reads`).
    pub(crate) fresh: bool,
}

impl Ready {
    /// Reading again without a new event (read budget, resume).
    pub(crate) const READ_AGAIN: Self = Self { readable: true, writable: false, fresh: false };
}

/// What a turn reuses from the last one.
#[derive(Debug)]
pub(crate) struct Turn {
    events: Events,
    ready: Vec<(SocketKey, Ready)>,
    more_commands: bool,
}

impl Turn {
    pub(crate) fn new() -> Self {
        Self { events: Events::with_capacity(1024), ready: Vec::new(), more_commands: false }
    }
}

impl IoThread {
    /// The thread's loop: turns until shutdown, waiting between them as the
    /// engine's idle strategy says, then stops.
    pub(crate) fn run(mut self) {
        let mut turn = Turn::new();
        let mut idler = self.config.idle.idler();
        let mut worked = false;
        loop {
            let cap = if worked {
                idler.reset();
                idler.spins().then_some(Duration::ZERO)
            } else {
                match idler.idle() {
                    Step::Spin => Some(Duration::ZERO),
                    Step::Yield => {
                        std::thread::yield_now();
                        Some(Duration::ZERO)
                    }
                    Step::Park => None,
                }
            };
            match self.turn(&mut turn, cap) {
                Ok(did) => worked = did,
                Err(Stopped) => break,
            }
        }
        self.stop();
    }

    /// One turn: waits in `poll` (at most `cap`, and never past the next
    /// deadline), then drains the commands, serves the ready sockets, fires
    /// the due timers and hands the messages to the workers. `Ok(true)`
    /// when there was work; `Err` once the engine has shut down (call
    /// [`stop`](Self::stop) then).
    pub(crate) fn turn(&mut self, turn: &mut Turn, cap: Option<Duration>) -> Result<bool, Stopped> {
        let timeout = match (self.poll_timeout(turn.more_commands), cap) {
            (Some(own), Some(cap)) => Some(own.min(cap)),
            (own, cap) => own.or(cap),
        };
        if let Err(e) = self.poll.poll(&mut turn.events, timeout)
            && e.kind() != io::ErrorKind::Interrupted
        {
            log::error!("poll failed, stopping the engine: {e}");
            return Err(Stopped);
        }
        if !turn.events.is_empty() || timeout != Some(Duration::ZERO) {
            self.counters.wakeups.fetch_add(1, Relaxed);
        }
        let now = self.clock.now();
        let mut worked = !turn.events.is_empty() || !self.read_again.is_empty();
        turn.ready.clear();
        for event in &turn.events {
            if event.token() == WAKER {
                self.inbox.rearm();
                continue;
            }
            let hangup = event.is_read_closed() || event.is_error();
            let readable = event.is_readable() || hangup;
            let writable = event.is_writable() || event.is_write_closed() || event.is_error();
            let key = SocketKey(u64::try_from(event.token().0).unwrap_or(u64::MAX));
            // A fresh readable edge without a hang-up: a short read ends it.
            let fresh = event.is_readable() && !hangup;
            turn.ready.push((key, Ready { readable, writable, fresh }));
        }
        if self.resume_flag.load(Relaxed) && self.resume_flag.swap(false, Relaxed) {
            self.resume_paused(now);
            worked = true;
        }
        let (more, executed) = self.drain_commands(now).map_err(|()| Stopped)?;
        turn.more_commands = more;
        worked |= executed;
        for (key, ready) in turn.ready.drain(..) {
            self.with_socket(key, now, |slot, ctx| slot.on_ready(ctx, ready));
        }
        for key in std::mem::take(&mut self.read_again) {
            self.with_socket(key, now, |slot, ctx| slot.on_ready(ctx, Ready::READ_AGAIN));
        }
        let now = self.clock.now();
        while let Some(timer) = self.wheel.poll(now) {
            worked = true;
            let key = match timer {
                EngineTimer::Session(key)
                | EngineTimer::Unpause(key)
                | EngineTimer::DropReport(key)
                | EngineTimer::Link(key, ..) => key,
            };
            self.with_socket(key, now, |slot, ctx| slot.on_timer(ctx, timer));
        }
        // One hand-over per worker per turn.
        self.outgoing.flush();
        if let Some(at) = self.shutdown_at
            && (now >= at || self.sockets.values().all(|slot| slot.is_idle()))
        {
            return Err(Stopped);
        }
        Ok(worked)
    }

    /// How long `poll` may sleep: until the next timer, or not at all when
    /// work is left over.
    fn poll_timeout(&self, more_commands: bool) -> Option<Duration> {
        if more_commands || !self.read_again.is_empty() {
            return Some(Duration::ZERO);
        }
        let next = [self.wheel.next_deadline(), self.shutdown_at].into_iter().flatten().min()?;
        // mio rounds a sub-millisecond timeout up, so this never spins.
        Some(next.saturating_duration_since(self.clock.now()))
    }
}
