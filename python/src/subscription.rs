//! `rig.Subscription`: a channel's events as a Python iterator.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use parking_lot::Mutex;
use pyo3::prelude::*;
use rig::engine::Subscription;

use crate::errors::Timeout;
use crate::message::PyMessage;
use crate::wait;

/// What one slice of a wait found.
enum Step {
    /// Boxed: a `Message` is large beside `Ended`.
    Message(Box<rig::protocol::Message>),
    Ended,
}

/// The messages of one event, in order: iterate (`for msg in sub`) or
/// call `recv`. Iteration stops when the subscription ends (closed, or the
/// socket closed); a step that waits longer than the timeout raises
/// `Timeout`.
#[pyclass(module = "rig", name = "Subscription", frozen)]
#[derive(Debug)]
pub(crate) struct PySubscription {
    /// Shared with waits in progress, so `close` never waits for them.
    subscription: Mutex<Option<Arc<Subscription>>>,
    timeout: Option<Duration>,
}

impl PySubscription {
    pub(crate) fn new(subscription: Subscription, timeout: Option<Duration>) -> Self {
        Self { subscription: Mutex::new(Some(Arc::new(subscription))), timeout }
    }

    /// The next message, `None` once ended; `Timeout` after `timeout`.
    fn next_message(
        &self,
        py: Python<'_>,
        timeout: Option<Duration>,
    ) -> PyResult<Option<PyMessage>> {
        let Some(subscription) = self.subscription.lock().clone() else {
            return Ok(None);
        };
        let step = wait::wait_for(py, timeout, |slice| match subscription.recv_timeout(slice) {
            Ok(message) => Some(Step::Message(Box::new(message))),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Step::Ended),
        })?;
        match step {
            Some(Step::Message(message)) => Ok(Some(PyMessage::new(py, &message)?)),
            Some(Step::Ended) => Ok(None),
            None => Err(Timeout::new_err(format!(
                "no message within {:.3} s",
                timeout.unwrap_or_default().as_secs_f64()
            ))),
        }
    }
}

#[pymethods]
impl PySubscription {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<PyMessage>> {
        self.next_message(py, self.timeout)
    }

    /// The next message, waiting up to `timeout` seconds (default: the
    /// subscription's); None once the subscription has ended.
    #[pyo3(signature = (timeout = None))]
    fn recv(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<PyMessage>> {
        let timeout = wait::seconds(timeout)?.or(self.timeout);
        self.next_message(py, timeout)
    }

    /// Messages lost because this subscription's queue was full.
    #[getter]
    fn dropped(&self) -> u64 {
        self.subscription.lock().as_ref().map_or(0, |s| s.dropped())
    }

    /// Unsubscribes; iteration ends. Idempotent.
    fn close(&self) {
        drop(self.subscription.lock().take());
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        _kind: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) {
        self.close();
    }
}
