//! `rig.Presence`: a channel's synced presence view.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use rig::engine::ChannelPresence;
use rig::protocol::presence::Presence;

use crate::callback::Callback;
use crate::convert;

/// Who is present on a channel (phoenix.js `Presence`), kept in sync by
/// the engine; callbacks run on dispatcher threads.
#[pyclass(module = "rig", name = "Presence", frozen)]
#[derive(Debug)]
pub(crate) struct PyPresence(ChannelPresence);

impl PyPresence {
    pub(crate) fn new(presence: ChannelPresence) -> Self {
        Self(presence)
    }
}

/// One presence as the server sends it: `{"metas": [...], ...}`.
fn presence_dict<'py>(py: Python<'py>, presence: &Presence) -> PyResult<Bound<'py, PyAny>> {
    let dict = PyDict::new(py);
    for (key, value) in &presence.extra {
        dict.set_item(key, convert::from_json(py, value)?)?;
    }
    let metas = PyList::empty(py);
    for meta in &presence.metas {
        metas.append(convert::from_json(py, meta)?)?;
    }
    dict.set_item("metas", metas)?;
    Ok(dict.into_any())
}

#[pymethods]
impl PyPresence {
    /// `[(key, metas), ...]`, one entry per key.
    fn list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for (key, presence) in self.0.list() {
            let metas = PyList::empty(py);
            for meta in &presence.metas {
                metas.append(convert::from_json(py, meta)?)?;
            }
            list.append((key, metas))?;
        }
        Ok(list)
    }

    /// `{key: {"metas": [...]}, ...}`.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (key, presence) in self.0.list() {
            dict.set_item(key, presence_dict(py, &presence)?)?;
        }
        Ok(dict)
    }

    /// Whether the first full state has arrived.
    #[getter]
    fn is_synced(&self) -> bool {
        self.0.is_synced()
    }

    /// `callback()` after each state or diff is applied.
    fn on_sync(&self, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        let callback = Callback::new(callback)?;
        self.0.on_sync(move || callback.call(|py| Ok(PyTuple::empty(py))));
        Ok(())
    }

    /// `callback(key, current, joined)`: `current` is None for a new key.
    fn on_join(&self, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        let callback = Callback::new(callback)?;
        self.0.on_join(move |key, current, joined| {
            callback.call(|py| {
                let current = match current {
                    Some(current) => presence_dict(py, current)?,
                    None => py.None().into_bound(py),
                };
                PyTuple::new(
                    py,
                    [PyString::new(py, key).into_any(), current, presence_dict(py, joined)?],
                )
            });
        });
        Ok(())
    }

    /// `callback(key, current, left)`.
    fn on_leave(&self, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        let callback = Callback::new(callback)?;
        self.0.on_leave(move |key, current, left| {
            callback.call(|py| {
                PyTuple::new(
                    py,
                    [
                        PyString::new(py, key).into_any(),
                        presence_dict(py, current)?,
                        presence_dict(py, left)?,
                    ],
                )
            });
        });
        Ok(())
    }
}
