//! Numbered pushes from every client, and how their outcomes are counted.
//!
//! The path a push takes is behind [`PushPath`] so that switching from the
//! `room:*` echo (today) to the durable outbox path (`inbox:*` + the
//! server's push log) is a local change. With the echo, the server's record
//! of a push *is* its reply: an `ok` reply whose response is not the exact
//! payload sent is an acknowledged push the server did not record, a loss.
//!
//! Every push resolves exactly once (ok, error reply, timeout, abandoned):
//! pushes still unresolved when the run ends are a violation of their own.

use std::sync::atomic::{AtomicU64, Ordering};

use rig::engine::{PushError, PushResult};
use rig::protocol::{Payload, Reply};
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

/// Pushes `echo` on `room:stress-<client>`: the reply carries the payload back.
#[derive(Debug, Default)]
pub(crate) struct EchoPath;

impl PushPath for EchoPath {
    fn topic(&self, client: u32) -> String {
        format!("room:stress-{client}")
    }

    fn event(&self) -> &'static str {
        "echo"
    }

    fn payload(&self, client: u32, n: u64) -> Payload {
        Payload::json(format!(r#"{{"client":{client},"n":{n}}}"#))
    }

    fn recorded(&self, client: u32, n: u64, reply: &Reply) -> bool {
        reply.response.as_json() == self.payload(client, n).as_json()
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
}

/// A snapshot of [`PushCounters`] (the `pushes` object of the report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PushReport {
    /// Pushes handed to the engine.
    pub(crate) sent: u64,
    /// `ok` replies that show the server recorded the push.
    pub(crate) acked: u64,
    /// `ok` replies for a push the server did not record.
    pub(crate) lost: u64,
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
            Ok(reply) if reply.status == "ok" && path.recorded(client, n, reply) => &self.acked,
            Ok(reply) if reply.status == "ok" => &self.lost,
            Ok(_) => &self.error_replies,
            Err(PushError::Timeout) => &self.timeouts,
            Err(_) => &self.failed,
        });
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
            error_replies: get(&self.error_replies),
            timeouts: get(&self.timeouts),
            failed: get(&self.failed),
            unresolved: sent.saturating_sub(self.resolved()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_counted_by_kind() {
        let path = EchoPath;
        let counters = PushCounters::default();
        for _ in 0..5 {
            counters.sent();
        }
        let ok = |n| Ok(Reply::new("ok", path.payload(1, n)));
        counters.resolve(&path, 1, 1, &ok(1));
        counters.resolve(&path, 1, 2, &ok(3)); // the echo of another push
        counters.resolve(&path, 1, 3, &Ok(Reply::new("error", path.payload(1, 3))));
        counters.resolve(&path, 1, 4, &Err(PushError::Timeout));
        let report = counters.report();
        let expected = PushReport {
            sent: 5,
            acked: 1,
            lost: 1,
            error_replies: 1,
            timeouts: 1,
            failed: 0,
            unresolved: 1,
        };
        assert_eq!(report, expected);
        assert_eq!(path.topic(3), "room:stress-3");
    }
}
