//! `rig.Message`: one message a channel received.

use pyo3::prelude::*;

use crate::convert;

/// A message on a channel: its topic, event and payload (decoded JSON, or
/// `bytes` for a binary frame).
#[pyclass(module = "rig", name = "Message", frozen, get_all)]
#[derive(Debug)]
pub(crate) struct PyMessage {
    /// The channel topic.
    topic: String,
    /// The event name.
    event: String,
    /// The payload as Python objects.
    payload: Py<PyAny>,
}

impl PyMessage {
    /// Converts a received message (payload decoded now, under the GIL).
    pub(crate) fn new(py: Python<'_>, message: &rig::protocol::Message) -> PyResult<Self> {
        Ok(Self {
            topic: message.topic.to_string(),
            event: message.event.to_string(),
            payload: convert::from_payload(py, &message.payload)?.unbind(),
        })
    }
}

#[pymethods]
impl PyMessage {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Message(topic={:?}, event={:?}, payload={})",
            self.topic,
            self.event,
            self.payload.bind(py).repr()?
        ))
    }
}
