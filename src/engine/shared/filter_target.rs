//! Where one filter subscription's matches go, on a dispatcher worker: its
//! queue (with the subscription's [`Overflow`] policy) or its callback, and
//! the counters its handle reads.
//!
//! A worker hands a match over without waiting ([`FilterTarget::offer`]).
//! Only a full [`Overflow::Block`] queue makes it wait, and then outside
//! any table snapshot ([`FilterTarget::wait_for_room`]), so that a
//! `remove` of any subscription never waits for a consumer: the wait ends
//! when the consumer takes a message (it unparks the worker), when the
//! subscription is removed, or when the pool stops.

use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::thread::Thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;

use super::callback::MessageHandler;
use super::config::Overflow;
use super::guard::guarded;
use super::health::{EngineCounters, SocketCounters, add};
use super::queue::Bound;
use crate::protocol::Message;

/// How long a worker parks on a full Block queue before it looks again
/// (a consumer that reads through `receiver()` does not unpark it).
const PARK: Duration = Duration::from_millis(1);

/// DropOldest: most times one delivery makes room before it gives up on
/// the new message (only other workers filling the queue at once can make
/// a second round necessary).
const MAX_ROUNDS: usize = 64;

/// What a subscription's handle shares with the workers.
#[derive(Debug, Default)]
pub(crate) struct TargetShared {
    /// Messages handed to the queue or the callback.
    pub(crate) delivered: AtomicU64,
    /// Messages this subscription lost (its queue or the worker's was full,
    /// or the engine stopped while a Block delivery waited).
    pub(crate) dropped: AtomicU64,
    /// Callback calls that panicked.
    pub(crate) panics: AtomicU64,
    /// Set before the subscription leaves the table: a worker waiting for
    /// room gives up.
    removed: AtomicBool,
    /// Workers parked on this full queue.
    waiters: Mutex<Vec<Thread>>,
    waiting: AtomicBool,
    /// The queue's capacity, checked on send: the queue is a crossbeam
    /// `unbounded` list, memory only for what it holds (the default: no
    /// bound but the queue's own).
    pub(crate) bound: Bound,
}

impl TargetShared {
    /// For a queue of at most `capacity` messages.
    pub(crate) fn bounded(capacity: usize) -> Self {
        Self { bound: Bound::new(capacity), ..Self::default() }
    }

    /// A message was taken from the queue: unpark the workers waiting for
    /// room (an atomic load when there are none).
    pub(crate) fn made_room(&self) {
        std::sync::atomic::fence(SeqCst);
        if self.waiting.load(SeqCst) {
            self.wake();
        }
    }

    /// The subscription is being removed: waiting workers give up.
    pub(crate) fn mark_removed(&self) {
        self.removed.store(true, SeqCst);
        self.wake();
    }

    pub(crate) fn is_removed(&self) -> bool {
        self.removed.load(Acquire)
    }

    fn wake(&self) {
        let waiters = std::mem::take(&mut *self.waiters.lock());
        self.waiting.store(false, Release);
        for thread in waiters {
            thread.unpark();
        }
    }
}

/// Where the matches go.
pub(crate) enum TargetSink {
    /// A bounded queue the user reads; `own_rx` makes room for DropOldest.
    Queue { tx: Sender<Message>, own_rx: Option<Receiver<Message>> },
    /// A callback; a lock because two workers may match it at once (a
    /// pattern spans topics of several workers) and it is `FnMut`.
    Callback(Mutex<MessageHandler>),
}

/// One filter subscription, as the table holds it.
pub(crate) struct FilterTarget {
    pub(crate) shared: Arc<TargetShared>,
    pub(crate) sink: TargetSink,
    pub(crate) overflow: Overflow,
    /// The filter's topic pattern, for [`Status::Dropped`](crate::engine::Status::Dropped).
    pub(crate) pattern: Box<str>,
}

impl std::fmt::Debug for FilterTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterTarget")
            .field("pattern", &self.pattern)
            .field("overflow", &self.overflow)
            .finish_non_exhaustive()
    }
}

/// What [`FilterTarget::offer`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offer {
    /// Delivered, dropped (and counted), or nobody wants it any more.
    Done,
    /// A Block queue is full: wait for room, then offer again.
    Full,
}

