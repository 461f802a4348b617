//! The watch loop of `rig monitor`: takes events from the topics'
//! subscriptions, filters them, stamps their arrival time and offers them
//! to the output queue, and never waits on stdout: each turn waits on the
//! signals, the deadline, the status stream and either the topics or
//! (a line waiting under `--overflow block`) room in the output queue.

use std::io::IsTerminal as _;
use std::time::Duration;

use crossbeam_channel::{Receiver, Select, TryRecvError, after, never, tick};
use rig::engine::{Channel, ConnectionState, Status, Subscription};
use rig::filter::Filter;
use rig::protocol::Payload;

use crate::connect::Connected;
use crate::event_line::unix_now;
use crate::exit::{CONNECTION, Failure, OK, REFUSED};
use crate::monitor_fate::{ConnectionFate, SETTLE};
use crate::monitor_output::{Offer, Output, OverflowPolicy, Stamped};
use crate::monitor_top::{TOP_EVERY, TopBoard};
use crate::status_line::{StatusWriter, render};
use crate::target::Redactor;

/// How often the live status line is redrawn.
const REDRAW: Duration = Duration::from_millis(250);

/// Events taken from one topic before the loop looks at everything else
/// again (signals, status): keeps a burst from starving them.
const BATCH: usize = 256;

/// How long after the server closed a topic `--rejoin-closed` joins it again.
const REJOIN_AFTER: Duration = Duration::from_secs(1);

/// One `-t` topic: its filter and, while joined, its channel.
#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) name: String,
    pub(crate) filter: Filter,
    pub(crate) joined: Option<(Channel, Subscription)>,
    /// Why the server closed it, from the status stream.
    pub(crate) closed: Option<String>,
}

/// What the watch needs beside its topics.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) count: Option<u64>,
    pub(crate) policy: OverflowPolicy,
    /// `--rejoin-closed`: the join parameters to join a closed topic again.
    pub(crate) rejoin: Option<String>,
    pub(crate) redactor: Redactor,
    /// `--top`: a table of the topics instead of the events.
    pub(crate) top: bool,
    /// `--metrics`: channels joined again are watched too.
    pub(crate) metrics: Option<rig::metrics::Metrics>,
}

/// The watch loop's state.
#[derive(Debug)]
pub(crate) struct Watch<'a> {
    pub(crate) connected: &'a Connected,
    pub(crate) topics: Vec<Topic>,
    pub(crate) settings: Settings,
    pub(crate) output: Output,
    pub(crate) status: StatusWriter,
    /// Events taken from the subscriptions.
    pub(crate) taken: u64,
    /// `--top`: matched events counted in the table (never printed).
    pub(crate) tallied: u64,
    top: Option<TopBoard>,
    /// Events taken that the filters left out.
    pub(crate) filtered: u64,
    /// Engine drops of subscriptions already closed.
    pub(crate) closed_drops: u64,
    /// An event waiting for room in the output queue (block policy).
    pending: Option<Box<Stamped>>,
    /// The first output drop was reported.
    noted_drops: bool,
    fate: ConnectionFate,
}

/// Which operation of a turn's `Select` is ready.
enum Ready {
    Status,
    Signal,
    Deadline,
    Redraw,
    WriterDone,
    Settle,
    Rejoin,
    Room,
    Topic(usize),
}

impl<'a> Watch<'a> {
    pub(crate) fn new(
        connected: &'a Connected,
        topics: Vec<Topic>,
        settings: Settings,
        output: Output,
        status: StatusWriter,
    ) -> Self {
        let top =
            settings.top.then(|| TopBoard::new(topics.len(), std::io::stdout().is_terminal()));
        Self {
            connected,
            topics,
            settings,
            output,
            status,
            taken: 0,
            tallied: 0,
            top,
            filtered: 0,
            closed_drops: 0,
            pending: None,
            noted_drops: false,
            fate: ConnectionFate::default(),
        }
    }

    /// Events the engine dropped before the watch could take them.
    pub(crate) fn engine_drops(&self) -> u64 {
        self.closed_drops + dropped_by(&self.topics)
    }

    /// Matched events never offered to the output: the line that waited
    /// for room when the watch ended.
    pub(crate) fn unoffered(&self) -> u64 {
        u64::from(self.pending.is_some())
    }

    /// Events that count toward `--count`: every line offered to the
    /// output (printed, queued or dropped there) and every event the
    /// engine dropped, so a watch that loses events still ends.
    fn handled(&self) -> u64 {
        self.output.accepted() + self.output.dropped() + self.engine_drops() + self.tallied
    }

    fn count_reached(&self) -> bool {
        self.settings.count.is_some_and(|count| self.handled() >= count)
    }

