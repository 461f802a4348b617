//! `stream:*`: server pushes `event {"seq","t"}` at a rate or in a burst, then `done`.
//!
//! Events are pulled, not pushed: the connection asks for more only while
//! its outgoing queue is short, so a burst goes out as fast as the socket
//! takes it and never piles up in memory. A rate stream sends every event that
//! is due at each wake-up, so high rates do not depend on timer precision.
//!
//! With the join param `"pace":"frame"` the stream behaves as a real Phoenix
//! server (Bandit) does instead: one event per call to [`Stream::produce`],
//! so the event loop writes and flushes each event as its own WebSocket frame,
//! and wakes for each one on a precise timer (`timerfd`, see `pacer.rs`).
//! Late events still go out one frame per write.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use super::{Joined, Kind, joined, reason};
use crate::protocol::Payload;
use crate::time::Instant;

/// The rate a burst reports, and the default when none is given.
const DEFAULT_RATE: u64 = 1000;
/// The number of events when `count` is not given.
const DEFAULT_COUNT: u64 = 100;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Rate,
    Burst,
}

/// How events are grouped into writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Pace {
    /// Everything due at a wake-up goes out together (the default).
    Batch,
    /// One event per write, each woken for on time (`"pace":"frame"`).
    Frame,
}

/// One stream's progress.
#[derive(Debug)]
pub(crate) struct Stream {
    mode: Mode,
    pace: Pace,
    rate: u64,
    count: u64,
    /// The seq of the next event (1-based).
    next_seq: u64,
    origin: Instant,
    first_sent: Option<Instant>,
    done: bool,
}

pub(crate) fn join(topic: &str, params: &Value, now: Instant) -> Result<Joined, Value> {
    let mode = match params.get("mode").and_then(Value::as_str) {
        None | Some("rate") => Mode::Rate,
        Some("burst") => Mode::Burst,
        Some(_) => return Err(reason("invalid mode")),
    };
    let pace = match params.get("pace").and_then(Value::as_str) {
        None | Some("batch") => Pace::Batch,
        Some("frame") => Pace::Frame,
        Some(_) => return Err(reason("invalid pace")),
    };
    let number = |key: &str, default: u64| match params.get(key) {
        None | Some(Value::Null) => Some(default),
        Some(v) => v.as_u64().or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
    };
    let rate = match mode {
        Mode::Burst => DEFAULT_RATE,
        Mode::Rate => match number("rate", DEFAULT_RATE) {
            Some(rate) if rate > 0 => rate,
            _ => return Err(reason("invalid rate")),
        },
    };
    let Some(count) = number("count", DEFAULT_COUNT) else {
        return Err(reason("invalid count"));
    };
    let mut response = joined(topic);
    response.insert("count".into(), count.into());
    response.insert(
        "mode".into(),
        Value::String(if mode == Mode::Burst { "burst" } else { "rate" }.into()),
    );
    response.insert("rate".into(), rate.into());
    if pace == Pace::Frame {
        response.insert("pace".into(), Value::String("frame".into()));
    }
    let stream =
        Stream { mode, pace, rate, count, next_seq: 1, origin: now, first_sent: None, done: false };
    Ok(Joined { response: Value::Object(response), kind: Kind::Stream(stream), track: None })
}

impl Stream {
    /// How this stream groups its events into writes.
    pub(crate) fn pace(&self) -> Pace {
        self.pace
    }

    /// When event `seq` is due.
    fn due_at(&self, seq: u64) -> Instant {
        if self.mode == Mode::Burst {
            return self.origin;
        }
        let nanos = u128::from(seq.saturating_sub(1)) * 1_000_000_000 / u128::from(self.rate);
        let offset = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.origin.checked_add(offset).unwrap_or(self.origin)
    }

    /// Whether something (an event or `done`) can be sent at `now`.
    pub(crate) fn is_due(&self, now: Instant) -> bool {
        !self.done && (self.next_seq > self.count || self.due_at(self.next_seq) <= now)
    }

