//! Precise wake-ups for frame-paced streams (`"pace":"frame"`): a Linux
//! `timerfd` registered with the server's poller.
//!
//! The poller's own timeout is in whole milliseconds (rounded up) and the
//! timer wheel ticks every millisecond, so a 10,000 events/s stream woken
//! through them would send its events in bunches of ten. A `timerfd` armed
//! with a relative nanosecond timeout wakes the loop on time without a
//! spinning core: the kernel's high-resolution timer fires it and the poller
//! reports it readable like any socket.
//!
//! One timer serves every connection: a heap of `(deadline, slot, id)` keeps
//! the order and the `timerfd` is armed at its head. Entries are never
//! removed early; a stale one (the connection moved on, or is gone) only
//! causes a harmless extra look at the connection.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
    timerfd_settime,
};

use crate::time::Instant;

/// The pacer's token: far from the connections' tokens.
pub(crate) const PACER: Token = Token(usize::MAX);

/// The frame-paced deadlines of every connection and the timer armed for the earliest.
pub(crate) struct Pacer {
    /// The `timerfd` (a `File` to read its expiration count safely).
    timer: File,
    queue: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    /// What the `timerfd` is armed for, if anything.
    armed: Option<Instant>,
}

impl Pacer {
    /// Creates the `timerfd` and registers it with `registry` as [`PACER`].
    pub(crate) fn new(registry: &Registry) -> io::Result<Self> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        let timer = File::from(fd);
        registry.register(&mut SourceFd(&timer.as_raw_fd()), PACER, Interest::READABLE)?;
        Ok(Self { timer, queue: BinaryHeap::new(), armed: None })
    }

    /// Asks for a wake-up at `at` for connection `slot` (generation `id`).
    pub(crate) fn schedule(&mut self, at: Instant, slot: usize, id: u64) {
        self.queue.push(Reverse((at, slot, id)));
    }

    /// The next `(deadline, slot, id)` due at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<(Instant, usize, u64)> {
        let Reverse((at, _, _)) = self.queue.peek()?;
        if *at > now {
            return None;
        }
        self.queue.pop().map(|Reverse(entry)| entry)
    }

    /// The `timerfd` fired: consume its expiration count.
    pub(crate) fn on_ready(&mut self) {
        let mut expirations = [0u8; 8];
        // Non-blocking: WouldBlock when nothing expired (a stale readiness).
        let _ = self.timer.read(&mut expirations);
        self.armed = None;
    }

    /// Arms the `timerfd` for the earliest deadline, unless it already is.
    pub(crate) fn arm(&mut self, now: Instant) {
        let next = self.queue.peek().map(|Reverse((at, _, _))| *at);
        if next == self.armed {
            return;
        }
        // Zero disarms a timerfd: a deadline already passed fires in 1 ns.
        let left = next.map_or(Duration::ZERO, |at| {
            at.saturating_duration_since(now).max(Duration::from_nanos(1))
        });
        let spec = Itimerspec {
            it_interval: Timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: Timespec {
                tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: left.subsec_nanos().into(),
            },
        };
        match timerfd_settime(&self.timer, TimerfdTimerFlags::empty(), &spec) {
            Ok(_) => self.armed = next,
            Err(e) => log::warn!("timerfd_settime failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Clock;

    #[test]
    fn pops_deadlines_in_order_and_only_when_due() {
        let poll = mio::Poll::new().unwrap();
        let mut pacer = Pacer::new(poll.registry()).unwrap();
        let (clock, mock) = Clock::mock();
        let t0 = clock.now();
        pacer.schedule(t0 + Duration::from_micros(300), 2, 7);
        pacer.schedule(t0 + Duration::from_micros(100), 1, 5);
        assert_eq!(pacer.pop_due(t0), None);
        mock.increment(Duration::from_micros(100));
        assert_eq!(pacer.pop_due(clock.now()), Some((t0 + Duration::from_micros(100), 1, 5)));
        assert_eq!(pacer.pop_due(clock.now()), None);
        mock.increment(Duration::from_micros(200));
        assert_eq!(pacer.pop_due(clock.now()).map(|(_, slot, _)| slot), Some(2));
    }

    #[test]
    fn the_timerfd_wakes_the_poller_after_its_deadline() {
        let mut poll = mio::Poll::new().unwrap();
        let mut pacer = Pacer::new(poll.registry()).unwrap();
        let clock = Clock::real();
        let start = clock.now();
        pacer.schedule(start + Duration::from_micros(200), 0, 0);
        pacer.arm(start);
        let mut events = mio::Events::with_capacity(4);
        poll.poll(&mut events, Some(Duration::from_secs(5))).unwrap();
        let waited = clock.now() - start;
        assert!(events.iter().any(|e| e.token() == PACER));
        assert!(waited >= Duration::from_micros(200), "{waited:?}");
        // Generous (a loaded CI machine), but well under the poller's own
        // timeout, which would have rounded 200 µs up to 1 ms or more.
        assert!(waited < Duration::from_secs(1), "{waited:?}");
        pacer.on_ready();
        assert!(pacer.pop_due(clock.now()).is_some());
    }
}
