//! Every call into rig, in one place: the objects behind the handles and
//! the conversions between rig's types and the C ones. A change to rig's
//! API lands here (and in `subscription.rs`) and nowhere else.

mod subscription;

pub(crate) use subscription::*;

use std::sync::Mutex;
use std::time::Duration;

use rig::engine::{
    Channel, Engine, EngineError, Push, PushError, PushResult, Socket, SocketOptions, Status,
};
use rig::protocol::Payload;

use crate::error::{Failure, rig_error};
use crate::handles::handle;
use crate::health::{rig_engine_health, rig_socket_health};
use crate::opaque::{rig_channel, rig_engine, rig_push, rig_socket};
use crate::owned::{ReplyData, rig_outcome};
use crate::status::{StatusData, StatusWatch, rig_status_kind as Kind};
use crate::text::Text;

/// An engine: its threads stop when the handle is freed.
#[derive(Debug)]
pub(crate) struct EngineObj(Engine);
handle!(EngineObj, rig_engine, Engine, "rig_engine");

/// A socket, and the threads that forward its status to callbacks.
#[derive(Debug)]
pub(crate) struct SocketObj {
    socket: Socket,
    pub(crate) watches: Mutex<Vec<StatusWatch>>,
}
handle!(SocketObj, rig_socket, Socket, "rig_socket");

/// A channel.
#[derive(Debug)]
pub(crate) struct ChannelObj(Channel);
handle!(ChannelObj, rig_channel, Channel, "rig_channel");

/// A push until its outcome is taken (by a wait or a callback).
#[derive(Debug)]
pub(crate) struct PushObj(Mutex<Option<Push>>);
handle!(PushObj, rig_push, Push, "rig_push");

/// Socket options as C gives them.
#[derive(Debug, Default)]
pub(crate) struct SocketArgs<'a> {
    pub(crate) url: &'a str,
    pub(crate) token: Option<&'a str>,
    pub(crate) params_json: Option<&'a str>,
    pub(crate) outbox_path: Option<&'a str>,
    pub(crate) timeout: Option<Duration>,
}

fn engine_failure(err: EngineError) -> Failure {
    let code = match &err {
        EngineError::Stopped => rig_error::RIG_ERR_STOPPED,
        EngineError::Config(_) => rig_error::RIG_ERR_CONFIG,
        EngineError::Outbox(_) => rig_error::RIG_ERR_OUTBOX,
        EngineError::NoOutbox => rig_error::RIG_ERR_NO_OUTBOX,
        _ => rig_error::RIG_ERR_INTERNAL,
    };
    Failure::new(code, err.to_string())
}

/// An engine with rig's default configuration.
pub(crate) fn start_engine() -> Result<EngineObj, Failure> {
    Engine::start(Default::default()).map(EngineObj).map_err(engine_failure)
}

pub(crate) fn engine_health(engine: &EngineObj) -> rig_engine_health {
    let health = engine.0.health();
    rig_engine_health {
        io_thread_alive: health.io_thread_alive,
        sockets: health.sockets,
        wakeups: health.wakeups,
        commands: health.commands,
        dispatch_dropped: health.dispatch_dropped,
        handler_panics: health.handler_panics,
        filter_dropped: health.filter_dropped,
    }
}

/// The connect params: a JSON object; non-string values are sent as their JSON text.
fn params(json: &str) -> Result<Vec<(String, String)>, Failure> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|err| Failure::invalid(format!("params are not JSON: {err}")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(Failure::invalid("params must be a JSON object"));
    };
    Ok(map
        .into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => (key, text),
            other => (key, other.to_string()),
        })
        .collect())
}

