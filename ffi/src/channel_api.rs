//! Channels and pushes.

use std::ffi::{c_char, c_void};
use std::time::Duration;

use crate::adapt::{self, ChannelObj, PushObj, SocketObj};
use crate::error::{Failure, guard, rig_error};
use crate::handles::{lookup, register, release};
use crate::opaque::{rig_channel, rig_push, rig_socket};
use crate::owned::{Owned, rig_reply};
use crate::text::{json_in, opt_str_in, str_in, write_out};
use crate::user_data::UserData;

/// Called once with a push's outcome (borrowed: valid during the call).
#[allow(non_camel_case_types, reason = "C names in the generated header")]
pub type rig_reply_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, reply: *const rig_reply)>;

/// A JSON payload argument: NULL is `{}`.
///
/// # Safety
///
/// `ptr` is NULL or valid for `len` bytes.
unsafe fn payload_in<'a>(ptr: *const c_char, len: usize) -> Result<Option<&'a str>, Failure> {
    // SAFETY: forwarded from the caller.
    let text = unsafe { opt_str_in(ptr, len, "payload") }?;
    text.map(|text| json_in(text, "payload")).transpose()
}

fn timeout_in(timeout_ms: u64) -> Option<Duration> {
    (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms))
}

/// Writes a new push handle to `out`, or fails without making one.
///
/// # Safety
///
/// `out` is NULL or points to a writable `rig_push *`.
unsafe fn push_out(out: *mut *mut rig_push, push: PushObj) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null("out"));
    }
    // SAFETY: non-NULL and writable, as the caller promises.
    unsafe { write_out(out, register(push), "out") }
}

/// Creates a channel for `topic` with join params `params_json` (a JSON
/// object; NULL is `{}`). Nothing is sent until [`rig_channel_join`].
///
/// # Safety
///
/// Strings are valid for their lengths; `out` points to a writable
/// `rig_channel *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut channel = std::ptr::null_mut();
/// let topic = "room:lobby";
/// let code = unsafe {
///     rig_channel_new(std::ptr::null(), topic.as_ptr().cast(), topic.len(), std::ptr::null(), 0, &mut channel)
/// };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_channel_new(
    socket: *const rig_socket,
    topic: *const c_char,
    topic_len: usize,
    params_json: *const c_char,
    params_json_len: usize,
    out: *mut *mut rig_channel,
) -> rig_error {
    guard(|| {
        let socket = lookup::<SocketObj>(socket)?;
        // SAFETY: valid for their lengths, as the caller promises.
        let (topic, params) = unsafe {
            (str_in(topic, topic_len, "topic")?, payload_in(params_json, params_json_len)?)
        };
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let channel = register(adapt::channel(&socket, topic, params)?);
        // SAFETY: non-NULL and writable, as the caller promises.
        unsafe { write_out(out, channel, "out") }
    })
}

/// Frees a channel handle: the channel leaves and is removed once no
/// subscription of it is left. NULL does nothing.
///
/// # Safety
///
/// None beyond passing a value rig returned (anything else is reported).
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// assert_eq!(unsafe { rig_channel_free(std::ptr::null_mut()) }, rig_error::RIG_OK);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_channel_free(channel: *mut rig_channel) -> rig_error {
    guard(|| release::<ChannelObj>(channel))
}

/// Joins (and rejoins after every reconnect). `timeout_ms` 0 keeps the
/// socket's push timeout. The push handle gives the join reply.
///
/// # Safety
///
/// `out` is NULL or points to a writable `rig_push *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut push = std::ptr::null_mut();
/// assert_eq!(unsafe { rig_channel_join(std::ptr::null(), 0, &mut push) }, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_channel_join(
    channel: *const rig_channel,
    timeout_ms: u64,
    out: *mut *mut rig_push,
) -> rig_error {
    guard(|| {
        let channel = lookup::<ChannelObj>(channel)?;
        // SAFETY: forwarded from the caller.
        unsafe { push_out(out, adapt::join(&channel, timeout_in(timeout_ms))) }
    })
}

/// Leaves the channel; the push handle gives the leave reply.
///
/// # Safety
///
/// `out` is NULL or points to a writable `rig_push *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut push = std::ptr::null_mut();
/// assert_eq!(unsafe { rig_channel_leave(std::ptr::null(), &mut push) }, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_channel_leave(
    channel: *const rig_channel,
    out: *mut *mut rig_push,
) -> rig_error {
    guard(|| {
        let channel = lookup::<ChannelObj>(channel)?;
        // SAFETY: forwarded from the caller.
        unsafe { push_out(out, adapt::leave(&channel)) }
    })
}

