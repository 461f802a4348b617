//! Subscriptions (queues and callbacks, per channel or by filter) and presence.

use std::ffi::{c_char, c_void};
use std::time::Duration;

use crate::adapt::{self, ChannelObj, PresenceObj, SocketObj, SubscriptionObj};
use crate::error::{Failure, guard, rig_error};
use crate::handles::{lookup, register, release};
use crate::opaque::{rig_channel, rig_presence, rig_socket, rig_subscription};
use crate::owned::{Owned, rig_message, rig_string};
use crate::text::{opt_str_in, str_in, write_out};
use crate::user_data::UserData;

/// Called with each message of a callback subscription (borrowed: valid
/// during the call), on the dispatcher thread that owns the topic.
#[allow(non_camel_case_types, reason = "C names in the generated header")]
pub type rig_message_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, message: *const rig_message)>;

/// Registers `subscription` and writes its handle to `out`.
///
/// # Safety
///
/// `out` is NULL or points to a writable `rig_subscription *`.
unsafe fn subscription_out(
    out: *mut *mut rig_subscription,
    subscription: impl FnOnce() -> Result<SubscriptionObj, Failure>,
) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::null("out"));
    }
    let handle = register(subscription()?);
    // SAFETY: non-NULL and writable, as the caller promises.
    unsafe { write_out(out, handle, "out") }
}

/// Turns a C callback into a message handler for rig.
fn handler(
    callback: rig_message_callback,
    user_data: *mut c_void,
) -> Result<impl FnMut(&adapt::RigMessage) + Send + 'static, Failure> {
    let callback = callback.ok_or_else(|| Failure::null("callback"))?;
    let user_data = UserData::new(user_data);
    Ok(move |message: &adapt::RigMessage| {
        let data = adapt::message_data(message);
        let view = data.view(std::ptr::null_mut());
        // SAFETY: the caller promised the callback and user data may be
        // used from rig's threads.
        unsafe { callback(user_data.get(), &view) };
    })
}

/// A queue of the channel's messages whose event is `event` (NULL: every
/// event), read with [`rig_subscription_next`].
///
/// # Safety
///
/// `event` is NULL or valid for `event_len` bytes; `out` points to a
/// writable `rig_subscription *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut sub = std::ptr::null_mut();
/// let code = unsafe { rig_channel_subscribe(std::ptr::null(), std::ptr::null(), 0, &mut sub) };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_channel_subscribe(
    channel: *const rig_channel,
    event: *const c_char,
    event_len: usize,
    out: *mut *mut rig_subscription,
) -> rig_error {
    guard(|| {
        let channel = lookup::<ChannelObj>(channel)?;
        // SAFETY: valid for its length, as the caller promises.
        let event = unsafe { opt_str_in(event, event_len, "event") }?;
        // SAFETY: forwarded from the caller.
        unsafe { subscription_out(out, || adapt::subscribe(&channel, event)) }
    })
}

/// Calls `callback(user_data, message)` with the channel's messages whose
/// event is `event` (NULL: every event), in order, on the dispatcher
/// thread that owns the topic, until the subscription is freed. The
/// callback may call any `rig_*` function (a wait there blocks that
/// dispatcher).
///
/// # Safety
///
/// `event` is NULL or valid for `event_len` bytes; `callback` is safe to
/// call from another thread with `user_data` until the subscription is
/// freed; `out` points to a writable `rig_subscription *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut sub = std::ptr::null_mut();
/// let code = unsafe { rig_channel_on(std::ptr::null(), std::ptr::null(), 0, None, std::ptr::null_mut(), &mut sub) };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_channel_on(
    channel: *const rig_channel,
    event: *const c_char,
    event_len: usize,
    callback: rig_message_callback,
    user_data: *mut c_void,
    out: *mut *mut rig_subscription,
) -> rig_error {
    guard(|| {
        let channel = lookup::<ChannelObj>(channel)?;
        // SAFETY: valid for its length, as the caller promises.
        let event = unsafe { opt_str_in(event, event_len, "event") }?;
        let handler = handler(callback, user_data)?;
        // SAFETY: forwarded from the caller.
        unsafe { subscription_out(out, || adapt::on(&channel, event, handler)) }
    })
}

/// The filter arguments: a topic pattern, comma-separated events and a
/// predicate in the `rig monitor -w` language.
struct FilterArgs<'a> {
    topic: &'a str,
    events: Option<&'a str>,
    expr: Option<&'a str>,
}

/// # Safety
///
/// Each pointer is NULL or valid for its length (`topic` must be non-NULL).
unsafe fn filter_in<'a>(
    topic: (*const c_char, usize),
    events: (*const c_char, usize),
    expr: (*const c_char, usize),
) -> Result<FilterArgs<'a>, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe {
        Ok(FilterArgs {
            topic: str_in(topic.0, topic.1, "topic pattern")?,
            events: opt_str_in(events.0, events.1, "events")?,
            expr: opt_str_in(expr.0, expr.1, "filter expression")?,
        })
    }
}

