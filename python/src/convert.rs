//! Python objects <-> JSON, through `serde_json::Value`.
//!
//! In: `None`, `bool`, `int` (within i64/u64), `float` (finite), `str`,
//! `list`/`tuple` and `dict` with `str` keys, nested; anything else is a
//! `TypeError` (or `ValueError` for a NaN or an out-of-range int) naming
//! where in the value it sits, never a crash. Out: the same types, and
//! `bytes` for a binary payload.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use rig::protocol::Payload;
use serde_json::{Map, Number, Value};

/// How deep a value may nest: deeper is refused (a cycle would otherwise
/// recurse until the stack overflows).
const MAX_DEPTH: usize = 128;

/// A Python object as JSON; `path` names the value in error messages.
pub(crate) fn to_json(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_json_at(value, &mut String::from("payload"), 0)
}

fn to_json_at(value: &Bound<'_, PyAny>, path: &mut String, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{path}: nested deeper than {MAX_DEPTH} levels (a cycle?)"
        )));
    }
    if value.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's bool is a subclass of int.
    if let Ok(flag) = value.cast::<PyBool>() {
        return Ok(Value::Bool(flag.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(n) = value.extract::<i64>() {
            return Ok(Value::from(n));
        }
        if let Ok(n) = value.extract::<u64>() {
            return Ok(Value::from(n));
        }
        return Err(PyValueError::new_err(format!("{path}: int {value} does not fit in 64 bits")));
    }
    if let Ok(float) = value.cast::<PyFloat>() {
        let x = float.value();
        return Number::from_f64(x)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{path}: {x} is not a JSON number")));
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(Value::String(text.to_cow()?.into_owned()));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            let Ok(key) = key.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "{path}: dict keys must be str, got {}",
                    type_name(&key)
                )));
            };
            let key = key.to_cow()?.into_owned();
            let len = path.len();
            path.push('.');
            path.push_str(&key);
            let item = to_json_at(&item, path, depth + 1)?;
            path.truncate(len);
            map.insert(key, item);
        }
        return Ok(Value::Object(map));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (i, item) in value.try_iter()?.enumerate() {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            items.push(to_json_at(&item?, path, depth + 1)?);
            path.truncate(len);
        }
        return Ok(Value::Array(items));
    }
    Err(PyTypeError::new_err(format!(
        "{path}: {} is not JSON (use dict, list, tuple, str, int, float, bool or None)",
        type_name(value)
    )))
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map_or_else(|_| String::from("object"), |name| name.to_string())
}

/// A payload to send: `bytes` as a binary frame, `None` as `{}`, anything
/// else as JSON.
pub(crate) fn to_payload(value: Option<&Bound<'_, PyAny>>) -> PyResult<Payload> {
    match value {
        None => Ok(Payload::empty()),
        Some(value) if value.is_none() => Ok(Payload::empty()),
        Some(value) => {
            if let Ok(bytes) = value.cast::<PyBytes>() {
                return Ok(Payload::binary(bytes.as_bytes().to_vec()));
            }
            Ok(Payload::from(to_json(value)?))
        }
    }
}

/// A JSON value as Python objects.
pub(crate) fn from_json<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(flag) => PyBool::new(py, *flag).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(text) => PyString::new(py, text).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(from_json(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (key, item) in map {
                dict.set_item(key, from_json(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A received payload as Python objects: JSON as `dict`/`list`/..., a
/// binary payload as `bytes`, a binary reply as
/// `{"status": str, "response": bytes}`.
pub(crate) fn from_payload<'py>(py: Python<'py>, payload: &Payload) -> PyResult<Bound<'py, PyAny>> {
    match payload {
        Payload::Json(text) => {
            let value: Value = serde_json::from_str(text)
                .map_err(|e| PyValueError::new_err(format!("payload is not JSON: {e}")))?;
            from_json(py, &value)
        }
        Payload::Binary(bytes) => Ok(PyBytes::new(py, bytes).into_any()),
        Payload::BinaryReply { status, response } => {
            let dict = PyDict::new(py);
            dict.set_item("status", &**status)?;
            dict.set_item("response", PyBytes::new(py, response))?;
            Ok(dict.into_any())
        }
        // A payload kind added later: its text form, rather than nothing.
        other => Ok(PyString::new(py, &format!("{other:?}")).into_any()),
    }
}
