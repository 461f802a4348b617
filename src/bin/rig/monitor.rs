//! `rig monitor`: join topics and print their events until a count, a
//! duration or a signal; live connection status on stderr.

use std::io::{IsTerminal as _, Write as _};
use std::process::ExitCode;
use std::time::Duration;

use crossbeam_channel::{Receiver, Select, never, tick};
use rig::engine::{Channel, Status, Subscription};
use rig::filter::{Expr, Filter};
use rig::protocol::Payload;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::connect::{self, fatal_status};
use crate::event_line::{json_line, pretty_line, rfc3339, unix_now};
use crate::exit::{self, CONNECTION, Failure, OK};
use crate::flags::client_command;
use crate::ranges::Range;
use crate::status_line::{StatusWriter, render};
use crate::target::{Redactor, join_payload};

/// How often the live status line is redrawn.
const REDRAW: Duration = Duration::from_millis(250);

client_command! {
    /// Watch channels: print every event of the topics, one JSON object per
    /// line (ts, topic, event, payload, ref, join_ref), with live
    /// status on stderr. A topic may be a pattern (room:*): rig joins it as
    /// written and prints the events whose topic matches it. Exits 0 after
    /// --count/--duration or on Ctrl-C/SIGTERM, 2 on a bad -w expression, 3
    /// if the server refuses authentication.
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
    }
}

/// Runs `rig monitor`.
pub(crate) fn main(args: MonitorArgs) -> ExitCode {
    exit::finish(run(&args))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Json,
    Pretty { color: bool },
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
    let deadline = match args.duration {
        Some(secs) => crossbeam_channel::after(Range::secs(0).seconds("--duration", secs)?),
        None => never(),
    };
    let filters = topic_filters(&args.topic, &args.event, &args.predicate)?;
    let join_params = join_payload(&args.join_param)?;
    let signals = signal_channel()?;
    let redactor = client.redactor.clone();
    let connected = connect::start(client.options)?;
    let mut channels = Vec::with_capacity(args.topic.len());
    for topic in &args.topic {
        let channel = connected
            .socket
            .channel(topic.as_str(), Payload::json(join_params.clone()))
            .map_err(|e| Failure::usage(format!("bad topic {topic:?}: {e}")))?;
        let subscription = channel
            .subscribe_all()
            .map_err(|e| Failure::new(CONNECTION, format!("cannot subscribe: {e}")))?;
        let _join = channel.join();
        channels.push((channel, subscription));
    }
    connected
        .socket
        .connect()
        .map_err(|e| Failure::new(CONNECTION, format!("cannot connect: {e}")))?;
    let mut watch = Watch {
        format,
        filters: &filters,
        count: args.count,
        printed: 0,
        seen: 0,
        writer: StatusWriter::new(),
        redactor,
    };
    let outcome = watch.run(&connected.status, &channels, &signals, &deadline, &connected);
    let health = connected.socket.health();
    let drops: u64 = channels.iter().map(|(_, s)| s.dropped()).sum::<u64>() + health.dropped;
    watch.writer.note(&format!(
        "{} events printed, {} received, {drops} dropped, {} reconnects",
        watch.printed, watch.seen, health.reconnects
    ));
    drop(channels);
    connected.engine.shutdown();
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

/// The watch loop's state.
struct Watch<'a> {
    format: Format,
    /// The filter of each channel, by the channel's index.
    filters: &'a [Filter],
    count: Option<u64>,
    printed: u64,
    /// Events received, printed or filtered out.
    seen: u64,
    writer: StatusWriter,
    redactor: Redactor,
}

impl Watch<'_> {
    fn run(
        &mut self,
        status: &Receiver<Status>,
        channels: &[(Channel, Subscription)],
        signals: &Receiver<i32>,
        deadline: &Receiver<std::time::Instant>,
        connected: &connect::Connected,
    ) -> Result<u8, Failure> {
        if self.count == Some(0) {
            return Ok(OK);
        }
        let redraw = if self.writer.is_live() { tick(REDRAW) } else { never() };
        let mut select = Select::new();
        let status_index = select.recv(status);
        let signal_index = select.recv(signals);
        let deadline_index = select.recv(deadline);
        let redraw_index = select.recv(&redraw);
        let first_sub = redraw_index + 1;
        for (_, subscription) in channels {
            select.recv(subscription.receiver());
        }
        let mut rate = 0.0;
        let mut last_redraw_events = 0u64;
        loop {
            let op = select.select();
            let index = op.index();
            if index == status_index {
                let Ok(entry) = op.recv(status) else { return Ok(OK) };
                if let Some(code) = self.on_status(&entry)? {
                    return Ok(code);
                }
            } else if index == signal_index {
                let _ = op.recv(signals);
                return Ok(OK);
            } else if index == deadline_index {
                let _ = op.recv(deadline);
                return Ok(OK);
            } else if index == redraw_index {
                let _ = op.recv(&redraw);
                let per_second = 1.0 / REDRAW.as_secs_f64();
                let fresh = self.seen.saturating_sub(last_redraw_events);
                last_redraw_events = self.seen;
                // A smoothed rate: each redraw moves halfway to the latest window.
                rate = (rate + fresh as f64 * per_second) / 2.0;
                let health = connected.socket.health();
                let drops = channels.iter().map(|(_, s)| s.dropped()).sum::<u64>() + health.dropped;
                self.writer.redraw(&render(&health, rate, self.printed, drops));
            } else if let Some(((_, subscription), filter)) =
                index.checked_sub(first_sub).and_then(|i| channels.get(i).zip(self.filters.get(i)))
            {
                let Ok(message) = op.recv(subscription.receiver()) else {
                    select.remove(index);
                    continue;
                };
                self.seen += 1;
                if !filter.matches(&message) {
                    continue;
                }
                let ts = rfc3339(unix_now());
                let line = match self.format {
                    Format::Json => json_line(&ts, &message),
                    Format::Pretty { color } => pretty_line(&ts, &message, color),
                };
                if !self.writer.above(|| print_event(&line)) {
                    return Ok(OK);
                }
                self.printed += 1;
                if self.count.is_some_and(|count| self.printed >= count) {
                    return Ok(OK);
                }
            }
        }
    }

    /// Reports a status entry; `Some(code)` ends the watch.
    fn on_status(&mut self, entry: &Status) -> Result<Option<u8>, Failure> {
        match entry {
            Status::AuthFailed { .. } | Status::GaveUp { .. } => {
                Err(fatal_status(entry, &self.redactor).unwrap_or_else(|| {
                    Failure::new(CONNECTION, self.redactor.apply(&entry.to_string()))
                }))
            }
            _ => {
                if !self.writer.is_live() || !matches!(entry, Status::Connecting { .. }) {
                    self.writer.note(&self.redactor.apply(&entry.to_string()));
                }
                Ok(None)
            }
        }
    }
}

/// Prints one event line and flushes; `false` once stdout is closed.
fn print_event(line: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_ok()
}
