//! What rig hands out by value: push outcomes, messages and strings, as C
//! structs whose bytes an owner handle keeps alive until cleared.

use std::ffi::c_char;

use crate::error::{Failure, rig_error};
use crate::handles::{self, handle};
use crate::text::Text;

/// How a push (or join, or leave) ended.
///
/// # Examples
///
/// ```
/// assert_eq!(rig_ffi::rig_outcome::RIG_REPLY_ERROR as i32, 1);
/// ```
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rig_outcome {
    /// The server replied with status `ok`.
    RIG_REPLY_OK = 0,
    /// The server replied with status `error` (the response says why).
    RIG_REPLY_ERROR = 1,
    /// The server replied with another status (in `status`).
    RIG_REPLY_OTHER = 2,
    /// No reply within the push timeout.
    RIG_TIMEOUT = 3,
    /// The channel closed, errored or was removed before the reply.
    RIG_CHANNEL_LOST = 4,
    /// The engine stopped before the reply.
    RIG_ENGINE_STOPPED = 5,
    /// Refused before sending (e.g. the push buffer is full).
    RIG_REJECTED = 6,
    /// Dropped from the outbox to make room.
    RIG_DROPPED = 7,
}

/// A push outcome. `status` and `response` are UTF-8 with a NUL after
/// `*_len` bytes (a binary response is raw bytes, `response_is_binary`
/// set). For a reply, `status` is the server's status and `response` its
/// JSON; otherwise `status` is empty and `response` says what happened.
/// Filled by [`rig_push_wait`](crate::rig_push_wait): release it with
/// [`rig_reply_clear`]. Given to a callback: valid during the call only.
///
/// # Examples
///
/// See [`rig_reply_clear`].
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[repr(C)]
#[derive(Debug)]
pub struct rig_reply {
    /// How the push ended.
    pub outcome: rig_outcome,
    /// The reply status (`ok`, `error`, ...), empty without a reply.
    pub status: *const c_char,
    /// Bytes in `status`.
    pub status_len: usize,
    /// The reply's response JSON, or a description of the failure.
    pub response: *const c_char,
    /// Bytes in `response`.
    pub response_len: usize,
    /// The response is binary, not JSON.
    pub response_is_binary: bool,
    /// Keeps the bytes alive; NULL in a callback's borrowed reply.
    pub owner: *mut rig_owned,
}

/// A message from the server. Strings are UTF-8 with a NUL after `*_len`
/// bytes. Filled by [`rig_subscription_next`](crate::rig_subscription_next):
/// release with [`rig_message_clear`]. Given to a callback: valid during
/// the call only.
///
/// # Examples
///
/// See [`rig_message_clear`].
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[repr(C)]
#[derive(Debug)]
pub struct rig_message {
    /// The channel topic.
    pub topic: *const c_char,
    /// Bytes in `topic`.
    pub topic_len: usize,
    /// The event name.
    pub event: *const c_char,
    /// Bytes in `event`.
    pub event_len: usize,
    /// The payload: JSON text, or raw bytes if `payload_is_binary`.
    pub payload: *const c_char,
    /// Bytes in `payload`.
    pub payload_len: usize,
    /// The payload is binary, not JSON.
    pub payload_is_binary: bool,
    /// Keeps the bytes alive; NULL in a callback's borrowed message.
    pub owner: *mut rig_owned,
}

/// A string rig returns (e.g. a presence list as JSON): UTF-8 with a NUL
/// after `len` bytes. Release with [`rig_string_clear`].
///
/// # Examples
///
/// See [`rig_string_clear`].
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[repr(C)]
#[derive(Debug)]
pub struct rig_string {
    /// The bytes.
    pub ptr: *const c_char,
    /// Bytes in `ptr`.
    pub len: usize,
    /// Keeps the bytes alive.
    pub owner: *mut rig_owned,
}

/// The owner of a returned struct's bytes (opaque).
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[derive(Debug)]
pub struct rig_owned {
    _private: [u8; 0],
}

/// A push outcome as rig-ffi holds it.
#[derive(Debug)]
pub(crate) struct ReplyData {
    pub(crate) outcome: rig_outcome,
    pub(crate) status: Text,
    pub(crate) response: Text,
    pub(crate) binary: bool,
}

impl ReplyData {
    pub(crate) fn view(&self, owner: *mut rig_owned) -> rig_reply {
        rig_reply {
            outcome: self.outcome,
            status: self.status.ptr(),
            status_len: self.status.len(),
            response: self.response.ptr(),
            response_len: self.response.len(),
            response_is_binary: self.binary,
            owner,
        }
    }
}

/// A message as rig-ffi holds it.
#[derive(Debug)]
pub(crate) struct MessageData {
    pub(crate) topic: Text,
    pub(crate) event: Text,
    pub(crate) payload: Text,
    pub(crate) binary: bool,
}

