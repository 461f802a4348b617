//! Bounded queues that cost memory only for what they hold.
//!
//! A crossbeam `bounded(n)` queue allocates (and writes) its `n` slots when
//! it is created: a status stream of 1 024 entries was 152 KiB per
//! receiver, idle or not. [`bounded`] wraps crossbeam's `unbounded` list
//! instead (31-slot blocks allocated as messages arrive, freed as they are
//! read) and checks the bound on send. The receiving side stays a plain
//! [`crossbeam_channel::Receiver`].
//!
//! The bound is exact: producers check the length and send under a small
//! lock of the queue's ([`Bound`]), and the consumer only shortens it. An
//! uncontended lock is an atomic swap: rig-io, the only producer of status
//! and subscription queues, never waits on it.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, SendError, TrySendError};
use parking_lot::Mutex;

/// First pause of a [`Sender::send`] that finds the queue full.
const MIN_PAUSE: Duration = Duration::from_micros(20);
/// Longest pause between two looks at a full queue.
const MAX_PAUSE: Duration = Duration::from_millis(1);

/// The sending side of a [`bounded`] queue.
pub(crate) struct Sender<T> {
    tx: crossbeam_channel::Sender<T>,
    bound: Arc<Bound>,
}

/// A queue of at most `capacity` messages (at least 1) that allocates
/// nothing until the first message.
pub(crate) fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = crossbeam_channel::unbounded();
    (Sender { tx, bound: Arc::new(Bound::new(capacity)) }, rx)
}

/// A capacity checked on send, for a crossbeam sender held elsewhere.
#[derive(Debug)]
pub(crate) struct Bound {
    capacity: usize,
    /// Held from the length check to the send.
    gate: Mutex<()>,
}

impl Default for Bound {
    /// No bound of its own (a crossbeam `bounded` queue keeps its own).
    fn default() -> Self {
        Self { capacity: usize::MAX, gate: Mutex::new(()) }
    }
}

impl Bound {
    /// At most `capacity` messages (at least 1).
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), gate: Mutex::new(()) }
    }

    /// Sends `msg` on `tx` unless it holds the capacity (or crossbeam's own
    /// bound is reached) or every receiver is gone.
    pub(crate) fn try_send<T>(
        &self,
        tx: &crossbeam_channel::Sender<T>,
        msg: T,
    ) -> Result<(), TrySendError<T>> {
        let _gate = self.gate.lock();
        if self.is_full(tx) {
            return Err(TrySendError::Full(msg));
        }
        tx.try_send(msg)
    }

    /// Whether `tx` holds the capacity (or is full by crossbeam's bound).
    pub(crate) fn is_full<T>(&self, tx: &crossbeam_channel::Sender<T>) -> bool {
        tx.len() >= self.capacity || tx.is_full()
    }
}

impl<T> Sender<T> {
    /// Queues `msg` unless the queue is full or every receiver is gone.
    pub(crate) fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.bound.try_send(&self.tx, msg)
    }

    /// Queues `msg`, waiting while the queue is full (parked in short,
    /// growing pauses up to 1 ms: a full queue is rare and costs no core).
    /// Fails once every receiver is gone (crossbeam empties a queue whose
    /// receivers are dropped, so a full one does not wait forever).
    pub(crate) fn send(&self, mut msg: T) -> Result<(), SendError<T>> {
        let mut pause = MIN_PAUSE;
        loop {
            match self.try_send(msg) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Disconnected(back)) => return Err(SendError(back)),
                Err(TrySendError::Full(back)) => msg = back,
            }
            std::thread::park_timeout(pause);
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    /// Messages queued.
    pub(crate) fn len(&self) -> usize {
        self.tx.len()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone(), bound: Arc::clone(&self.bound) }
    }
}

impl<T> std::fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.len())
            .field("capacity", &self.bound.capacity)
            .finish()
    }
}

#[cfg(test)]
#[path = "queue_test.rs"]
mod tests;