    /// When the next event falls due, if the stream still has one to wait for.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        (!self.done).then(|| self.due_at(self.next_seq.min(self.count.max(1))))
    }

    /// Produces up to `max` due messages as `(event, payload)`: events, and
    /// `done` after the last one; at most one with [`Pace::Frame`]. `unix_us`
    /// is the wall clock at `now`.
    pub(crate) fn produce(
        &mut self,
        now: Instant,
        unix_us: u64,
        max: usize,
        out: &mut Vec<(&'static str, Payload)>,
    ) {
        let max = if self.pace == Pace::Frame { max.min(1) } else { max };
        let mut produced = 0;
        while produced < max && !self.done {
            if self.next_seq > self.count {
                let elapsed = self.first_sent.map_or(Duration::ZERO, |first| now - first);
                let elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
                let body =
                    format!(r#"{{"count":{},"server_elapsed_us":{elapsed_us}}}"#, self.count);
                out.push(("done", Payload::json(body)));
                self.done = true;
                break;
            }
            if self.due_at(self.next_seq) > now {
                break;
            }
            let mut body = String::with_capacity(48);
            // Writing to a String cannot fail.
            let _ = write!(body, r#"{{"seq":{},"t":{unix_us}}}"#, self.next_seq);
            out.push(("event", Payload::json(body)));
            if self.first_sent.is_none() {
                // Pace from the first event actually sent, so the spacing
                // (and `server_elapsed_us`) never falls short of the rate.
                self.first_sent = Some(now);
                self.origin = now;
            }
            self.next_seq += 1;
            produced += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Clock;

    fn stream(params: &str, now: Instant) -> (Value, Stream) {
        let joined = join("stream:t", &serde_json::from_str(params).unwrap(), now).unwrap();
        let Kind::Stream(s) = joined.kind else { panic!("not a stream") };
        (joined.response, s)
    }

    #[test]
    fn join_reply_reports_mode_rate_and_count() {
        let (clock, _mock) = Clock::mock();
        let (response, _) = stream(r#"{"rate":100,"count":5}"#, clock.now());
        assert_eq!(
            response.to_string(),
            r#"{"count":5,"joined":"stream:t","mode":"rate","rate":100}"#
        );
        let (response, _) = stream(r#"{"mode":"burst","count":5}"#, clock.now());
        assert_eq!(
            response.to_string(),
            r#"{"count":5,"joined":"stream:t","mode":"burst","rate":1000}"#
        );
        assert!(join("stream:t", &serde_json::json!({"rate": 0}), clock.now()).is_err());
        assert!(join("stream:t", &serde_json::json!({"mode": "x"}), clock.now()).is_err());
    }

    #[test]
    fn rate_stream_sends_what_is_due_then_done() {
        let (clock, mock) = Clock::mock();
        let (_, mut s) = stream(r#"{"rate":100,"count":3}"#, clock.now());
        let mut out = Vec::new();
        s.produce(clock.now(), 7, 100, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1.as_json(), Some(r#"{"seq":1,"t":7}"#));
        assert!(!s.is_due(clock.now()));
        assert_eq!(s.next_deadline(), Some(clock.now() + Duration::from_millis(10)));
        mock.increment(Duration::from_millis(25));
        out.clear();
        s.produce(clock.now(), 8, 100, &mut out);
        let names: Vec<_> = out.iter().map(|(e, _)| *e).collect();
        assert_eq!(names, ["event", "event", "done"]);
        assert_eq!(out[2].1.as_json(), Some(r#"{"count":3,"server_elapsed_us":25000}"#));
        assert_eq!(s.next_deadline(), None);
    }

    #[test]
    fn frame_pace_produces_one_message_per_call_even_when_late() {
        let (clock, mock) = Clock::mock();
        let (response, mut s) = stream(r#"{"rate":1000,"count":3,"pace":"frame"}"#, clock.now());
        assert_eq!(response["pace"], "frame");
        assert_eq!(s.pace(), Pace::Frame);
        let mut out = Vec::new();
        s.produce(clock.now(), 1, 100, &mut out);
        assert_eq!(out.len(), 1);
        assert!(!s.is_due(clock.now()));
        // Due 1 ms after the first: exactly, not rounded to a tick.
        assert_eq!(s.next_deadline(), Some(clock.now() + Duration::from_millis(1)));
        mock.increment(Duration::from_micros(999));
        assert!(!s.is_due(clock.now()));
        mock.increment(Duration::from_micros(1));
        assert!(s.is_due(clock.now()));
        // 5 ms late: events 2 and 3 and `done` are all due, one per call.
        mock.increment(Duration::from_millis(5));
        for (n, (seq, event)) in [(2, "event"), (3, "event"), (0, "done")].into_iter().enumerate() {
            out.clear();
            assert!(s.is_due(clock.now()), "call {n}");
            s.produce(clock.now(), 9, 100, &mut out);
            assert_eq!(out.len(), 1, "call {n}");
            assert_eq!(out[0].0, event);
            if event == "event" {
                assert_eq!(out[0].1.as_json(), Some(format!(r#"{{"seq":{seq},"t":9}}"#).as_str()));
            }
        }
        assert!(!s.is_due(clock.now()));
        assert_eq!(s.next_deadline(), None);
    }

    #[test]
    fn pace_defaults_to_batch_and_rejects_unknown_values() {
        let (clock, _mock) = Clock::mock();
        let (response, s) = stream(r#"{"rate":100,"count":5}"#, clock.now());
        assert_eq!(s.pace(), Pace::Batch);
        assert!(response.get("pace").is_none());
        assert!(join("stream:t", &serde_json::json!({"pace": "x"}), clock.now()).is_err());
    }

    #[test]
    fn burst_respects_the_batch_limit() {
        let (clock, _mock) = Clock::mock();
        let (_, mut s) = stream(r#"{"mode":"burst","count":5}"#, clock.now());
        let mut out = Vec::new();
        s.produce(clock.now(), 1, 3, &mut out);
        assert_eq!(out.len(), 3);
        assert!(s.is_due(clock.now()));
        s.produce(clock.now(), 1, 10, &mut out);
        assert_eq!(out.len(), 6);
        assert_eq!(out[5].0, "done");
    }
}