    /// Watches until a count, the deadline, a signal or a failure.
    pub(crate) fn run(
        &mut self,
        signals: &Receiver<i32>,
        deadline: &Receiver<std::time::Instant>,
    ) -> Result<u8, Failure> {
        // --top draws its table instead of the one-line status.
        let redraw = match &self.top {
            None if self.status.is_live() => tick(REDRAW),
            None => never(),
            Some(_) => tick(TOP_EVERY),
        };
        let mut settle = never();
        let mut rejoin = never();
        let mut rate = 0.0;
        let mut last_taken = 0;
        loop {
            if self.count_reached() {
                return Ok(self.write_out(signals, deadline));
            }
            if !self.fate.is_settling() {
                settle = never();
            }
            match self.ready(signals, deadline, &redraw, &settle, &rejoin) {
                Ready::Status => {
                    let entry = match self.connected.status.try_recv() {
                        Ok(entry) => entry,
                        Err(TryRecvError::Empty) => continue,
                        // The engine stopped.
                        Err(TryRecvError::Disconnected) => return Ok(OK),
                    };
                    let settling = self.fate.is_settling();
                    self.on_status(&entry)?;
                    if self.fate.is_settling() && !settling {
                        settle = after(SETTLE);
                    }
                }
                Ready::Signal => {
                    // Taken: a second signal cuts the exit short.
                    let _ = signals.try_recv();
                    return Ok(OK);
                }
                Ready::Deadline | Ready::WriterDone => return Ok(OK),
                Ready::Redraw if self.top.is_some() => {
                    let _ = redraw.try_recv();
                    let health = self.connected.socket.health();
                    if let Some(top) = &mut self.top {
                        top.draw(&health, &self.topics);
                    }
                }
                Ready::Redraw => {
                    let _ = redraw.try_recv();
                    let fresh = self.taken.saturating_sub(last_taken);
                    last_taken = self.taken;
                    // A smoothed rate: each redraw moves halfway to the latest window.
                    rate = (rate + fresh as f64 / REDRAW.as_secs_f64()) / 2.0;
                    let health = self.connected.socket.health();
                    let printed = self.output.written();
                    let drops = self.engine_drops() + self.output.dropped();
                    self.status.redraw(&render(&health, rate, printed, drops));
                }
                Ready::Settle => {
                    let _ = settle.try_recv();
                    let state = self.connected.socket.state();
                    if let Some(failure) = self.fate.settled(state, &self.settings.redactor) {
                        return Err(failure);
                    }
                }
                Ready::Rejoin => {
                    let _ = rejoin.try_recv();
                    rejoin = never();
                    self.rejoin_closed()?;
                }
                Ready::Room => {
                    if let Some(event) = self.pending.take() {
                        self.offer(*event);
                    }
                }
                Ready::Topic(index) => {
                    if self.take(index) {
                        let closed = self.topics.get_mut(index).and_then(|t| t.joined.take());
                        self.closed_drops += closed.map_or(0, |(_, s)| s.dropped());
                        if self.settings.rejoin.is_some() {
                            // Every topic closed by then rejoins together.
                            rejoin = after(REJOIN_AFTER);
                        } else if self.topics.iter().all(|t| t.joined.is_none()) {
                            // rig-io reports a close before it ends the
                            // subscription: the reasons are queued.
                            while let Ok(entry) = self.connected.status.try_recv() {
                                self.on_status(&entry)?;
                            }
                            return Err(self.all_closed());
                        }
                    }
                }
            }
        }
    }

    /// Waits for this turn's first ready operation.
    fn ready(
        &self,
        signals: &Receiver<i32>,
        deadline: &Receiver<std::time::Instant>,
        redraw: &Receiver<std::time::Instant>,
        settle: &Receiver<std::time::Instant>,
        rejoin: &Receiver<std::time::Instant>,
    ) -> Ready {
        let mut select = Select::new();
        let mut kinds = vec![
            (select.recv(signals), Ready::Signal),
            (select.recv(deadline), Ready::Deadline),
            (select.recv(&self.connected.status), Ready::Status),
            (select.recv(redraw), Ready::Redraw),
            (select.recv(self.output.done()), Ready::WriterDone),
            (select.recv(settle), Ready::Settle),
            (select.recv(rejoin), Ready::Rejoin),
        ];
        match (&self.pending, self.output.queue()) {
            (Some(_), Some(queue)) => kinds.push((select.send(queue), Ready::Room)),
            _ => {
                for (i, topic) in self.topics.iter().enumerate() {
                    if let Some((_, subscription)) = &topic.joined {
                        kinds.push((select.recv(subscription.receiver()), Ready::Topic(i)));
                    }
                }
            }
        }
        let index = select.ready();
        // `ready` gives one of the indices added above; were it another,
        // a redraw is the harmless reading.
        kinds.into_iter().find(|(i, _)| *i == index).map_or(Ready::Redraw, |(_, ready)| ready)
    }

