//! The per-channel invariant checker for stream events.
//!
//! A `stream:*` join makes the server send `event {"seq":1..}` on that
//! join; a rejoin starts again at 1. So the unit of checking is the
//! *epoch*: one join, identified by its `join_ref`, until the connection
//! carrying it ends. Within an epoch every event travels one TCP
//! connection, so the sequence must be exactly 1, 2, 3, ...:
//!
//! ```text
//!   seq == next            delivered (next += 1)
//!   seq >  next            the seqs in between are missing (a gap, kept)
//!   seq <  next, in a gap  reordered (the gap shrinks: not missing after all)
//!   seq <  next, otherwise duplicated
//!   join_ref older than the current epoch's   stale (the engine should drop these)
//! ```
//!
//! Events the server sent into a connection that a fault then killed never
//! show up in any epoch: they are not missing (nothing after them arrived
//! on that join), they are *cut by the fault*, counted globally as the
//! server's `stream_events` minus what arrived (see `report`).
//!
//! Recovery: a fault marks every track as pending with the fault's time;
//! the first event after it (in a *new* epoch when the fault killed the
//! connections) resolves it and yields the time to recover.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// What a track has counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TrackCounts {
    /// Events that arrived in order, each once.
    pub(crate) delivered: u64,
    /// Seqs skipped within an epoch and never filled in.
    pub(crate) missing: u64,
    /// Events that arrived a second time in their epoch.
    pub(crate) duplicated: u64,
    /// Events that arrived after a later seq of their epoch.
    pub(crate) reordered: u64,
    /// Events of an epoch older than the current one.
    pub(crate) stale: u64,
    /// Epochs (joins) that delivered at least one event.
    pub(crate) epochs: u64,
}

impl TrackCounts {
    /// Adds `other` into `self`.
    pub(crate) fn add(&mut self, other: &Self) {
        self.delivered += other.delivered;
        self.missing += other.missing;
        self.duplicated += other.duplicated;
        self.reordered += other.reordered;
        self.stale += other.stale;
        self.epochs += other.epochs;
    }
}

/// A fault the channel has not recovered from yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    at: Instant,
    /// Only an event of another epoch than `epoch_at_fault` counts.
    new_epoch: bool,
    epoch_at_fault: Option<u64>,
}

/// One channel's checker.
#[derive(Debug, Default)]
pub(crate) struct Track {
    epoch: Option<u64>,
    next: u64,
    /// Missing ranges `[from, to)` of the current epoch.
    gaps: Vec<(u64, u64)>,
    pending: Option<Pending>,
    counts: TrackCounts,
}

impl Track {
    /// Checks one event (`join_ref` of its join, its `seq`) arriving at
    /// `now`; returns the time to recover when it ends a pending fault.
    pub(crate) fn on_event(&mut self, join_ref: u64, seq: u64, now: Instant) -> Option<Duration> {
        match self.epoch {
            Some(current) if join_ref < current => {
                self.counts.stale += 1;
                return None;
            }
            Some(current) if join_ref == current => {}
            _ => {
                self.epoch = Some(join_ref);
                self.next = 1;
                self.gaps.clear();
                self.counts.epochs += 1;
            }
        }
        if seq == self.next {
            self.next += 1;
            self.counts.delivered += 1;
        } else if seq > self.next {
            self.counts.missing += seq - self.next;
            self.gaps.push((self.next, seq));
            self.next = seq + 1;
            self.counts.delivered += 1;
        } else if self.fill_gap(seq) {
            self.counts.missing -= 1;
            self.counts.reordered += 1;
        } else {
            self.counts.duplicated += 1;
        }
        let pending = self.pending?;
        if pending.new_epoch && pending.epoch_at_fault == self.epoch {
            return None;
        }
        self.pending = None;
        Some(now.saturating_duration_since(pending.at))
    }

    /// Takes `seq` out of the gaps; false when it was in none.
    fn fill_gap(&mut self, seq: u64) -> bool {
        let Some(i) = self.gaps.iter().position(|&(from, to)| from <= seq && seq < to) else {
            return false;
        };
        let Some(&(from, to)) = self.gaps.get(i) else { return false };
        self.gaps.swap_remove(i);
        if from < seq {
            self.gaps.push((from, seq));
        }
        if seq + 1 < to {
            self.gaps.push((seq + 1, to));
        }
        true
    }

    /// A fault happened at `at`; `new_epoch` when it killed the connection.
    /// An earlier fault still pending is kept: recovery is measured from
    /// the first fault of an outage.
    pub(crate) fn mark_fault(&mut self, at: Instant, new_epoch: bool) {
        if self.pending.is_none() {
            self.pending = Some(Pending { at, new_epoch, epoch_at_fault: self.epoch });
        }
    }

    /// Whether a fault is waiting for this channel to recover.
    pub(crate) fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether any event arrived yet.
    pub(crate) fn has_epoch(&self) -> bool {
        self.epoch.is_some()
    }

    /// The counts so far.
    pub(crate) fn counts(&self) -> TrackCounts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(track: &mut Track, join_ref: u64, seqs: &[u64], at: Instant) {
        for &seq in seqs {
            let _ = track.on_event(join_ref, seq, at);
        }
    }

    #[test]
    fn contiguous_epochs_count_as_delivered() {
        let at = crate::clock::now();
        let mut t = Track::default();
        feed(&mut t, 1, &[1, 2, 3], at);
        feed(&mut t, 4, &[1, 2], at);
        assert_eq!(t.counts(), TrackCounts { delivered: 5, epochs: 2, ..TrackCounts::default() });
    }

    #[test]
    fn a_gap_is_missing_until_filled_then_reordered() {
        let at = crate::clock::now();
        let mut t = Track::default();
        feed(&mut t, 1, &[1, 4], at);
        assert_eq!(t.counts().missing, 2);
        feed(&mut t, 1, &[3], at);
        assert_eq!((t.counts().missing, t.counts().reordered), (1, 1));
        feed(&mut t, 1, &[3, 4, 1], at);
        assert_eq!(t.counts().duplicated, 3);
        feed(&mut t, 1, &[2], at);
        assert_eq!((t.counts().missing, t.counts().reordered, t.counts().delivered), (0, 2, 2));
    }

    #[test]
    fn a_rejoin_starting_late_is_missing_and_an_old_join_is_stale() {
        let at = crate::clock::now();
        let mut t = Track::default();
        feed(&mut t, 2, &[1], at);
        feed(&mut t, 5, &[3], at);
        assert_eq!(t.counts().missing, 2);
        feed(&mut t, 2, &[2], at);
        assert_eq!(t.counts().stale, 1);
    }

    #[test]
    fn recovery_after_a_reset_needs_a_new_epoch() {
        let start = crate::clock::now();
        let mut t = Track::default();
        feed(&mut t, 1, &[1], start);
        t.mark_fault(start, true);
        t.mark_fault(start + Duration::from_secs(9), true); // the first fault wins
        assert!(t.is_pending());
        assert_eq!(t.on_event(1, 2, start + Duration::from_millis(5)), None);
        let ttr = t.on_event(3, 1, start + Duration::from_millis(40));
        assert_eq!(ttr, Some(Duration::from_millis(40)));
        assert!(!t.is_pending());
    }

    #[test]
    fn recovery_after_a_stall_is_the_next_event() {
        let start = crate::clock::now();
        let mut t = Track::default();
        feed(&mut t, 1, &[1], start);
        t.mark_fault(start, false);
        assert_eq!(
            t.on_event(1, 2, start + Duration::from_millis(7)),
            Some(Duration::from_millis(7))
        );
    }
}
