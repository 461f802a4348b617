//! The invariants the engine keeps through every proxy fault, as checkers
//! the `engine_netsim*` tests feed: stream sequence numbers per join, and
//! pushes that resolve exactly once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::TryRecvError;
use parking_lot::{Condvar, Mutex};
use rig::engine::{Push, PushError};
use rig::protocol::{Message, Ref};

/// What the `stream:*` channel delivered, per join.
///
/// The embedded server numbers a stream's events from 1 on every join, so
/// within one join (one `join_ref`, hence one connection) the numbers must
/// be 1, 2, 3, … with no gap, no duplicate and no reordering. A fault may
/// cut a join short; the rejoin starts again at 1 under a new `join_ref`.
#[derive(Debug, Default)]
pub(crate) struct StreamLog {
    /// The join refs in the order their first event came.
    pub(crate) joins: Vec<Ref>,
    /// The last sequence number per join ref.
    pub(crate) last: HashMap<Ref, u64>,
    /// Every event seen.
    pub(crate) events: u64,
    /// Broken invariants, in words (empty when all is well).
    pub(crate) violations: Vec<String>,
    /// When each join's first event came, and when the last event came.
    pub(crate) timeline: Vec<(Ref, rig::time::Instant)>,
    pub(crate) last_at: Option<rig::time::Instant>,
}

impl StreamLog {
    fn observe(&mut self, message: &Message) {
        self.events += 1;
        self.last_at = Some(rig::time::Clock::real().now());
        let seq = message
            .payload
            .as_json()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|body| body.get("seq").and_then(serde_json::Value::as_u64));
        let (Some(join_ref), Some(seq)) = (message.join_ref.clone(), seq) else {
            self.violations.push(format!("event without join_ref or seq: {message:?}"));
            return;
        };
        let want = match self.last.get(&join_ref) {
            Some(last) => last + 1,
            None => {
                self.joins.push(join_ref.clone());
                self.timeline.push((join_ref.clone(), rig::time::Clock::real().now()));
                1
            }
        };
        if seq != want {
            self.violations.push(format!("join {join_ref:?}: seq {seq} where {want} was due"));
        }
        self.last.insert(join_ref, seq);
    }

    /// Events of the latest join.
    pub(crate) fn latest_join_events(&self) -> u64 {
        self.joins.last().and_then(|r| self.last.get(r)).copied().unwrap_or(0)
    }
}

/// A [`StreamLog`] fed by a handler on a dispatcher thread, with a
/// deadline-bounded wait for the test thread.
#[derive(Clone, Debug, Default)]
pub(crate) struct SharedStreamLog {
    inner: Arc<(Mutex<StreamLog>, Condvar)>,
}

impl SharedStreamLog {
    /// The handler to bind to the stream's `event` messages.
    pub(crate) fn handler(&self) -> impl FnMut(&Message) + Send + 'static {
        let inner = Arc::clone(&self.inner);
        move |message| {
            let (log, changed) = &*inner;
            log.lock().observe(message);
            changed.notify_all();
        }
    }

    /// Waits until `done` holds for the log; the log as it stands when
    /// `within` passes first.
    pub(crate) fn wait_until(
        &self,
        within: Duration,
        done: impl Fn(&StreamLog) -> bool,
    ) -> Result<(), String> {
        let clock = rig::time::Clock::real();
        let deadline = clock.now() + within;
        let (log, changed) = &*self.inner;
        let mut log = log.lock();
        while !done(&log) {
            let left = deadline.saturating_duration_since(clock.now());
            if left.is_zero() {
                return Err(format!(
                    "stream condition not met within {within:?}: {} joins, {} events, latest join at {}, violations {:?}, joins began {:?} ago, last event {:?} ago",
                    log.joins.len(),
                    log.events,
                    log.latest_join_events(),
                    log.violations,
                    log.timeline.iter().map(|(_, at)| clock.now() - *at).collect::<Vec<_>>(),
                    log.last_at.map(|at| clock.now() - at),
                ));
            }
            changed.wait_for(&mut log, left);
        }
        Ok(())
    }

    /// Reads the log now.
    pub(crate) fn with<T>(&self, read: impl FnOnce(&StreamLog) -> T) -> T {
        read(&self.inner.0.lock())
    }
}

/// How the pushes of a run resolved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PushTally {
    /// `ok` replies carrying the payload back (the room echoes it).
    pub(crate) ok: u64,
    /// Timeouts (the reply was lost with its connection).
    pub(crate) timeouts: u64,
    /// Other typed errors (abandoned, rejected, gone).
    pub(crate) errors: u64,
}

/// Echo pushes made during a run, each checked to resolve exactly once.
#[derive(Debug, Default)]
pub(crate) struct PushLedger {
    pending: Vec<(u64, Push)>,
    next: u64,
}

impl PushLedger {
    /// Records a push whose payload was `{"n":n}` for the `n` returned.
    pub(crate) fn next_number(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Keeps push `n` to settle later.
    pub(crate) fn add(&mut self, n: u64, push: Push) {
        self.pending.push((n, push));
    }

    /// Waits for every push (each within `within`): each resolves exactly
    /// once, and an `ok` reply echoes its own payload.
    pub(crate) fn settle(&mut self, within: Duration) -> PushTally {
        let mut tally = PushTally::default();
        for (n, mut push) in self.pending.drain(..) {
            let outcome = push.wait_timeout(within);
            let Some(outcome) = outcome else { panic!("push {n} unresolved after {within:?}") };
            match outcome {
                Ok(reply) => {
                    assert!(reply.is_ok(), "push {n}: {reply:?}");
                    let want = format!(r#"{{"n":{n}}}"#);
                    assert_eq!(reply.response.as_json(), Some(want.as_str()), "push {n}");
                    tally.ok += 1;
                }
                Err(PushError::Timeout) => tally.timeouts += 1,
                Err(_) => tally.errors += 1,
            }
            // Exactly once: nothing more may come for it.
            match push.receiver().try_recv() {
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => {}
                Ok(again) => panic!("push {n} resolved twice: then {again:?}"),
            }
        }
        tally
    }
}

/// The checker itself: a gap, a duplicate, a step back and a join that
/// does not start at 1 are each caught; a rejoin from 1 is fine.
#[test]
fn netsim_stream_log_catches_gaps_duplicates_and_reorders() {
    use rig::protocol::Payload;
    let event = |join: &str, seq: u64| {
        Message::new(
            Some(Ref::number(join)),
            None,
            "stream:n",
            "event",
            Payload::json(format!(r#"{{"seq":{seq},"t":0}}"#)),
        )
    };
    let mut good = StreamLog::default();
    for (join, seq) in [("1", 1), ("1", 2), ("1", 3), ("4", 1), ("4", 2)] {
        good.observe(&event(join, seq));
    }
    assert!(good.violations.is_empty(), "{:?}", good.violations);
    assert_eq!((good.joins.len(), good.latest_join_events(), good.events), (2, 2, 5));

    let mut bad = StreamLog::default();
    for (join, seq) in [("1", 1), ("1", 3), ("1", 3), ("1", 2), ("4", 2)] {
        bad.observe(&event(join, seq));
    }
    assert_eq!(bad.violations.len(), 4, "{:?}", bad.violations);
    bad.observe(&Message::new(None, None, "stream:n", "event", Payload::json("{}")));
    assert_eq!(bad.violations.len(), 5);
}
