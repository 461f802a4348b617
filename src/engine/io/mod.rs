//! rig-io, the engine's one I/O loop: its state (`thread`), one turn of it
//! and the loop with its idle strategy (`turn`; run by the `rig-io` thread
//! or by the application's thread through an `Invoker`), each
//! socket's slot (`slot`) and connection (`link`), commands in
//! (`commands`), session events and frames out (`events`, `frames`), flow
//! control for full consumers (`backpressure`), connection failures
//! (`failure`), durable push replay (`outbox`), routing to filter
//! subscriptions (`filter_route`), and the rig-dns thread (`resolver`).
//!
//! In scope: everything that owns the `Poll`, the sockets and the
//! sessions; inline handlers (`Channel::on_inline`), which run here by
//! contract. Out of scope: other user code (it runs on the dispatcher
//! workers, `dispatch`), the handles (`api`, which this folder never
//! imports).

pub(crate) mod backpressure;
pub(crate) mod commands;
pub(crate) mod events;
pub(crate) mod failure;
pub(crate) mod filter_route;
pub(crate) mod frames;
pub(crate) mod lifecycle;
pub(crate) mod link;
pub(crate) mod outbox;
pub(crate) mod resolver;
pub(crate) mod slot;
pub(crate) mod thread;
pub(crate) mod turn;
