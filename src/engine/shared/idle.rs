//! Idle strategies: how an engine thread waits when it has nothing to do.
//!
//! The low-latency messaging field's answer to "a wake-up costs more than
//! the work" (Aeron's `IdleStrategy`, the LMAX Disruptor's wait
//! strategies): a thread with spare CPU checks for work again instead of
//! sleeping in the kernel, so the next event is picked up within
//! nanoseconds and nobody pays a system call to wake it. The default parks:
//! an idle engine costs nothing and never wakes between heartbeats.
//!
//! ```text
//!                 no work           no work               no work
//!   Park:      ─────────────▶ block in the kernel (epoll_wait / futex)
//!   Backoff:   spin × spins ──▶ yield × yields ──▶ block in the kernel
//!   BusySpin:  spin ──▶ spin ──▶ spin ...  (never blocks: one core each)
//!                  any work resets the sequence to its start
//! ```

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::config::{EngineConfig, EngineConfigBuilder};

/// The default for [`EngineConfigBuilder::slow_handler`]: 1 ms.
pub(crate) const DEFAULT_SLOW_HANDLER: Duration = Duration::from_millis(1);

/// How the engine's threads (rig-io, the dispatcher workers) and a
/// [`Subscription`](crate::engine::Subscription)'s blocking receives wait for work.
///
/// | strategy | latency to pick up an event | CPU when idle | wakes between heartbeats |
/// |---|---|---|---|
/// | `Park` (default) | a kernel wake-up (tens of µs on a VM) | none | never |
/// | `Backoff` | ~nothing while spinning, then a wake-up | a short spin after each burst | never (after the spin) |
/// | `BusySpin` | ~nothing | one core per thread | always |
///
/// Pick `Park` unless you have a core to spare per engine thread; pick
/// `Backoff` when events come in bursts and the first event of a burst may
/// pay a wake-up; `BusySpin` when every event must be picked up at once and
/// the cores are yours.
///
/// # Examples
///
/// ```
/// use rig::engine::{EngineConfig, IdleStrategy};
///
/// let config = EngineConfig::builder().idle(IdleStrategy::backoff()).build();
/// assert_eq!(config.idle(), IdleStrategy::Backoff { spins: 10_000, yields: 100 });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdleStrategy {
    /// Block in the kernel until there is work. The default.
    #[default]
    Park,
    /// Check again `spins` times, then yield the CPU `yields` times, then
    /// block in the kernel; any work starts the sequence again. Bounded:
    /// after a burst the thread parks within about `spins` checks and
    /// `yields` yields.
    Backoff {
        /// Checks in a tight loop before yielding.
        spins: u32,
        /// `sched_yield` calls before parking.
        yields: u32,
    },
    /// Never block: check again and again. The thread uses a whole core
    /// even with nothing to do.
    BusySpin,
}

impl IdleStrategy {
    /// `Backoff` with 10,000 spins and 100 yields: after the last event,
    /// a queue check spins for tens of microseconds, rig-io (whose check is
    /// a non-blocking `epoll_wait`) for a few milliseconds, before parking.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::engine::IdleStrategy;
    /// assert!(matches!(IdleStrategy::backoff(), IdleStrategy::Backoff { .. }));
    /// ```
    #[must_use]
    pub const fn backoff() -> Self {
        Self::Backoff { spins: 10_000, yields: 100 }
    }

    /// Parses `park`, `backoff` or `spin` (also `busy-spin`), as the CLI
    /// and benchmarks take them.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::engine::IdleStrategy;
    /// assert_eq!(IdleStrategy::parse("spin"), Some(IdleStrategy::BusySpin));
    /// assert_eq!(IdleStrategy::parse("nap"), None);
    /// ```
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "park" => Some(Self::Park),
            "backoff" => Some(Self::backoff()),
            "spin" | "busy-spin" => Some(Self::BusySpin),
            _ => None,
        }
    }

    /// A fresh waiting sequence for one thread.
    pub(crate) fn idler(self) -> Idler {
        Idler { strategy: self, spins: 0, yields: 0 }
    }
}

impl EngineConfig {
    /// How the engine's threads wait for work (see [`IdleStrategy`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::engine::{EngineConfig, IdleStrategy};
    /// assert_eq!(EngineConfig::default().idle(), IdleStrategy::Park);
    /// ```
    #[must_use]
    pub fn idle(&self) -> IdleStrategy {
        self.idle
    }

