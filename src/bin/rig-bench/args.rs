//! `rig-bench`'s command line: the flags, the workload they ask for, and
//! the connect parameters.

use std::time::Duration;

use argh::FromArgs;
use rig::protocol::Payload;

use super::DONE_GRACE;

/// Measure a stream:* topic through the rig engine; prints one JSON line.
#[derive(FromArgs, Debug)]
pub(crate) struct Args {
    /// socket URL, e.g. ws://127.0.0.1:4000/socket
    #[argh(option)]
    pub(crate) url: String,
    /// topic to join (default stream:bench)
    #[argh(option, default = "String::from(\"stream:bench\")")]
    pub(crate) topic: String,
    /// events per second the server sends (with --count)
    #[argh(option)]
    pub(crate) rate: Option<u64>,
    /// the server sends every event as fast as the socket takes them
    #[argh(switch)]
    pub(crate) burst: bool,
    /// number of events
    #[argh(option)]
    pub(crate) count: Option<u64>,
    /// capacity of the consumer's queue (dispatch and subscription queues;
    /// default the engine's)
    #[argh(option)]
    pub(crate) queue: Option<usize>,
    /// frame: the server writes each event as its own frame, on time
    #[argh(option)]
    pub(crate) pace: Option<String>,
    /// socket connect param K=V (repeatable)
    #[argh(option)]
    pub(crate) param: Vec<String>,
    /// send the value of this environment variable as the `token` param
    #[argh(option)]
    pub(crate) token_env: Option<String>,
    /// how events are consumed: on (handler on the dispatcher pool, the
    /// default), subscription (channel receiver on the main thread),
    /// filter (socket filter receiver on the main thread) or inline
    /// (invoker mode: the main thread runs the I/O loop and an inline
    /// handler)
    #[argh(option, default = "String::from(\"on\")")]
    pub(crate) consumer: String,
    /// how the engine's threads wait: park (default), backoff or spin
    #[argh(option, default = "String::from(\"park\")")]
    pub(crate) idle: String,
    /// write an HTML report with charts (events and latency per second,
    /// latency histogram) to this file; needs the `report` feature
    #[argh(option)]
    pub(crate) report: Option<std::path::PathBuf>,
    /// serve the engine's, socket's and topic's counters as OpenMetrics at
    /// http://ADDR/metrics during the run (not with --consumer inline)
    #[argh(option)]
    pub(crate) metrics: Option<String>,
}

/// How the server groups events into writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pace {
    /// The server's default: what is due at a wake-up shares a write.
    Batch,
    /// `"pace":"frame"`: one frame per write, each on time.
    Frame,
}

impl Pace {
    pub(crate) fn from_args(args: &Args) -> Result<Self, String> {
        match args.pace.as_deref() {
            None => Ok(Self::Batch),
            Some("frame") => Ok(Self::Frame),
            Some(other) => Err(format!("--pace {other}: want frame")),
        }
    }
}

/// The socket connect params: `--param K=V`s, then `token` from `--token-env`.
pub(crate) fn connect_params(args: &Args) -> Result<Vec<(String, String)>, String> {
    let mut params = Vec::new();
    for kv in &args.param {
        match kv.split_once('=') {
            Some((key, value)) if !key.is_empty() => params.push((key.into(), value.into())),
            _ => return Err(format!("--param {kv}: want K=V")),
        }
    }
    if let Some(var) = &args.token_env {
        // The message names the variable, never its value.
        let token = std::env::var(var)
            .map_err(|_| format!("--token-env {var}: the variable is not set (or not UTF-8)"))?;
        params.push(("token".into(), token));
    }
    Ok(params)
}

/// What the server is asked to send.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Load {
    Rate { rate: u64, count: u64 },
    Burst { count: u64 },
}

impl Load {
    pub(crate) fn from_args(args: &Args) -> Result<Self, String> {
        let count = match args.count {
            Some(0) => return Err("--count must be at least 1".into()),
            Some(count) => count,
            None => return Err("--count is required".into()),
        };
        match (args.rate, args.burst) {
            (Some(_), true) => Err("--rate and --burst exclude each other".into()),
            (None, false) => Err("one of --rate R or --burst is required".into()),
            (Some(0), false) => Err("--rate must be at least 1".into()),
            (Some(rate), false) => Ok(Self::Rate { rate, count }),
            (None, true) => Ok(Self::Burst { count }),
        }
    }

    pub(crate) fn count(self) -> u64 {
        match self {
            Self::Rate { count, .. } | Self::Burst { count } => count,
        }
    }

    pub(crate) fn join_params(self, pace: Pace) -> Payload {
        let pace = if pace == Pace::Frame { r#","pace":"frame""# } else { "" };
        Payload::json(match self {
            Self::Rate { rate, count } => format!(r#"{{"rate":{rate},"count":{count}{pace}}}"#),
            Self::Burst { count } => format!(r#"{{"mode":"burst","count":{count}{pace}}}"#),
        })
    }

    /// How long to wait for `done` after the join.
    pub(crate) fn done_wait(self) -> Duration {
        match self {
            Self::Rate { rate, count } => Duration::from_secs(count / rate + 1) + DONE_GRACE,
            Self::Burst { .. } => DONE_GRACE,
        }
    }
}
