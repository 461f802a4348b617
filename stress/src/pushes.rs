//! Numbered pushes from every client through its socket's outbox, and how
//! their outcomes are counted.
//!
//! The path a push takes is behind [`PushPath`]. Today ([`InboxPath`]) each
//! client pushes `{"n":N}` durably ([`Channel::push_durable`]) to
//! `inbox:stress-<client>`: the outbox stores it, the engine sends it with
//! its `_rig_id` whenever the channel is joined and again after a timeout or
//! a lost connection, and the server's [`PushLog`] (shared by every server
//! instance of the run) records it once and replies `ok {"dup":bool}`.
//! After the run the host looks every acknowledged id up in the log: one
//! it does not hold is a lost push.
//!
//! Every push resolves exactly once (a durable push only with a reply):
//! pushes still unresolved when the run ends are a violation of their own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use rig::engine::{Channel, EngineError, Push, PushError, PushResult};
use rig::outbox::OutboxId;
use rig::protocol::{Payload, Reply};
use rig::server::PushLog;
use serde::{Deserialize, Serialize};

use crate::clock;

/// Where a client's pushes go and what acknowledges them.
pub(crate) trait PushPath: Send + Sync + std::fmt::Debug {
    /// The topic client `client` joins for its pushes.
    fn topic(&self, client: u32) -> String;
    /// Sends push `n` on `channel`.
    fn send(&self, channel: &Channel, n: u64) -> Result<Push, EngineError>;
    /// Whether `reply` (status `ok`) shows the server recorded the push.
    fn recorded(&self, reply: &Reply) -> bool;
}

/// Durable pushes of `push {"n":N}` on `inbox:stress-<client>`; the
/// server's push log records them and replies `{"dup":bool}`.
#[derive(Debug, Default)]
pub(crate) struct InboxPath;

impl PushPath for InboxPath {
    fn topic(&self, client: u32) -> String {
        format!("inbox:stress-{client}")
    }

