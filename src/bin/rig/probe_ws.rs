//! The WebSocket and Phoenix steps of `rig diagnose`: the upgrade,
//! heartbeat round trips, and a join.

use rig::time::Clock;
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest as _;
use tungstenite::http::HeaderValue;
use tungstenite::{Message as WsMessage, WebSocket};

use crate::probe::{Step, Stream, io_words, ms};

/// How many heartbeats are timed.
pub(crate) const HEARTBEATS: usize = 5;

/// A Phoenix message as text in the chosen serializer.
fn frame(vsn1: bool, join_ref: Option<&str>, r: &str, topic: &str, event: &str) -> String {
    if vsn1 {
        json!({"topic": topic, "event": event, "payload": {}, "ref": r, "join_ref": join_ref})
            .to_string()
    } else {
        json!([join_ref, r, topic, event, {}]).to_string()
    }
}

/// `(ref, status, response)` of a reply, if `text` is one.
fn reply(vsn1: bool, text: &str) -> Option<(String, String, Value)> {
    let value: Value = serde_json::from_str(text).ok()?;
    let (r, event, payload) = if vsn1 {
        (value.get("ref")?, value.get("event")?, value.get("payload")?)
    } else {
        (value.get(1)?, value.get(3)?, value.get(4)?)
    };
    if event != "phx_reply" {
        return None;
    }
    let status = payload.get("status")?.as_str()?.to_owned();
    Some((r.as_str()?.to_owned(), status, payload.get("response").cloned().unwrap_or(Value::Null)))
}

/// The upgrade: status and subprotocol.
pub(crate) fn upgrade(
    stream: Stream,
    url: &str,
    headers: &[(String, String)],
    redacted_url: &str,
) -> (Step, Option<WebSocket<Stream>>) {
    let hint_path = "check the socket path (phoenix.js style: ws://host:4000/socket)";
    let deadline = stream.deadline().clone();
    let mut request = match url.into_client_request() {
        Ok(request) => request,
        Err(e) => return (Step::failed("websocket", format!("bad request: {e}"), hint_path), None),
    };
    for (name, value) in headers {
        let (Ok(name), Ok(value)) = (
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            return (
                Step::failed("websocket", format!("bad header {name:?}"), "fix --header"),
                None,
            );
        };
        request.headers_mut().append(name, value);
    }
    let timeout = stream.read_timeout();
    match tungstenite::client::client(request, stream) {
        Ok((socket, response)) => {
            let protocol = response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let status = response.status().as_u16();
            let detail = format!(
                "HTTP {status} on {redacted_url}, subprotocol {}",
                protocol.as_deref().unwrap_or("none")
            );
            (
                Step::ok("websocket", detail, json!({"status": status, "subprotocol": protocol})),
                Some(socket),
            )
        }
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            let status = response.status().as_u16();
            let hint = match status {
                401 | 403 => {
                    "authentication refused: check the token (--token-env VAR or RIG_TOKEN) and --param"
                }
                404 => hint_path,
                _ => "the server refused the upgrade",
            };
            let mut step =
                Step::failed("websocket", format!("HTTP {status} on {redacted_url}"), hint);
            step.data = json!({"status": status});
            (step, None)
        }
        Err(_) if deadline.is_over() => {
            (Step::failed("websocket", deadline.expired("complete upgrade reply"), SLOW), None)
        }
        // A read that timed out leaves the handshake "interrupted".
        Err(tungstenite::HandshakeError::Interrupted(_)) => {
            let why = io_words(&std::io::ErrorKind::WouldBlock.into(), timeout);
            let hint = "the server accepted the connection but did not answer the upgrade: \
                        is it a WebSocket endpoint? raise --timeout to wait longer";
            (Step::failed("websocket", format!("upgrade: {why}"), hint), None)
        }
        Err(tungstenite::HandshakeError::Failure(e)) => {
            (Step::failed("websocket", ws_words(&e, timeout), hint_path), None)
        }
    }
}

/// A WebSocket error in words (socket errors through [`io_words`]).
fn ws_words(e: &tungstenite::Error, timeout: Option<std::time::Duration>) -> String {
    match e {
        tungstenite::Error::Io(e) => io_words(e, timeout),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            "the connection is closed".to_owned()
        }
        other => other.to_string(),
    }
}

/// The hint for a step the run's deadline cut short.
const SLOW: &str = "the server answers too slowly: raise --timeout, or check what is in between";

