//! rig's integration tests: one binary, real sockets on 127.0.0.1.

#[cfg(feature = "server")]
mod engine_basic;
#[cfg(feature = "server")]
mod engine_delivery;
#[cfg(feature = "server")]
mod engine_fake;
#[cfg(feature = "server")]
mod engine_faults;
#[cfg(feature = "server")]
mod engine_reconnect;
#[cfg(feature = "server")]
mod engine_scale;
#[cfg(feature = "server")]
mod engine_util;
