//! Engines and sockets.

use std::ffi::c_char;
use std::time::Duration;

use crate::adapt::{self, EngineObj, SocketArgs, SocketObj};
use crate::error::{Failure, guard, rig_error};
use crate::handles::{lookup, register, release};
use crate::opaque::{rig_engine, rig_socket};
use crate::text::{opt_str_in, str_in, write_out};

/// Socket options beside the URL. Every string is UTF-8 pointer + length;
/// a NULL pointer leaves that option at its default. Zero-initialise it
/// (`rig_socket_options opts = {0};`) and set what you need.
///
/// # Examples
///
/// See [`rig_socket_new`].
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[repr(C)]
#[derive(Debug)]
pub struct rig_socket_options {
    /// Sent as the `base64url.bearer.phx.` WebSocket subprotocol (Phoenix 1.7+ `auth_token`).
    pub token: *const c_char,
    /// Bytes in `token`.
    pub token_len: usize,
    /// Connect params: a JSON object, sent as `?key=value` (non-string values as JSON text).
    pub params_json: *const c_char,
    /// Bytes in `params_json`.
    pub params_json_len: usize,
    /// A SQLite file for durable pushes (`rig_channel_push_durable`).
    pub outbox_path: *const c_char,
    /// Bytes in `outbox_path`.
    pub outbox_path_len: usize,
    /// The default push timeout in milliseconds; 0 keeps rig's (10 s).
    pub push_timeout_ms: u64,
}

/// Starts an engine (its `rig-io` thread and dispatcher pool) and writes
/// its handle to `out`. Free it with [`rig_engine_free`], after its sockets.
///
/// # Safety
///
/// `out` is NULL or points to a writable `rig_engine *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut engine = std::ptr::null_mut();
/// assert_eq!(unsafe { rig_engine_new(&mut engine) }, rig_error::RIG_OK);
/// assert_eq!(unsafe { rig_engine_free(engine) }, rig_error::RIG_OK);
/// assert_eq!(unsafe { rig_engine_free(engine) }, rig_error::RIG_ERR_BAD_HANDLE);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_engine_new(out: *mut *mut rig_engine) -> rig_error {
    guard(|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let engine = register(adapt::start_engine()?);
        // SAFETY: non-NULL and writable, as the caller promises.
        unsafe { write_out(out, engine, "out") }
    })
}

/// Frees an engine: its threads stop, and the handles made from it report
/// `RIG_ERR_STOPPED` (free them too). NULL does nothing.
///
/// # Safety
///
/// None beyond passing a value rig returned (anything else is reported).
///
/// # Examples
///
/// See [`rig_engine_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_engine_free(engine: *mut rig_engine) -> rig_error {
    guard(|| release::<EngineObj>(engine))
}

/// Creates a socket to `url` (`ws://` or `wss://`, e.g.
/// `ws://127.0.0.1:4000/socket`) with `options` (NULL: defaults). Nothing
/// connects until [`rig_socket_connect`].
///
/// # Safety
///
/// `url` is valid for `url_len` bytes; `options` is NULL or points to a
/// `rig_socket_options` whose strings are valid for their lengths; `out`
/// points to a writable `rig_socket *`.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let mut engine = std::ptr::null_mut();
/// unsafe { rig_engine_new(&mut engine) };
/// let url = "ws://127.0.0.1:9/socket";
/// let params = r#"{"user":"ann"}"#;
/// let options = rig_socket_options {
///     token: std::ptr::null(), token_len: 0,
///     params_json: params.as_ptr().cast(), params_json_len: params.len(),
///     outbox_path: std::ptr::null(), outbox_path_len: 0,
///     push_timeout_ms: 0,
/// };
/// let mut socket = std::ptr::null_mut();
/// let code = unsafe { rig_socket_new(engine, url.as_ptr().cast(), url.len(), &options, &mut socket) };
/// assert_eq!(code, rig_error::RIG_OK);
/// unsafe { rig_socket_free(socket) };
/// unsafe { rig_engine_free(engine) };
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_socket_new(
    engine: *const rig_engine,
    url: *const c_char,
    url_len: usize,
    options: *const rig_socket_options,
    out: *mut *mut rig_socket,
) -> rig_error {
    guard(|| {
        let engine = lookup::<EngineObj>(engine)?;
        // SAFETY: valid for `url_len` bytes, as the caller promises.
        let url = unsafe { str_in(url, url_len, "url") }?;
        let mut args = SocketArgs { url, ..SocketArgs::default() };
        // SAFETY: NULL or a `rig_socket_options`, as the caller promises.
        if let Some(options) = unsafe { options.as_ref() } {
            // SAFETY: each string is valid for its length, as the caller promises.
            unsafe {
                args.token = opt_str_in(options.token, options.token_len, "token")?;
                args.params_json =
                    opt_str_in(options.params_json, options.params_json_len, "params_json")?;
                args.outbox_path =
                    opt_str_in(options.outbox_path, options.outbox_path_len, "outbox_path")?;
            }
            args.timeout = (options.push_timeout_ms > 0)
                .then(|| Duration::from_millis(options.push_timeout_ms));
        }
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let socket = register(adapt::new_socket(&engine, &args)?);
        // SAFETY: non-NULL and writable, as the caller promises.
        unsafe { write_out(out, socket, "out") }
    })
}

/// Starts connecting (and reconnecting with backoff whenever the
/// connection drops). Returns at once; watch [`rig_socket_on_status`](crate::rig_socket_on_status).
///
/// # Safety
///
/// None beyond passing a value rig returned (anything else is reported).
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// assert_eq!(unsafe { rig_socket_connect(std::ptr::null()) }, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_socket_connect(socket: *const rig_socket) -> rig_error {
    guard(|| adapt::connect(&*lookup::<SocketObj>(socket)?))
}

/// Closes the connection and stops reconnecting (until the next connect).
///
/// # Safety
///
/// None beyond passing a value rig returned (anything else is reported).
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// assert_eq!(unsafe { rig_socket_disconnect(std::ptr::null()) }, rig_error::RIG_ERR_NULL_POINTER);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_socket_disconnect(socket: *const rig_socket) -> rig_error {
    guard(|| adapt::disconnect(&*lookup::<SocketObj>(socket)?))
}

/// Frees a socket handle: its status callbacks stop (and have returned,
/// unless this is called from one of them). The connection closes once its
/// channels are freed too. NULL does nothing.
///
/// # Safety
///
/// None beyond passing a value rig returned (anything else is reported).
///
/// # Examples
///
/// See [`rig_socket_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rig_socket_free(socket: *mut rig_socket) -> rig_error {
    guard(|| {
        let watches = {
            let socket = lookup::<SocketObj>(socket);
            match socket {
                Ok(socket) => std::mem::take(
                    &mut *socket.watches.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
                ),
                Err(_) => Vec::new(),
            }
        };
        release::<SocketObj>(socket)?;
        // Stops and joins the status threads.
        drop(watches);
        Ok(())
    })
}