/// Why a wait for a reply failed: the deadline, or what `err` says.
fn read_failure(socket: &WebSocket<Stream>, err: &tungstenite::Error) -> String {
    let deadline = socket.get_ref().deadline();
    if deadline.is_over() {
        deadline.expired("reply")
    } else {
        ws_words(err, socket.get_ref().read_timeout())
    }
}

/// Waits for the reply with ref `r`, skipping other messages.
fn await_reply(
    socket: &mut WebSocket<Stream>,
    vsn1: bool,
    r: &str,
) -> Result<(String, Value), String> {
    loop {
        match socket.read() {
            Ok(WsMessage::Text(text)) => {
                if let Some((got, status, response)) = reply(vsn1, text.as_str())
                    && got == r
                {
                    return Ok((status, response));
                }
            }
            Ok(WsMessage::Close(frame)) => {
                return Err(match frame {
                    Some(frame) => format!("the server closed the connection ({frame})"),
                    None => "the server closed the connection".to_owned(),
                });
            }
            Ok(_) => {}
            Err(e) => return Err(read_failure(socket, &e)),
        }
    }
}

/// Heartbeat round trips: p50 and max of [`HEARTBEATS`] samples.
pub(crate) fn heartbeats(socket: &mut WebSocket<Stream>, vsn1: bool, clock: &Clock) -> Step {
    let hint = "the server does not answer heartbeats: is it a Phoenix socket?";
    let mut samples = Vec::with_capacity(HEARTBEATS);
    for n in 0..HEARTBEATS {
        let r = format!("hb{n}");
        let start = clock.now();
        if let Err(e) = socket.send(WsMessage::text(frame(vsn1, None, &r, "phoenix", "heartbeat")))
        {
            return Step::failed("heartbeat", format!("send: {}", read_failure(socket, &e)), hint);
        }
        match await_reply(socket, vsn1, &r) {
            Ok((status, _)) if status == "ok" => samples.push(clock.now() - start),
            Ok((status, response)) => {
                return Step::failed("heartbeat", format!("reply {status}: {response}"), hint);
            }
            Err(e) => {
                let hint = if socket.get_ref().deadline().is_over() { SLOW } else { hint };
                return Step::failed("heartbeat", e, hint);
            }
        }
    }
    samples.sort_unstable();
    let p50 = samples.get(samples.len() / 2).copied().unwrap_or_default();
    let max = samples.last().copied().unwrap_or_default();
    let all: Vec<f64> = samples.iter().copied().map(ms).collect();
    Step::ok(
        "heartbeat",
        format!("{} samples, p50 {:.2} ms, max {:.2} ms", samples.len(), ms(p50), ms(max)),
        json!({"samples_ms": all, "p50_ms": ms(p50), "max_ms": ms(max)}),
    )
}

/// A join of `topic` (and a leave when it worked).
pub(crate) fn join(socket: &mut WebSocket<Stream>, vsn1: bool, topic: &str, clock: &Clock) -> Step {
    let start = clock.now();
    let sent = socket.send(WsMessage::text(frame(vsn1, Some("j1"), "j1", topic, "phx_join")));
    if let Err(e) = sent {
        let why = ws_words(&e, socket.get_ref().read_timeout());
        return Step::failed("join", format!("send: {why}"), "the connection dropped");
    }
    match await_reply(socket, vsn1, "j1") {
        Ok((status, response)) if status == "ok" => {
            let took = clock.now() - start;
            let _ = socket.send(WsMessage::text(frame(vsn1, Some("j1"), "j2", topic, "phx_leave")));
            Step::ok(
                "join",
                format!("{topic} joined in {:.2} ms", ms(took)),
                json!({"topic": topic, "ms": ms(took), "response": response}),
            )
        }
        Ok((status, response)) => {
            let mut step = Step::failed(
                "join",
                format!("{topic} refused ({status}): {response}"),
                "check the topic name and the join parameters",
            );
            step.data = json!({"topic": topic, "response": response});
            step
        }
        Err(e) if socket.get_ref().deadline().is_over() => Step::failed("join", e, SLOW),
        Err(e) => Step::failed("join", e, "the server did not reply to the join"),
    }
}

/// Closes the socket politely (reads and writes end by the run's deadline).
pub(crate) fn close(mut socket: WebSocket<Stream>) {
    let _ = socket.close(None);
    while socket.read().is_ok() {}
}