/// A socket built from the C options; nothing connects yet.
pub(crate) fn new_socket(engine: &EngineObj, args: &SocketArgs<'_>) -> Result<SocketObj, Failure> {
    let mut builder = SocketOptions::builder(args.url);
    if let Some(json) = args.params_json {
        builder = builder.params(params(json)?);
    }
    if let Some(token) = args.token {
        builder = builder.auth_token(token);
    }
    if let Some(path) = args.outbox_path {
        builder = builder.outbox(path);
    }
    if let Some(timeout) = args.timeout {
        builder = builder.timeout(timeout);
    }
    let options = builder
        .build()
        .map_err(|err| Failure::new(rig_error::RIG_ERR_CONFIG, format!("socket options: {err}")))?;
    let socket = engine.0.socket(options).map_err(engine_failure)?;
    Ok(SocketObj { socket, watches: Mutex::default() })
}

pub(crate) fn connect(socket: &SocketObj) -> Result<(), Failure> {
    socket.socket.connect().map_err(engine_failure)
}

pub(crate) fn disconnect(socket: &SocketObj) -> Result<(), Failure> {
    socket.socket.disconnect().map_err(engine_failure)
}

/// rig's status events, as the status watcher receives them.
pub(crate) type StatusEvent = Status;

pub(crate) fn watch_status(
    socket: &SocketObj,
) -> Result<crossbeam_channel::Receiver<StatusEvent>, Failure> {
    socket.socket.status().map_err(engine_failure)
}

/// The C view of a status event: its kind, its one-line text and its topic.
pub(crate) fn status_data(status: &Status) -> StatusData {
    let (kind, topic) = match status {
        Status::Connecting { .. } => (Kind::RIG_STATUS_CONNECTING, ""),
        Status::Open => (Kind::RIG_STATUS_OPEN, ""),
        Status::Closed { .. } => (Kind::RIG_STATUS_CLOSED, ""),
        Status::Failed { .. } => (Kind::RIG_STATUS_FAILED, ""),
        Status::AuthFailed { .. } => (Kind::RIG_STATUS_AUTH_FAILED, ""),
        Status::WaitingToReconnect { .. } => (Kind::RIG_STATUS_WAITING_TO_RECONNECT, ""),
        Status::GaveUp { .. } => (Kind::RIG_STATUS_GAVE_UP, ""),
        Status::Channel { channel, .. } => (Kind::RIG_STATUS_CHANNEL, channel.topic()),
        Status::Dropped { topic, .. } => (Kind::RIG_STATUS_DROPPED, topic.as_str()),
        _ => (Kind::RIG_STATUS_OTHER, ""),
    };
    StatusData {
        kind,
        text: Text::new(status.to_string().as_bytes()),
        topic: Text::new(topic.as_bytes()),
    }
}

pub(crate) fn socket_health(socket: &SocketObj) -> rig_socket_health {
    let health = socket.socket.health();
    rig_socket_health {
        connected: socket.socket.is_connected(),
        connect_attempts: health.connect_attempts,
        connections: health.connections,
        reconnects: health.reconnects,
        auth_failures: health.auth_failures,
        heartbeat_timeouts: health.heartbeat_timeouts,
        frames_in: health.frames_in,
        frames_out: health.frames_out,
        bytes_in: health.bytes_in,
        bytes_out: health.bytes_out,
        decode_errors: health.decode_errors,
        delivered: health.delivered,
        dropped: health.dropped,
        pending_pushes: health.pending_pushes,
        outbox_depth: health.outbox_depth,
        outbox_acked: health.outbox_acked,
        filter_delivered: health.filter_delivered,
        filter_dropped: health.filter_dropped,
    }
}

fn payload(json: Option<&str>) -> Payload {
    json.map_or_else(Payload::empty, |json| Payload::json(json.to_owned()))
}

pub(crate) fn channel(
    socket: &SocketObj,
    topic: &str,
    params: Option<&str>,
) -> Result<ChannelObj, Failure> {
    socket.socket.channel(topic.to_owned(), payload(params)).map(ChannelObj).map_err(engine_failure)
}

fn push_obj(push: Push) -> PushObj {
    PushObj(Mutex::new(Some(push)))
}

