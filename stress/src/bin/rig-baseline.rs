//! `rig-baseline`: the clients rig's overhead is measured against, one
//! measured run of a `stream:*` topic each, reported as one JSON line with
//! the fields `rig-bench` prints (so `benches/matrix.py` reads both alike).
//!
//! ```text
//! rig-baseline --mode inline|naive|batch --url ws://HOST:PORT/socket [--topic stream:bench]
//!              (--rate R --count N | --burst --count N) [--pace frame] [--queue Q]
//! ```
//!
//! Modes (no Phoenix client logic beyond the join; no heartbeats, so a run
//! must end within the server's idle timeout, 60 s by default):
//! - `inline`: one thread, blocking tungstenite read, serde_json decode of
//!   the message and its payload inline: the floor.
//! - `naive`: a mio thread reads with non-blocking tungstenite and decodes,
//!   then sends each message to a consumer thread over a crossbeam bounded
//!   channel, one item per send.
//! - `batch`: the same, one `Vec` of messages per read turn.
//!
//! Latency is the consumer's wall clock at receipt minus the payload's `t`
//! (the server's wall clock, same machine), in µs. Exit codes: 0 ok,
//! 1 gaps > 0, 2 usage error, 3 connection failure.

use std::process::ExitCode;
use std::time::Duration;

use argh::FromArgs;

#[path = "rig-baseline/inline.rs"]
mod inline;
#[path = "rig-baseline/pipeline.rs"]
mod pipeline;
#[path = "rig-baseline/record.rs"]
mod record;
#[path = "rig-baseline/wire.rs"]
mod wire;

use record::Recorded;

/// How long `done` may be late after the stream should have ended.
const DONE_GRACE: Duration = Duration::from_secs(120);

/// Measure a stream:* topic with a baseline client; prints one JSON line.
#[derive(FromArgs, Debug)]
struct Args {
    /// inline (one thread), naive (mio thread -> one item per send -> consumer)
    /// or batch (one Vec per read turn)
    #[argh(option)]
    mode: String,
    /// socket URL, e.g. ws://127.0.0.1:4000/socket
    #[argh(option)]
    url: String,
    /// topic to join (default stream:bench)
    #[argh(option, default = "String::from(\"stream:bench\")")]
    topic: String,
    /// events per second the server sends (with --count)
    #[argh(option)]
    rate: Option<u64>,
    /// the server sends every event as fast as the socket takes them
    #[argh(switch)]
    burst: bool,
    /// number of events
    #[argh(option)]
    count: Option<u64>,
    /// frame: the server writes each event as its own frame, on time
    #[argh(option)]
    pace: Option<String>,
    /// messages the hand-off channel holds (naive; batch: that many in
    /// turns of up to 256; default 1024)
    #[argh(option, default = "1024")]
    queue: usize,
}

/// The client pipelines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Inline,
    Naive,
    Batch,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Inline => "inline",
            Self::Naive => "naive",
            Self::Batch => "batch",
        }
    }
}

/// One run's settings, checked.
#[derive(Debug)]
struct Plan {
    mode: Mode,
    url: String,
    topic: String,
    count: u64,
    join_params: String,
    done_wait: Duration,
    queue: usize,
}

impl Plan {
    fn from_args(args: Args) -> Result<Self, String> {
        let mode = match args.mode.as_str() {
            "inline" => Mode::Inline,
            "naive" => Mode::Naive,
            "batch" => Mode::Batch,
            other => return Err(format!("--mode {other}: want inline, naive or batch")),
        };
        let count = match args.count {
            Some(0) => return Err("--count must be at least 1".into()),
            Some(count) => count,
            None => return Err("--count is required".into()),
        };
        let pace = match args.pace.as_deref() {
            None => String::new(),
            Some("frame") => r#","pace":"frame""#.to_owned(),
            Some(other) => return Err(format!("--pace {other}: want frame")),
        };
        let (join_params, done_wait) = match (args.rate, args.burst) {
            (Some(_), true) => return Err("--rate and --burst exclude each other".into()),
            (None, false) => return Err("one of --rate R or --burst is required".into()),
            (Some(0), false) => return Err("--rate must be at least 1".into()),
            (Some(rate), false) => (
                format!(r#"{{"rate":{rate},"count":{count}{pace}}}"#),
                Duration::from_secs(count / rate + 1) + DONE_GRACE,
            ),
            (None, true) => (format!(r#"{{"mode":"burst","count":{count}{pace}}}"#), DONE_GRACE),
        };
        Ok(Self {
            mode,
            url: args.url,
            topic: args.topic,
            count,
            join_params,
            done_wait,
            queue: args.queue.max(1),
        })
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let command = argv.first().map_or("rig-baseline", String::as_str);
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
    let plan = match Plan::from_args(args) {
        Ok(plan) => plan,
        Err(message) => return usage(&message),
    };
    let result = match plan.mode {
        Mode::Inline => inline::run(&plan),
        Mode::Naive | Mode::Batch => pipeline::run(&plan),
    };
    match result {
        Ok(recorded) => {
            let line = recorded.report(plan.mode.name());
            #[expect(clippy::print_stdout, reason = "the report is the program's output")]
            {
                println!("{line}");
            }
            ExitCode::from(u8::from(recorded.gaps > 0))
        }
        Err(message) => {
            eprintln!("rig-baseline: {message}");
            ExitCode::from(3)
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("rig-baseline: {}", message.trim_end());
    eprintln!(
        "usage: rig-baseline --mode inline|naive|batch --url ws://HOST:PORT/socket [--topic T] (--rate R --count N | --burst --count N) [--pace frame] [--queue Q]"
    );
    ExitCode::from(2)
}

/// What a finished run hands back: the recording, or why it failed.
type Outcome = Result<Recorded, String>;
