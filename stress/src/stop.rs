//! Ctrl-C and SIGTERM end the faulty phase early instead of the process:
//! the run still settles, leaves, reports (with `interrupted: true`) and
//! removes its network namespace. A second signal exits at once (130).
//!
//! The `--role clients` child ignores SIGINT (a terminal sends it to the
//! whole process group): its host decides when it finishes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::clock;

/// How often an interruptible sleep looks at the flag.
const SLICE: Duration = Duration::from_millis(50);

/// Set by the first SIGINT or SIGTERM.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Installs the handlers (a second signal exits with 130).
    pub(crate) fn install() -> Self {
        let stop = Self::default();
        for signal in [SIGINT, SIGTERM] {
            // The conditional exit is registered first, so that it sees the
            // flag as it was before this signal set it.
            let exit =
                signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop.0));
            let flag = signal_hook::flag::register(signal, Arc::clone(&stop.0));
            if let Err(e) = exit.and(flag) {
                log::warn!("signal {signal} keeps its default action: {e}");
            }
        }
        stop
    }

    /// For the child: SIGINT sets a flag nobody reads, so a Ctrl-C on the
    /// terminal does not kill the clients under their host.
    pub(crate) fn ignore_interrupt() {
        if let Err(e) = signal_hook::flag::register(SIGINT, Arc::new(AtomicBool::new(false))) {
            log::warn!("SIGINT keeps its default action: {e}");
        }
    }

    /// Whether a signal came.
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Sleeps for `length`, or less when a signal comes.
    pub(crate) fn sleep(&self, length: Duration) {
        let end = clock::now() + length;
        while !self.is_set() {
            let left = end.saturating_duration_since(clock::now());
            if left.is_zero() {
                return;
            }
            clock::sleep(left.min(SLICE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_flag_cuts_a_sleep_short() {
        let stop = Stop::default();
        stop.sleep(Duration::from_millis(1));
        assert!(!stop.is_set());
        stop.0.store(true, Ordering::Relaxed);
        let before = clock::now();
        stop.sleep(Duration::from_secs(3600));
        assert!(clock::now().saturating_duration_since(before) < Duration::from_secs(3600));
    }
}
