//! Numbered pushes from every client, and how their outcomes are counted.
//!
//! The path a push takes is behind [`PushPath`], so that moving from a
//! hand-tagged push to the engine's durable outbox push is a local change.
//! Today ([`InboxPath`]) each client pushes to `inbox:stress-<client>` with
//! the outbox id `_rig_id` = (client + 1, n) in the payload; the server's
//! [`PushLog`] records it (shared by every server instance of the run) and
//! replies `ok {"dup":bool}`. After the run the host looks every
//! acknowledged id up in the log: one it does not hold is a lost push.
//!
//! Every push resolves exactly once (ok, error reply, timeout, abandoned):
//! pushes still unresolved when the run ends are a violation of their own.

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use rig::engine::{PushError, PushResult};
use rig::outbox::OutboxId;
use rig::protocol::{Payload, Reply};
use rig::server::PushLog;
use serde::{Deserialize, Serialize};

/// Where a client's pushes go and what acknowledges them.
pub(crate) trait PushPath: Send + Sync + std::fmt::Debug {
    /// The topic client `client` joins for its pushes.
    fn topic(&self, client: u32) -> String;
    /// The event pushed.
    fn event(&self) -> &'static str;
    /// The payload of push `n` of `client`.
    fn payload(&self, client: u32, n: u64) -> Payload;
    /// Whether `reply` (status `ok`) shows the server recorded push `n`.
    fn recorded(&self, client: u32, n: u64, reply: &Reply) -> bool;
}

/// The outbox id of push `n` of `client`.
pub(crate) fn push_id(client: u32, n: u64) -> OutboxId {
    OutboxId::from_parts(u64::from(client) + 1, n)
}

/// Pushes `push` on `inbox:stress-<client>`, carrying `_rig_id`; the
/// server's push log records it and replies `{"dup":bool}`.
#[derive(Debug, Default)]
pub(crate) struct InboxPath;

impl PushPath for InboxPath {
    fn topic(&self, client: u32) -> String {
        format!("inbox:stress-{client}")
    }

