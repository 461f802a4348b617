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
//! `engine/stream_burst_typed` reads every event into a struct:
//! `rig_on_decoded` with [`Channel::on_decoded`] (rig-io reads the
//! envelope, a dispatcher worker the payload), `rig_invoker_on_inline_decode`
//! with an engine in invoker mode whose inline handler calls
//! [`Message::decode`](rig::protocol::Message::decode) (one thread, as the
//! baseline), against `raw_tungstenite_serde_typed`, one
//! `serde_json::from_slice` of each frame straight into the typed envelope:
//! the typed decode's cost per event, end to end, against serde_json alone.
//!
//! After the criterion groups, each group's pipelines run in turn, 9 bursts
//! each, and the medians are printed as ratios to the last (the baseline):
//! the server runs in this process and shares the machine's cores, so only
//! ratios from one run compare.
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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rig::engine::{Channel, Engine, EngineConfig, Invoker, Socket, SocketOptions, Status};
use rig::protocol::Payload;
use rig::server::{Server, ServerConfig, ServerHandle};
use serde::Deserialize;
use tungstenite::client::IntoClientRequest as _;

const EVENTS: u64 = 20_000;
const WAIT: Duration = Duration::from_secs(30);

/// The baseline's client: a blocking tungstenite socket.
type RawSocket = tungstenite::WebSocket<TcpStream>;

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
fn raw_burst(ws: &mut RawSocket, n: u64) {
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

/// A `stream:*` event as the application reads it. The defaults let the
/// same struct read the join reply and `done` (serde skips unknown keys), so
/// the raw baseline parses every frame once, straight into it.
#[derive(Deserialize, Default)]
struct StreamEvent {
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    t: u64,
}

/// One burst read into [`StreamEvent`]s by `on_decoded` handlers.
fn engine_typed_burst(socket: &Socket, n: u64) {
    let stream: Channel = socket.channel(format!("stream:typed{n}"), burst_params()).unwrap();
    let (events, sum) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (count, total) = (Arc::clone(&events), Arc::clone(&sum));
    stream
        .on_decoded("event", move |event: Result<StreamEvent, _>| {
            let event = event.unwrap();
            count.fetch_add(1, Ordering::Relaxed);
            total.fetch_add(event.seq ^ event.t, Ordering::Relaxed);
        })
        .unwrap();
    // Handlers of one topic run in order, so `done` comes after every event.
    let (done_tx, done) = crossbeam_channel::bounded(1);
    stream
        .on("done", move |_| {
            let _ = done_tx.try_send(());
        })
        .unwrap();
    stream.join().wait().unwrap();
    done.recv_timeout(WAIT).unwrap();
    assert_eq!(events.load(Ordering::Relaxed), EVENTS);
    black_box(sum.load(Ordering::Relaxed));
    stream.leave().wait().unwrap();
}

/// One burst read into [`StreamEvent`]s by an inline handler of an engine
/// in invoker mode: one thread reads, decodes and handles, as the raw
/// baseline does.
fn invoker_typed_burst(invoker: &mut Invoker, socket: &Socket, n: u64) {
    let stream = socket.channel(format!("stream:inv{n}"), burst_params()).unwrap();
    let (events, sum) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (count, total) = (Arc::clone(&events), Arc::clone(&sum));
    stream
        .on_inline("event", move |message| {
            let event: StreamEvent = message.decode().unwrap();
            count.fetch_add(1, Ordering::Relaxed);
            total.fetch_add(event.seq ^ event.t, Ordering::Relaxed);
        })
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&done);
    stream.on_inline("done", move |_| flag.store(true, Ordering::Relaxed)).unwrap();
    let _join = stream.join();
    invoker.run_until(|| done.load(Ordering::Relaxed)).unwrap();
    assert_eq!(events.load(Ordering::Relaxed), EVENTS);
    black_box(sum.load(Ordering::Relaxed));
    let mut leave = stream.leave();
    let mut outcome = None;
    invoker
        .run_until(|| {
            outcome = leave.try_outcome();
            outcome.is_some()
        })
        .unwrap();
    outcome.unwrap().unwrap();
}

/// The typed V2 envelope serde_json reads in one pass.
type TypedFrame<'a> = (Option<&'a str>, Option<&'a str>, &'a str, &'a str, StreamEvent);

