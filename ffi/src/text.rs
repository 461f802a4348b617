//! Strings across the boundary: UTF-8 pointer + length in, owned
//! NUL-terminated bytes out.

use std::ffi::c_char;

use crate::error::{Failure, rig_error};

/// Borrows `len` bytes at `ptr` as UTF-8. NULL is an error.
///
/// # Safety
///
/// `ptr` is NULL or valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn str_in<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe { opt_str_in(ptr, len, what) }?.ok_or_else(|| Failure::null(what))
}

/// As [`str_in`], but NULL means "not given".
///
/// # Safety
///
/// `ptr` is NULL or valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn opt_str_in<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    if isize::try_from(len).is_err() {
        return Err(Failure::invalid(format!("{what}: length {len} is too large")));
    }
    // SAFETY: non-NULL, and the caller promises `len` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    std::str::from_utf8(bytes).map(Some).map_err(|err| {
        Failure::new(rig_error::RIG_ERR_INVALID_UTF8, format!("{what} is not UTF-8: {err}"))
    })
}

/// Checks that `text` is one JSON value, as payloads must be.
pub(crate) fn json_in<'a>(text: &'a str, what: &str) -> Result<&'a str, Failure> {
    serde_json::from_str::<&serde_json::value::RawValue>(text)
        .map(|_| text)
        .map_err(|err| Failure::invalid(format!("{what} is not JSON: {err}")))
}

/// Bytes handed to C: a trailing NUL after `len` bytes, so text can also be
/// read as a C string.
#[derive(Debug, Default)]
pub(crate) struct Text(Box<[u8]>);

impl Text {
    pub(crate) fn new(bytes: &[u8]) -> Self {
        let mut owned = Vec::with_capacity(bytes.len() + 1);
        owned.extend_from_slice(bytes);
        owned.push(0);
        Self(owned.into_boxed_slice())
    }

    pub(crate) fn ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len().saturating_sub(1)
    }
}

/// Writes `value` to an out-parameter.
///
/// # Safety
///
/// `out` is NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL, and the caller promises it is writable.
    unsafe { out.write(value) };
    Ok(())
}
