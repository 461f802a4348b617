//! `rig.Socket`: one Phoenix socket and the engine that runs it.

use std::collections::BTreeMap;

use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};
use rig::engine::{Engine, EngineConfig, Socket, SocketOptions, Status};
use rig::protocol::ChannelParams;

use crate::callback::{Callback, PyCallbackRef};
use crate::channel::PyChannel;
use crate::errors::{RigError, engine_error};
use crate::{convert, names, open_sockets, wait};

/// The engine (rig-io and its dispatcher threads) and the socket it runs.
#[derive(Debug)]
pub(crate) struct Running {
    engine: Engine,
    socket: Socket,
}

impl Running {
    /// Closes the connection and stops the engine's threads. Called with
    /// the GIL released: a dispatcher thread may be waiting for it to run
    /// a callback, and the shutdown waits for that thread.
    pub(crate) fn shut_down(self) {
        if let Err(err) = self.socket.disconnect() {
            // The engine has already stopped: nothing left to close.
            drop(err);
        }
        drop(self.socket);
        self.engine.shutdown();
    }
}

/// A Phoenix socket: a WebSocket with heartbeat, reconnects and channels,
/// run by its own engine threads.
#[pyclass(module = "rig", name = "Socket", frozen)]
#[derive(Debug)]
pub(crate) struct PySocket {
    running: open_sockets::Slot,
}

impl PySocket {
    /// The socket, or `RigError` once closed.
    fn socket(&self) -> PyResult<Socket> {
        self.running
            .lock()
            .as_ref()
            .map(|running| running.socket.clone())
            .ok_or_else(|| RigError::new_err("the socket is closed"))
    }
}

