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
    clippy::print_stdout,
    reason = "a benchmark fails loudly and prints its ratio"
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
    print_ratio(&socket, &mut raw, &mut n);
}

/// Runs both pipelines in alternation and prints the ratio of their median
/// burst times, so one run states the engine's speed against the raw reader
/// under the same machine load.
#[expect(clippy::disallowed_methods, reason = "a benchmark measures wall time")]
fn print_ratio(socket: &Socket, raw: &mut tungstenite::WebSocket<TcpStream>, n: &mut u64) {
    const ROUNDS: usize = 9;
    let (mut rig_times, mut raw_times) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        *n += 1;
        let start = std::time::Instant::now();
        engine_burst(socket, *n);
        rig_times.push(start.elapsed());
        *n += 1;
        let start = std::time::Instant::now();
        raw_burst(raw, *n);
        raw_times.push(start.elapsed());
    }
    rig_times.sort();
    raw_times.sort();
    let (rig, raw) = (rig_times[ROUNDS / 2], raw_times[ROUNDS / 2]);
    let per_s = |d: Duration| EVENTS as f64 / d.as_secs_f64();
    println!(
        "engine/stream_burst ratio (median of {ROUNDS} alternating bursts of {EVENTS}): \
         rig {:.2} ms ({:.0} ev/s), raw {:.2} ms ({:.0} ev/s), rig/raw throughput {:.2}x",
        rig.as_secs_f64() * 1e3,
        per_s(rig),
        raw.as_secs_f64() * 1e3,
        per_s(raw),
        raw.as_secs_f64() / rig.as_secs_f64(),
    );
}

criterion_group!(benches, stream_burst);
criterion_main!(benches);
