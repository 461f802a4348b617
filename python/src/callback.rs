//! Python callbacks run by the engine's dispatcher threads.
//!
//! Each call takes the GIL for its own duration only. An exception a
//! callback raises goes to `sys.unraisablehook` (printed by default) and
//! the engine goes on with the next message.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use rig::engine::CallbackRef;

/// What a lifecycle callback's registration returns (`Socket.on_open`,
/// `Channel.on_error`, ...), for `off`.
#[pyclass(module = "rig", name = "CallbackRef", frozen)]
#[derive(Debug)]
pub(crate) struct PyCallbackRef(pub(crate) CallbackRef);

/// A Python callable the engine calls from its threads.
#[derive(Debug)]
pub(crate) struct Callback(Py<PyAny>);

impl Callback {
    /// Checks that `callable` can be called (a `TypeError` now rather than
    /// on every message later).
    pub(crate) fn new(callable: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !callable.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "callback must be callable, got {}",
                callable.get_type().name()?
            )));
        }
        Ok(Self(callable.clone().unbind()))
    }

    /// Takes the GIL, builds the arguments and calls; reports an exception
    /// (from the callback or from building its arguments) instead of
    /// passing it on.
    pub(crate) fn call<F>(&self, args: F)
    where
        F: for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>>,
    {
        Python::attach(|py| {
            let result = args(py).and_then(|args| self.0.bind(py).call1(args));
            if let Err(err) = result {
                err.write_unraisable(py, Some(self.0.bind(py)));
            }
        });
    }
}
