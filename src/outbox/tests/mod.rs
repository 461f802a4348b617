//! Tests of the outbox: the same contract on both backends, SQLite's own
//! durability and errors, and the crash test (a child process SIGKILLed).

mod contract;
mod crash;
mod memory;
mod queue;
mod sqlite;
mod storage;
pub(crate) mod util;
