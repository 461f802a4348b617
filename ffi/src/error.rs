//! Error codes, the per-thread error message, and the guard that keeps
//! panics from crossing into C.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// What every `rig_*` function returns. `RIG_OK` is success; on any other
/// code, [`rig_last_error`] gives a message on the same thread.
///
/// # Examples
///
/// ```
/// use rig_ffi::rig_error;
/// assert_eq!(rig_error::RIG_OK as i32, 0);
/// ```
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rig_error {
    /// Success.
    RIG_OK = 0,
    /// A required pointer argument was NULL.
    RIG_ERR_NULL_POINTER = 1,
    /// A string argument was not valid UTF-8.
    RIG_ERR_INVALID_UTF8 = 2,
    /// An argument was out of range or malformed (e.g. JSON that does not parse).
    RIG_ERR_INVALID_ARGUMENT = 3,
    /// A handle that rig never returned, that was freed already, or of
    /// another type (a socket passed where a channel is expected).
    RIG_ERR_BAD_HANDLE = 4,
    /// The engine has stopped (freed, or its I/O thread ended).
    RIG_ERR_STOPPED = 5,
    /// Socket options that do not make a valid configuration (e.g. the URL).
    RIG_ERR_CONFIG = 6,
    /// The durable outbox failed (disk full, read-only, corrupt).
    RIG_ERR_OUTBOX = 7,
    /// A durable push on a socket opened without an outbox path.
    RIG_ERR_NO_OUTBOX = 8,
    /// A filter (topic pattern or predicate) that does not parse.
    RIG_ERR_FILTER = 9,
    /// Nothing arrived within the wait (the handle is still usable).
    RIG_ERR_TIMED_OUT = 10,
    /// Nothing more will arrive: a queue whose source is gone, or a push
    /// whose outcome was taken already.
    RIG_ERR_CLOSED = 11,
    /// A panic inside rig, caught at the boundary.
    RIG_ERR_PANIC = 12,
    /// Any other failure (the message says which).
    RIG_ERR_INTERNAL = 13,
}

/// A failed call: its code and the message [`rig_last_error`] will give.
#[derive(Debug)]
pub(crate) struct Failure {
    code: rig_error,
    message: String,
}

impl Failure {
    pub(crate) fn new(code: rig_error, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub(crate) fn null(what: &str) -> Self {
        Self::new(rig_error::RIG_ERR_NULL_POINTER, format!("{what} is NULL"))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(rig_error::RIG_ERR_INVALID_ARGUMENT, message)
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // An interior NUL would cut the C string short; it cannot come from
    // our messages, but a user string quoted in one might carry it.
    let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = text);
}

/// Runs one exported call: its error becomes a code and this thread's
/// message, and a panic becomes `RIG_ERR_PANIC` instead of unwinding into C.
pub(crate) fn guard(call: impl FnOnce() -> Result<(), Failure>) -> rig_error {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(())) => rig_error::RIG_OK,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.code
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown payload".to_owned());
            set_last_error(&format!("panic inside rig: {what}"));
            rig_error::RIG_ERR_PANIC
        }
    }
}

/// The message of the last failed call on this thread, NUL-terminated
/// UTF-8 (empty if none failed yet). The pointer stays valid until the next
/// failed call on this thread. `len` (may be NULL) receives its length in
/// bytes, without the NUL.
///
/// # Safety
///
/// `len` is NULL or points to writable memory for a `size_t`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let code = unsafe { rig_engine_free(std::ptr::without_provenance_mut(7)) };
/// assert_eq!(code, rig_error::RIG_ERR_BAD_HANDLE);
/// let mut len = 0;
/// let text = unsafe { rig_last_error(&mut len) };
/// assert!(len > 0 && !text.is_null());
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_last_error(len: *mut usize) -> *const c_char {
    let pointer_and_len = catch_unwind(|| {
        LAST_ERROR.with(|last| {
            let last = last.borrow();
            (last.as_ptr(), last.as_bytes().len())
        })
    });
    let (pointer, bytes) = pointer_and_len.unwrap_or((c"".as_ptr(), 0));
    if !len.is_null() {
        // SAFETY: non-NULL, and the caller promises it is writable.
        unsafe { len.write(bytes) };
    }
    pointer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let mut len = 0;
        // SAFETY: `len` is a valid out-pointer.
        let text = unsafe { rig_last_error(&mut len) };
        // SAFETY: rig_last_error returns `len` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn a_panic_becomes_an_error_code_and_a_message() {
        let code = guard(|| panic!("boom at the boundary"));
        assert_eq!(code, rig_error::RIG_ERR_PANIC);
        assert_eq!(last_error(), "panic inside rig: boom at the boundary");
    }

    #[test]
    fn the_message_is_per_thread_and_survives_successes() {
        let code = guard(|| Err(Failure::invalid("first")));
        assert_eq!(code, rig_error::RIG_ERR_INVALID_ARGUMENT);
        assert_eq!(guard(|| Ok(())), rig_error::RIG_OK);
        assert_eq!(last_error(), "first");
        let other = std::thread::spawn(last_error).join().unwrap();
        assert_eq!(other, "");
    }

    #[test]
    fn an_interior_nul_does_not_cut_the_message() {
        let _ = guard(|| Err(Failure::invalid("a\0b")));
        assert_eq!(last_error(), "a\\0b");
    }
}