impl MessageData {
    pub(crate) fn view(&self, owner: *mut rig_owned) -> rig_message {
        rig_message {
            topic: self.topic.ptr(),
            topic_len: self.topic.len(),
            event: self.event.ptr(),
            event_len: self.event.len(),
            payload: self.payload.ptr(),
            payload_len: self.payload.len(),
            payload_is_binary: self.binary,
            owner,
        }
    }
}

/// The bytes behind a returned struct.
#[derive(Debug)]
#[expect(dead_code, reason = "never read, only kept alive for the pointers C holds")]
pub(crate) enum Owned {
    Reply(ReplyData),
    Message(MessageData),
    Text(Text),
}

handle!(Owned, rig_owned, Owned, "rig_owned");

impl Owned {
    // The heap bytes do not move when the data moves into the registry, so
    // the pointers taken before registering stay valid while it is there.

    /// Registers a push outcome and returns the struct C reads it through.
    pub(crate) fn reply(data: ReplyData) -> rig_reply {
        let mut view = data.view(std::ptr::null_mut());
        view.owner = handles::register(Self::Reply(data));
        view
    }

    /// Registers a message and returns the struct C reads it through.
    pub(crate) fn message(data: MessageData) -> rig_message {
        let mut view = data.view(std::ptr::null_mut());
        view.owner = handles::register(Self::Message(data));
        view
    }

    /// Registers a string and returns the struct C reads it through.
    pub(crate) fn text(text: Text) -> rig_string {
        let (ptr, len) = (text.ptr(), text.len());
        rig_string { ptr, len, owner: handles::register(Self::Text(text)) }
    }
}

/// Releases the bytes of `owner` (NULL: nothing to release).
fn release(owner: *mut rig_owned) -> Result<(), Failure> {
    handles::release::<Owned>(owner)
}

/// Releases the bytes of a reply filled by `rig_push_wait` and zeroes it.
/// Clearing a zeroed reply, or a callback's borrowed one, does nothing;
/// clearing a stale copy is `RIG_ERR_BAD_HANDLE`.
///
/// # Safety
///
/// `reply` is NULL or points to a `rig_reply`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut reply: rig_reply = unsafe { std::mem::zeroed() };
/// assert_eq!(unsafe { rig_reply_clear(&mut reply) }, rig_error::RIG_OK);
/// assert_eq!(unsafe { rig_reply_clear(std::ptr::null_mut()) }, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_reply_clear(reply: *mut rig_reply) -> rig_error {
    crate::error::guard(|| {
        // SAFETY: NULL or a `rig_reply`, as the caller promises.
        let reply = unsafe { reply.as_mut() }.ok_or_else(|| Failure::null("reply"))?;
        release(reply.owner)?;
        *reply = rig_reply {
            outcome: rig_outcome::RIG_REPLY_OK,
            status: std::ptr::null(),
            status_len: 0,
            response: std::ptr::null(),
            response_len: 0,
            response_is_binary: false,
            owner: std::ptr::null_mut(),
        };
        Ok(())
    })
}

/// Releases the bytes of a message filled by `rig_subscription_next` and
/// zeroes it; as [`rig_reply_clear`].
///
/// # Safety
///
/// `message` is NULL or points to a `rig_message`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut message: rig_message = unsafe { std::mem::zeroed() };
/// assert_eq!(unsafe { rig_message_clear(&mut message) }, rig_error::RIG_OK);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_message_clear(message: *mut rig_message) -> rig_error {
    crate::error::guard(|| {
        // SAFETY: NULL or a `rig_message`, as the caller promises.
        let message = unsafe { message.as_mut() }.ok_or_else(|| Failure::null("message"))?;
        release(message.owner)?;
        message.topic = std::ptr::null();
        message.topic_len = 0;
        message.event = std::ptr::null();
        message.event_len = 0;
        message.payload = std::ptr::null();
        message.payload_len = 0;
        message.payload_is_binary = false;
        message.owner = std::ptr::null_mut();
        Ok(())
    })
}

/// Releases the bytes of a returned string and zeroes it; as
/// [`rig_reply_clear`].
///
/// # Safety
///
/// `string` is NULL or points to a `rig_string`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut string = rig_string { ptr: std::ptr::null(), len: 0, owner: std::ptr::null_mut() };
/// assert_eq!(unsafe { rig_string_clear(&mut string) }, rig_error::RIG_OK);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_string_clear(string: *mut rig_string) -> rig_error {
    crate::error::guard(|| {
        // SAFETY: NULL or a `rig_string`, as the caller promises.
        let string = unsafe { string.as_mut() }.ok_or_else(|| Failure::null("string"))?;
        release(string.owner)?;
        *string = rig_string { ptr: std::ptr::null(), len: 0, owner: std::ptr::null_mut() };
        Ok(())
    })
}
