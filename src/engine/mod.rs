//! The engine: the threads that drive Phoenix sockets, and the public
//! handles that talk to them.
//!
//! In scope: one I/O thread (`rig-io`) owning a mio `Poll` and every socket
//! of the engine (each its own token), driving one sans-IO
//! [`Session`](crate::protocol::Session) per socket over
//! [`transport`](crate::transport) connections; the connection policy
//! (connect timeout, reconnect with backoff, Retry-After, auth and
//! certificate failures reported, not retried blindly); the command queue
//! from user threads; bounded delivery to subscriptions and callbacks; the
//! status stream and the lock-free health counters; durable pushes through
//! a socket's [outbox](crate::outbox) (see below). Out of scope: the
//! protocol itself (the session), bytes on the wire (the transport), the
//! outbox's storage.
//!
//! ```text
//!   user threads (api/)          rig-io (io/, mio Poll)                consumers
//!  ──────────────                ──────────────────                    ─────────
//!  Socket / Channel ─commands─▶  waker ─▶ Session per socket ─frames─▶ Connection (TCP/TLS/WS)
//!  Push::wait ◀──── one-slot ───  outcomes                     ◀─────── readiness, timers
//!  Subscription ◀── bounded ───  messages (never blocks: drop + count, or Block:
//!                                stop reading that socket until there is room)
//!  rig-dispatch-N ◀─ bounded ──  messages for `on` callbacks, a batch per turn per
//!  (dispatch/)                   worker, routed by topic hash (user code runs here)
//!  FilterSubscription ◀ bounded  the workers also run each socket's filter table
//!  (Socket::subscribe_filter)    (patterns, events, payload predicates) and deliver
//!  status() ◀────── bounded ───  Status: connecting, open, closed, waiting, auth failed, channels
//!  on_open/on_close ◀ worker 0 ─  the same entries, as lifecycle callbacks on the pool
//!  health() ◀────── atomics ───  counters and gauges
//!  rig-dns ◀─────── lookups ───  host names (never resolved on rig-io; io/resolver)
//!  on_inline ◀───── in place ──  inline handlers run in the loop itself, on the message as read
//! ```
//!
//! The loop (`io/turn.rs`) runs on the `rig-io` thread, or on the
//! application's own thread in invoker mode ([`Engine::start_invoker`],
//! [`Invoker::poll`]): then "rig-io" above is that thread, inline handlers
//! run on it with no hand-off, and the pool, queues and resolver work as
//! shown. How rig-io, the workers and blocking receives wait for work is
//! the engine's [`IdleStrategy`] (park by default: an idle engine never
//! wakes; backoff and busy-spin trade a core for latency).
//!
//! The source follows the threads: `api/` holds the handles (user
//! threads; `Engine` starts the others), `io/` is rig-io and rig-dns,
//! `dispatch/` the worker pool, and `shared/` what crosses between them
//! (the command queue, the state rig-io and the workers publish for the
//! handles, config, status, health counters, ids). Imports go `api →
//! shared`, `io → dispatch → shared`, `io → shared`; `api` reaches `io` and
//! `dispatch` only to start them (and for the presence feed a presence
//! view runs on its worker), and nothing imports `api`
//! (`.ci/layering` checks it).
//!
//! Rules rig-io keeps: it never blocks (no DNS, no waiting on a consumer,
//! no user code except connect/join params closures and inline handlers,
//! which run inside `catch_unwind`, the handlers timed and counted when
//! slow); it sleeps until the earliest deadline of its sessions
//! and connections, so an idle engine does not wake; nothing a peer sends
//! can make it panic.
//!
//! # Durable pushes
//!
//! A socket given an outbox ([`SocketOptionsBuilder::outbox`], a SQLite
//! file, or [`SocketOptionsBuilder::outbox_with`]) accepts
//! [`Channel::push_durable`]: the push is written to the outbox on the
//! caller's thread before the call returns, and rig-io sends the pending
//! entries of a topic, in order, whenever its channel is joined (after the
//! first join, every rejoin, and for entries left by an earlier process).
//! Delivery is at-least-once; the `_rig_id` each JSON object payload carries
//! lets the server drop repeats (the embedded server's `inbox:*` channels
//! do, see [`PushLog`](crate::server::PushLog)).
//!
//! | what happens to a sent entry | outbox | its `Push` handle |
//! |---|---|---|
//! | reply `ok` | deleted (acked) | resolves `Ok` with the reply |
//! | reply `error` (or any status) | deleted: an application answer, sending it again would not change it | resolves `Err(PushError::Reply)` with the reply inside |
//! | timeout, connection lost, channel errored | back to pending, sent again at the next join (at once after a timeout) | keeps waiting |
//! | channel left, closed by the server or removed | back to pending, for a later channel of the topic | `ChannelGone` |
//! | cannot be encoded | dropped (logged) | `Abandoned(Encode)` |
//!
//! Why a separate call rather than a durable [`Channel::push`]: `push` keeps
//! phoenix.js semantics (in memory, a timeout resolves it, no disk write);
//! a durable push fails when the outbox refuses it, outlives the process,
//! and is sent again after a timeout. One call changing meaning with a
//! socket option would surprise code written for the other.
//!
//! Topics nobody joins keep their entries on disk:
//! [`Socket::outbox_topics`] lists them so the application can create and
//! join their channels after a restart; the engine does not create channels
//! by itself, because a join may need params only the application knows.
//! Order per topic holds while replies come back; a push that times out
//! while later ones are answered is sent again after them.
//!
//! # Examples
//!
//! Join a channel on the embedded server, push, and read a broadcast:
//!
//! ```
//! use std::time::Duration;
//! use rig::engine::{Engine, SocketOptions};
//! use rig::protocol::Payload;
//! use rig::server::{Server, ServerConfig};
//!
//! let server = Server::start(ServerConfig::builder().token("secret").build())?;
//! let engine = Engine::start(Default::default())?;
//! let socket = engine.socket(SocketOptions::builder(server.url()).params([("token", "secret")]).build()?)?;
//! socket.connect()?;
//!
//! let room = socket.channel("room:lobby", Payload::json(r#"{"user":"ann"}"#))?;
//! let shouts = room.subscribe("shout")?;
//! room.join().wait()?;
//! let reply = room.push("echo", Payload::json(r#"{"n":1}"#)).wait()?;
//! assert_eq!(reply.response.as_json(), Some(r#"{"n":1}"#));
//! // `shout` is broadcast to every member, the sender included (no reply).
//! room.send("shout", Payload::json(r#"{"text":"hello"}"#))?;
//! let shout = shouts.recv_timeout(Duration::from_secs(5))?;
//! assert_eq!(shout.payload.as_json(), Some(r#"{"text":"hello"}"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod api;
mod dispatch;
mod io;
pub(crate) mod shared;

pub use api::channel::Channel;
pub use api::client::Engine;
pub use api::filter_subscription::{FilterBinding, FilterSubscription};
pub use api::invoker::Invoker;
pub use api::lifecycle::CallbackRef;
pub use api::presence::ChannelPresence;
pub use api::push::Push;
pub use api::socket::Socket;
pub use api::subscription::{Binding, Subscription};
pub use shared::config::{DEFAULT_COMMAND_CAPACITY, DEFAULT_DISPATCH_CAPACITY};
pub use shared::config::{EngineConfig, EngineConfigBuilder, Overflow};
pub use shared::error::EngineError;
pub use shared::failure::{ConnectionError, ErrorKind};
pub use shared::health::{EngineHealth, SocketHealth};
pub use shared::idle::IdleStrategy;
pub use shared::options::SocketOptions;
pub use shared::options_builder::SocketOptionsBuilder;
pub use shared::push_result::{PushError, PushResult};
pub use shared::status::{ChannelChange, ChannelRef, ConnectionState, Status};
