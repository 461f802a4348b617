//! The `rig-dispatch-N` pool: the threads where user callbacks run
//! (`on` handlers, push callbacks, filter subscriptions, presence views),
//! fed in batches by rig-io.
//!
//! In scope: the pool and its batches (`pool`), one worker's loop
//! (`worker`), keeping a presence view in sync (`presence_feed`). Out of
//! scope: sockets and sessions (`io`), the handles (`api`, never imported
//! here); the filter tables the workers run are shared with rig-io and the
//! handles, so they live in `shared`.

#[cfg(test)]
mod filter_test;
pub(crate) mod pool;
#[cfg(test)]
mod pool_test;
pub(crate) mod presence_feed;
pub(crate) mod worker;
