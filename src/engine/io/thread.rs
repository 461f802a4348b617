//! rig-io: the one thread that owns the `Poll`, every socket and every
//! session of an engine.
//!
//! One turn: wait in `poll` until a socket is ready, a command arrives (the
//! waker) or the earliest timer is due (the sessions' `poll_timeout`s and
//! the engine's connect/close deadlines, all in one wheel: an idle engine
//! sleeps); then drain the commands, serve the ready sockets (and those
//! that stopped on their read budget), fire the due timers, and hand the
//! turn's messages for callbacks to the dispatcher workers (one batch each).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;

use crossbeam_channel::Sender;
use foldhash::HashMap;
use mio::{Poll, Registry, Token};

use super::resolver::Lookup;
use super::slot::SocketSlot;
use crate::engine::dispatch::pool::{Dispatcher, Outgoing};
use crate::engine::shared::command::{Command, CommandInbox};
use crate::engine::shared::config::EngineConfig;
use crate::engine::shared::guard::HandlerTimer;
use crate::engine::shared::health::EngineCounters;
use crate::engine::shared::ids::SocketKey;
use crate::time::{Clock, Instant};
use crate::timer::TimerWheel;

/// The waker's token; sockets use their key (from 1).
pub(crate) const WAKER: Token = Token(usize::MAX);
/// Most commands executed per turn, so sockets are served in between.
const COMMAND_BUDGET: usize = 4096;

/// A deadline in the engine's wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EngineTimer {
    /// The session's `poll_timeout`.
    Session(SocketKey),
    /// Retry a socket paused by a full Block consumer.
    Unpause(SocketKey),
    /// Drops counted since the last report may be reported now
    /// (`filter_route`'s coalescing).
    DropReport(SocketKey),
    /// A deadline of the socket's current link (`epoch` guards reuse).
    Link(SocketKey, u64, LinkTimer),
}

/// The link deadlines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkTimer {
    /// The connect attempt (DNS to upgrade) took too long.
    Connect,
    /// The close handshake took too long.
    Close,
    /// The server's `Retry-After` is over.
    RetryAfter,
}

/// What a socket needs from the thread while it is served.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Instant,
    pub(crate) registry: &'a Registry,
    pub(crate) wheel: &'a mut TimerWheel<EngineTimer>,
    pub(crate) lookups: &'a Sender<Lookup>,
    pub(crate) dispatcher: &'a Dispatcher,
    /// This turn's messages for the dispatcher workers.
    pub(crate) outgoing: &'a mut Outgoing,
    /// Sockets that stopped on their read budget.
    pub(crate) read_again: &'a mut Vec<SocketKey>,
    /// Times the inline handlers (they run on this thread).
    pub(crate) inline: &'a mut HandlerTimer,
    /// The engine's counters (panics and slow runs of inline handlers).
    pub(crate) counters: &'a EngineCounters,
}

/// The context for a socket, borrowed field by field from the thread (so
/// that `self.sockets` stays free to borrow).
macro_rules! ctx {
    ($io:ident, $now:expr) => {
        Ctx {
            now: $now,
            registry: $io.poll.registry(),
            wheel: &mut $io.wheel,
            lookups: &$io.lookups,
            dispatcher: &$io.dispatcher,
            outgoing: &mut $io.outgoing,
            read_again: &mut $io.read_again,
            inline: &mut $io.inline,
            counters: &$io.counters,
        }
    };
}

pub(crate) struct IoThread {
    pub(super) poll: Poll,
    pub(super) inbox: CommandInbox,
    pub(super) dispatcher: Dispatcher,
    pub(super) outgoing: Outgoing,
    pub(super) lookups: Sender<Lookup>,
    pub(super) counters: Arc<EngineCounters>,
    pub(super) config: EngineConfig,
    pub(super) clock: Clock,
    pub(super) wheel: TimerWheel<EngineTimer>,
    /// Boxed: the map keeps up to half its buckets free, and an inline
    /// slot would make each of them cost a whole slot.
    pub(super) sockets: HashMap<SocketKey, Box<SocketSlot>>,
    pub(super) read_again: Vec<SocketKey>,
    /// Sockets that executed commands this turn.
    pub(super) touched: Vec<SocketKey>,
    /// Set by `Shutdown`: exit once every link is idle, or at this instant.
    pub(super) shutdown_at: Option<Instant>,
    /// Set (with a wake-up) by a dispatcher worker that made room.
    pub(super) resume_flag: Arc<AtomicBool>,
    pub(super) inline: HandlerTimer,
}

impl IoThread {
    pub(crate) fn new(
        poll: Poll,
        inbox: CommandInbox,
        dispatcher: Dispatcher,
        lookups: Sender<Lookup>,
        counters: Arc<EngineCounters>,
        config: EngineConfig,
        resume_flag: Arc<AtomicBool>,
    ) -> Self {
        let clock = Clock::real();
        let inline = HandlerTimer::new(clock.clone(), config.slow_handler);
        let wheel = TimerWheel::new(clock.now());
        Self {
            poll,
            inbox,
            outgoing: Outgoing::new(dispatcher.clone()),
            dispatcher,
            lookups,
            counters,
            config,
            clock,
            wheel,
            sockets: HashMap::default(),
            read_again: Vec::new(),
            touched: Vec::new(),
            shutdown_at: None,
            resume_flag,
            inline,
        }
    }

