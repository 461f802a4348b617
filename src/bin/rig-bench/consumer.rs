//! The consumer paths: how `rig-bench` takes the stream's messages from the
//! engine. A new path is a [`Consumer`] variant, its name, and one arm in
//! [`attach`] (plus one in [`Attached::wait`] if it needs a new way to wait).

use std::str::FromStr;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError};
use rig::engine::{Channel, FilterSubscription, Overflow, Socket, Subscription};
use rig::filter::Filter;
use rig::protocol::Message;
use rig::time::Clock;

use super::args::Load;
use super::{Failure, Recorded};

/// Where the stream's messages are consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Consumer {
    /// An `on_all` handler on the engine's dispatcher pool (the default).
    On,
    /// A channel subscription's receiver, drained on the main thread.
    Subscription,
    /// A socket filter subscription's receiver, drained on the main thread.
    Filter,
    /// Invoker mode: the main thread runs the I/O loop; an inline handler
    /// records each event as it is read (see `invoker.rs`).
    Inline,
}

impl Consumer {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::On => "on",
            Self::Subscription => "subscription",
            Self::Filter => "filter",
            Self::Inline => "inline",
        }
    }
}

impl FromStr for Consumer {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        [Self::On, Self::Subscription, Self::Filter, Self::Inline]
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| format!("--consumer {s}: want on, subscription, filter or inline"))
    }
}

/// A consumer bound to the channel before its join.
pub(super) enum Attached {
    /// The handler hands its recording over at `done`.
    Handler(Receiver<Option<Recorded>>),
    Subscription(Subscription),
    Filter(FilterSubscription),
}

/// Binds `consumer` to `channel` (topic `topic`) on `socket`.
pub(super) fn attach(
    consumer: Consumer,
    socket: &Socket,
    channel: &Channel,
    topic: &str,
    load: Load,
    clock: &Clock,
) -> Result<Attached, Failure> {
    let bind = |e: rig::engine::EngineError| Failure(3, format!("cannot consume {topic}: {e}"));
    match consumer {
        Consumer::On => {
            let (done_tx, done_rx) = crossbeam_channel::bounded(1);
            let mut recorded = Some(Recorded::new());
            let clock = clock.clone();
            channel
                .on_all(move |message| {
                    let Some(rec) = recorded.as_mut() else { return };
                    if on_message(rec, message, load, &clock) {
                        let _ = done_tx.try_send(recorded.take());
                    }
                })
                .map_err(bind)?;
            Ok(Attached::Handler(done_rx))
        }
        Consumer::Subscription => {
            Ok(Attached::Subscription(channel.subscribe_all_with(Overflow::Block).map_err(bind)?))
        }
        // Driven by `invoker::measure`, never attached here.
        Consumer::Inline => Err(Failure(2, "--consumer inline runs in invoker mode".into())),
        Consumer::Filter => {
            let filter = Filter::topic(topic)
                .map_err(|e| Failure(2, format!("--topic {topic}: {e}")))?
                .events(["event", "done"]);
            Ok(Attached::Filter(
                socket.subscribe_filter_with(filter, Overflow::Block, None).map_err(bind)?,
            ))
        }
    }
}

/// Records one message; true at `done`.
pub(super) fn on_message(rec: &mut Recorded, message: &Message, load: Load, clock: &Clock) -> bool {
    if message.is_event("event") {
        rec.on_event(message);
    } else if message.is_event("done") {
        rec.finish(load.count(), clock.now());
        return true;
    }
    false
}

impl Attached {
    /// Consumes until `done` (or the stream's deadline); the recording.
    pub(super) fn wait(self, load: Load, topic: &str, clock: &Clock) -> Result<Recorded, Failure> {
        let wait = load.done_wait();
        let late = || Failure(3, format!("no done on {topic} within {wait:?}"));
        match self {
            Self::Handler(done) => done.recv_timeout(wait).ok().flatten().ok_or_else(late),
            Self::Subscription(sub) => {
                drain(|left| sub.recv_timeout(left), load, clock).ok_or_else(late)
            }
            Self::Filter(sub) => {
                let recorded = drain(|left| sub.recv_timeout(left), load, clock);
                let _ = sub.remove();
                recorded.ok_or_else(late)
            }
        }
    }
}

/// Receives on this thread until `done`; `None` when it does not come in time.
fn drain(
    mut recv: impl FnMut(Duration) -> Result<Message, RecvTimeoutError>,
    load: Load,
    clock: &Clock,
) -> Option<Recorded> {
    let deadline = clock.now() + load.done_wait();
    let mut rec = Recorded::new();
    loop {
        let left = deadline.saturating_duration_since(clock.now());
        let message = recv(left).ok()?;
        if on_message(&mut rec, &message, load, clock) {
            return Some(rec);
        }
    }
}
