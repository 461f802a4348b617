//! `rig monitor`: join topics and print their events until a count, a
//! duration or a signal; live connection status on stderr. The watch loop
//! is `monitor_watch`, stdout is `monitor_output`, and what ends a watch
//! on the connection's account is `monitor_fate`.

use std::io::IsTerminal as _;
use std::net::ToSocketAddrs as _;
use std::process::ExitCode;
use std::time::Duration;

use crossbeam_channel::{Receiver, never};
use rig::filter::{Expr, Filter};
use rig::metrics::{Metrics, MetricsListener};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::connect;
use crate::event_line::Format;
use crate::exit::{self, CONNECTION, Failure};
use crate::flags::client_command;
use crate::monitor_output::{Output, OverflowPolicy};
use crate::monitor_watch::{Settings, Topic, Watch, dropped_by, join, unread_in};
use crate::ranges::Range;
use crate::status_line::StatusWriter;
use crate::target::join_payload;

/// How long the writer may take to write out what is queued when the
/// watch ends on a signal, the deadline or a failure.
const EXIT_GRACE: Duration = Duration::from_millis(200);

client_command! {
    /// Watch channels: print every event of the topics, one JSON object per
    /// line (ts, topic, event, payload, ref, join_ref), with live
    /// status on stderr. A topic may be a pattern (room:*): rig joins it as
    /// written and prints the events whose topic matches it. Exits 0 after
    /// --count/--duration or on Ctrl-C/SIGTERM, 1 when the server closed
    /// every topic, 2 on a usage error, 3 when the connection fails in a way
    /// rig does not retry (refused token, HTTP 3xx/4xx upgrade, normal close).
    #[argh(subcommand, name = "monitor", example = "rig monitor ws://localhost:4000/socket -t room:lobby -e shout\nrig monitor ws://localhost:4000/socket -t 'stream:*' -w 'payload.seq > 3' -w 'payload.seq <= 9'")]
    pub(crate) struct MonitorArgs {
        /// socket URL, e.g. ws://localhost:4000/socket (wss:// for TLS)
        #[argh(positional)]
        url: String,
        /// topic to join (repeatable, at least one)
        #[argh(option, short = 't')]
        topic: Vec<String>,
        /// print only this event (repeatable; default: every event)
        #[argh(option, short = 'e')]
        event: Vec<String>,
        /// print only events whose payload passes this predicate, e.g.
        /// 'payload.user == "ann"' or 'payload.n > 5' (repeatable, ANDed)
        #[argh(option, short = 'w', long = "where", arg_name = "expr")]
        predicate: Vec<String>,
        /// join parameter KEY=VALUE, JSON when it parses as JSON (repeatable)
        #[argh(option)]
        join_param: Vec<String>,
        /// output format: json (default) or pretty
        #[argh(option, default = "String::from(\"json\")")]
        format: String,
        /// exit after printing this many events
        #[argh(option)]
        count: Option<u64>,
        /// exit after this many seconds
        #[argh(option)]
        duration: Option<f64>,
        /// when output falls behind: block (default: lose nothing, the
        /// server is slowed down), drop-newest or drop-oldest
        #[argh(option, default = "String::from(\"block\")")]
        overflow: String,
        /// join a topic again when the server closes it (phx_close)
        /// instead of exiting 1 once every topic is closed
        #[argh(switch)]
        rejoin_closed: bool,
        /// show a table of the topics (events/s, total, drops, last event,
        /// join state) redrawn every second instead of printing events
        #[argh(switch)]
        top: bool,
        /// serve the engine's, socket's and topics' counters as
        /// OpenMetrics at http://ADDR/metrics (for Prometheus)
        #[argh(option)]
        metrics: Option<String>,
    }
}

/// Runs `rig monitor`.
pub(crate) fn main(args: MonitorArgs) -> ExitCode {
    exit::finish(run(&args))
}

