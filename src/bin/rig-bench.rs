//! `rig-bench`: one measured run of a `stream:*` topic through the engine's
//! public API, reported as one JSON line.
//!
//! ```text
//! rig-bench --url ws://HOST:PORT/socket [--topic stream:bench]
//!           (--rate R --count N | --burst --count N) [--pace frame] [--queue Q]
//!           [--param K=V]... [--token-env VAR] [--consumer on|subscription|filter|inline]
//!           [--idle park|backoff|spin] [--report FILE.html]
//! ```
//!
//! It connects with the `--param`s (and `token` from the environment
//! variable `--token-env` names; never printed), joins the topic with
//! `{"rate":R,"count":N}` or `{"mode":"burst","count":N}` (plus
//! `"pace":"frame"` with `--pace frame`), consumes every `event` until
//! `done` (every consumer with [`Overflow::Block`]: one that falls behind
//! pauses reading instead of dropping) through the `--consumer` path:
//! `on` (the default): an `on_all` handler on the engine's dispatcher pool;
//! `subscription`: a `Channel::subscribe_all_with` receiver drained on the
//! main thread; `filter`: a `Socket::subscribe_filter_with` receiver (topic
//! and events `event`, `done`) drained on the main thread. It prints
//! `mode`, `events`, `elapsed_s` (join to `done`), `events_per_s`,
//! `latency_us` {p50,p90,p99,p999,max} (the payload's `t`, the server's wall
//! clock in µs, to the handler's receipt, wall clock), `cpu_pct` (getrusage
//! of this process, user + sys over the run; 100 = one core), `vmhwm_kb`
//! (peak RSS), `gaps` (missing `seq`s) and `consumer`.
//!
//! With `--report FILE.html` (the `report` feature) it also writes one
//! self-contained page: events and latency p50/p99 per second of the
//! stream, the latency histogram, the JSON line and the command; the file
//! is opened before anything connects (a path that cannot be written, or a
//! build without the feature, is a usage error).
//!
//! Exit codes: 0 ok, 1 gaps > 0, 2 usage error, 3 connection or join failure.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argh::FromArgs;
use hdrhistogram::Histogram;
use rig::engine::{Engine, EngineConfig, IdleStrategy, Overflow, Socket, SocketOptions, Status};
use rig::protocol::Message;
use rig::time::{Clock, Instant};
use serde::Deserialize;

#[path = "rig-bench/args.rs"]
mod args;
#[path = "rig-bench/consumer.rs"]
mod consumer;
#[path = "rig-bench/invoker.rs"]
mod invoker;
#[path = "rig-bench/line.rs"]
mod line;
#[path = "rig-bench/metrics.rs"]
mod metrics;
#[path = "rig-bench/report.rs"]
mod report;
#[path = "rig-bench/series.rs"]
mod series;

use args::{Args, Load, Pace, connect_params};
use consumer::Consumer;
use line::{cpu_time, report};

/// How long the connection may take to open.
const CONNECT_WAIT: Duration = Duration::from_secs(10);
/// Latencies above this (µs) are recorded as this: a minute.
const MAX_LATENCY_US: u64 = 60_000_000;
/// How long `done` may be late after the stream should have ended.
const DONE_GRACE: Duration = Duration::from_secs(120);

/// The payload of a stream event.
#[derive(Deserialize)]
struct Tick {
    seq: u64,
    t: u64,
}

/// What the handler collected, handed over on `done`.
#[derive(Debug)]
struct Recorded {
    events: u64,
    gaps: u64,
    /// The next `seq` expected (1-based).
    next_seq: u64,
    latency_us: Histogram<u64>,
    /// Per second of the stream, for `--report`.
    series: series::Series,
    done_at: Option<Instant>,
}

