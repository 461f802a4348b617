//! Test access to the session's internals the public API does not show.

use super::{PushId, Session};
use crate::protocol::message::Ref;
use crate::protocol::push::PushKind;
use crate::timer::TimerKey;

impl Session {
    /// Refs waiting for a reply (phoenix.js `chan_reply_*` bindings).
    pub(crate) fn refs_waiting(&self) -> usize {
        self.pushes.refs_waiting()
    }

    /// Room the event queue holds (0: no buffer at all).
    pub(crate) fn event_capacity(&self) -> usize {
        self.events.capacity()
    }

    /// Messages in the socket send buffer.
    pub(crate) fn send_buffer_len(&self) -> usize {
        self.send_buffer.len()
    }

    /// Sets the last ref made, e.g. to reach the wrap-around.
    pub(crate) fn set_last_ref(&mut self, last: u64) {
        self.refs.set(last);
    }

    /// Makes a ref as if a frame had been sent, for transcript rows a
    /// well-behaved client never sends.
    pub(crate) fn burn_ref(&mut self) -> Ref {
        self.refs.next()
    }

    /// Armed timers.
    pub(crate) fn timer_count(&self) -> usize {
        self.timers.len()
    }

    /// Checks that every armed timer has an owner that will disarm it (the
    /// heartbeat, the reconnect, a channel's rejoin, a push) and every key
    /// an owner holds is armed: no timer is forgotten in the wheel.
    pub(crate) fn check_timer_owners(&self) {
        let held: Vec<TimerKey> =
            [self.heartbeat.timer, self.heartbeat.deadline, self.reconnect_timer]
                .into_iter()
                .chain(self.channels.values().map(|c| c.rejoin_timer))
                .chain(self.pushes.timers())
                .flatten()
                .collect();
        for key in &held {
            assert!(self.timers.is_armed(*key), "an owner holds a dead timer key {key:?}");
        }
        let distinct: std::collections::HashSet<_> = held.iter().collect();
        assert_eq!(distinct.len(), held.len(), "two owners hold the same timer");
        assert_eq!(self.timers.len(), held.len(), "armed timers without an owner: {self:?}");
    }

    /// Checks that a push is marked as having a frame in the send buffer
    /// exactly when it has one (the mark spares `unbuffer` its scan).
    pub(crate) fn check_send_buffer_marks(&self) {
        let owners: std::collections::HashSet<PushId> =
            self.send_buffer.iter().filter_map(|(_, owner)| *owner).collect();
        for push in self.pushes.ids() {
            let marked = self.pushes.get(push).is_some_and(|r| r.in_send_buffer);
            assert_eq!(marked, owners.contains(&push), "{push}: mark vs send buffer");
        }
        // The documented bound: join frames only, one per channel at most.
        assert_eq!(owners.len(), self.send_buffer.len(), "one frame per push, all owned");
        for push in owners {
            let kind = self.pushes.get(push).map(|r| r.kind);
            assert_eq!(kind, Some(PushKind::Join), "{push} in the send buffer");
        }
    }
}
