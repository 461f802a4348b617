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
        Self { state: AtomicU8::new(0), joins: AtomicU64::new(0) }
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