    fn event(&self) -> &'static str {
        "push"
    }

    fn payload(&self, client: u32, n: u64) -> Payload {
        Payload::json(format!(r#"{{"_rig_id":"{}","n":{n}}}"#, push_id(client, n)))
    }

    fn recorded(&self, _client: u32, _n: u64, reply: &Reply) -> bool {
        matches!(reply.response.as_json(), Some(r#"{"dup":false}"# | r#"{"dup":true}"#))
    }
}

/// Push outcomes, counted as they resolve (any thread).
#[derive(Debug, Default)]
pub(crate) struct PushCounters {
    sent: AtomicU64,
    acked: AtomicU64,
    lost: AtomicU64,
    error_replies: AtomicU64,
    timeouts: AtomicU64,
    failed: AtomicU64,
    /// The numbers of the acknowledged pushes, per client.
    acked_numbers: Mutex<Vec<Vec<u64>>>,
}

/// A snapshot of [`PushCounters`] (the `pushes` object of the report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PushReport {
    /// Pushes handed to the engine.
    pub(crate) sent: u64,
    /// `ok` replies that show the server recorded the push.
    pub(crate) acked: u64,
    /// Acknowledged pushes the server did not record: an `ok` reply that
    /// does not confirm the push, or an acknowledged id the push log lacks.
    pub(crate) lost: u64,
    /// Pushes the server's log holds (all instances).
    pub(crate) recorded: u64,
    /// Pushes the server's log saw a second time (not recorded again).
    pub(crate) duplicates: u64,
    /// Replies with another status than `ok`.
    pub(crate) error_replies: u64,
    /// No reply within the push timeout (e.g. the connection died first):
    /// not acknowledged, so not lost.
    pub(crate) timeouts: u64,
    /// Abandoned, refused by the session or the engine stopped.
    pub(crate) failed: u64,
    /// Sent but not resolved when the run ended.
    pub(crate) unresolved: u64,
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl PushCounters {
    /// One more push handed to the engine.
    pub(crate) fn sent(&self) {
        bump(&self.sent);
    }

    /// Counts the outcome of push `n` of `client`.
    pub(crate) fn resolve(&self, path: &dyn PushPath, client: u32, n: u64, outcome: &PushResult) {
        bump(match outcome {
            Ok(reply) if reply.status == "ok" && path.recorded(client, n, reply) => {
                self.acked_number(client, n);
                &self.acked
            }
            Ok(reply) if reply.status == "ok" => &self.lost,
            Ok(_) => &self.error_replies,
            Err(PushError::Timeout) => &self.timeouts,
            Err(_) => &self.failed,
        });
    }

    fn acked_number(&self, client: u32, n: u64) {
        let index = usize::try_from(client).unwrap_or(usize::MAX);
        let mut numbers = self.acked_numbers.lock();
        if numbers.len() <= index {
            numbers.resize_with(index.saturating_add(1), Vec::new);
        }
        if let Some(list) = numbers.get_mut(index) {
            list.push(n);
        }
    }

    /// The acknowledged pushes, per client as ranges of numbers.
    pub(crate) fn acked(&self) -> Vec<AckedRanges> {
        let numbers = self.acked_numbers.lock();
        (0_u32..).zip(numbers.iter()).map(|(client, list)| AckedRanges::of(client, list)).collect()
    }

    /// Pushes resolved so far.
    pub(crate) fn resolved(&self) -> u64 {
        get(&self.acked)
            + get(&self.lost)
            + get(&self.error_replies)
            + get(&self.timeouts)
            + get(&self.failed)
    }

    /// The counts now.
    pub(crate) fn report(&self) -> PushReport {
        let sent = get(&self.sent);
        PushReport {
            sent,
            acked: get(&self.acked),
            lost: get(&self.lost),
            recorded: 0,
            duplicates: 0,
            error_replies: get(&self.error_replies),
            timeouts: get(&self.timeouts),
            failed: get(&self.failed),
            unresolved: sent.saturating_sub(self.resolved()),
        }
    }
}

/// One client's acknowledged push numbers as inclusive ranges (mostly one:
/// pushes are numbered in order and a timeout only leaves a hole).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AckedRanges {
    pub(crate) client: u32,
    pub(crate) ranges: Vec<(u64, u64)>,
}

impl AckedRanges {
    fn of(client: u32, numbers: &[u64]) -> Self {
        let mut sorted = numbers.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for n in sorted {
            match ranges.last_mut() {
                Some((_, to)) if *to + 1 == n => *to = n,
                _ => ranges.push((n, n)),
            }
        }
        Self { client, ranges }
    }
}

/// How many acknowledged pushes `log` does not hold.
pub(crate) fn unrecorded(log: &PushLog, acked: &[AckedRanges]) -> u64 {
    let mut missing = 0;
    for client in acked {
        for &(from, to) in &client.ranges {
            missing += (from..=to).filter(|&n| !log.contains(push_id(client.client, n))).count();
        }
    }
    u64::try_from(missing).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_counted_by_kind() {
        let path = InboxPath;
        let counters = PushCounters::default();
        for _ in 0..5 {
            counters.sent();
        }
        let ok = |dup: &str| Ok(Reply::new("ok", Payload::json(dup.to_owned())));
        counters.resolve(&path, 1, 1, &ok(r#"{"dup":false}"#));
        counters.resolve(&path, 1, 2, &ok("{}")); // not a push log's answer
        counters.resolve(&path, 1, 3, &Ok(Reply::new("error", Payload::empty())));
        counters.resolve(&path, 1, 4, &Err(PushError::Timeout));
        let report = counters.report();
        let expected = PushReport {
            sent: 5,
            acked: 1,
            lost: 1,
            error_replies: 1,
            timeouts: 1,
            unresolved: 1,
            ..PushReport::default()
        };
        assert_eq!(report, expected);
        assert_eq!(path.topic(3), "inbox:stress-3");
        assert_eq!(
            counters.acked(),
            [AckedRanges::default(), AckedRanges { client: 1, ranges: vec![(1, 1)] }]
        );
    }

    #[test]
    fn acked_ids_missing_from_the_push_log_are_counted() {
        let path = InboxPath;
        let log = PushLog::new();
        for n in [1, 2, 4] {
            let _ = log.record("inbox:stress-0", &path.payload(0, n));
        }
        let acked = AckedRanges::of(0, &[4, 1, 2, 3, 3]);
        assert_eq!(acked.ranges, [(1, 4)]);
        assert_eq!(unrecorded(&log, &[acked]), 1);
        assert_eq!(unrecorded(&log, &[AckedRanges::of(1, &[1])]), 1);
    }
}