    /// How the dispatcher workers wait: [`dispatch_idle`](EngineConfigBuilder::dispatch_idle)
    /// if set, else [`idle`](Self::idle).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::engine::{EngineConfig, IdleStrategy};
    /// let config = EngineConfig::builder().idle(IdleStrategy::BusySpin).build();
    /// assert_eq!(config.dispatch_idle(), IdleStrategy::BusySpin);
    /// let config = EngineConfig::builder()
    ///     .idle(IdleStrategy::BusySpin)
    ///     .dispatch_idle(IdleStrategy::Park)
    ///     .build();
    /// assert_eq!(config.dispatch_idle(), IdleStrategy::Park);
    /// ```
    #[must_use]
    pub fn dispatch_idle(&self) -> IdleStrategy {
        self.dispatch_idle.unwrap_or(self.idle)
    }

    /// How long a handler may run before it counts as slow (see
    /// [`EngineConfigBuilder::slow_handler`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = rig::engine::EngineConfig::default();
    /// assert_eq!(config.slow_handler(), Duration::from_millis(1));
    /// ```
    #[must_use]
    pub fn slow_handler(&self) -> Duration {
        self.slow_handler
    }
}

impl EngineConfigBuilder {
    /// How rig-io, the dispatcher workers and the blocking receives of
    /// subscriptions ([`Subscription::recv`](crate::engine::Subscription::recv),
    /// [`recv_timeout`](crate::engine::Subscription::recv_timeout)) wait
    /// for work (default [`IdleStrategy::Park`]). In invoker mode
    /// ([`Engine::start_invoker`](crate::engine::Engine::start_invoker)) it
    /// is also how [`Invoker::run_until`](crate::engine::Invoker::run_until)
    /// waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::engine::{EngineConfig, IdleStrategy};
    /// let config = EngineConfig::builder().idle(IdleStrategy::BusySpin).build();
    /// assert_eq!(config.idle(), IdleStrategy::BusySpin);
    /// ```
    pub fn idle(mut self, idle: IdleStrategy) -> Self {
        self.config.idle = idle;
        self
    }

    /// How the `rig-dispatch-N` workers alone wait (default: as
    /// [`idle`](Self::idle) says). A spinning strategy costs a core per
    /// worker even when no `on` handler or filter subscription exists: an
    /// application that consumes through subscriptions or inline handlers
    /// spins rig-io and its own thread, and leaves the workers parked.
    ///
    /// # Examples
    ///
    /// See [`EngineConfig::dispatch_idle`].
    pub fn dispatch_idle(mut self, idle: IdleStrategy) -> Self {
        self.config.dispatch_idle = Some(idle);
        self
    }

    /// Handlers (`on` callbacks on a worker, inline handlers on the I/O
    /// loop) that run longer than this are counted in
    /// [`EngineHealth::slow_handlers`](crate::engine::EngineHealth) and
    /// logged at warn level (default 1 ms). The clock is read once per
    /// window of up to 16 consecutive runs on a thread, not per run (a
    /// reading can cost as much as a handler): a window over the limit
    /// counts once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = rig::engine::EngineConfig::builder().slow_handler(Duration::from_micros(200)).build();
    /// assert_eq!(config.slow_handler(), Duration::from_micros(200));
    /// ```
    pub fn slow_handler(mut self, limit: Duration) -> Self {
        self.config.slow_handler = limit;
        self
    }
}

/// What a thread with no work does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Check for work again at once.
    Spin,
    /// Give the CPU away once, then check again.
    Yield,
    /// Block in the kernel until there is work (or a deadline).
    Park,
}

/// One thread's position in its strategy's sequence.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Idler {
    strategy: IdleStrategy,
    spins: u32,
    yields: u32,
}

impl Idler {
    /// The thread found no work: what to do next.
    pub(crate) fn idle(&mut self) -> Step {
        match self.strategy {
            IdleStrategy::Park => Step::Park,
            IdleStrategy::BusySpin => Step::Spin,
            IdleStrategy::Backoff { spins, yields } => {
                if self.spins < spins {
                    self.spins += 1;
                    std::hint::spin_loop();
                    Step::Spin
                } else if self.yields < yields {
                    self.yields += 1;
                    Step::Yield
                } else {
                    Step::Park
                }
            }
        }
    }

    /// The thread found work: the next idle period starts from the top.
    pub(crate) fn reset(&mut self) {
        self.spins = 0;
        self.yields = 0;
    }

    /// Whether this strategy ever spins (then a parked thread is rare and
    /// the fast path of a wait is a plain check).
    pub(crate) fn spins(&self) -> bool {
        !matches!(self.strategy, IdleStrategy::Park)
    }

