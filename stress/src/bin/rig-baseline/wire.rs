//! The wire: connect, join, and decode V2 messages with serde_json.

use std::net::TcpStream;

use serde::Deserialize;
use serde_json::value::RawValue;
use tungstenite::client::IntoClientRequest as _;
use tungstenite::{Message, WebSocket};

use crate::Plan;

/// A decoded Phoenix V2 message `[join_ref, ref, topic, event, payload]`,
/// owned so it can cross threads (the payload stays raw JSON, as rig's).
/// serde reads a struct from a JSON array field by field.
#[derive(Deserialize, Debug)]
#[expect(dead_code, reason = "decoded as a client must; the benchmark reads event and payload")]
pub(crate) struct Msg {
    pub(crate) join_ref: Option<String>,
    pub(crate) r#ref: Option<String>,
    pub(crate) topic: String,
    pub(crate) event: String,
    pub(crate) payload: Box<RawValue>,
}

/// The payload of a stream event.
#[derive(Deserialize)]
pub(crate) struct Tick {
    pub(crate) seq: u64,
    pub(crate) t: u64,
}

/// Decodes one text frame; `None` for anything that is not a V2 message.
pub(crate) fn decode(text: &str) -> Option<Msg> {
    serde_json::from_str(text).ok()
}

/// Connects (blocking, `TCP_NODELAY`) and completes the WebSocket handshake.
pub(crate) fn connect(plan: &Plan) -> Result<WebSocket<TcpStream>, String> {
    let url = format!("{}/websocket?vsn=2.0.0", plan.url.trim_end_matches('/'));
    let request = url.as_str().into_client_request().map_err(|e| format!("--url {url}: {e}"))?;
    let host = request.uri().host().unwrap_or("127.0.0.1").to_owned();
    let port = request.uri().port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host.as_str(), port))
        .map_err(|e| format!("connect {host}:{port}: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (ws, _) =
        tungstenite::client(request, stream).map_err(|e| format!("handshake {url}: {e}"))?;
    Ok(ws)
}

/// Sends the join (blocking).
pub(crate) fn join(ws: &mut WebSocket<TcpStream>, plan: &Plan) -> Result<(), String> {
    let join = format!(r#"["1","1",{},"phx_join",{}]"#, json_string(&plan.topic), plan.join_params);
    ws.send(Message::text(join)).map_err(|e| format!("join: {e}"))
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}
