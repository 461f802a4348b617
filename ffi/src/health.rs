//! Health counters: plain structs filled on request.

use crate::adapt::{EngineObj, SocketObj};
use crate::error::{Failure, guard, rig_error};
use crate::handles::lookup;
use crate::opaque::{rig_engine, rig_socket};
use crate::text::write_out;

/// An engine's counters (`rig::engine::EngineHealth`).
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rig_engine_health {
    /// The I/O thread is running.
    pub io_thread_alive: bool,
    /// Sockets the engine holds.
    pub sockets: u64,
    /// Times the I/O thread woke up.
    pub wakeups: u64,
    /// Commands the I/O thread handled.
    pub commands: u64,
    /// Messages dropped on full dispatcher queues.
    pub dispatch_dropped: u64,
    /// Callbacks that panicked (caught).
    pub handler_panics: u64,
    /// Messages dropped on full filter subscription queues.
    pub filter_dropped: u64,
}

/// A socket's counters (`rig::engine::SocketHealth`).
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct rig_socket_health {
    /// The socket is open now.
    pub connected: bool,
    /// Connection attempts, first included.
    pub connect_attempts: u64,
    /// Connections that opened.
    pub connections: u64,
    /// Connections that opened after a drop.
    pub reconnects: u64,
    /// Connects refused for authentication.
    pub auth_failures: u64,
    /// Heartbeats without a reply in time.
    pub heartbeat_timeouts: u64,
    /// Frames received.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Frames that did not decode.
    pub decode_errors: u64,
    /// Messages delivered to subscriptions and callbacks.
    pub delivered: u64,
    /// Messages dropped on full queues.
    pub dropped: u64,
    /// Pushes waiting for a reply.
    pub pending_pushes: u64,
    /// Durable pushes in the outbox.
    pub outbox_depth: u64,
    /// Durable pushes the server answered.
    pub outbox_acked: u64,
    /// Messages delivered to filter subscriptions.
    pub filter_delivered: u64,
    /// Messages filter subscriptions dropped.
    pub filter_dropped: u64,
}

/// Fills `out` with the engine's counters.
///
/// # Safety
///
/// `out` is NULL or points to a writable `rig_engine_health`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut engine = std::ptr::null_mut();
/// assert_eq!(unsafe { rig_engine_new(&mut engine) }, rig_error::RIG_OK);
/// let mut health = rig_engine_health::default();
/// assert_eq!(unsafe { rig_engine_get_health(engine, &mut health) }, rig_error::RIG_OK);
/// assert!(health.io_thread_alive);
/// assert_eq!(unsafe { rig_engine_free(engine) }, rig_error::RIG_OK);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_engine_get_health(
    engine: *const rig_engine,
    out: *mut rig_engine_health,
) -> rig_error {
    guard(|| {
        let engine = lookup::<EngineObj>(engine)?;
        // SAFETY: NULL or writable, as the caller promises.
        unsafe { write_out(out, crate::adapt::engine_health(&engine), "out") }
    })
}

/// Fills `out` with the socket's counters.
///
/// # Safety
///
/// `out` is NULL or points to a writable `rig_socket_health`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut health = rig_socket_health::default();
/// let code = unsafe { rig_socket_get_health(std::ptr::null(), &mut health) };
/// assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_socket_get_health(
    socket: *const rig_socket,
    out: *mut rig_socket_health,
) -> rig_error {
    guard(|| {
        let socket = lookup::<SocketObj>(socket)?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: non-NULL and writable, as the caller promises.
        unsafe { write_out(out, crate::adapt::socket_health(&socket), "out") }
    })
}
