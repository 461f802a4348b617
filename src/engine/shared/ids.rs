//! Keys the user-side handles allocate before rig-io has seen them, so a
//! handle is usable at once and its commands stay in order.

use std::sync::atomic::{AtomicU64, Ordering};

/// Hands out keys; every kind of key shares one counter, so no two keys of
/// an engine are equal.
#[derive(Debug, Default)]
pub(crate) struct KeySource {
    last: AtomicU64,
}

impl KeySource {
    pub(crate) fn next(&self) -> u64 {
        self.last.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }
}

macro_rules! key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub(crate) struct $name(pub(crate) u64);
    };
}

key!(
    /// One socket of the engine; also its mio token.
    SocketKey
);
key!(
    /// One channel handle.
    ChannelKey
);
key!(
    /// One push, join or leave handle.
    PushKey
);
key!(
    /// One subscription (a receiver or a callback).
    SubKey
);