/// A queue of the messages on any channel of the socket that match a
/// filter: `topic` pattern (`room:lobby`, `room:*`), `events` (a
/// comma-separated list; NULL: all) and `expr` (e.g. `payload.seq > 8`;
/// NULL: none). Read it with [`rig_subscription_next`].
///
/// # Safety
///
/// Each string is NULL or valid for its length (`topic` non-NULL); `out`
/// points to a writable `rig_subscription *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut sub = std::ptr::null_mut();
/// let topic = "room:*";
/// let code = unsafe {
///     rig_socket_subscribe_filter(std::ptr::null(), topic.as_ptr().cast(), topic.len(), std::ptr::null(), 0, std::ptr::null(), 0, &mut sub)
/// };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[allow(clippy::too_many_arguments, reason = "pointer + length per string, as C takes them")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_socket_subscribe_filter(
    socket: *const rig_socket,
    topic: *const c_char,
    topic_len: usize,
    events: *const c_char,
    events_len: usize,
    expr: *const c_char,
    expr_len: usize,
    out: *mut *mut rig_subscription,
) -> rig_error {
    guard(|| {
        let socket = lookup::<SocketObj>(socket)?;
        // SAFETY: forwarded from the caller.
        let args =
            unsafe { filter_in((topic, topic_len), (events, events_len), (expr, expr_len)) }?;
        let subscribe = || adapt::subscribe_filter(&socket, args.topic, args.events, args.expr);
        // SAFETY: forwarded from the caller.
        unsafe { subscription_out(out, subscribe) }
    })
}

/// As [`rig_socket_subscribe_filter`], with a callback on the dispatcher
/// threads instead of a queue; once `rig_subscription_free` returns (not
/// called from a callback), the callback is not called again.
///
/// # Safety
///
/// As [`rig_socket_subscribe_filter`]; `callback` is safe to call from
/// another thread with `user_data` until the subscription is freed.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut sub = std::ptr::null_mut();
/// let topic = "room:*";
/// let code = unsafe {
///     rig_socket_on_filter(std::ptr::null(), topic.as_ptr().cast(), topic.len(), std::ptr::null(), 0, std::ptr::null(), 0, None, std::ptr::null_mut(), &mut sub)
/// };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[allow(clippy::too_many_arguments, reason = "pointer + length per string, as C takes them")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_socket_on_filter(
    socket: *const rig_socket,
    topic: *const c_char,
    topic_len: usize,
    events: *const c_char,
    events_len: usize,
    expr: *const c_char,
    expr_len: usize,
    callback: rig_message_callback,
    user_data: *mut c_void,
    out: *mut *mut rig_subscription,
) -> rig_error {
    guard(|| {
        let socket = lookup::<SocketObj>(socket)?;
        // SAFETY: forwarded from the caller.
        let args =
            unsafe { filter_in((topic, topic_len), (events, events_len), (expr, expr_len)) }?;
        let handler = handler(callback, user_data)?;
        let subscribe = || adapt::on_filter(&socket, args.topic, args.events, args.expr, handler);
        // SAFETY: forwarded from the caller.
        unsafe { subscription_out(out, subscribe) }
    })
}

/// Takes the next message of a queue subscription, waiting up to
/// `timeout_ms` (0: no wait; negative: as long as it takes), into `message`
/// (release it with `rig_message_clear`). `RIG_ERR_TIMED_OUT`: nothing yet;
/// `RIG_ERR_CLOSED`: nothing more will come.
///
/// # Safety
///
/// `message` is NULL or points to a writable `rig_message`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut message: rig_message = unsafe { std::mem::zeroed() };
/// let code = unsafe { rig_subscription_next(std::ptr::null(), 0, &mut message) };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_subscription_next(
    subscription: *const rig_subscription,
    timeout_ms: i64,
    message: *mut rig_message,
) -> rig_error {
    guard(|| {
        let subscription = lookup::<SubscriptionObj>(subscription)?;
        if message.is_null() {
            return Err(Failure::null("message"));
        }
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let data = adapt::next(&subscription, timeout)?;
        // SAFETY: non-NULL and writable, as the caller promises.
        unsafe { write_out(message, Owned::message(data), "message") }
    })
}

/// Frees a subscription: a callback one is removed. NULL does nothing.
///
/// # Safety
///
/// None beyond passing a value rig returned (anything else is reported).
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// assert_eq!(unsafe { rig_subscription_free(std::ptr::null_mut()) }, rig_error::RIG_OK);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_subscription_free(subscription: *mut rig_subscription) -> rig_error {
    guard(|| release::<SubscriptionObj>(subscription))
}

/// Starts tracking the channel's presence (`presence_state` /
/// `presence_diff`); call it before joining to see the first state.
///
/// # Safety
///
/// `out` is NULL or points to a writable `rig_presence *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut presence = std::ptr::null_mut();
/// assert_eq!(unsafe { rig_channel_presence(std::ptr::null(), &mut presence) }, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_channel_presence(
    channel: *const rig_channel,
    out: *mut *mut rig_presence,
) -> rig_error {
    guard(|| {
        let channel = lookup::<ChannelObj>(channel)?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let presence = register(adapt::presence(&channel)?);
        // SAFETY: non-NULL and writable, as the caller promises.
        unsafe { write_out(out, presence, "out") }
    })
}

/// The presence list now, as a JSON object (key → `{"metas":[...]}`), into
/// `out` (release it with `rig_string_clear`).
///
/// # Safety
///
/// `out` is NULL or points to a writable `rig_string`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut list = rig_string { ptr: std::ptr::null(), len: 0, owner: std::ptr::null_mut() };
/// assert_eq!(unsafe { rig_presence_list(std::ptr::null(), &mut list) }, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_presence_list(
    presence: *const rig_presence,
    out: *mut rig_string,
) -> rig_error {
    guard(|| {
        let presence = lookup::<PresenceObj>(presence)?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let list = Owned::text(adapt::presence_json(&presence)?);
        // SAFETY: non-NULL and writable, as the caller promises.
        unsafe { write_out(out, list, "out") }
    })
}

/// Frees a presence view. NULL does nothing.
///
/// # Safety
///
/// None beyond passing a value rig returned (anything else is reported).
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// assert_eq!(unsafe { rig_presence_free(std::ptr::null_mut()) }, rig_error::RIG_OK);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_presence_free(presence: *mut rig_presence) -> rig_error {
    guard(|| release::<PresenceObj>(presence))
}