impl Recorded {
    #[expect(
        clippy::expect_used,
        reason = "constant bounds: 1 <= low, high >= 2 * low, sigfig <= 5"
    )]
    fn new() -> Self {
        // A fixed range: `saturating_record` never resizes, so a histogram
        // from `Histogram::new` (range 1..=2) would clamp every sample.
        let latency_us =
            Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant bounds are valid");
        let series = series::Series::default();
        Self { events: 0, gaps: 0, next_seq: 1, latency_us, series, done_at: None }
    }

    fn on_event(&mut self, message: &Message) {
        let Some(tick) =
            message.payload.as_json().and_then(|p| serde_json::from_str::<Tick>(p).ok())
        else {
            return;
        };
        let latency_us = unix_us().saturating_sub(tick.t);
        self.series.record(tick.t, latency_us);
        self.record(tick.seq, latency_us);
    }

    /// Counts event `seq`, received `latency_us` after it was sent.
    fn record(&mut self, seq: u64, latency_us: u64) {
        self.latency_us.saturating_record(latency_us);
        self.events += 1;
        self.gaps += seq.saturating_sub(self.next_seq);
        self.next_seq = self.next_seq.max(seq.saturating_add(1));
    }

    /// At `done`: events never seen at the end are gaps too.
    fn finish(&mut self, count: u64, now: Instant) {
        self.gaps += count.saturating_add(1).saturating_sub(self.next_seq);
        self.done_at = Some(now);
    }
}

#[expect(
    clippy::disallowed_methods,
    reason = "latency is measured against the server's wall clock"
)]
fn unix_us() -> u64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since_epoch.as_micros()).unwrap_or(u64::MAX)
}

/// How a run failed: the message and the exit code.
struct Failure(u8, String);

fn main() -> ExitCode {
    // argh has no version flag, and `rig --version` must not demand a subcommand.
    if std::env::args().nth(1).is_some_and(|a| a == "--version" || a == "-V") {
        let _ = writeln!(std::io::stdout(), "rig-bench {}", rig::VERSION);
        return ExitCode::SUCCESS;
    }
    let argv: Vec<String> = std::env::args().collect();
    let command = argv.first().map_or("rig-bench", String::as_str);
    let rest: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    let args = match Args::from_args(&[command], &rest) {
        Ok(args) => args,
        Err(early) if early.status.is_ok() => {
            #[expect(clippy::print_stdout, reason = "--help goes to stdout")]
            {
                println!("{}", early.output);
            }
            return ExitCode::SUCCESS;
        }
        Err(early) => return usage(&early.output),
    };
    let load = match Load::from_args(&args) {
        Ok(load) => load,
        Err(message) => return usage(&message),
    };
    let setup = Pace::from_args(&args).and_then(|pace| {
        let consumer = args.consumer.parse::<Consumer>()?;
        let idle = IdleStrategy::parse(&args.idle)
            .ok_or_else(|| format!("--idle {}: want park, backoff or spin", args.idle))?;
        let exposed = metrics::Exposed::bind(args.metrics.as_deref()).map_err(|Failure(_, m)| m)?;
        Ok(Setup { pace, consumer, idle, params: connect_params(&args)?, exposed })
    });
    let setup = match setup {
        Ok(setup) => setup,
        Err(message) => return usage(&message),
    };
    // Before anything connects: an unwritable path is a usage error.
    let html = match args.report.as_deref().map(report::create).transpose() {
        Ok(file) => file,
        Err(Failure(_, message)) => return usage(&message),
    };
    match run(&args, load, &setup) {
        Ok(report) => {
            if let Some(file) = html {
                let command = report::command_line(&argv);
                if let Err(message) = write_html(file, &report, &command) {
                    eprintln!("rig-bench: {message}");
                    return ExitCode::from(2);
                }
            }
            #[expect(clippy::print_stdout, reason = "the report is the program's output")]
            {
                println!("{}", report.line);
            }
            ExitCode::from(u8::from(report.gaps > 0))
        }
        Err(Failure(2, message)) => usage(&message),
        Err(Failure(code, message)) => {
            eprintln!("rig-bench: {message}");
            ExitCode::from(code)
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("rig-bench: {}", message.trim_end());
    eprintln!(
        "usage: rig-bench --url ws://HOST:PORT/socket [--topic stream:bench] (--rate R --count N | --burst --count N) [--pace frame] [--queue Q] [--param K=V]... [--token-env VAR] [--consumer on|subscription|filter|inline] [--idle park|backoff|spin] [--report FILE.html]"
    );
    ExitCode::from(2)
}

/// Writes the `--report` page.
#[cfg(feature = "report")]
fn write_html(mut file: std::fs::File, report: &Report, command: &str) -> Result<(), String> {
    let html = report::render(&report.value, command, &report.series, &report.latency_us)?;
    file.write_all(html.as_bytes()).map_err(|e| format!("cannot write the report: {e}"))
}

/// Never called: `report::create` refuses `--report` without the feature.
#[cfg(not(feature = "report"))]
fn write_html(_: std::fs::File, _: &Report, _: &str) -> Result<(), String> {
    Err("this rig-bench was built without the `report` feature".into())
}

/// The printed line and the gaps it reports, and what `--report` draws.
#[cfg_attr(
    not(feature = "report"),
    expect(dead_code, reason = "drawn by --report, which needs the report feature")
)]
struct Report {
    line: String,
    gaps: u64,
    value: serde_json::Value,
    series: series::Series,
    latency_us: Histogram<u64>,
}

