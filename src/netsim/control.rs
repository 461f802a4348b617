//! The proxy thread's side of the handle's commands: faults, resets,
//! blackholes, stalls, refusing connections.

use std::io;
use std::time::Duration;

use mio::Interest;

use super::event_loop::{Flow, Hub, LISTENER, RETRY, next_window};
use super::faults::{Direction, Faults};
use super::handle::{Command, Request};
use super::stats::Counters;
use crate::listener;

impl Hub {
    /// Runs every queued command; `Stop` after a shutdown.
    pub(crate) fn run_commands(&mut self, now: Duration) -> Flow {
        while let Ok(Request { command, done }) = self.commands.try_recv() {
            let flow = match command {
                Command::SetFaults(faults) => {
                    self.set_faults(*faults, now);
                    Flow::Continue
                }
                Command::ResetAll => {
                    self.reset_all();
                    Flow::Continue
                }
                Command::Blackhole(on) => {
                    self.set_blackhole(on, now);
                    Flow::Continue
                }
                Command::StallFor(length) => {
                    self.stall_for(length, now);
                    Flow::Continue
                }
                Command::Shutdown => Flow::Stop,
            };
            // The caller may have given up waiting; nothing to do then.
            let _ = done.send(());
            if flow == Flow::Stop {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    /// Resets every open connection on purpose (counted).
    pub(crate) fn reset_all(&mut self) {
        for slot in 0..self.conns.len() {
            if self.conns.get(slot).is_some_and(Option::is_some) {
                Counters::add(&self.counters.resets, 1);
                self.close(slot, true);
            }
        }
    }

    pub(crate) fn set_blackhole(&mut self, on: bool, now: Duration) {
        self.blackhole = on;
        if !on {
            self.service_all(now);
        }
    }

    /// Stalls both directions for `length` from `now` (counted once per direction).
    pub(crate) fn stall_for(&mut self, length: Duration, now: Duration) {
        let until = now.saturating_add(length);
        for direction in Direction::ALL {
            let state = self.stalls.get_mut(direction);
            state.until = state.until.max(until);
            Counters::add(&self.counters.stalls, 1);
        }
    }

    /// New faults from `now`: schedules restart, pipes adopt them for new bytes.
    pub(crate) fn set_faults(&mut self, faults: Faults, now: Duration) {
        self.faults = faults;
        for direction in Direction::ALL {
            let state = self.stalls.get_mut(direction);
            state.windows = self.schedule.stalls(direction, faults.direction(direction));
            state.epoch = now;
            state.next = next_window(&mut state.windows, now);
        }
        self.resets = self.schedule.resets(&faults);
        self.reset_epoch = now;
        self.next_reset = self.next_reset_tick();
        for conn in self.conns.iter_mut().flatten() {
            for direction in Direction::ALL {
                let fresh = faults.direction(direction);
                let delays = self.schedule.delays(conn.id, direction, fresh);
                conn.pipes.get_mut(direction).set_faults(fresh, delays, now);
            }
        }
        self.set_refusing(faults.is_refusing(), now);
        self.service_all(now);
    }

    pub(crate) fn set_refusing(&mut self, refuse: bool, now: Duration) {
        if refuse {
            if let Some(mut listener) = self.listener.take() {
                if let Err(e) = self.poll.registry().deregister(&mut listener) {
                    log::debug!("deregister listener: {e}");
                }
                log::info!("refusing connections on {}", self.local_addr);
            }
            return;
        }
        if self.listener.is_some() {
            return;
        }
        match listener::bind(self.local_addr) {
            Ok(mut listener) => {
                match self.poll.registry().register(&mut listener, LISTENER, Interest::READABLE) {
                    Ok(()) => {
                        self.listener = Some(listener);
                        log::info!("accepting connections on {} again", self.local_addr);
                        self.accept(now);
                    }
                    Err(e) => self.retry_soon(now, &e),
                }
            }
            Err(e) => self.retry_soon(now, &e),
        }
    }

    fn retry_soon(&mut self, now: Duration, e: &io::Error) {
        log::warn!("cannot listen on {} ({e}); retrying", self.local_addr);
        self.retry_at = Some(now.saturating_add(RETRY));
    }
}
