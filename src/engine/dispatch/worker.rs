//! One `rig-dispatch-N` thread: its handlers, and the loop that runs them.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};

use crossbeam_channel::{Receiver, select};

use super::pool::{Batch, Job, Target};
use crate::engine::shared::callback::{MessageHandler, Resume};
use crate::engine::shared::guard::guarded;
use crate::engine::shared::health::EngineCounters;
use crate::engine::shared::ids::SubKey;

/// A worker's end of its queues.
pub(crate) struct Worker {
    pub(crate) data: Receiver<Batch>,
    pub(crate) control: Receiver<Job>,
    pub(crate) queued: Arc<AtomicUsize>,
    pub(crate) stalled: Arc<AtomicBool>,
    pub(crate) resume: Resume,
    pub(crate) counters: Arc<EngineCounters>,
    /// Set when the pool stops: Block filter deliveries stop waiting.
    pub(crate) stopping: Arc<AtomicBool>,
}

impl Worker {
    pub(crate) fn run(self) {
        let mut handlers: HashMap<SubKey, MessageHandler> = HashMap::new();
        loop {
            select! {
                recv(self.control) -> job => match job {
                    Ok(Job::Stop) | Err(_) => break,
                    Ok(job) => self.apply(job, &mut handlers),
                },
                recv(self.data) -> batch => match batch {
                    Ok(batch) => if !self.handle(batch, &mut handlers) { break },
                    Err(_) => return,
                },
            }
        }
        // Stopping: rig-io handed over its last batches before the stop, so
        // they are here already; run them rather than lose them.
        while let Ok(batch) = self.data.try_recv() {
            self.handle(batch, &mut handlers);
        }
    }

    /// Runs a batch; `false` when a stop was found in the control queue
    /// while looking for a registration (the batch still runs to its end).
    fn handle(&self, batch: Batch, handlers: &mut HashMap<SubKey, MessageHandler>) -> bool {
        let len = batch.len();
        let mut going = true;
        // Scratch for filter matching (allocated once per batch, if at all).
        let mut served = Vec::new();
        for (target, message) in batch {
            let key = match target {
                Target::Handler(key) => key,
                Target::Filters(filters) => {
                    filters.dispatch(&message, &self.stopping, &mut served);
                    continue;
                }
            };
            if !handlers.contains_key(&key) {
                // Its registration may still be in the control queue.
                while let Ok(job) = self.control.try_recv() {
                    if matches!(job, Job::Stop) {
                        going = false;
                        break;
                    }
                    self.apply(job, handlers);
                }
            }
            if let Some(handler) = handlers.get_mut(&key) {
                guarded(&self.counters, || handler(&message));
            }
        }
        self.queued.fetch_sub(len, AcqRel);
        if self.stalled.load(Relaxed) && self.stalled.swap(false, SeqCst) {
            (self.resume)();
        }
        going
    }

    fn apply(&self, job: Job, handlers: &mut HashMap<SubKey, MessageHandler>) {
        match job {
            Job::Register(key, handler) => {
                handlers.insert(key, handler);
            }
            Job::Unregister(key) => {
                handlers.remove(&key);
            }
            Job::Outcome(callback, result) => {
                guarded(&self.counters, move || callback(result));
            }
            Job::Stop => {}
        }
    }
}
