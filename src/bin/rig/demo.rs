//! `rig demo`: the engine against the embedded server on loopback, live:
//! a `stream:*` topic at `--rate` events/s, a room and a presence topic;
//! midway the server restarts on the same port, so a reconnect and rejoin
//! can be watched. Ends with a summary.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;
use crossbeam_channel::{after, select, tick};
use rig::engine::{Engine, EngineConfig, Socket, SocketOptions, Status, Subscription};
use rig::protocol::Payload;
use rig::server::{Server, ServerConfig, ServerHandle};
use rig::time::Clock;

use crate::exit::{self, CONNECTION, Failure, OK};
use crate::latency::{Samples, WallMicros, stamp};
use crate::push::print_line;
use crate::ranges::Range;
use crate::status_line::{rtt_text, state_name};
use crate::top::{Tally, TopView};

/// Watch the engine live against the embedded server on loopback: event rate,
/// end-to-end latency, heartbeat RTT, queues, drops and a server restart midway
/// (reconnect and rejoin). Exits 0 after --duration or on Ctrl-C.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "demo")]
pub(crate) struct DemoArgs {
    /// how long to run, in seconds (default 20)
    #[argh(option, default = "20.0")]
    duration: f64,
    /// stream events per second (default 1000)
    #[argh(option, default = "1000")]
    rate: u64,
}

/// The fastest `--rate`: beyond it the loopback stream only measures the
/// machine.
const MAX_DEMO_RATE: u64 = 1_000_000;

/// The stream never ends within a demo.
const STREAM_COUNT: u64 = 1_000_000_000_000;

/// Runs `rig demo`.
pub(crate) fn main(args: DemoArgs) -> ExitCode {
    exit::finish(run(&args))
}

fn start_server(addr: SocketAddr) -> Result<ServerHandle, Failure> {
    Server::start(ServerConfig::builder().addr(addr).build()).map_err(|e| {
        Failure::new(CONNECTION, format!("cannot start the embedded server on {addr}: {e}"))
    })
}

