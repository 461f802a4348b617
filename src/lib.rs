//! rig: a Phoenix Channels client engine with no async runtime.
//!
//! rig speaks the [Phoenix Channels] protocol (serializer versions 1.0.0 and
//! 2.0.0, text and binary frames) and is built in layers:
//!
//! ```text
//!  protocol/  sans-IO core: messages, serializers, socket/channel/push state
//!             machines, presence. No sockets, no threads, no clock reads.
//!  timer/     hierarchical timer wheel, driven by the injected clock.
//!  time       the clock handle (real or quanta's mock clock).
//!  transport/ non-blocking TCP + TLS + WebSocket connections on mio; knows
//!             nothing of Phoenix.
//!  filter/    subscription filter tables: topic patterns, event sets,
//!             payload predicates (`-w` language), published by atomic swap.
//!  engine/    the threads: one mio I/O thread driving many sockets, the
//!             public Engine / Socket / Channel / Push handles, status, health.
//!  server/    an embedded Phoenix-compatible server (feature "server"),
//!             used by `rig serve`, the tests, the demo and the stress harness.
//!  outbox/    the persistent offline push queue (feature "outbox"): a
//!             SQLite file with group commit, ids for server-side dedup.
//!  netsim/    a seeded loopback TCP fault proxy (feature "netsim"): latency,
//!             jitter, bandwidth, slicing, stalls, blackholes, resets.
//!  redact/    hides secrets (URL userinfo, tokens, keys, auth headers) in
//!             everything rig formats; std only, usable from every layer.
//! ```
//!
//! [Phoenix Channels]: https://hexdocs.pm/phoenix/channels.html
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

pub mod engine;
pub mod error;
pub mod filter;
#[cfg(any(feature = "server", feature = "netsim"))]
mod listener;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(feature = "netsim")]
pub mod netsim;
pub mod outbox;
pub mod protocol;
pub mod redact;
#[cfg(feature = "server")]
pub mod server;
pub mod time;
pub mod timer;
pub mod transport;

pub use error::Error;

/// The crate version, followed by the git commit when built from a checkout
/// (`0.1.0 (commit 1a2b3c4d5e)`): what `rig --version` prints after the
/// program's name.
///
/// ```
/// let line = rig::VERSION;
/// assert!(line.split(' ').next().is_some_and(|v| v.split('.').count() == 3));
/// ```
pub const VERSION: &str = env!("RIG_VERSION_LINE");

/// The README's code blocks, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