    /// Takes up to [`BATCH`] events of topic `index`; `true` once its
    /// subscription ended (the server closed the topic).
    fn take(&mut self, index: usize) -> bool {
        for _ in 0..BATCH {
            if self.pending.is_some() || self.count_reached() {
                return false;
            }
            let Some(topic) = self.topics.get(index) else { return false };
            let Some((_, subscription)) = &topic.joined else { return false };
            let message = match subscription.try_recv() {
                Ok(message) => message,
                Err(TryRecvError::Empty) => return false,
                Err(TryRecvError::Disconnected) => return true,
            };
            self.taken += 1;
            if !topic.filter.matches(&message) {
                self.filtered += 1;
                continue;
            }
            if let Some(top) = &mut self.top {
                top.count(index);
                self.tallied += 1;
                continue;
            }
            self.offer(Stamped { at: unix_now(), message });
        }
        false
    }

    fn offer(&mut self, event: Stamped) {
        if let Offer::Full(event) = self.output.offer(event) {
            self.pending = Some(event);
        }
        if !self.noted_drops && self.output.dropped() > 0 {
            // Once: the final counts say how many.
            self.noted_drops = true;
            let policy = self.settings.policy.name();
            self.status.note(&format!("stdout is behind: dropping lines (--overflow {policy})"));
        }
    }

    /// Reports a status entry; an error ends the watch.
    fn on_status(&mut self, entry: &Status) -> Result<(), Failure> {
        if let Status::Channel { channel, change: rig::engine::ChannelChange::Closed(reason) } =
            entry
        {
            for topic in self.topics.iter_mut().filter(|t| t.name == channel.topic()) {
                topic.closed = Some(reason.to_string());
            }
        }
        if !self.status.is_live() || !matches!(entry, Status::Connecting { .. }) {
            let line = self.settings.redactor.apply(&entry.to_string());
            if !self.top.as_mut().is_some_and(|top| top.note(&line)) {
                self.status.note(&line);
            }
        }
        let socket = &self.connected.socket;
        let state = socket.state();
        let last_error = (state == ConnectionState::Failed).then(|| socket.last_error()).flatten();
        match self.fate.on_status(entry, state, last_error, &self.settings.redactor) {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }

    /// Every topic was closed by the server and none is rejoined.
    fn all_closed(&self) -> Failure {
        let why: Vec<String> = self
            .topics
            .iter()
            .map(|t| format!("{} ({})", t.name, t.closed.as_deref().unwrap_or("closed")))
            .collect();
        Failure::new(REFUSED, format!("the server closed every topic: {}", why.join(", ")))
            .hint("pass --rejoin-closed to join them again")
    }

    /// `--rejoin-closed`: joins every closed topic again.
    fn rejoin_closed(&mut self) -> Result<(), Failure> {
        let Some(params) = self.settings.rejoin.clone() else { return Ok(()) };
        let overflow = self.settings.policy.engine();
        for topic in self.topics.iter_mut().filter(|t| t.joined.is_none()) {
            self.status.note(&format!("{}: joining again", topic.name));
            let joined = join(self.connected, &topic.name, &params, overflow)?;
            if let Some(metrics) = &self.settings.metrics {
                metrics.watch_channel("monitor", &joined.0);
            }
            topic.joined = Some(joined);
            topic.closed = None;
        }
        Ok(())
    }

    /// Takes the `--top` table off the screen before the final counts.
    pub(crate) fn finish_top(&mut self) {
        if let Some(top) = &mut self.top {
            top.finish();
        }
    }

    /// `--count` was reached: waits until the queued lines are written,
    /// still ending on a signal or the deadline.
    fn write_out(
        &mut self,
        signals: &Receiver<i32>,
        deadline: &Receiver<std::time::Instant>,
    ) -> u8 {
        self.output.close();
        crossbeam_channel::select! {
            recv(self.output.done()) -> _ => {}
            recv(signals) -> _ => {}
            recv(deadline) -> _ => {}
        }
        OK
    }
}

/// Events the engine dropped in front of the topics' open subscriptions.
pub(crate) fn dropped_by(topics: &[Topic]) -> u64 {
    topics.iter().filter_map(|t| t.joined.as_ref()).map(|(_, s)| s.dropped()).sum()
}

/// Events left unread in the topics' subscriptions.
pub(crate) fn unread_in(topics: &[Topic]) -> u64 {
    let open = topics.iter().filter_map(|t| t.joined.as_ref());
    open.map(|(_, s)| u64::try_from(s.receiver().len()).unwrap_or(u64::MAX)).sum()
}

/// Subscribes to `topic` with the engine-side policy, then joins it.
pub(crate) fn join(
    connected: &Connected,
    topic: &str,
    params: &str,
    overflow: rig::engine::Overflow,
) -> Result<(Channel, Subscription), Failure> {
    let channel = connected
        .socket
        .channel(topic, Payload::json(params.to_owned()))
        .map_err(|e| Failure::usage(format!("bad topic {topic:?}: {e}")))?;
    let subscription = channel
        .subscribe_all_with(overflow)
        .map_err(|e| Failure::new(CONNECTION, format!("cannot subscribe: {e}")))?;
    let _join = channel.join();
    Ok((channel, subscription))
}
