//! rig-io, the engine's one I/O thread: the mio loop (`thread`), each
//! socket's slot (`slot`) and connection (`link`), commands in
//! (`commands`), session events and frames out (`events`, `frames`), flow
//! control for full consumers (`backpressure`), connection failures
//! (`failure`), durable push replay (`outbox`), routing to filter
//! subscriptions (`filter_route`), and the rig-dns thread (`resolver`).
//!
//! In scope: everything that owns the `Poll`, the sockets and the
//! sessions. Out of scope: user code (it runs on the dispatcher workers,
//! `dispatch`), the handles (`api`, which this folder never imports).

pub(crate) mod backpressure;
pub(crate) mod commands;
pub(crate) mod events;
pub(crate) mod failure;
pub(crate) mod filter_route;
pub(crate) mod frames;
pub(crate) mod link;
pub(crate) mod outbox;
pub(crate) mod resolver;
pub(crate) mod slot;
pub(crate) mod thread;
