//! Every socket still open, so that interpreter exit can stop their
//! engines first.
//!
//! At exit CPython runs `atexit` handlers and only then starts finalizing;
//! a dispatcher thread that asks for the GIL after that point would find
//! no interpreter. `close_all`, registered with `atexit` when the module
//! loads, stops every engine while the interpreter is still whole, so no
//! callback can run during finalization.

use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use pyo3::prelude::*;

use crate::socket::Running;

/// What a `Socket` holds: its engine until closed.
pub(crate) type Slot = Arc<Mutex<Option<Running>>>;

/// The slots of sockets not yet dropped (closed ones are empty).
static OPEN: Mutex<Vec<Weak<Mutex<Option<Running>>>>> = Mutex::new(Vec::new());

/// A new slot holding `running`, known to `close_all`.
pub(crate) fn register(running: Running) -> Slot {
    let slot = Arc::new(Mutex::new(Some(running)));
    let mut open = OPEN.lock();
    open.retain(|weak| weak.strong_count() > 0);
    open.push(Arc::downgrade(&slot));
    slot
}

/// Closes every open socket and stops its engine (the `atexit` hook).
#[pyfunction]
#[pyo3(name = "_close_all")]
pub(crate) fn close_all(py: Python<'_>) {
    let slots: Vec<_> = OPEN.lock().drain(..).filter_map(|weak| weak.upgrade()).collect();
    for slot in slots {
        let running = slot.lock().take();
        if let Some(running) = running {
            py.detach(|| running.shut_down());
        }
    }
}

/// Registers `close_all` with `atexit`.
pub(crate) fn close_all_at_exit(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let hook = module.getattr("_close_all")?;
    module.py().import("atexit")?.call_method1("register", (hook,))?;
    Ok(())
}