    fn send(&self, channel: &Channel, n: u64) -> Result<Push, EngineError> {
        channel.push_durable("push", Payload::json(format!(r#"{{"n":{n}}}"#)))
    }

    fn recorded(&self, reply: &Reply) -> bool {
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
    /// The outbox ids of the acknowledged pushes.
    acked_ids: Mutex<Vec<OutboxId>>,
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
    /// Sends the outboxes put back to pending (timeout, lost connection).
    pub(crate) requeued: u64,
    /// Entries still in the outboxes at the end.
    pub(crate) outbox_left: u64,
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

    /// Counts the outcome of the push with outbox id `id`.
    pub(crate) fn resolve(&self, path: &dyn PushPath, id: Option<OutboxId>, outcome: &PushResult) {
        bump(match outcome {
            Ok(reply) if path.recorded(reply) => {
                if let Some(id) = id {
                    self.acked_ids.lock().push(id);
                }
                &self.acked
            }
            Ok(_) => &self.lost,
            Err(PushError::Reply(_)) => &self.error_replies,
            Err(PushError::Timeout) => &self.timeouts,
            Err(_) => &self.failed,
        });
    }

    /// A push the engine refused (not stored): sent and failed at once.
    pub(crate) fn refused(&self) {
        bump(&self.sent);
        bump(&self.failed);
    }

    /// The acknowledged ids, by outbox stamp as ranges of sequence numbers.
    pub(crate) fn acked(&self) -> Vec<AckedRanges> {
        AckedRanges::of(&self.acked_ids.lock())
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
            requeued: 0,
            outbox_left: 0,
            error_replies: get(&self.error_replies),
            timeouts: get(&self.timeouts),
            failed: get(&self.failed),
            unresolved: sent.saturating_sub(self.resolved()),
        }
    }
}

/// Acknowledged outbox ids of one outbox stamp (one socket's outbox) as
/// inclusive ranges of sequence numbers: mostly one range per outbox, so a
/// child process sends a few numbers instead of every id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AckedRanges {
    pub(crate) stamp: u64,
    pub(crate) ranges: Vec<(u64, u64)>,
}

impl AckedRanges {
    fn of(ids: &[OutboxId]) -> Vec<Self> {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out: Vec<Self> = Vec::new();
        for id in sorted {
            let (stamp, seq) = (id.stamp(), id.seq());
            match out.last_mut() {
                Some(last) if last.stamp == stamp => match last.ranges.last_mut() {
                    Some((_, to)) if to.checked_add(1) == Some(seq) => *to = seq,
                    _ => last.ranges.push((seq, seq)),
                },
                _ => out.push(Self { stamp, ranges: vec![(seq, seq)] }),
            }
        }
        out
    }
}

/// How many acknowledged pushes `log` does not hold.
pub(crate) fn unrecorded(log: &PushLog, acked: &[AckedRanges]) -> u64 {
    let mut missing = 0;
    for outbox in acked {
        for &(from, to) in &outbox.ranges {
            let absent = |&seq: &u64| !log.contains(OutboxId::from_parts(outbox.stamp, seq));
            missing += (from..=to).filter(absent).count();
        }
    }
    u64::try_from(missing).unwrap_or(u64::MAX)
}

/// Pushes round-robin over the clients at `rate` pushes per second in all.
pub(crate) fn push_loop(
    rooms: &[Channel],
    path: &Arc<dyn PushPath>,
    pushes: &Arc<PushCounters>,
    rate: f64,
    stop: &AtomicBool,
) {
    let start = clock::now();
    let mut done: u64 = 0;
    let mut numbers = vec![0_u64; rooms.len()];
    let mut next = 0_usize;
    while !stop.load(Ordering::Relaxed) {
        let due = (clock::now().saturating_duration_since(start).as_secs_f64() * rate) as u64;
        while done < due {
            let (Some(room), Some(number)) = (rooms.get(next), numbers.get_mut(next)) else {
                next = 0;
                continue;
            };
            *number += 1;
            let (n, client) = (*number, u32::try_from(next).unwrap_or(u32::MAX));
            match path.send(room, n) {
                Ok(push) => {
                    pushes.sent();
                    let id = push.outbox_id();
                    let (path, pushes) = (Arc::clone(path), Arc::clone(pushes));
                    push.then(move |outcome| pushes.resolve(path.as_ref(), id, &outcome));
                }
                Err(e) => {
                    log::warn!("client {client}: push {n} refused: {e}");
                    pushes.refused();
                }
            }
            done += 1;
            next = (next + 1) % rooms.len();
        }
        clock::sleep(Duration::from_millis(10));
    }
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
        let id = OutboxId::from_parts(7, 1);
        counters.resolve(&path, Some(id), &ok(r#"{"dup":false}"#));
        counters.resolve(&path, None, &ok("{}")); // not a push log's answer
        let refused = PushError::Reply(Box::new(Reply::new("error", Payload::empty())));
        counters.resolve(&path, None, &Err(refused));
        counters.resolve(&path, None, &Err(PushError::Timeout));
        counters.refused();
        let report = counters.report();
        let expected = PushReport {
            sent: 6,
            acked: 1,
            lost: 1,
            error_replies: 1,
            timeouts: 1,
            failed: 1,
            unresolved: 1,
            ..PushReport::default()
        };
        assert_eq!(report, expected);
        assert_eq!(path.topic(3), "inbox:stress-3");
        assert_eq!(counters.acked(), [AckedRanges { stamp: 7, ranges: vec![(1, 1)] }]);
    }

    #[test]
    fn acked_ids_missing_from_the_push_log_are_counted() {
        let log = PushLog::new();
        for (stamp, seq) in [(1, 1), (1, 2), (1, 4), (2, 9)] {
            let id = OutboxId::from_parts(stamp, seq);
            let _ = log.record("inbox:x", &Payload::json(format!(r#"{{"_rig_id":"{id}"}}"#)));
        }
        let ids: Vec<_> = [(1, 4), (1, 1), (2, 9), (1, 2), (1, 3), (1, 3)]
            .map(|(a, b)| OutboxId::from_parts(a, b))
            .into();
        let acked = AckedRanges::of(&ids);
        assert_eq!(
            acked,
            [
                AckedRanges { stamp: 1, ranges: vec![(1, 4)] },
                AckedRanges { stamp: 2, ranges: vec![(9, 9)] }
            ]
        );
        assert_eq!(unrecorded(&log, &acked), 1);
    }
}