#[pymethods]
impl PySocket {
    #[new]
    #[pyo3(signature = (url, params = None, token = None, *, timeout = None, heartbeat_interval = None))]
    fn new(
        py: Python<'_>,
        url: String,
        params: Option<BTreeMap<String, String>>,
        token: Option<String>,
        timeout: Option<f64>,
        heartbeat_interval: Option<f64>,
    ) -> PyResult<Self> {
        let mut builder = SocketOptions::builder(url);
        if let Some(params) = params {
            builder = builder.params(params);
        }
        if let Some(token) = token {
            builder = builder.auth_token(token);
        }
        if let Some(timeout) = wait::seconds(timeout)? {
            builder = builder.timeout(timeout);
        }
        if let Some(interval) = wait::seconds(heartbeat_interval)? {
            builder = builder.heartbeat_interval(interval);
        }
        let options = builder
            .build()
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("socket options: {e}")))?;
        let running = py.detach(|| -> Result<Running, rig::engine::EngineError> {
            let engine = Engine::start(EngineConfig::default())?;
            let socket = engine.socket(options)?;
            Ok(Running { engine, socket })
        });
        Ok(Self { running: open_sockets::register(running.map_err(engine_error)?) })
    }

    /// Connects (idempotent); channels join once the socket is open.
    fn connect(&self) -> PyResult<()> {
        self.socket()?.connect().map_err(engine_error)
    }

    /// Closes the connection (no reconnect until `connect`).
    fn disconnect(&self) -> PyResult<()> {
        self.socket()?.disconnect().map_err(engine_error)
    }

    /// Closes the connection and stops the engine; the socket and its
    /// channels cannot be used afterwards. Idempotent.
    fn close(&self, py: Python<'_>) {
        let running = self.running.lock().take();
        if let Some(running) = running {
            py.detach(|| running.shut_down());
        }
    }

    /// A channel for `topic`, joined with `params` (JSON) by `join()`.
    #[pyo3(signature = (topic, params = None))]
    fn channel(&self, topic: String, params: Option<&Bound<'_, PyAny>>) -> PyResult<PyChannel> {
        let params = convert::to_payload(params)?;
        let channel =
            self.socket()?.channel(topic, ChannelParams::from(params)).map_err(engine_error)?;
        Ok(PyChannel::new(channel))
    }

    /// Whether the WebSocket is open.
    #[getter]
    fn is_connected(&self) -> PyResult<bool> {
        Ok(self.socket()?.is_connected())
    }

    /// The connection state: "idle", "connecting", "open", "closing",
    /// "waiting_to_reconnect", "auth_failed", "failed" or "gave_up"
    /// ("closed" once `close()` was called).
    #[getter]
    fn state(&self) -> String {
        self.socket()
            .map_or_else(|_| String::from("closed"), |s| names::snake(&format!("{:?}", s.state())))
    }

    /// `callback()` each time the socket opens.
    fn on_open(&self, callback: &Bound<'_, PyAny>) -> PyResult<PyCallbackRef> {
        let callback = Callback::new(callback)?;
        self.socket()?
            .on_open(move || callback.call(|py| Ok(PyTuple::empty(py))))
            .map(PyCallbackRef)
            .map_err(engine_error)
    }

    /// `callback(code, reason)` each time the connection closes (`code`
    /// is None when there was no close frame).
    fn on_close(&self, callback: &Bound<'_, PyAny>) -> PyResult<PyCallbackRef> {
        let callback = Callback::new(callback)?;
        self.socket()?
            .on_close(move |code, reason| {
                callback.call(|py| {
                    PyTuple::new(
                        py,
                        [code.into_pyobject(py)?.into_any(), PyString::new(py, reason).into_any()],
                    )
                });
            })
            .map(PyCallbackRef)
            .map_err(engine_error)
    }

    /// `callback(message)` each time a connect attempt or the connection fails.
    fn on_error(&self, callback: &Bound<'_, PyAny>) -> PyResult<PyCallbackRef> {
        let callback = Callback::new(callback)?;
        self.socket()?
            .on_error(move |error| {
                let text = error.to_string();
                callback.call(|py| PyTuple::new(py, [text]));
            })
            .map(PyCallbackRef)
            .map_err(engine_error)
    }

    /// `callback(attempt)` before each reconnect attempt.
    fn on_reconnecting(&self, callback: &Bound<'_, PyAny>) -> PyResult<PyCallbackRef> {
        let callback = Callback::new(callback)?;
        self.socket()?
            .on_reconnecting(move |attempt, _at| callback.call(|py| PyTuple::new(py, [attempt])))
            .map(PyCallbackRef)
            .map_err(engine_error)
    }

    /// `callback(kind, text)` for every status change of the socket and its
    /// channels: `kind` is "connecting", "open", "closed", "failed",
    /// "auth_failed", "waiting_to_reconnect", "gave_up", "channel" or
    /// "dropped"; `text` describes it.
    fn on_status(&self, callback: &Bound<'_, PyAny>) -> PyResult<PyCallbackRef> {
        let callback = Callback::new(callback)?;
        self.socket()?
            .on_status(move |status| {
                let pair = [status_kind(status).to_owned(), status.to_string()];
                callback.call(|py| PyTuple::new(py, pair));
            })
            .map(PyCallbackRef)
            .map_err(engine_error)
    }

    /// Removes a callback an `on_*` method added (one already removed is
    /// ignored).
    fn off(&self, callback: &Bound<'_, PyCallbackRef>) -> PyResult<()> {
        self.socket()?.off(callback.get().0).map_err(engine_error)
    }

    fn __enter__(slf: Py<Self>) -> PyResult<Py<Self>> {
        slf.get().connect()?;
        Ok(slf)
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _kind: &Bound<'_, PyAny>,
        _value: &Bound<'_, PyAny>,
        _traceback: &Bound<'_, PyAny>,
    ) {
        self.close(py);
    }

    fn __repr__(&self) -> String {
        match self.socket() {
            Ok(socket) => format!("Socket({:?}, state={:?})", socket.endpoint(), self.state()),
            Err(_) => String::from("Socket(closed)"),
        }
    }
}

impl Drop for PySocket {
    fn drop(&mut self) {
        if let Some(running) = self.running.lock().take() {
            // Dropped without close(): stop the engine all the same, with
            // the GIL released (see Running::shut_down).
            Python::attach(|py| py.detach(|| running.shut_down()));
        }
    }
}

/// The name of a status's kind, as `on_status` passes it.
fn status_kind(status: &Status) -> &'static str {
    match status {
        Status::Connecting { .. } => "connecting",
        Status::Open => "open",
        Status::Closed { .. } => "closed",
        Status::Failed { .. } => "failed",
        Status::AuthFailed { .. } => "auth_failed",
        Status::WaitingToReconnect { .. } => "waiting_to_reconnect",
        Status::GaveUp { .. } => "gave_up",
        Status::Channel { .. } => "channel",
        Status::Dropped { .. } => "dropped",
        _ => "other",
    }
}
