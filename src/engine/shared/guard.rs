//! User code runs inside `catch_unwind`: on the I/O thread (connect
//! params, tokens, channel params) a panic in it must not take down every
//! socket of the engine, and on a dispatcher worker (handlers, push and
//! filter callbacks) it must not stop the worker.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering::Relaxed;

use super::health::EngineCounters;

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
}
