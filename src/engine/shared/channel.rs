//! The state a channel shares with its handles: rig-io writes it, a
//! [`Channel`](crate::engine::Channel) and its presence view read it.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};

use crate::protocol::ChannelState;

/// What rig-io publishes about a channel for its handles.
#[derive(Debug)]
pub(crate) struct ChannelShared {
    state: AtomicU8,
    /// How many times the channel started joining (first join and every
    /// rejoin): a presence view waits for a new state after each.
    joins: AtomicU64,
    /// Per-topic counters for metrics, written by rig-io only (plain loads
    /// and stores, no locked instruction) once per routed message.
    pub(crate) counters: TopicCounters,
}

/// What rig-io routed to one channel: read by `rig::metrics` when scraped.
#[derive(Debug, Default)]
pub(crate) struct TopicCounters {
    /// Messages that arrived for the channel.
    pub(crate) received: AtomicU64,
    /// Copies handed to its subscriptions, callbacks and inline handlers.
    pub(crate) delivered: AtomicU64,
    /// Copies lost because a subscription queue was full.
    pub(crate) dropped_queue_full: AtomicU64,
    /// Copies lost because a dispatcher worker was behind.
    pub(crate) dropped_dispatch: AtomicU64,
}

/// Adds `n` to a counter only rig-io writes: a plain load and store, no
/// locked instruction on the per-message path.
pub(crate) fn bump(counter: &AtomicU64, n: u64) {
    if n != 0 {
        counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
    }
}

/// One counter's values, all read with relaxed loads.
#[cfg_attr(not(feature = "metrics"), allow(dead_code, reason = "read by rig::metrics only"))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TopicCounts {
    pub(crate) received: u64,
    pub(crate) delivered: u64,
    pub(crate) dropped_queue_full: u64,
    pub(crate) dropped_dispatch: u64,
}

#[cfg_attr(not(feature = "metrics"), allow(dead_code, reason = "read by rig::metrics only"))]
impl TopicCounters {
    pub(crate) fn snapshot(&self) -> TopicCounts {
        TopicCounts {
            received: self.received.load(Relaxed),
            delivered: self.delivered.load(Relaxed),
            dropped_queue_full: self.dropped_queue_full.load(Relaxed),
            dropped_dispatch: self.dropped_dispatch.load(Relaxed),
        }
    }
}

const STATES: [ChannelState; 5] = [
    ChannelState::Closed,
    ChannelState::Joining,
    ChannelState::Joined,
    ChannelState::Leaving,
    ChannelState::Errored,
];

impl ChannelShared {
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicU8::new(0),
            joins: AtomicU64::new(0),
            counters: TopicCounters::default(),
        }
    }

    /// Join attempts so far (see `joins`).
    pub(crate) fn joins(&self) -> u64 {
        self.joins.load(SeqCst)
    }

    pub(crate) fn set_state(&self, state: ChannelState) {
        if state == ChannelState::Joining && self.state() != ChannelState::Joining {
            self.joins.fetch_add(1, SeqCst);
        }
        let n = STATES.iter().position(|s| *s == state).and_then(|i| u8::try_from(i).ok());
        self.state.store(n.unwrap_or(0), Relaxed);
    }

    pub(crate) fn state(&self) -> ChannelState {
        STATES.get(usize::from(self.state.load(Relaxed))).copied().unwrap_or(ChannelState::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_state_survives_the_atomic() {
        let shared = ChannelShared::new();
        assert_eq!(shared.state(), ChannelState::Closed);
        for state in STATES {
            shared.set_state(state);
            assert_eq!(shared.state(), state);
        }
    }
}
