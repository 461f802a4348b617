//! User code runs inside `catch_unwind`: on the I/O thread (connect
//! params, tokens, channel params) a panic in it must not take down every
//! socket of the engine, and on a dispatcher worker (handlers, push and
//! filter callbacks) it must not stop the worker.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::health::EngineCounters;
use crate::time::{Clock, Instant};

/// Calls `f`; if it panics, logs and returns `fallback()` instead.
pub(crate) fn call_or<T>(what: &str, fallback: impl FnOnce() -> T, f: &mut dyn FnMut() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(_) => {
            log::error!("the {what} callback panicked; using a default value");
            fallback()
        }
    }
}

/// Runs user code; a panic is caught, logged and counted.
/// Returns whether it returned normally.
pub(crate) fn guarded(counters: &EngineCounters, f: impl FnOnce()) -> bool {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        counters.handler_panics.fetch_add(1, Relaxed);
        log::error!("a callback panicked (caught; the dispatcher goes on)");
        return false;
    }
    true
}

/// Handler runs per clock reading: a reading costs tens of nanoseconds
/// where the TSC is not usable (as on these VMs), as much as a handler.
const WINDOW: u32 = 16;

/// Times handlers run one after another on one thread, a window of up to
/// [`WINDOW`] runs per clock reading: a window that took longer than the
/// limit counts one slow run (a slow handler holds up the messages behind
/// it however its neighbours did).
#[derive(Debug)]
pub(crate) struct HandlerTimer {
    clock: Clock,
    slow: Duration,
    last: Instant,
    pending: u32,
}

impl HandlerTimer {
    pub(crate) fn new(clock: Clock, slow: Duration) -> Self {
        let last = clock.now();
        Self { clock, slow, last, pending: 0 }
    }

    /// A run of handlers starts now.
    pub(crate) fn start(&mut self) {
        self.last = self.clock.now();
        self.pending = 0;
    }

    /// Runs a handler (panics caught and counted).
    pub(crate) fn run(&mut self, counters: &EngineCounters, f: impl FnOnce()) -> bool {
        let ok = guarded(counters, f);
        self.pending += 1;
        if self.pending >= WINDOW {
            self.check(counters);
        }
        ok
    }

    /// The run of handlers is over: the last window is checked.
    pub(crate) fn finish(&mut self, counters: &EngineCounters) {
        if self.pending > 0 {
            self.check(counters);
        }
    }

    fn check(&mut self, counters: &EngineCounters) {
        let now = self.clock.now();
        let took = now.saturating_duration_since(self.last);
        if took > self.slow {
            let n = counters.slow_handlers.fetch_add(1, Relaxed);
            // The first, then one in a thousand: a handler that is always
            // slow must not flood the log.
            if n.is_multiple_of(1000) {
                log::warn!(
                    "handlers ran {took:?} for {} messages, over the {:?} limit ({} slow runs \
                     so far); messages behind them waited",
                    self.pending,
                    self.slow,
                    n + 1
                );
            }
        }
        self.last = now;
        self.pending = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_callback_yields_the_fallback() {
        let mut n = 0;
        assert_eq!(
            call_or("test", || 7, &mut || {
                n += 1;
                n
            }),
            1
        );
        assert_eq!(call_or("test", || 7, &mut || -> i32 { panic!("boom") }), 7);
    }

    #[test]
    fn slow_and_panicking_handlers_are_counted() {
        let (clock, mock) = Clock::mock();
        let counters = EngineCounters::default();
        let mut timer = HandlerTimer::new(clock, Duration::from_millis(1));
        timer.start();
        assert!(timer.run(&counters, || mock.increment(Duration::from_micros(900))));
        assert!(timer.run(&counters, || mock.increment(Duration::from_millis(2))));
        assert!(!timer.run(&counters, || panic!("boom")));
        timer.finish(&counters);
        assert_eq!(counters.slow_handlers.load(Relaxed), 1);
        // A window of fast runs is not slow.
        timer.start();
        for _ in 0..40 {
            timer.run(&counters, || mock.increment(Duration::from_micros(10)));
        }
        timer.finish(&counters);
        assert_eq!(counters.slow_handlers.load(Relaxed), 1);
        assert_eq!(counters.handler_panics.load(Relaxed), 1);
    }
}