    /// Executes queued commands; `Ok((more, any))`: `more` when the budget
    /// ran out with commands left, `any` when one ran; `Err` when every
    /// sender is gone.
    /// Sockets touched by commands finish their turn once, after the
    /// batch: a burst of pushes costs one flush, not one per push.
    pub(super) fn drain_commands(&mut self, now: Instant) -> Result<(bool, bool), ()> {
        let mut more = true;
        let mut any = false;
        for _ in 0..COMMAND_BUDGET {
            match self.inbox.next() {
                Ok(Some(command)) => {
                    any = true;
                    self.counters.commands.fetch_add(1, Relaxed);
                    self.execute(command, now);
                }
                Ok(None) => {
                    more = false;
                    break;
                }
                Err(()) => return Err(()),
            }
        }
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        for key in touched.drain(..) {
            self.with_socket(key, now, |_, _| {});
        }
        self.touched = touched;
        Ok((more, any))
    }

    fn execute(&mut self, command: Command, now: Instant) {
        if self.shutdown_at.is_some()
            && matches!(command, Command::Connect(_) | Command::ReconnectNow(_))
        {
            // Shutting down: no new connections.
            return;
        }
        let key = match command {
            Command::AddSocket(new) => {
                let key = new.key;
                if self.sockets.contains_key(&key) {
                    return;
                }
                let slot = SocketSlot::new(*new, now);
                self.sockets.insert(key, Box::new(slot));
                self.counters.sockets.store(self.sockets.len() as u64, Relaxed);
                return;
            }
            Command::Shutdown => {
                self.begin_shutdown(now);
                return;
            }
            Command::Resume => {
                self.resume_paused(now);
                return;
            }
            Command::RemoveSocket(key)
            | Command::Connect(key)
            | Command::Disconnect { socket: key, .. }
            | Command::ReconnectNow(key)
            | Command::WatchStatus { socket: key, .. }
            | Command::OnStatus { socket: key, .. }
            | Command::OffStatus { socket: key, .. }
            | Command::Ping { socket: key, .. }
            | Command::Join { socket: key, .. }
            | Command::Leave { socket: key, .. }
            | Command::RemoveChannel { socket: key, .. }
            | Command::Subscribe { socket: key, .. }
            | Command::Unsubscribe { socket: key, .. }
            | Command::Then { socket: key, .. }
            | Command::Resolved { socket: key, .. }
            | Command::DurablePush { socket: key, .. } => key,
            Command::AddChannel(ref new) => new.socket,
            Command::Push(ref new) => new.socket,
            Command::Send(ref new) => new.socket,
        };
        if !self.sockets.contains_key(&key) {
            // The socket was removed: resolve what waits on an answer.
            super::commands::orphan(command, &self.dispatcher);
            return;
        }
        if let Some(slot) = self.sockets.get_mut(&key) {
            let mut ctx = ctx!(self, now);
            slot.execute(&mut ctx, command);
            self.touched.push(key);
        }
    }

    /// Runs `f` on a socket with the context, then finishes its turn:
    /// drives the session, re-arms timers, reaps a removed socket.
    pub(super) fn with_socket(
        &mut self,
        key: SocketKey,
        now: Instant,
        f: impl FnOnce(&mut SocketSlot, &mut Ctx<'_>),
    ) {
        let stopping = self.shutdown_at.is_some();
        let Some(slot) = self.sockets.get_mut(&key) else { return };
        let mut ctx = ctx!(self, now);
        f(slot, &mut ctx);
        slot.finish_turn(&mut ctx);
        if slot.is_reapable() {
            if let Some(slot) = self.sockets.remove(&key) {
                let outbox = slot.release(&mut ctx);
                // Stopping: close the file before `shutdown` returns.
                if let Some(outbox) = outbox.filter(|_| !stopping) {
                    outbox.close_off_thread();
                }
            }
            self.counters.sockets.store(self.sockets.len() as u64, Relaxed);
        }
    }

    /// A Block consumer made room: retry every paused socket (few).
    pub(super) fn resume_paused(&mut self, now: Instant) {
        let paused: Vec<SocketKey> = self
            .sockets
            .iter()
            .filter(|(_, slot)| slot.backpressure.paused)
            .map(|(key, _)| *key)
            .collect();
        for key in paused {
            self.with_socket(key, now, |slot, ctx| slot.resume(ctx));
        }
    }

    /// Closes every socket; the loop ends once they are closed or the
    /// shutdown grace is over.
    pub(crate) fn begin_shutdown(&mut self, now: Instant) {
        if self.shutdown_at.is_some() {
            return;
        }
        log::info!("engine shutting down ({} sockets)", self.sockets.len());
        // Leave the caller's join some slack after the close handshakes.
        let grace = self.config.shutdown_timeout / 2;
        self.shutdown_at = Some(now.checked_add(grace).unwrap_or(now));
        let keys: Vec<SocketKey> = self.sockets.keys().copied().collect();
        for key in keys {
            self.with_socket(key, now, |slot, ctx| slot.shutdown(ctx));
        }
    }

    /// Starts the shutdown now (an invoker dropped without one).
    pub(crate) fn shutdown_now(&mut self) {
        let now = self.clock.now();
        self.begin_shutdown(now);
    }

    /// Closes what is left and stops the workers; the end of the loop.
    pub(crate) fn stop(&mut self) {
        let now = self.clock.now();
        let keys: Vec<SocketKey> = self.sockets.keys().copied().collect();
        for key in keys {
            if let Some(slot) = self.sockets.remove(&key) {
                let mut ctx = ctx!(self, now);
                // Stopping: the outbox closes here, before `shutdown` returns.
                drop(slot.release(&mut ctx));
            }
        }
        self.counters.sockets.store(0, Relaxed);
        self.outgoing.flush();
        self.dispatcher.stop();
        log::info!("engine stopped");
    }
}