    /// Waits for `poll` to give a value, as the strategy says, until `park`
    /// (a blocking wait) is the next step; returns the value, or `None`
    /// when the caller should block.
    pub(crate) fn spin_for<T>(&mut self, mut poll: impl FnMut() -> Option<T>) -> Option<T> {
        if !self.spins() {
            return None;
        }
        loop {
            if let Some(value) = poll() {
                self.reset();
                return Some(value);
            }
            match self.idle() {
                Step::Spin => {}
                Step::Yield => std::thread::yield_now(),
                Step::Park => return None,
            }
        }
    }
}

/// Receives from `rx`, waiting as `idle` says: the spinning strategies
/// check the queue themselves first (a producer then finds no parked
/// receiver and wakes nobody), then block for what is left of `timeout`
/// (`None`: no limit).
pub(crate) fn recv_with<T>(
    rx: &Receiver<T>,
    idle: IdleStrategy,
    timeout: Option<Duration>,
) -> Result<T, RecvTimeoutError> {
    let block = |left: Option<Duration>| match left {
        Some(left) => rx.recv_timeout(left),
        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
    };
    if idle == IdleStrategy::Park {
        return block(timeout);
    }
    let start = quanta::Instant::now();
    let mut idler = idle.idler();
    let mut checks = 0_u32;
    loop {
        match rx.try_recv() {
            Ok(value) => return Ok(value),
            Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
            Err(TryRecvError::Empty) => {}
        }
        checks = checks.wrapping_add(1);
        // The clock every 256 checks: a busy spin still honours the timeout.
        if checks.is_multiple_of(256) && timeout.is_some_and(|t| start.elapsed() >= t) {
            return Err(RecvTimeoutError::Timeout);
        }
        match idler.idle() {
            Step::Spin => {}
            Step::Yield => std::thread::yield_now(),
            Step::Park => break,
        }
    }
    block(timeout.map(|t| t.saturating_sub(start.elapsed())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn park_parks_at_once_and_busy_spin_never_does() {
        let mut park = IdleStrategy::Park.idler();
        assert_eq!(park.idle(), Step::Park);
        let mut spin = IdleStrategy::BusySpin.idler();
        assert!((0..100_000).all(|_| spin.idle() == Step::Spin));
    }

    #[test]
    fn backoff_spins_then_yields_then_parks_and_work_starts_it_again() {
        let mut idler = IdleStrategy::Backoff { spins: 3, yields: 2 }.idler();
        let steps: Vec<Step> = (0..7).map(|_| idler.idle()).collect();
        use Step::{Park, Spin, Yield};
        assert_eq!(steps, [Spin, Spin, Spin, Yield, Yield, Park, Park]);
        idler.reset();
        assert_eq!(idler.idle(), Spin);
    }

    #[test]
    fn spin_for_returns_what_comes_or_asks_to_block() {
        let mut idler = IdleStrategy::Backoff { spins: 5, yields: 1 }.idler();
        let mut calls = 0;
        let got = idler.spin_for(|| {
            calls += 1;
            (calls == 3).then_some(calls)
        });
        assert_eq!(got, Some(3));
        let mut calls = 0;
        assert_eq!(
            idler.spin_for(|| {
                calls += 1;
                None::<()>
            }),
            None
        );
        // 1 first check + 5 after spins + 1 after the yield.
        assert_eq!(calls, 7);
        assert_eq!(IdleStrategy::Park.idler().spin_for(|| Some(1)), None);
    }

    #[test]
    fn receives_with_every_strategy_and_honours_the_timeout() {
        for idle in [IdleStrategy::Park, IdleStrategy::backoff(), IdleStrategy::BusySpin] {
            let (tx, rx) = crossbeam_channel::unbounded();
            tx.send(7).unwrap();
            assert_eq!(recv_with(&rx, idle, None), Ok(7));
            let waited = recv_with(&rx, idle, Some(Duration::from_millis(5)));
            assert_eq!(waited, Err(RecvTimeoutError::Timeout));
            let sender = std::thread::spawn(move || tx.send(8).unwrap());
            assert_eq!(recv_with(&rx, idle, Some(Duration::from_secs(30))), Ok(8));
            sender.join().unwrap();
            assert_eq!(recv_with(&rx, idle, None), Err(RecvTimeoutError::Disconnected));
        }
    }

    #[test]
    fn names_parse() {
        assert_eq!(IdleStrategy::parse("park"), Some(IdleStrategy::Park));
        assert_eq!(IdleStrategy::parse("backoff"), Some(IdleStrategy::backoff()));
        assert_eq!(IdleStrategy::parse("busy-spin"), Some(IdleStrategy::BusySpin));
    }
}