fn run(args: &DemoArgs) -> Result<u8, Failure> {
    let duration = Range::secs(0).seconds("--duration", args.duration)?;
    if duration.is_zero() {
        return Err(Failure::usage("--duration 0 is out of range: it must be above 0 s")
            .hint("give seconds above 0, e.g. 20"));
    }
    Range { min: 1, max: MAX_DEMO_RATE, unit: "events/s" }.check("--rate", args.rate)?;
    let signals = crate::monitor::signal_channel()?;
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut server = Some(start_server(loopback)?);
    let (addr, url) = match &server {
        Some(s) => (s.local_addr(), s.url().to_owned()),
        None => return Err(Failure::new(CONNECTION, "the embedded server did not start")),
    };
    print_line(&format!("embedded server on {url}; stream:demo at {} events/s", args.rate))?;
    // On a terminal the figures are a table redrawn in place; otherwise
    // one plain line per second (logs, pipes, tests).
    let mut live = Live::new(std::io::stdout().is_terminal());
    let engine = Engine::start(EngineConfig::builder().build())
        .map_err(|e| Failure::new(CONNECTION, format!("cannot start the engine: {e}")))?;
    let options = SocketOptions::builder(url)
        .heartbeat_interval(Duration::from_secs(1))
        .build()
        .map_err(|e| Failure::usage(format!("bad settings: {e}")))?;
    let socket = engine.socket(options).map_err(stopped)?;
    let status = socket.status().map_err(stopped)?;
    let stream_params = format!(r#"{{"rate":{},"count":{STREAM_COUNT}}}"#, args.rate);
    let stream = subscribe(&socket, "stream:demo", &stream_params)?;
    let room = subscribe(&socket, "room:demo", "{}")?;
    let presence =
        subscribe(&socket, "presence:demo", r#"{"user_id":"demo","status":"watching"}"#)?;
    socket.connect().map_err(stopped)?;

    let clock = Clock::real();
    let wall = WallMicros::new(clock.clone());
    let started = clock.now();
    let seconds = tick(Duration::from_secs(1));
    let restart = after(duration / 2);
    let end = after(duration);
    let mut window = Samples::default();
    let mut all = Samples::default();
    let mut events = 0u64;
    let mut window_events = 0u64;
    let mut last_tick = started;
    let mut other = 0u64;
    let mut tallies: [Tally; 3] = Default::default();
    loop {
        select! {
            recv(stream.1.receiver()) -> message => {
                let Ok(message) = message else { continue };
                tallies[0].count(clock.now());
                if message.is_event("event") {
                    events += 1;
                    window_events += 1;
                    if let Some(t) = message.payload.as_json().and_then(stamp) {
                        window.push(wall.now_us().saturating_sub(t));
                    }
                }
            }
            recv(room.1.receiver()) -> message => {
                if message.is_ok() {
                    other += 1;
                    tallies[1].count(clock.now());
                }
            }
            recv(presence.1.receiver()) -> message => {
                if let Ok(message) = message {
                    other += 1;
                    tallies[2].count(clock.now());
                    live.log(&format!("  presence: {} {}", message.event, crate::connect::payload_text(&message.payload)))?;
                }
            }
            recv(status) -> entry => {
                if let Ok(entry) = entry
                    && !matches!(entry, Status::WaitingToReconnect { .. }) {
                        live.log(&format!("  status: {entry}"))?;
                    }
            }
            recv(seconds) -> _ => {
                let now = clock.now();
                let span = now.saturating_duration_since(last_tick).as_secs_f64().max(1e-3);
                last_tick = now;
                let elapsed = now.saturating_duration_since(started).as_secs_f64();
                let rate = window_events as f64 / span;
                window_events = 0;
                let latency = window.quantiles([0.5, 0.99]);
                all.extend(&window);
                window.clear();
                let line = live_line(elapsed, rate, latency, &socket, &engine, &stream.1);
                let topics = [&stream, &room, &presence];
                let rows: Vec<_> = tallies.iter_mut().zip(topics).map(|(tally, (channel, sub))| {
                    tally.row(channel.topic(), Duration::from_secs_f64(span), now, sub.dropped(), channel.state())
                }).collect();
                live.tick(&line, &rows)?;
            }
            recv(restart) -> _ => {
                live.log(&format!("  restarting the embedded server on {addr}: watch the reconnect and rejoin"))?;
                if let Some(old) = server.take() {
                    old.shutdown();
                }
                server = Some(start_server(addr)?);
            }
            recv(end) -> _ => break,
            recv(signals) -> _ => break,
        }
    }
    all.extend(&window);
    live.finish()?;
    let elapsed = clock.now().saturating_duration_since(started).as_secs_f64();
    let health = socket.health();
    let drops = health.dropped + stream.1.dropped() + room.1.dropped() + presence.1.dropped();
    let summary = match all.quantiles([0.5, 0.9, 0.99, 1.0]) {
        Some([p50, p90, p99, max]) => format!(
            "latency p50 {} p90 {} p99 {} max {}",
            rtt_text(Some(p50)),
            rtt_text(Some(p90)),
            rtt_text(Some(p99)),
            rtt_text(Some(max))
        ),
        None => "latency -".to_owned(),
    };
    print_line(&format!(
        "summary: {elapsed:.1}s, {events} stream events ({:.0}/s), {} samples, {summary}, heartbeat rtt {}, {other} room/presence messages, reconnects {}, drops {drops}",
        events as f64 / elapsed.max(1e-3),
        all.len(),
        rtt_text(health.heartbeat_rtt),
        health.reconnects,
    ))?;
    drop((stream, room, presence));
    engine.shutdown();
    if let Some(server) = server {
        server.shutdown();
    }
    Ok(OK)
}

/// Where the live figures go: a table redrawn in place on a terminal,
/// plain lines otherwise.
#[derive(Debug)]
struct Live {
    table: Option<TopView>,
}

impl Live {
    fn new(terminal: bool) -> Self {
        Self { table: terminal.then(TopView::default) }
    }

    /// A line that stays (a status change, the restart).
    fn log(&mut self, line: &str) -> Result<(), Failure> {
        match &mut self.table {
            Some(view) => written(view.log(&mut std::io::stdout().lock(), line)),
            None => print_line(line),
        }
    }

    /// This second's figures.
    fn tick(&mut self, line: &str, rows: &[crate::top::TopicRow]) -> Result<(), Failure> {
        match &mut self.table {
            Some(view) => written(view.draw(&mut std::io::stdout().lock(), line, rows)),
            None => print_line(line),
        }
    }

    /// Takes the table off the screen before the summary.
    fn finish(&mut self) -> Result<(), Failure> {
        match &mut self.table {
            Some(view) => written(view.clear(&mut std::io::stdout().lock())),
            None => Ok(()),
        }
    }
}

/// As [`print_line`]: a closed pipe is not a failure of the demo.
fn written(result: std::io::Result<()>) -> Result<(), Failure> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure::new(exit::REFUSED, format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}

fn stopped(e: rig::engine::EngineError) -> Failure {
    Failure::new(CONNECTION, format!("the engine stopped: {e}"))
}

/// A channel, its subscription to everything, and its join in flight.
fn subscribe(
    socket: &Socket,
    topic: &str,
    params: &str,
) -> Result<(rig::engine::Channel, Subscription), Failure> {
    let channel = socket.channel(topic, Payload::json(params.to_owned())).map_err(stopped)?;
    let subscription = channel.subscribe_all().map_err(stopped)?;
    let _join = channel.join();
    Ok((channel, subscription))
}

/// One line per second: what the engine sees right now.
fn live_line(
    elapsed: f64,
    rate: f64,
    latency: Option<[Duration; 2]>,
    socket: &Socket,
    engine: &Engine,
    stream: &Subscription,
) -> String {
    let health = socket.health();
    let engine_health = engine.health();
    let (p50, p99) = latency.map_or((None, None), |[a, b]| (Some(a), Some(b)));
    format!(
        "{elapsed:5.1}s {:<12} ev/s {rate:6.0}  latency p50 {} p99 {}  rtt {}  queued {} pending {} commands {} dispatch {}  drops {}  reconnects {}",
        state_name(health.state),
        rtt_text(p50),
        rtt_text(p99),
        rtt_text(health.heartbeat_rtt),
        health.queued,
        health.pending_pushes,
        engine_health.command_queue,
        engine_health.dispatch_queue,
        health.dropped + stream.dropped(),
        health.reconnects,
    )
}
