//! Blocking waits that release the GIL and let Ctrl-C through.
//!
//! A wait runs in slices of at most [`SLICE`] with the GIL released; between
//! slices it takes the GIL back only to run pending signal handlers, so
//! other Python threads run meanwhile and a KeyboardInterrupt ends it.

use std::time::{Duration, Instant};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// The longest stretch between two signal checks.
const SLICE: Duration = Duration::from_millis(50);

/// Calls `poll(slice)` with the GIL released until it gives a value or
/// `timeout` (`None` = no limit) runs out (`Ok(None)`).
#[expect(
    clippy::disallowed_methods,
    reason = "a Python caller's timeout is a wait on its own thread, outside the engine and its injected clock"
)]
pub(crate) fn wait_for<T: Send>(
    py: Python<'_>,
    timeout: Option<Duration>,
    mut poll: impl FnMut(Duration) -> Option<T> + Send,
) -> PyResult<Option<T>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let slice = match deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()).min(SLICE),
            None => SLICE,
        };
        if let Some(value) = py.detach(|| poll(slice)) {
            return Ok(Some(value));
        }
        py.check_signals()?;
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            return Ok(None);
        }
    }
}

/// Seconds from Python as a `Duration`: finite and not negative.
pub(crate) fn seconds(value: Option<f64>) -> PyResult<Option<Duration>> {
    value
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                PyValueError::new_err(format!("timeout must be finite seconds >= 0, got {s}"))
            })
        })
        .transpose()
}
