//! rig: a [Phoenix Channels] client engine with no async runtime.
//!
//! One I/O thread (`rig-io`, on mio) drives every socket of an [`Engine`];
//! your threads call plain functions and get handles, blocking waits,
//! callbacks on a small dispatcher pool, or crossbeam receivers. It speaks
//! the protocol as the official phoenix.js client does (serializers 1.0.0
//! and 2.0.0, text and binary frames, heartbeats, rejoins, presence) and
//! adds what a latency-sensitive tool needs: idle strategies, an invoker
//! mode that runs the I/O loop on your own thread, filter subscriptions,
//! a crash-safe outbox, exact drop counters and OpenMetrics.
//!
//! # Quickstart
//!
//! Connect, join, push with a typed reply, subscribe to typed events, read
//! presence. The peer here is the embedded Phoenix-compatible server (feature
//! `server`); point [`SocketOptions::builder`] at `ws://host:4000/socket` for
//! a real one.
//!
//! ```
//! use std::time::Duration;
//! use rig::{Engine, Payload, PushError, SocketOptions};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Echo { n: u32 }
//! #[derive(Deserialize)]
//! struct Shout<'a> { text: &'a str } // borrowed from the frame
//!
//! # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
//! # let url = server.url();
//! let engine = Engine::start(Default::default())?;
//! let socket = engine.socket(SocketOptions::builder(url).build()?)?;
//! socket.on_open(|| println!("connected"))?;
//! socket.connect()?;
//!
//! // A refused join is an `Err`: `?` stops here.
//! let room = socket.channel("room:lobby", Payload::from(serde_json::json!({"user": "ann"})))?;
//! let shouts = room.subscribe("shout")?;
//! room.join().wait()?;
//!
//! // `Ok` only for an `ok` reply; an `error` reply is `Err` with the reply inside.
//! let reply = room.push("echo", Payload::from_serde(&Echo { n: 1 })?).wait()?;
//! assert_eq!(reply.decode::<Echo>()?, Echo { n: 1 });
//! let refused = room.push("echo_error", Payload::from_serde(&Echo { n: 2 })?).wait();
//! assert!(matches!(refused, Err(PushError::Reply(_))));
//!
//! // Events the server broadcasts; `send` expects no reply.
//! room.send("shout", Payload::from(serde_json::json!({"text": "hi"})))?;
//! let message = shouts.recv_timeout(Duration::from_secs(5))?;
//! assert_eq!(message.decode::<Shout<'_>>()?.text, "hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Presence: [`Channel::presence`] keeps a synced view with `on_join`,
//! `on_leave` and `on_sync` callbacks and metas decoded into your types.
//!
//! # Reconnection
//!
//! As phoenix.js: a lost connection is retried with backoff (10, 50, 100,
//! 150, 200, 250, 500, 1000, 2000 ms, then 5 s, with jitter), channels
//! rejoin by themselves, pushes made while disconnected are buffered and
//! sent on rejoin. Unlike phoenix.js the backoff starts over only once a
//! connection has proved healthy (a heartbeat or join reply, or 5 s open),
//! so a server that breaks every connection is not hammered, and
//! [`SocketOptionsBuilder::max_reconnect_attempts`] can give up. Failures
//! retrying cannot fix (a refused token, a bad certificate, an HTTP 404
//! upgrade) stop the socket and say why ([`Status`], `socket.on_error`).
//!
//! # Feature flags
//!
//! | feature | default | brings |
//! |---|---|---|
//! | `server` | yes | [`server`]: the embedded Phoenix-compatible server (`rig serve`, tests, demos) |
//! | `netsim` | yes | [`netsim`]: the loopback TCP fault proxy (`rig proxy`) |
//! | `outbox` | yes | [`outbox::SqliteOutbox`]: durable pushes in SQLite (compiled in) |
//! | `metrics` | yes | [`metrics`]: OpenMetrics exposition and a `/metrics` listener |
//! | `report` | no | the charts of `rig-bench --report` (plotters, SVG only) |
//! | `native-tls` | no | TLS through the platform library instead of rustls |
//!
//! A client needs none of them: `rig-phoenix = { version = "0.1",
//! default-features = false }` builds the whole engine (85 crates instead
//! of 132). The README's "Feature flags" section says what each costs.
//!
//! # Modules
//!
//! | module | what it is |
//! |---|---|
//! | [`engine`] | the threads and the public handles: [`Engine`], [`Socket`], [`Channel`], [`Push`], [`Subscription`], status, health, idle strategies, invoker mode |
//! | [`protocol`] | the sans-IO core: messages, serializers, socket/channel/push state machines, presence, typed payloads |
//! | [`filter`] | filter subscriptions: topic patterns, event sets, payload predicates |
//! | [`transport`] | non-blocking TCP, TLS and WebSocket on mio; knows nothing of Phoenix |
//! | [`outbox`] | the persistent offline push queue |
//! | [`metrics`] | OpenMetrics for Prometheus (feature `metrics`) |
//! | [`server`] | the embedded server (feature `server`) |
//! | [`netsim`] | the fault proxy (feature `netsim`) |
//! | [`redact`] | hiding secrets in everything rig formats |
//! | [`timer`], [`time`] | the timer wheel and the injected clock |
//!
//! The protocol core never touches sockets, threads or clocks; the
//! transport never sees Phoenix messages; `.ci/layering` checks both.
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

pub use engine::{
    Channel, ConnectionState, Engine, EngineConfig, EngineError, IdleStrategy, Overflow, Push,
    PushError, PushResult, Socket, SocketOptions, SocketOptionsBuilder, Status, Subscription,
};
pub use error::Error;
pub use protocol::{Message, Payload, PayloadError, Reply};

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