/// The checked flags beside the load.
#[derive(Debug)]
struct Setup {
    pace: Pace,
    consumer: Consumer,
    idle: IdleStrategy,
    params: Vec<(String, String)>,
    exposed: metrics::Exposed,
}

fn run(args: &Args, load: Load, setup: &Setup) -> Result<Report, Failure> {
    // Block: a consumer that falls behind pauses reading of the socket
    // (TCP backpressure to the server) instead of dropping, so a burst
    // measures what the engine delivers, not what a full queue let through.
    let mut config = EngineConfig::builder().overflow(Overflow::Block).idle(setup.idle);
    if setup.consumer != Consumer::On {
        // Only `on` handlers run on the pool: its workers stay parked
        // rather than spin a core each for nothing.
        config = config.dispatch_idle(IdleStrategy::Park);
    }
    if let Some(queue) = args.queue {
        config = config.dispatch_capacity(queue).subscription_capacity(queue);
    }
    let options = SocketOptions::builder(args.url.as_str())
        .params(setup.params.iter().cloned())
        .build()
        .map_err(|e| Failure(2, format!("--url {}: {e}", args.url)))?;
    if setup.consumer == Consumer::Inline {
        let (recorded, elapsed, cpu) =
            invoker::measure(config.build(), options, &args.topic, load, setup)?;
        return Ok(report(&recorded, elapsed, cpu, setup));
    }
    let engine = Engine::start(config.build())
        .map_err(|e| Failure(3, format!("cannot start the engine: {e}")))?;
    let socket =
        engine.socket(options).map_err(|e| Failure(2, format!("--url {}: {e}", args.url)))?;
    setup.exposed.engine(&engine, &socket);
    let result = measure(&socket, &args.topic, load, setup);
    engine.shutdown();
    result
}

fn measure(socket: &Socket, topic: &str, load: Load, setup: &Setup) -> Result<Report, Failure> {
    let clock = Clock::real();
    open(socket, &clock)?;
    let channel = socket
        .channel(topic, load.join_params(setup.pace))
        .map_err(|e| Failure(3, format!("cannot create {topic}: {e}")))?;
    setup.exposed.channel(&channel);
    let attached = consumer::attach(setup.consumer, socket, &channel, topic, load, &clock)?;
    let cpu_before = cpu_time();
    let started = clock.now();
    channel.join().wait().map_err(|e| Failure(3, format!("join {topic}: {e}")))?;
    let mut recorded = attached.wait(load, topic, &clock)?;
    let cpu = cpu_time().saturating_sub(cpu_before);
    let done_at = recorded.done_at.take().unwrap_or_else(|| clock.now());
    let elapsed = done_at.saturating_duration_since(started);
    let _ = channel.leave().wait_timeout(Duration::from_secs(1));
    Ok(report(&recorded, elapsed, cpu, setup))
}

/// Connects and waits for the socket to open.
fn open(socket: &Socket, clock: &Clock) -> Result<(), Failure> {
    let status = socket.status().map_err(|e| Failure(3, e.to_string()))?;
    socket.connect().map_err(|e| Failure(3, e.to_string()))?;
    let deadline = clock.now() + CONNECT_WAIT;
    loop {
        let left = deadline.saturating_duration_since(clock.now());
        match status.recv_timeout(left) {
            Ok(Status::Open) => return Ok(()),
            Ok(Status::Failed { error }) => return Err(Failure(3, format!("connect: {error}"))),
            Ok(Status::AuthFailed { status }) => {
                return Err(Failure(3, format!("connect refused: HTTP {status}")));
            }
            Ok(Status::GaveUp { attempts }) => {
                return Err(Failure(3, format!("connect: gave up after {attempts} attempts")));
            }
            Ok(_) => {}
            Err(_) => return Err(Failure(3, format!("connect: not open within {CONNECT_WAIT:?}"))),
        }
    }
}

#[cfg(test)]
#[path = "rig-bench/tests.rs"]
mod tests;