pub(crate) fn join(channel: &ChannelObj, timeout: Option<Duration>) -> PushObj {
    push_obj(match timeout {
        Some(timeout) => channel.0.join_timeout(timeout),
        None => channel.0.join(),
    })
}

pub(crate) fn leave(channel: &ChannelObj) -> PushObj {
    push_obj(channel.0.leave())
}

pub(crate) fn push(
    channel: &ChannelObj,
    event: &str,
    json: Option<&str>,
    timeout: Option<Duration>,
) -> PushObj {
    let event = event.to_owned();
    push_obj(match timeout {
        Some(timeout) => channel.0.push_timeout(event, payload(json), timeout),
        None => channel.0.push(event, payload(json)),
    })
}

pub(crate) fn push_durable(
    channel: &ChannelObj,
    event: &str,
    json: Option<&str>,
) -> Result<PushObj, Failure> {
    channel.0.push_durable(event.to_owned(), payload(json)).map(push_obj).map_err(engine_failure)
}

fn spent() -> Failure {
    Failure::new(rig_error::RIG_ERR_CLOSED, "the push's outcome was taken already")
}

/// Waits for the outcome: `None` waits as long as it takes.
pub(crate) fn wait(push: &PushObj, timeout: Option<Duration>) -> Result<ReplyData, Failure> {
    let mut slot = push.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let result = match timeout {
        None => slot.take().ok_or_else(spent)?.wait(),
        Some(timeout) => {
            let pending = slot.as_mut().ok_or_else(spent)?;
            let result = pending.wait_timeout(timeout).ok_or_else(|| {
                Failure::new(rig_error::RIG_ERR_TIMED_OUT, "no outcome within the wait")
            })?;
            *slot = None;
            result
        }
    };
    Ok(reply_data(result))
}

/// Hands the outcome to `callback` on a dispatcher thread.
pub(crate) fn then(
    push: &PushObj,
    callback: impl FnOnce(ReplyData) + Send + 'static,
) -> Result<(), Failure> {
    let mut slot = push.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    slot.take().ok_or_else(spent)?.then(move |result| callback(reply_data(result)));
    Ok(())
}

/// A push outcome in the C terms: reply status codes, or the failure as text.
/// The engine gives `Ok` only for an `ok` reply; an `error` (or any other)
/// reply comes as `Err(PushError::Reply)`, which C sees as a reply again.
fn reply_data(result: PushResult) -> ReplyData {
    match result {
        Ok(reply) => reply_of(&reply),
        Err(PushError::Reply(reply)) => reply_of(&reply),
        Err(err) => {
            let outcome = match &err {
                PushError::Timeout => rig_outcome::RIG_TIMEOUT,
                PushError::EngineStopped => rig_outcome::RIG_ENGINE_STOPPED,
                PushError::Rejected(_) => rig_outcome::RIG_REJECTED,
                PushError::Dropped => rig_outcome::RIG_DROPPED,
                _ => rig_outcome::RIG_CHANNEL_LOST,
            };
            ReplyData {
                outcome,
                status: Text::default(),
                response: Text::new(err.to_string().as_bytes()),
                binary: false,
            }
        }
    }
}

/// A reply with its status code.
fn reply_of(reply: &rig::protocol::Reply) -> ReplyData {
    let outcome = match &*reply.status {
        "ok" => rig_outcome::RIG_REPLY_OK,
        "error" => rig_outcome::RIG_REPLY_ERROR,
        _ => rig_outcome::RIG_REPLY_OTHER,
    };
    let (response, binary) = payload_bytes(&reply.response);
    ReplyData { outcome, status: Text::new(reply.status.as_bytes()), response, binary }
}

pub(crate) fn payload_bytes(payload: &Payload) -> (Text, bool) {
    match payload {
        Payload::Binary(bytes) | Payload::BinaryReply { response: bytes, .. } => {
            (Text::new(bytes), true)
        }
        other => (Text::new(other.as_json().unwrap_or("null").as_bytes()), false),
    }
}
