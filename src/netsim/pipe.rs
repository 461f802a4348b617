//! One direction of one connection, with no I/O: bytes go in with the time
//! they were read and come out when the faults allow.
//!
//! ```text
//!  push(now, bytes) ─► [ ring of bytes, each run tagged with its release time ] ─► poll_ready(now, gate)
//!                       release = max(now + delay, previous release)                 │ Bytes(n): write front(n),
//!  close(now) ─────────► the end of stream, released after the last byte            │   then consume(now, k)
//!                                                                                    │ At(t) / Idle / Eof
//! ```
//!
//! Time is a `Duration` since the proxy started, so tests drive it by hand.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::time::Duration;

use super::bucket::TokenBucket;
use super::faults::DirectionFaults;
use super::schedule::Delays;

/// Released bytes handed out per `poll_ready`, at most (one write's worth).
const MAX_WRITE: usize = 256 * 1024;
/// An empty buffer bigger than this is freed, so idle connections cost little.
const KEEP_CAPACITY: usize = 4 * 1024;

/// What may pass a direction right now, besides the per-byte schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Forward as the schedule allows.
    Open,
    /// Stalled: nothing passes before this time.
    Until(Duration),
    /// Blackholed: nothing passes until the gate changes.
    Closed,
}

/// What the pipe can hand out at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ready {
    /// Write up to this many bytes of [`Pipe::front`] now.
    Bytes(usize),
    /// Forward the end of stream (shut down the write side) now.
    Eof,
    /// Nothing before this time.
    At(Duration),
    /// Nothing until more is pushed or the gate opens.
    Idle,
}

/// A run of bytes that become sendable at the same time.
#[derive(Clone, Copy, Debug)]
struct Run {
    release: Duration,
    len: usize,
}

#[derive(Debug)]
pub(crate) struct Pipe {
    bytes: VecDeque<u8>,
    runs: VecDeque<Run>,
    limit: usize,
    delays: Delays,
    bucket: Option<TokenBucket>,
    slice: Option<NonZeroUsize>,
    slice_gap: Duration,
    /// No byte is released before this (keeps byte order under jitter).
    last_release: Duration,
    /// The slice gap: no write before this.
    next_write: Duration,
    /// When the end of stream may be forwarded, once the source ended.
    eof_release: Option<Duration>,
}

impl Pipe {
    /// An empty pipe that holds at most `limit` bytes (at least 1).
    pub(crate) fn new(
        limit: usize,
        faults: &DirectionFaults,
        delays: Delays,
        now: Duration,
    ) -> Self {
        Self {
            bytes: VecDeque::new(),
            runs: VecDeque::new(),
            limit: limit.max(1),
            delays,
            bucket: faults.bandwidth.map(|rate| TokenBucket::new(rate, now)),
            slice: faults.slice,
            slice_gap: faults.slice_gap,
            last_release: Duration::ZERO,
            next_write: Duration::ZERO,
            eof_release: None,
        }
    }

    /// New faults for bytes pushed from now on; bytes already held keep
    /// their release times.
    pub(crate) fn set_faults(&mut self, faults: &DirectionFaults, delays: Delays, now: Duration) {
        self.delays = delays;
        self.bucket = faults.bandwidth.map(|rate| TokenBucket::new(rate, now));
        self.slice = faults.slice;
        self.slice_gap = faults.slice_gap;
    }

    /// Bytes held.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes that may still be pushed.
    pub(crate) fn space(&self) -> usize {
        self.limit.saturating_sub(self.bytes.len())
    }

    /// Whether the end of stream was pushed.
    pub(crate) fn is_closed(&self) -> bool {
        self.eof_release.is_some()
    }

    /// Takes bytes read at `now`, as many as there is space for; returns how
    /// many it took.
    pub(crate) fn push(&mut self, now: Duration, data: &[u8]) -> usize {
        let taken = data.len().min(self.space());
        let Some(data) = data.get(..taken) else { return 0 };
        if data.is_empty() || self.is_closed() {
            return 0;
        }
        let release = self.next_release(now);
        self.bytes.extend(data);
        match self.runs.back_mut() {
            Some(last) if last.release == release => last.len += taken,
            _ => self.runs.push_back(Run { release, len: taken }),
        }
        taken
    }

    /// The source ended at `now`: after the bytes held, forward the end.
    pub(crate) fn close(&mut self, now: Duration) {
        if self.eof_release.is_none() {
            self.eof_release = Some(self.next_release(now));
        }
    }

    /// What may be forwarded at `now` through `gate`.
    pub(crate) fn poll_ready(&mut self, now: Duration, gate: Gate) -> Ready {
        let Some(first) = self.runs.front() else {
            return match (self.eof_release, gate) {
                (None, _) | (Some(_), Gate::Closed) => Ready::Idle,
                (Some(_), Gate::Until(t)) if t > now => Ready::At(t),
                (Some(at), _) if at > now => Ready::At(at),
                (Some(_), _) => Ready::Eof,
            };
        };
        match gate {
            Gate::Closed => return Ready::Idle,
            Gate::Until(t) if t > now => return Ready::At(t),
            Gate::Until(_) | Gate::Open => {}
        }
        if first.release > now {
            return Ready::At(first.release);
        }
        if self.next_write > now {
            return Ready::At(self.next_write);
        }
        let mut sendable = 0usize;
        for run in self.runs.iter().take_while(|run| run.release <= now) {
            sendable = sendable.saturating_add(run.len);
            if sendable >= MAX_WRITE {
                break;
            }
        }
        sendable = sendable.min(MAX_WRITE);
        if let Some(slice) = self.slice {
            sendable = sendable.min(slice.get());
        }
        if let Some(bucket) = &mut self.bucket {
            let tokens = bucket.available(now);
            if tokens == 0 {
                return Ready::At(bucket.next_byte_at(now));
            }
            sendable = sendable.min(tokens);
        }
        Ready::Bytes(sendable)
    }

    /// The first `n` bytes held, or fewer where the ring wraps.
    pub(crate) fn front(&self, n: usize) -> &[u8] {
        let (head, _) = self.bytes.as_slices();
        head.get(..n).unwrap_or(head)
    }

    /// Drops the first `n` bytes, written at `now`.
    pub(crate) fn consume(&mut self, now: Duration, n: usize) {
        let n = n.min(self.bytes.len());
        self.bytes.drain(..n);
        let mut left = n;
        while left > 0 {
            let Some(run) = self.runs.front_mut() else { break };
            if run.len > left {
                run.len -= left;
                break;
            }
            left -= run.len;
            self.runs.pop_front();
        }
        if let Some(bucket) = &mut self.bucket {
            bucket.take(n);
        }
        if self.slice.is_some() && !self.slice_gap.is_zero() {
            self.next_write = now.saturating_add(self.slice_gap);
        }
        if self.bytes.is_empty() && self.bytes.capacity() > KEEP_CAPACITY {
            self.bytes = VecDeque::new();
            self.runs = VecDeque::new();
        }
    }

    fn next_release(&mut self, now: Duration) -> Duration {
        let delay = self.delays.next().unwrap_or_default();
        let release = now.saturating_add(delay).max(self.last_release);
        self.last_release = release;
        release
    }
}