/// Pushes `event` with a JSON payload (NULL: `{}`); buffered until joined.
/// `timeout_ms` 0 keeps the socket's push timeout.
///
/// # Safety
///
/// Strings are valid for their lengths; `out` points to a writable `rig_push *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut push = std::ptr::null_mut();
/// let event = "echo";
/// let code = unsafe {
///     rig_channel_push(std::ptr::null(), event.as_ptr().cast(), event.len(), std::ptr::null(), 0, 0, &mut push)
/// };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_channel_push(
    channel: *const rig_channel,
    event: *const c_char,
    event_len: usize,
    payload_json: *const c_char,
    payload_json_len: usize,
    timeout_ms: u64,
    out: *mut *mut rig_push,
) -> rig_error {
    guard(|| {
        let channel = lookup::<ChannelObj>(channel)?;
        // SAFETY: valid for their lengths, as the caller promises.
        let (event, payload) = unsafe {
            (str_in(event, event_len, "event")?, payload_in(payload_json, payload_json_len)?)
        };
        let push = adapt::push(&channel, event, payload, timeout_in(timeout_ms));
        // SAFETY: forwarded from the caller.
        unsafe { push_out(out, push) }
    })
}

/// As [`rig_channel_push`], but the push is written to the socket's outbox
/// first (returns once on disk) and sent, with its id as `_rig_id`, until
/// the server answers, across reconnects and restarts. Needs
/// `outbox_path` in the socket options (else `RIG_ERR_NO_OUTBOX`).
///
/// # Safety
///
/// Strings are valid for their lengths; `out` points to a writable `rig_push *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut push = std::ptr::null_mut();
/// let code = unsafe {
///     rig_channel_push_durable(std::ptr::null(), std::ptr::null(), 0, std::ptr::null(), 0, &mut push)
/// };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_channel_push_durable(
    channel: *const rig_channel,
    event: *const c_char,
    event_len: usize,
    payload_json: *const c_char,
    payload_json_len: usize,
    out: *mut *mut rig_push,
) -> rig_error {
    guard(|| {
        let channel = lookup::<ChannelObj>(channel)?;
        // SAFETY: valid for their lengths, as the caller promises.
        let (event, payload) = unsafe {
            (str_in(event, event_len, "event")?, payload_in(payload_json, payload_json_len)?)
        };
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let push = adapt::push_durable(&channel, event, payload)?;
        // SAFETY: forwarded from the caller.
        unsafe { push_out(out, push) }
    })
}

/// Waits up to `timeout_ms` (negative: as long as it takes) for the push's
/// outcome and fills `reply` (release it with `rig_reply_clear`). The
/// outcome is taken once: a second wait is `RIG_ERR_CLOSED`. Nothing within
/// the wait is `RIG_ERR_TIMED_OUT` (wait again later). A server `error`
/// reply is `RIG_OK` with `reply->outcome == RIG_REPLY_ERROR`.
///
/// # Safety
///
/// `reply` is NULL or points to a writable `rig_reply`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut reply: rig_reply = unsafe { std::mem::zeroed() };
/// assert_eq!(unsafe { rig_push_wait(std::ptr::null(), 0, &mut reply) }, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_push_wait(
    push: *const rig_push,
    timeout_ms: i64,
    reply: *mut rig_reply,
) -> rig_error {
    guard(|| {
        let push = lookup::<PushObj>(push)?;
        if reply.is_null() {
            return Err(Failure::null("reply"));
        }
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let data = adapt::wait(&push, timeout)?;
        // SAFETY: non-NULL and writable, as the caller promises.
        unsafe { write_out(reply, Owned::reply(data), "reply") }
    })
}

/// Calls `callback(user_data, reply)` once with the push's outcome, on a
/// dispatcher thread (at once there if it has resolved already). The
/// outcome is then taken: waiting on the handle is `RIG_ERR_CLOSED`. The
/// handle still needs `rig_push_free` (which does not cancel the callback).
///
/// # Safety
///
/// `callback` is safe to call from another thread with `user_data`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let code = unsafe { rig_push_then(std::ptr::null(), None, std::ptr::null_mut()) };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_push_then(
    push: *const rig_push,
    callback: rig_reply_callback,
    user_data: *mut c_void,
) -> rig_error {
    guard(|| {
        let push = lookup::<PushObj>(push)?;
        let callback = callback.ok_or_else(|| Failure::null("callback"))?;
        let user_data = UserData::new(user_data);
        adapt::then(&push, move |data| {
            let reply = data.view(std::ptr::null_mut());
            // SAFETY: the caller promised the callback and user data may
            // be used from rig's threads.
            unsafe { callback(user_data.get(), &reply) };
        })
    })
}

/// Frees a push handle. NULL does nothing.
///
/// # Safety
///
/// None beyond passing a value rig returned (anything else is reported).
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// assert_eq!(unsafe { rig_push_free(std::ptr::null_mut()) }, rig_error::RIG_OK);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_push_free(push: *mut rig_push) -> rig_error {
    guard(|| release::<PushObj>(push))
}
