//! `rig.Channel`: one channel of a socket.

use std::time::Duration;

use parking_lot::Mutex;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};
use rig::engine::{Binding, Channel, Push, PushResult};
use rig::protocol::ChannelState;

use crate::callback::{Callback, PyCallbackRef};
use crate::errors::{RigError, Waited, engine_error, push_error};
use crate::message::PyMessage;
use crate::presence::PyPresence;
use crate::subscription::PySubscription;
use crate::{convert, names, wait};

/// A channel: join it, push to it, and receive its events by callback
/// (`on`) or by iteration (`subscribe`).
#[pyclass(module = "rig", name = "Channel", frozen)]
#[derive(Debug)]
pub(crate) struct PyChannel {
    channel: Channel,
    /// The response of the last successful join.
    join_response: Mutex<Option<Py<PyAny>>>,
}

/// What `on` returns, for `off`.
#[pyclass(module = "rig", name = "Binding", frozen)]
#[derive(Debug)]
pub(crate) struct PyBinding(Binding);

impl PyChannel {
    pub(crate) fn new(channel: Channel) -> Self {
        Self { channel, join_response: Mutex::new(None) }
    }
}

/// Waits for a push with the GIL released; no limit besides the push's
/// own timeout, which the engine always enforces.
fn wait_push(py: Python<'_>, mut push: Push) -> PyResult<PushResult> {
    wait::wait_for(py, None, |slice| push.wait_timeout(slice))?
        .ok_or_else(|| RigError::new_err("a wait without a limit ended without an outcome"))
}

fn push_timeout(seconds: Option<f64>) -> PyResult<Option<Duration>> {
    wait::seconds(seconds)
}

#[pymethods]
impl PyChannel {
    /// The channel topic.
    #[getter]
    fn topic(&self) -> &str {
        self.channel.topic()
    }

    /// "closed", "errored", "joining", "joined" or "leaving".
    #[getter]
    fn state(&self) -> String {
        names::snake(&format!("{:?}", self.channel.state()))
    }

    /// The server's response to the last successful join (None before).
    #[getter]
    fn join_response(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.join_response.lock().as_ref().map(|r| r.clone_ref(py))
    }

    /// Joins and waits for the reply; returns the channel. Raises
    /// `JoinError` when the server refuses, `Timeout` without a reply.
    #[pyo3(signature = (timeout = None))]
    fn join(slf: Py<Self>, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<Self>> {
        let this = slf.get();
        let push = match push_timeout(timeout)? {
            Some(timeout) => this.channel.join_timeout(timeout),
            None => this.channel.join(),
        };
        let reply = wait_push(py, push)?.map_err(|e| push_error(py, e, Waited::Join))?;
        let response = convert::from_payload(py, &reply.response)?.unbind();
        *this.join_response.lock() = Some(response);
        Ok(slf)
    }

    /// Leaves and waits for the reply.
    #[pyo3(signature = (timeout = None))]
    fn leave(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        let push = match push_timeout(timeout)? {
            Some(timeout) => self.channel.leave_timeout(timeout),
            None => self.channel.leave(),
        };
        wait_push(py, push)?.map_err(|e| push_error(py, e, Waited::Push))?;
        Ok(())
    }

    /// Pushes `event` with `payload` and returns the reply's response.
    /// Raises `ReplyError` for an error reply, `Timeout` without a reply
    /// within `timeout` seconds (default: the socket's).
    #[pyo3(signature = (event, payload = None, timeout = None))]
    fn push(
        &self,
        py: Python<'_>,
        event: String,
        payload: Option<&Bound<'_, PyAny>>,
        timeout: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        let payload = convert::to_payload(payload)?;
        let push = match push_timeout(timeout)? {
            Some(timeout) => self.channel.push_timeout(event, payload, timeout),
            None => self.channel.push(event, payload),
        };
        let reply = wait_push(py, push)?.map_err(|e| push_error(py, e, Waited::Push))?;
        Ok(convert::from_payload(py, &reply.response)?.unbind())
    }

    /// Sends `event` without waiting for (or expecting) a reply.
    #[pyo3(signature = (event, payload = None))]
    fn send(&self, event: String, payload: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let payload = convert::to_payload(payload)?;
        self.channel.send(event, payload).map_err(engine_error)
    }

    /// `callback(message)` on a dispatcher thread for every `event`.
    fn on(&self, event: String, callback: &Bound<'_, PyAny>) -> PyResult<PyBinding> {
        let callback = Callback::new(callback)?;
        let binding = self
            .channel
            .on(event, move |message| {
                callback
                    .call(|py| PyTuple::new(py, [Bound::new(py, PyMessage::new(py, message)?)?]));
            })
            .map_err(engine_error)?;
        Ok(PyBinding(binding))
    }

    /// Removes a callback `on` added (a `Binding`), or one `on_error` or
    /// `on_close` added (a `CallbackRef`).
    fn off(&self, handle: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Ok(binding) = handle.cast::<PyBinding>() {
            return self.channel.off(binding.get().0).map_err(engine_error);
        }
        if let Ok(callback) = handle.cast::<PyCallbackRef>() {
            return self.channel.socket().off(callback.get().0).map_err(engine_error);
        }
        Err(PyTypeError::new_err(format!(
            "off takes a Binding or a CallbackRef, got {}",
            handle.get_type().name()?
        )))
    }

    /// An iterator over `event` messages; each step waits up to `timeout`
    /// seconds (None: no limit) and raises `Timeout` when nothing came.
    #[pyo3(signature = (event, timeout = None))]
    fn subscribe(&self, event: String, timeout: Option<f64>) -> PyResult<PySubscription> {
        let timeout = wait::seconds(timeout)?;
        let subscription = self.channel.subscribe(event).map_err(engine_error)?;
        Ok(PySubscription::new(subscription, timeout))
    }

    /// The channel's synced presence view; ask before `join`.
    fn presence(&self) -> PyResult<PyPresence> {
        Ok(PyPresence::new(self.channel.presence().map_err(engine_error)?))
    }

    /// `callback(cause)` when the channel errors (the server side crashed,
    /// the connection dropped); it rejoins by itself.
    fn on_error(&self, callback: &Bound<'_, PyAny>) -> PyResult<PyCallbackRef> {
        let callback = Callback::new(callback)?;
        self.channel
            .on_error(move |cause| {
                let text = format!("{cause:?}");
                callback.call(|py| PyTuple::new(py, [PyString::new(py, &text)]));
            })
            .map(PyCallbackRef)
            .map_err(engine_error)
    }

    /// `callback(reason)` when the channel closes (left, or closed by the server).
    fn on_close(&self, callback: &Bound<'_, PyAny>) -> PyResult<PyCallbackRef> {
        let callback = Callback::new(callback)?;
        self.channel
            .on_close(move |reason| {
                let text = format!("{reason:?}");
                callback.call(|py| PyTuple::new(py, [PyString::new(py, &text)]));
            })
            .map(PyCallbackRef)
            .map_err(engine_error)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Leaves (if joined) and removes the channel.
    fn __exit__(
        &self,
        py: Python<'_>,
        _kind: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        if matches!(self.channel.state(), ChannelState::Joined | ChannelState::Joining) {
            // A failed leave (the socket went away) changes nothing here:
            // the channel is removed next either way.
            let _ = wait_push(py, self.channel.leave())?;
        }
        // The engine may have stopped already (socket closed first).
        let _ = self.channel.remove();
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("Channel({:?}, state={:?})", self.channel.topic(), self.state())
    }
}