/// The counters a delivery adds to besides the subscription's own.
#[derive(Clone, Copy)]
pub(crate) struct Counts<'a> {
    pub(crate) socket: &'a SocketCounters,
    pub(crate) engine: &'a EngineCounters,
}

impl FilterTarget {
    /// Hands `message` over without waiting.
    pub(crate) fn offer(&self, message: &Message, counts: Counts<'_>) -> Offer {
        match &self.sink {
            TargetSink::Callback(handler) => {
                let mut handler = handler.lock();
                if !guarded(counts.engine, || handler(message)) {
                    self.shared.panics.fetch_add(1, Relaxed);
                }
                self.delivered(counts);
                Offer::Done
            }
            TargetSink::Queue { tx, own_rx } => match self.overflow {
                Overflow::Block => match self.shared.bound.try_send(tx, message.clone()) {
                    Ok(()) => {
                        self.delivered(counts);
                        Offer::Done
                    }
                    Err(TrySendError::Full(_)) => Offer::Full,
                    Err(TrySendError::Disconnected(_)) => Offer::Done,
                },
                Overflow::DropOldest => {
                    self.drop_oldest(tx, own_rx.as_ref(), message.clone(), counts);
                    Offer::Done
                }
                Overflow::DropNewest => {
                    match self.shared.bound.try_send(tx, message.clone()) {
                        Ok(()) => self.delivered(counts),
                        Err(TrySendError::Full(_)) => self.dropped(counts, 1),
                        Err(TrySendError::Disconnected(_)) => {}
                    }
                    Offer::Done
                }
            },
        }
    }

    /// DropOldest: every message taken back is counted as dropped, and the
    /// new one goes in (so delivered + dropped counts each match once,
    /// however the consumer races us).
    fn drop_oldest(
        &self,
        tx: &Sender<Message>,
        own_rx: Option<&Receiver<Message>>,
        mut message: Message,
        counts: Counts<'_>,
    ) {
        for _ in 0..MAX_ROUNDS {
            match self.shared.bound.try_send(tx, message) {
                Ok(()) => {
                    self.delivered(counts);
                    return;
                }
                Err(TrySendError::Disconnected(_)) => return,
                Err(TrySendError::Full(back)) => {
                    message = back;
                    let Some(rx) = own_rx else { break };
                    if rx.try_recv().is_ok() {
                        self.dropped(counts, 1);
                    }
                }
            }
        }
        // Other workers kept the queue full: the new one is the loss.
        self.dropped(counts, 1);
    }

    /// Waits (outside any table snapshot) until the Block queue has room.
    /// `true`: offer again; `false`: give up (removed, or the pool stops;
    /// a stop counts the message as dropped).
    pub(crate) fn wait_for_room(&self, stopping: &AtomicBool, counts: Counts<'_>) -> bool {
        let TargetSink::Queue { tx, .. } = &self.sink else { return true };
        loop {
            if self.shared.is_removed() {
                return false;
            }
            if stopping.load(Acquire) {
                self.dropped(counts, 1);
                return false;
            }
            if !self.shared.bound.is_full(tx) {
                return true;
            }
            self.shared.waiters.lock().push(std::thread::current());
            self.shared.waiting.store(true, SeqCst);
            // The consumer may have taken one before it could see the flag.
            if self.shared.bound.is_full(tx) && !self.shared.is_removed() && !stopping.load(SeqCst)
            {
                std::thread::park_timeout(PARK);
            }
            let me = std::thread::current().id();
            self.shared.waiters.lock().retain(|t| t.id() != me);
        }
    }

    fn delivered(&self, counts: Counts<'_>) {
        self.shared.delivered.fetch_add(1, Relaxed);
        add(&counts.socket.filter_delivered, 1);
    }

    /// Counts `n` messages this subscription lost.
    pub(crate) fn dropped(&self, counts: Counts<'_>, n: u64) {
        self.shared.dropped.fetch_add(n, Relaxed);
        add(&counts.socket.filter_dropped, n);
        counts.engine.filter_dropped.fetch_add(n, Relaxed);
    }
}
