//! What crosses threads: the command queue from user threads to rig-io,
//! the state rig-io and the workers publish for the handles (a channel's
//! state, a push's outcome, a socket's outbox and filter tables), the
//! user code carried to the workers, and the plain data every thread
//! reads (config, socket options, errors, failures, status, health
//! counters, ids).
//!
//! In scope: types and the small methods on them that every side uses.
//! Out of scope: loops and threads (`io`, `dispatch`) and the handles
//! (`api`); nothing here imports another engine folder.

pub(crate) mod callback;
pub(crate) mod channel;
pub(crate) mod command;
pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod failure;
pub(crate) mod filter_set;
pub(crate) mod filter_target;
pub(crate) mod guard;
pub(crate) mod health;
pub(crate) mod idle;
pub(crate) mod ids;
pub(crate) mod options;
pub(crate) mod options_builder;
pub(crate) mod options_local;
pub(crate) mod outbox;
pub(crate) mod push_result;
pub(crate) mod queue;
pub(crate) mod rtt_histogram;
pub(crate) mod status;
