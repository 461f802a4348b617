//! The embedded Phoenix-compatible server: `rig serve`, the tests, the demo
//! and the stress harness all run it.
//!
//! It reproduces what a real Phoenix 1.7 server (Bandit) sends for the
//! channels of the fixture application (see `../shared/fixtures/phoenix-1.7`):
//! `room:*` (echo, errors, pushes, broadcasts, crashes, stops, a slow handler,
//! binary frames), `stream:*` (paced or burst server pushes) and `presence:*`.
//! One channel family is rig's own: `inbox:*` records every push in a
//! [`PushLog`], deduplicated by the outbox id the client carries, as an
//! application receiving at-least-once pushes would.
//!
//! ```text
//!   Server::start(config) --> thread "rig-server" (one mio loop)
//!        listener ─ accept ─► conn: HTTP upgrade ─► WebSocket ─► Session (per client)
//!                                                        │ effects
//!                          pubsub / presence tracker ◄───┘──► outgoing queues ─► sockets
//! ```
//!
//! In scope: `GET /socket/websocket?vsn=..` upgrades (token by query or
//! bearer subprotocol), optional TLS (rustls), heartbeats, joins, leaves,
//! duplicate joins, replies, pushes, broadcasts, presence, idle timeout,
//! bounded per-client queues. Out of scope: long polling, clustering.
//!
//! Every kind of bad input ends in a clear answer (an HTTP status or a close
//! code), never a panic, and in a counter: [`ServerHandle::stats`] reads
//! them lock-free (see [`ServerStats`]); `rig serve` shows them live.
//!
//! Wire formats come from the protocol's [`ServerSerializer`]s, chosen by the
//! `vsn` query parameter as Phoenix does (`~> 2.0.0`; no `vsn` means `1.0.0`).
//! The default list holds [`V2Serializer`] (text, and binary frames as far as
//! it supports them); more are added with [`ServerConfigBuilder::serializer`].
//! A `vsn` that no serializer answers to is refused with 403.
//!
//! [`ServerSerializer`]: crate::protocol::ServerSerializer
//! [`V2Serializer`]: crate::protocol::V2Serializer
//!
//! # Examples
//!
//! ```
//! use rig::server::{Server, ServerConfig};
//!
//! let server = Server::start(ServerConfig::builder().token("secret").build())?;
//! println!("connect to {}/websocket?vsn=2.0.0&token=secret", server.url());
//! server.shutdown();
//! # Ok::<(), rig::server::Error>(())
//! ```

mod channels;
mod close;
mod config;
mod conn;
mod effects;
mod error;
mod event_loop;
mod fanout;
mod handle;
mod http;
mod json;
mod listener;
mod pacer;
mod push_log;
mod session;
mod stats;
mod tls;
mod transport;
mod wall_clock;

#[cfg(test)]
mod test;

pub use config::{ServerConfig, ServerConfigBuilder};
pub use error::Error;
pub use handle::{Server, ServerHandle};
pub use push_log::{PushLog, Recorded};
pub use stats::ServerStats;
pub use tls::TlsConfig;
