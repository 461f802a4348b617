//! Python bindings for rig, the Phoenix Channels client engine.
//!
//! The module `rig`: `Socket`, `Channel`, `Subscription`, `Presence`,
//! `Message` and the exceptions. Every blocking wait releases the GIL and
//! checks for signals every 50 ms (Ctrl-C interrupts it); callbacks run on
//! the engine's dispatcher threads and take the GIL for each call.
//! `rig.pyi` beside this crate is the typed API editors read.

mod callback;
mod channel;
mod convert;
mod errors;
mod message;
mod names;
mod open_sockets;
mod presence;
mod socket;
mod subscription;
mod wait;

use pyo3::prelude::*;

/// The `rig` extension module.
#[pymodule]
#[pyo3(name = "rig")]
fn rig_module(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<socket::PySocket>()?;
    module.add_class::<channel::PyChannel>()?;
    module.add_class::<channel::PyBinding>()?;
    module.add_class::<callback::PyCallbackRef>()?;
    module.add_class::<subscription::PySubscription>()?;
    module.add_class::<presence::PyPresence>()?;
    module.add_class::<message::PyMessage>()?;
    errors::register(module)?;
    module.add_function(wrap_pyfunction!(open_sockets::close_all, module)?)?;
    open_sockets::close_all_at_exit(module)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
