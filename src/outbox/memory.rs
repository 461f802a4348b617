//! The memory backend: the outbox without a file.

use parking_lot::Mutex;

use crate::protocol::Payload;

use super::queue::Queue;
use super::{Error, Limits, Outbox, OutboxId, Pending, Stats, id, tag};

/// An outbox held in memory only: the same order, bounds, ids and policy
/// as [`SqliteOutbox`](super::SqliteOutbox), but nothing survives the
/// process. For sockets that opted out of persistence, and for tests.
///
/// # Examples
///
/// ```
/// use rig::outbox::{Limits, MemoryOutbox, Outbox};
/// use rig::protocol::Payload;
///
/// let outbox = MemoryOutbox::new(Limits::default());
/// let a = outbox.enqueue("room:1", "msg", Payload::json(r#"{"n":1}"#))?;
/// let b = outbox.enqueue("room:1", "msg", Payload::json(r#"{"n":2}"#))?;
/// let ids: Vec<_> = outbox.pending("room:1").map(|e| e.id).collect();
/// assert_eq!(ids, [a, b]);
/// assert!(outbox.ack(a));
/// assert_eq!(outbox.stats().entries, 1);
/// # Ok::<(), rig::outbox::Error>(())
/// ```
#[derive(Debug)]
pub struct MemoryOutbox {
    queue: Mutex<Queue>,
}

impl MemoryOutbox {
    /// An empty outbox with these bounds.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::outbox::{Limits, MemoryOutbox, Outbox};
    /// assert_eq!(MemoryOutbox::new(Limits::default()).stats().entries, 0);
    /// ```
    pub fn new(limits: Limits) -> Self {
        Self { queue: Mutex::new(Queue::new(limits, id::fresh_stamp())) }
    }
}

impl Outbox for MemoryOutbox {
    fn enqueue(&self, topic: &str, event: &str, payload: Payload) -> Result<OutboxId, Error> {
        let prepared = tag::prepare(payload)?;
        Ok(self.queue.lock().admit(topic, event, prepared, false)?.entry.id)
    }

    fn pending(&self, topic: &str) -> Pending {
        self.queue.lock().pending(topic).into_iter()
    }

    fn topics(&self) -> Vec<String> {
        self.queue.lock().topics()
    }

    fn mark_sent(&self, id: OutboxId) -> bool {
        self.queue.lock().mark_sent(id)
    }

    fn ack(&self, id: OutboxId) -> bool {
        self.queue.lock().ack(id)
    }

    fn nack(&self, id: OutboxId) -> bool {
        self.queue.lock().nack(id)
    }

    fn requeue_all(&self) -> usize {
        self.queue.lock().requeue_all()
    }

    fn flush(&self) -> Result<(), Error> {
        Ok(())
    }

    fn stats(&self) -> Stats {
        self.queue.lock().stats()
    }

    fn contains(&self, id: OutboxId) -> bool {
        self.queue.lock().contains(id)
    }
}
