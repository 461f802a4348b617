//! User code that must run on the I/O thread (connect params, tokens,
//! channel params) runs inside `catch_unwind`: a panic in it must not take
//! down every socket of the engine.

use std::panic::{AssertUnwindSafe, catch_unwind};

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
