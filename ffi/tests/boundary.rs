//! Bad input across the boundary: an error code and a message, never a crash.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::undocumented_unsafe_blocks,
    reason = "a test fails by panicking; every unsafe call passes pointers built beside it"
)]

use std::ffi::c_char;
use std::ptr::{null, null_mut};

use rig_ffi::*;

fn last_error() -> String {
    let mut len = 0;
    let text = unsafe { rig_last_error(&mut len) };
    let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn s(text: &str) -> (*const c_char, usize) {
    (text.as_ptr().cast(), text.len())
}

struct Fixture {
    engine: *mut rig_engine,
    socket: *mut rig_socket,
    channel: *mut rig_channel,
}

impl Fixture {
    fn new() -> Self {
        let mut engine = null_mut();
        let mut socket = null_mut();
        let mut channel = null_mut();
        let (url, url_len) = s("ws://127.0.0.1:9/socket");
        let (topic, topic_len) = s("room:a");
        unsafe {
            assert_eq!(rig_engine_new(&mut engine), rig_error::RIG_OK);
            assert_eq!(
                rig_socket_new(engine, url, url_len, null(), &mut socket),
                rig_error::RIG_OK
            );
            let code = rig_channel_new(socket, topic, topic_len, null(), 0, &mut channel);
            assert_eq!(code, rig_error::RIG_OK);
        }
        Self { engine, socket, channel }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        unsafe {
            rig_channel_free(self.channel);
            rig_socket_free(self.socket);
            rig_engine_free(self.engine);
        }
    }
}

#[test]
fn null_handles_and_out_pointers_are_errors() {
    let f = Fixture::new();
    let (event, event_len) = s("echo");
    unsafe {
        let code = rig_channel_push(null(), event, event_len, null(), 0, 0, &mut null_mut());
        assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
        assert_eq!(last_error(), "rig_channel is NULL");
        let code = rig_channel_push(f.channel, null(), 0, null(), 0, 0, &mut null_mut());
        assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
        assert_eq!(last_error(), "event is NULL");
        let code = rig_channel_push(f.channel, event, event_len, null(), 0, 0, null_mut());
        assert_eq!(code, rig_error::RIG_ERR_NULL_POINTER);
        assert_eq!(
            rig_socket_on_status(f.socket, None, null_mut()),
            rig_error::RIG_ERR_NULL_POINTER
        );
        assert!(!rig_last_error(null_mut()).is_null());
    }
}

#[test]
fn invalid_utf8_and_json_are_errors() {
    let f = Fixture::new();
    let bad = [b'r', b'o', 0xc3, 0x28];
    let mut channel = null_mut();
    unsafe {
        let code =
            rig_channel_new(f.socket, bad.as_ptr().cast(), bad.len(), null(), 0, &mut channel);
        assert_eq!(code, rig_error::RIG_ERR_INVALID_UTF8);
        assert!(last_error().starts_with("topic is not UTF-8"), "{}", last_error());
        let (topic, topic_len) = s("room:b");
        let (json, json_len) = s("{\"unterminated\":");
        let code = rig_channel_new(f.socket, topic, topic_len, json, json_len, &mut channel);
        assert_eq!(code, rig_error::RIG_ERR_INVALID_ARGUMENT);
        assert!(channel.is_null(), "no handle on failure");
        let (url, url_len) = s("http://not-a-websocket");
        let mut socket = null_mut();
        let code = rig_socket_new(f.engine, url, url_len, null(), &mut socket);
        assert_eq!(code, rig_error::RIG_ERR_CONFIG, "{}", last_error());
    }
}

#[test]
fn freed_forged_and_mistyped_handles_are_errors() {
    let f = Fixture::new();
    let mut push = null_mut();
    unsafe {
        assert_eq!(rig_channel_leave(f.channel, &mut push), rig_error::RIG_OK);
        assert_eq!(rig_push_free(push), rig_error::RIG_OK);
        assert_eq!(rig_push_free(push), rig_error::RIG_ERR_BAD_HANDLE);
        let mut reply: rig_reply = std::mem::zeroed();
        assert_eq!(rig_push_wait(push, 0, &mut reply), rig_error::RIG_ERR_BAD_HANDLE);
        assert!(last_error().contains("not live"), "{}", last_error());
        let forged = std::ptr::without_provenance::<rig_push>(usize::MAX);
        assert_eq!(rig_push_wait(forged, 0, &mut reply), rig_error::RIG_ERR_BAD_HANDLE);
        let socket_as_channel = f.socket.cast::<rig_channel>();
        assert_eq!(
            rig_channel_join(socket_as_channel, 0, &mut push),
            rig_error::RIG_ERR_BAD_HANDLE
        );
        assert!(last_error().contains("is a rig_socket, not a rig_channel"), "{}", last_error());
        assert_eq!(rig_channel_free(socket_as_channel), rig_error::RIG_ERR_BAD_HANDLE);
    }
}

#[test]
fn a_stale_copy_of_a_cleared_reply_is_an_error_not_a_double_free() {
    let f = Fixture::new();
    let mut presence = null_mut();
    let mut list = rig_string { ptr: null(), len: 0, owner: null_mut() };
    unsafe {
        assert_eq!(rig_channel_presence(f.channel, &mut presence), rig_error::RIG_OK);
        assert_eq!(rig_presence_list(presence, &mut list), rig_error::RIG_OK);
        let text = std::slice::from_raw_parts(list.ptr.cast::<u8>(), list.len + 1);
        assert_eq!(text, b"{}\0");
        let mut copy = rig_string { ptr: list.ptr, len: list.len, owner: list.owner };
        assert_eq!(rig_string_clear(&mut list), rig_error::RIG_OK);
        assert!(list.ptr.is_null());
        assert_eq!(rig_string_clear(&mut list), rig_error::RIG_OK, "a zeroed string is empty");
        assert_eq!(rig_string_clear(&mut copy), rig_error::RIG_ERR_BAD_HANDLE);
        assert_eq!(rig_presence_free(presence), rig_error::RIG_OK);
    }
}

#[test]
fn a_push_outcome_is_taken_once() {
    let f = Fixture::new();
    let mut push = null_mut();
    let (event, event_len) = s("echo");
    unsafe {
        let code = rig_channel_push(f.channel, event, event_len, null(), 0, 0, &mut push);
        assert_eq!(code, rig_error::RIG_OK);
        let mut reply: rig_reply = std::mem::zeroed();
        // Not joined: the push is refused at once, with the reason as text.
        assert_eq!(rig_push_wait(push, 10_000, &mut reply), rig_error::RIG_OK);
        assert_ne!(reply.outcome, rig_outcome::RIG_REPLY_OK);
        assert!(reply.response_len > 0 && reply.status_len == 0);
        assert_eq!(rig_reply_clear(&mut reply), rig_error::RIG_OK);
        assert_eq!(rig_push_wait(push, 0, &mut reply), rig_error::RIG_ERR_CLOSED);
        assert!(reply.owner.is_null(), "untouched on failure");
        assert_eq!(rig_push_then(push, None, null_mut()), rig_error::RIG_ERR_NULL_POINTER);
        assert_eq!(rig_push_free(push), rig_error::RIG_OK);
    }
}

#[test]
fn a_handle_of_a_stopped_engine_reports_stopped() {
    let f = Fixture::new();
    unsafe {
        assert_eq!(rig_engine_free(f.engine), rig_error::RIG_OK);
        let code = rig_socket_connect(f.socket);
        assert_eq!(code, rig_error::RIG_ERR_STOPPED, "{}", last_error());
    }
}

/// What the status callback below was handed: the socket to free and where
/// to report the result.
struct SelfFree {
    socket: *mut rig_socket,
    done: std::sync::mpsc::SyncSender<rig_error>,
}

unsafe extern "C" fn free_own_socket(user_data: *mut std::ffi::c_void, _: *const rig_status_event) {
    let this = unsafe { &*user_data.cast::<SelfFree>() };
    let _ = this.done.try_send(unsafe { rig_socket_free(this.socket) });
}

#[test]
fn a_status_callback_may_free_its_own_socket() {
    let mut engine = null_mut();
    let mut socket = null_mut();
    let (url, url_len) = s("ws://127.0.0.1:9/socket");
    let (done, outcome) = std::sync::mpsc::sync_channel(4);
    unsafe {
        assert_eq!(rig_engine_new(&mut engine), rig_error::RIG_OK);
        assert_eq!(rig_socket_new(engine, url, url_len, null(), &mut socket), rig_error::RIG_OK);
        let this = Box::into_raw(Box::new(SelfFree { socket, done }));
        let code = rig_socket_on_status(socket, Some(free_own_socket), this.cast());
        assert_eq!(code, rig_error::RIG_OK);
        assert_eq!(rig_socket_connect(socket), rig_error::RIG_OK);
        // The first event frees the socket from the callback's own thread:
        // no self-join, no deadlock.
        let first = outcome.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(first, Ok(rig_error::RIG_OK));
        assert_eq!(rig_socket_free(socket), rig_error::RIG_ERR_BAD_HANDLE);
        assert_eq!(rig_engine_free(engine), rig_error::RIG_OK);
        drop(Box::from_raw(this));
    }
}
