//! The handles users hold, on user threads: [`Engine`](crate::engine::Engine)
//! (which starts rig-io, rig-dns and the dispatcher pool), `Socket`,
//! `Channel`, `Push`, `Subscription` / `Binding`, `FilterSubscription` /
//! `FilterBinding` and `ChannelPresence`.
//!
//! Beside them: the per-status push callbacks (`push_handlers`),
//! `Channel::send` (a message without a reply, `channel_send`) and the
//! lifecycle callbacks of sockets and channels (`lifecycle`).
//!
//! In scope: turning calls into commands for rig-io, reading the state
//! rig-io and the workers publish (`shared`), waiting on a push's outcome,
//! writing durable pushes to the outbox on the caller's thread. Out of
//! scope: anything that runs on rig-io or a worker; nothing outside this
//! folder imports it (the public types reach users through
//! `crate::engine`'s re-exports).

pub(crate) mod channel;
pub(crate) mod channel_overflow;
pub(crate) mod channel_send;
pub(crate) mod channel_typed;
pub(crate) mod client;
pub(crate) mod filter_socket;
pub(crate) mod filter_subscription;
pub(crate) mod inline;
pub(crate) mod invoker;
pub(crate) mod lifecycle;
pub(crate) mod outbox_push;
pub(crate) mod presence;
pub(crate) mod push;
pub(crate) mod push_handlers;
pub(crate) mod socket;
pub(crate) mod subscription;
