//! The exceptions rig raises, and how engine errors map onto them.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use rig::engine::{EngineError, PushError};

use crate::convert;

create_exception!(
    rig,
    RigError,
    PyException,
    "Base class of rig's errors (besides `rig.Timeout`)."
);
create_exception!(
    rig,
    ReplyError,
    RigError,
    "The server answered with a status other than ok; `.status` and `.response` hold the reply."
);
create_exception!(
    rig,
    JoinError,
    ReplyError,
    "The server refused a join; `.status` and `.response` hold the reply."
);
create_exception!(
    rig,
    ChannelClosed,
    RigError,
    "The channel closed or was removed before the push was answered."
);
create_exception!(
    rig,
    Timeout,
    PyTimeoutError,
    "Nothing arrived in time: no reply within the push timeout, or no message within an iteration's timeout."
);

/// Which wait failed: a join gets `JoinError` for an error reply.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Waited {
    Join,
    Push,
}

/// A push's failure as an exception.
pub(crate) fn push_error(py: Python<'_>, error: PushError, waited: Waited) -> PyErr {
    match error {
        PushError::Reply(reply) => {
            let text = format!("the server replied {}", reply.status);
            let err = match waited {
                Waited::Join => JoinError::new_err(text),
                Waited::Push => ReplyError::new_err(text),
            };
            let value = err.value(py);
            let response = convert::from_payload(py, &reply.response)
                .unwrap_or_else(|_| py.None().into_bound(py));
            // Attributes on a fresh exception object cannot fail for a
            // plain instance; if one did, the message still carries the status.
            let _ = value.setattr("status", &*reply.status);
            let _ = value.setattr("response", response);
            err
        }
        PushError::Timeout => Timeout::new_err(error.to_string()),
        PushError::ChannelGone | PushError::Abandoned(_) => {
            ChannelClosed::new_err(error.to_string())
        }
        other => RigError::new_err(other.to_string()),
    }
}

/// An engine call's failure as an exception: bad settings are a
/// `ValueError`, the rest a `RigError`.
pub(crate) fn engine_error(error: EngineError) -> PyErr {
    match error {
        EngineError::Config(_) => PyValueError::new_err(error.to_string()),
        other => RigError::new_err(other.to_string()),
    }
}

/// Adds the exception classes to the module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("RigError", py.get_type::<RigError>())?;
    module.add("ReplyError", py.get_type::<ReplyError>())?;
    module.add("JoinError", py.get_type::<JoinError>())?;
    module.add("ChannelClosed", py.get_type::<ChannelClosed>())?;
    module.add("Timeout", py.get_type::<Timeout>())?;
    Ok(())
}