fn run(args: &MonitorArgs) -> Result<u8, Failure> {
    let client = args.client_flags().client(&args.url)?;
    if args.topic.is_empty() {
        return Err(Failure::usage("no topic to watch").hint("give one or more -t TOPIC"));
    }
    let format = match args.format.as_str() {
        "json" => Format::Json,
        "pretty" => Format::Pretty {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        },
        other => {
            return Err(
                Failure::usage(format!("bad --format {other:?}")).hint("use json or pretty")
            );
        }
    };
    let policy = OverflowPolicy::parse(&args.overflow)?;
    let deadline = match args.duration {
        Some(secs) => crossbeam_channel::after(Range::secs(0).seconds("--duration", secs)?),
        None => never(),
    };
    let filters = topic_filters(&args.topic, &args.event, &args.predicate)?;
    let join_params = join_payload(&args.join_param)?;
    // Bound before anything connects: a port in use is a usage error.
    let metrics = args.metrics.as_deref().map(serve_metrics).transpose()?;
    let signals = signal_channel()?;
    let connected = connect::start(client.options)?;
    if let Some((metrics, _)) = &metrics {
        metrics.watch_engine(&connected.engine);
        metrics.watch_socket("monitor", &connected.socket);
    }
    let mut topics = Vec::with_capacity(args.topic.len());
    for (name, filter) in args.topic.iter().zip(filters) {
        let joined = join(&connected, name, &join_params, policy.engine())?;
        if let Some((metrics, _)) = &metrics {
            metrics.watch_channel("monitor", &joined.0);
        }
        topics.push(Topic { name: name.clone(), filter, joined: Some(joined), closed: None });
    }
    connected
        .socket
        .connect()
        .map_err(|e| Failure::new(CONNECTION, format!("cannot connect: {e}")))?;
    let status = StatusWriter::new();
    let output = Output::start(policy, format, status.clone())?;
    let settings = Settings {
        count: args.count,
        policy,
        rejoin: args.rejoin_closed.then_some(join_params),
        redactor: client.redactor,
        top: args.top,
        metrics: metrics.as_ref().map(|(m, _)| m.clone()),
    };
    let mut watch = Watch::new(&connected, topics, settings, output, status);
    let outcome = watch.run(&signals, &deadline);
    watch.finish_top();
    let unoffered = watch.unoffered();
    let Watch { topics, mut output, status, taken, tallied, filtered, closed_drops, .. } = watch;
    output.close();
    crossbeam_channel::select! {
        recv(output.done()) -> _ => {},
        recv(signals) -> _ => {},
        default(EXIT_GRACE) => {},
    }
    let (printed, output_drops) = output.stop();
    let reconnects = connected.socket.health().reconnects;
    // Stopped, the engine adds nothing to the queues: the counts hold still.
    connected.engine.shutdown();
    // Events that reached rig: taken, dropped in front of the watch, or
    // left unread in a subscription when it ended (counted as dropped).
    let engine_drops = closed_drops + dropped_by(&topics) + unread_in(&topics);
    let received = taken + engine_drops;
    let dropped = engine_drops + output_drops + unoffered;
    // --top counts what it would have printed.
    let (shown, verb) = if args.top { (tallied, "counted") } else { (printed, "printed") };
    status.finish(&format!(
        "{shown} events {verb}, {received} received, {filtered} filtered, {dropped} dropped, {reconnects} reconnects"
    ));
    drop(topics);
    outcome
}

/// One filter per `-t` topic pattern, with the `-e` events and all the `-w`
/// predicates; a bad pattern or expression is a usage error.
fn topic_filters(
    topics: &[String],
    events: &[String],
    predicates: &[String],
) -> Result<Vec<Filter>, Failure> {
    let mut exprs = Vec::with_capacity(predicates.len());
    for source in predicates {
        let expr = Expr::parse(source).map_err(|e| {
            let caret = e.caret(source).replace('\n', "\n    ");
            Failure::usage(format!("bad -w expression, {e}\n    {caret}"))
                .hint("write e.g. -w 'payload.user == \"ann\"' or -w 'payload.n > 5'")
        })?;
        exprs.push(expr);
    }
    topics
        .iter()
        .map(|topic| {
            let mut filter = Filter::topic(topic)
                .map_err(|e| Failure::usage(format!("bad topic {topic:?}: {e}")))?;
            if !events.is_empty() {
                filter = filter.events(events.iter().map(String::as_str));
            }
            Ok(exprs.iter().cloned().fold(filter, Filter::when))
        })
        .collect()
}

/// `--metrics ADDR`: the listener, bound now (a bad address or a port in
/// use is a usage error, before anything connects).
fn serve_metrics(addr: &str) -> Result<(Metrics, MetricsListener), Failure> {
    let bad = |why: String| {
        Failure::usage(format!("bad --metrics {addr:?}: {why}"))
            .hint("give HOST:PORT, e.g. 127.0.0.1:9464")
    };
    let socket_addr = addr
        .to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("it resolves to no address".into()))?;
    let metrics = Metrics::new();
    let listener = metrics.serve(socket_addr).map_err(|e| bad(e.to_string()))?;
    Ok((metrics, listener))
}

/// SIGINT and SIGTERM as a channel (the first one ends the watch).
pub(crate) fn signal_channel() -> Result<Receiver<i32>, Failure> {
    let mut signals = Signals::new([SIGINT, SIGTERM])
        .map_err(|e| Failure::new(exit::REFUSED, format!("cannot install signal handlers: {e}")))?;
    let (tx, rx) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("rig-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _ = tx.send(signal);
            }
        })
        .map_err(|e| Failure::new(exit::REFUSED, format!("cannot start a thread: {e}")))?;
    Ok(rx)
}
