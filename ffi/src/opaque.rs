//! The opaque handle types C sees (declared, never defined, in rig.h).

/// An engine: the `rig-io` thread and the `rig-dispatch-N` pool. Free it
/// last: its threads stop then, and every handle from it reports
/// `RIG_ERR_STOPPED`.
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[derive(Debug)]
pub struct rig_engine {
    _private: [u8; 0],
}

/// One connection to a Phoenix endpoint, reconnecting on its own.
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[derive(Debug)]
pub struct rig_socket {
    _private: [u8; 0],
}

/// A channel (topic) on a socket.
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[derive(Debug)]
pub struct rig_channel {
    _private: [u8; 0],
}

/// A push, join or leave in flight: wait for its outcome or get a callback.
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[derive(Debug)]
pub struct rig_push {
    _private: [u8; 0],
}

/// A subscription: a queue to poll, or a callback (removed when freed).
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[derive(Debug)]
pub struct rig_subscription {
    _private: [u8; 0],
}

/// A channel's synced presence view.
#[allow(non_camel_case_types, reason = "C names in the generated header")]
#[derive(Debug)]
pub struct rig_presence {
    _private: [u8; 0],
}
