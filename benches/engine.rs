//! End-to-end engine benchmark: a burst of server pushes on `stream:*`
//! (embedded server, same process, loopback) until `done`, through
//!
//! - `rig_engine`: the engine (rig-io decodes, a subscription hands each
//!   message to the consuming thread), and
//! - `raw_tungstenite_serde_json` (baseline): a blocking tungstenite client
//!   that parses every frame with serde_json on the reading thread,
//!
//! in the same group, so the result reads as a ratio. Both pay the same
//! server cost; the difference is the client pipeline (decode, thread
//! hand-off, wake-ups).
//!
//! Run with `cargo bench --bench engine`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a benchmark fails loudly"
)]

use std::hint::black_box;
use std::net::TcpStream;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rig::engine::{Engine, EngineConfig, Socket, SocketOptions, Status};
use rig::protocol::Payload;
use rig::server::{Server, ServerConfig, ServerHandle};
use tungstenite::client::IntoClientRequest as _;

const EVENTS: u64 = 20_000;
const WAIT: Duration = Duration::from_secs(30);

fn burst_params() -> Payload {
    Payload::json(format!(r#"{{"mode":"burst","count":{EVENTS}}}"#))
}

/// One burst through the engine: join, read every event and `done`, leave.
fn engine_burst(socket: &Socket, n: u64) {
    let stream = socket.channel(format!("stream:rig{n}"), burst_params()).unwrap();
    let all = stream.subscribe_all().unwrap();
    stream.join().wait().unwrap();
    let mut events = 0;
    loop {
        let message = all.recv_timeout(WAIT).unwrap();
        if &*message.event == "done" {
            break;
        }
        events += 1;
        black_box(&message);
    }
    assert_eq!(events, EVENTS);
    stream.leave().wait().unwrap();
}

/// The same burst read by a bare tungstenite client, parsed by serde_json.
fn raw_burst(ws: &mut tungstenite::WebSocket<TcpStream>, n: u64) {
    let join =
        format!(r#"["{n}","{n}","stream:raw{n}","phx_join",{{"mode":"burst","count":{EVENTS}}}]"#);
    ws.send(tungstenite::Message::text(join)).unwrap();
    let mut events = 0;
    loop {
        let frame = ws.read().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&frame.into_data()).unwrap();
        match value.get(3).and_then(serde_json::Value::as_str) {
            Some("event") => events += 1,
            Some("done") => break,
            _ => {}
        }
        black_box(&value);
    }
    assert_eq!(events, EVENTS);
    let leave = format!(r#"["{n}","l{n}","stream:raw{n}","phx_leave",{{}}]"#);
    ws.send(tungstenite::Message::text(leave)).unwrap();
}

fn connect_engine(server: &ServerHandle) -> (Engine, Socket) {
    let config = EngineConfig::builder().subscription_capacity(1 << 15).build();
    let engine = Engine::start(config).unwrap();
    let socket = engine.socket(SocketOptions::builder(server.url()).build().unwrap()).unwrap();
    let status = socket.status().unwrap();
    socket.connect().unwrap();
    while status.recv_timeout(WAIT).unwrap() != Status::Open {}
    (engine, socket)
}

fn connect_raw(server: &ServerHandle) -> tungstenite::WebSocket<TcpStream> {
    let url = format!("{}/websocket?vsn=2.0.0", server.url());
    let stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_nodelay(true).unwrap();
    let (ws, _) = tungstenite::client(url.into_client_request().unwrap(), stream).unwrap();
    ws
}

fn stream_burst(c: &mut Criterion) {
    let server = Server::start(ServerConfig::builder().build()).unwrap();
    let (_engine, socket) = connect_engine(&server);
    let mut raw = connect_raw(&server);
    let mut group = c.benchmark_group("engine/stream_burst");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(20);
    let mut n = 0;
    group.bench_function("rig_engine", |b| {
        b.iter(|| {
            n += 1;
            engine_burst(&socket, n);
        });
    });
    group.bench_function("raw_tungstenite_serde_json", |b| {
        b.iter(|| {
            n += 1;
            raw_burst(&mut raw, n);
        });
    });
    group.finish();
}

criterion_group!(benches, stream_burst);
criterion_main!(benches);