/// The same burst, each frame parsed by serde_json into [`TypedFrame`].
fn raw_typed_burst(ws: &mut RawSocket, n: u64) {
    let join =
        format!(r#"["{n}","{n}","stream:rawt{n}","phx_join",{{"mode":"burst","count":{EVENTS}}}]"#);
    ws.send(tungstenite::Message::text(join)).unwrap();
    let (mut events, mut sum) = (0, 0);
    loop {
        let data = ws.read().unwrap().into_data();
        let (_, _, _, event, body) = serde_json::from_slice::<TypedFrame<'_>>(&data).unwrap();
        match event {
            "event" => {
                events += 1;
                sum += body.seq ^ body.t;
            }
            "done" => break,
            _ => {}
        }
    }
    assert_eq!(events, EVENTS);
    black_box(sum);
    let leave = format!(r#"["{n}","l{n}","stream:rawt{n}","phx_leave",{{}}]"#);
    ws.send(tungstenite::Message::text(leave)).unwrap();
}

fn connect_engine(server: &ServerHandle) -> (Engine, Socket) {
    // Queues that hold a whole burst: nothing is dropped, as the raw reader drops nothing.
    let config =
        EngineConfig::builder().subscription_capacity(1 << 15).dispatch_capacity(1 << 15).build();
    let engine = Engine::start(config).unwrap();
    let socket = engine.socket(SocketOptions::builder(server.url()).build().unwrap()).unwrap();
    let status = socket.status().unwrap();
    socket.connect().unwrap();
    while status.recv_timeout(WAIT).unwrap() != Status::Open {}
    (engine, socket)
}

fn connect_invoker(server: &ServerHandle) -> (Engine, Invoker, Socket) {
    let (engine, mut invoker) = Engine::start_invoker(EngineConfig::default()).unwrap();
    let socket = engine.socket(SocketOptions::builder(server.url()).build().unwrap()).unwrap();
    let status = socket.status().unwrap();
    socket.connect().unwrap();
    invoker.run_until(|| status.try_recv() == Ok(Status::Open)).unwrap();
    (engine, invoker, socket)
}

fn connect_raw(server: &ServerHandle) -> RawSocket {
    let url = format!("{}/websocket?vsn=2.0.0", server.url());
    let stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_nodelay(true).unwrap();
    let (ws, _) = tungstenite::client(url.into_client_request().unwrap(), stream).unwrap();
    ws
}

/// One burst of [`EVENTS`] through a pipeline, given a burst number no
/// other burst of the run uses (it names the topic).
type Pipeline<'a> = (&'a str, &'a mut dyn FnMut(u64));

fn stream_burst(c: &mut Criterion) {
    let server = Server::start(ServerConfig::builder().build()).unwrap();
    let (_engine, socket) = connect_engine(&server);
    let (_invoker_engine, mut invoker, invoker_socket) = connect_invoker(&server);
    let mut raw = connect_raw(&server);
    compare(
        c,
        "engine/stream_burst",
        &mut [
            ("rig_engine", &mut |n| engine_burst(&socket, n)),
            ("raw_tungstenite_serde_json", &mut |n| raw_burst(&mut raw, n)),
        ],
    );
    compare(
        c,
        "engine/stream_burst_typed",
        &mut [
            ("rig_on_decoded", &mut |n| engine_typed_burst(&socket, n)),
            ("rig_invoker_on_inline_decode", &mut |n| {
                invoker_typed_burst(&mut invoker, &invoker_socket, n);
            }),
            ("raw_tungstenite_serde_typed", &mut |n| raw_typed_burst(&mut raw, n)),
        ],
    );
}

/// Benchmarks each pipeline in one criterion group, then runs them in
/// turn and prints the median burst time of each against the last (the
/// baseline), so one run states the ratios under the same machine load.
#[expect(clippy::disallowed_methods, reason = "a benchmark measures wall time")]
fn compare(c: &mut Criterion, name: &str, pipelines: &mut [Pipeline<'_>]) {
    const ROUNDS: usize = 9;
    static BURST: AtomicU64 = AtomicU64::new(0);
    let next = || BURST.fetch_add(1, Ordering::Relaxed);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(20);
    for (pipeline_name, run) in pipelines.iter_mut() {
        group.bench_function(*pipeline_name, |b| b.iter(|| run(next())));
    }
    group.finish();
    let mut times = vec![Vec::new(); pipelines.len()];
    for _ in 0..ROUNDS {
        for ((_, run), times) in pipelines.iter_mut().zip(&mut times) {
            let start = std::time::Instant::now();
            run(next());
            times.push(start.elapsed());
        }
    }
    let medians: Vec<Duration> = times
        .iter_mut()
        .map(|t| {
            t.sort();
            t[ROUNDS / 2]
        })
        .collect();
    let baseline = medians[medians.len() - 1];
    let per_s = |d: Duration| EVENTS as f64 / d.as_secs_f64();
    println!("{name}: median of {ROUNDS} bursts of {EVENTS} each, taken in turn:");
    for ((pipeline_name, _), median) in pipelines.iter().zip(&medians) {
        println!(
            "  {pipeline_name:30} {:7.2} ms {:>9.0} ev/s  time per event {:.2}x the last",
            median.as_secs_f64() * 1e3,
            per_s(*median),
            median.as_secs_f64() / baseline.as_secs_f64(),
        );
    }
}

criterion_group!(benches, stream_burst);
criterion_main!(benches);
