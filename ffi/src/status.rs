//! Status callbacks: each runs on its own `rig-ffi-status` thread, fed by
//! the socket's status stream, until the socket handle is freed.

use std::ffi::{c_char, c_void};
use std::thread::JoinHandle;

use crate::adapt::{SocketObj, StatusEvent, status_data, watch_status};
use crate::error::{Failure, guard, rig_error};
use crate::handles::lookup;
use crate::opaque::rig_socket;
use crate::text::Text;
use crate::user_data::UserData;

/// What a status event is about.
///
/// # Examples
///
/// ```
/// assert_eq!(rig_ffi::rig_status_kind::RIG_STATUS_OPEN as i32, 1);
/// ```
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum rig_status_kind {
    /// Connecting (or reconnecting).
    RIG_STATUS_CONNECTING = 0,
    /// The connection is open.
    RIG_STATUS_OPEN = 1,
    /// The connection closed.
    RIG_STATUS_CLOSED = 2,
    /// A connection attempt failed.
    RIG_STATUS_FAILED = 3,
    /// The server refused the credentials.
    RIG_STATUS_AUTH_FAILED = 4,
    /// Waiting before the next reconnect.
    RIG_STATUS_WAITING_TO_RECONNECT = 5,
    /// No more reconnects.
    RIG_STATUS_GAVE_UP = 6,
    /// A channel changed state (`topic` says which).
    RIG_STATUS_CHANNEL = 7,
    /// Messages were dropped on a full queue.
    RIG_STATUS_DROPPED = 8,
    /// An event newer than this header.
    RIG_STATUS_OTHER = 9,
}

/// One status event, valid during the callback only. `text` is a
/// one-line description (e.g. `room:lobby: joining -> joined`).
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[repr(C)]
#[derive(Debug)]
pub struct rig_status_event {
    /// What it is about.
    pub kind: rig_status_kind,
    /// A description, UTF-8 with a NUL after `text_len` bytes.
    pub text: *const c_char,
    /// Bytes in `text`.
    pub text_len: usize,
    /// The channel topic for channel and drop events, else empty.
    pub topic: *const c_char,
    /// Bytes in `topic`.
    pub topic_len: usize,
}

/// Called with each status event of a socket.
#[allow(non_camel_case_types, reason = "C names in the generated header")]
pub type rig_status_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const rig_status_event)>;

/// A status event as rig-ffi holds it.
#[derive(Debug)]
pub(crate) struct StatusData {
    pub(crate) kind: rig_status_kind,
    pub(crate) text: Text,
    pub(crate) topic: Text,
}

/// One forwarding thread; dropping it stops and joins the thread.
#[derive(Debug)]
pub(crate) struct StatusWatch {
    stop: Option<crossbeam_channel::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for StatusWatch {
    fn drop(&mut self) {
        drop(self.stop.take());
        let Some(thread) = self.thread.take() else { return };
        // Freed from inside its own callback: the thread ends on return.
        if thread.thread().id() != std::thread::current().id() {
            let _ = thread.join();
        }
    }
}

fn forward(
    statuses: crossbeam_channel::Receiver<StatusEvent>,
    stop: crossbeam_channel::Receiver<()>,
    callback: unsafe extern "C" fn(*mut c_void, *const rig_status_event),
    user_data: UserData,
) {
    loop {
        crossbeam_channel::select! {
            recv(statuses) -> status => {
                let Ok(status) = status else { return };
                let data = status_data(&status);
                let event = rig_status_event {
                    kind: data.kind,
                    text: data.text.ptr(),
                    text_len: data.text.len(),
                    topic: data.topic.ptr(),
                    topic_len: data.topic.len(),
                };
                // SAFETY: the caller of rig_socket_on_status gave a callback
                // and user data that may be used from another thread.
                unsafe { callback(user_data.get(), &event) };
                // Freed from inside the callback: no further call, even if
                // more events are ready.
                if let Err(crossbeam_channel::TryRecvError::Disconnected) = stop.try_recv() {
                    return;
                }
            }
            recv(stop) -> _ => return,
        }
    }
}

/// Calls `callback(user_data, event)` with every status event of `socket`
/// from now on, in order, on a thread of its own (`rig-ffi-status`), until
/// the socket handle is freed. Register before `rig_socket_connect` to see
/// the first connect. The callback may call any `rig_*` function.
///
/// # Safety
///
/// `callback` is safe to call from another thread with `user_data`, until
/// `rig_socket_free` of this socket returns.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let code = unsafe { rig_socket_on_status(std::ptr::null(), None, std::ptr::null_mut()) };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_socket_on_status(
    socket: *const rig_socket,
    callback: rig_status_callback,
    user_data: *mut c_void,
) -> rig_error {
    guard(|| {
        let socket = lookup::<SocketObj>(socket)?;
        let callback = callback.ok_or_else(|| Failure::null("callback"))?;
        let statuses = watch_status(&socket)?;
        let (stop, stopped) = crossbeam_channel::bounded(0);
        let user_data = UserData::new(user_data);
        let thread = std::thread::Builder::new()
            .name("rig-ffi-status".into())
            .spawn(move || forward(statuses, stopped, callback, user_data))
            .map_err(|err| {
                Failure::new(rig_error::RIG_ERR_INTERNAL, format!("status thread: {err}"))
            })?;
        let watch = StatusWatch { stop: Some(stop), thread: Some(thread) };
        socket.watches.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(watch);
        Ok(())
    })
}
