//! One `rig-dispatch-N` thread: its handlers, and the loop that runs them.

use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};

use crossbeam_channel::{Receiver, TryRecvError, select};
use foldhash::HashMap;

use super::pool::{Batch, Job, Target, WorkerPace};
use crate::engine::shared::callback::{MessageHandler, Resume};
use crate::engine::shared::guard::{HandlerTimer, guarded};
use crate::engine::shared::health::EngineCounters;
use crate::engine::shared::ids::SubKey;
use crate::time::Clock;

/// What a worker took from its queues.
enum Work {
    Job(Result<Job, ()>),
    Batch(Result<Batch, ()>),
}

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
    pub(crate) pace: WorkerPace,
}

impl Worker {
    pub(crate) fn run(self) {
        let mut handlers: HashMap<SubKey, MessageHandler> = HashMap::default();
        let mut timer = HandlerTimer::new(Clock::real(), self.pace.slow);
        let mut idler = self.pace.idle.idler();
        loop {
            // A spinning strategy checks the queues itself first: while it
            // spins, rig-io finds no parked receiver and wakes nobody.
            let work = match idler.spin_for(|| self.try_work()) {
                Some(work) => work,
                None => select! {
                    recv(self.control) -> job => Work::Job(job.map_err(drop)),
                    recv(self.data) -> batch => Work::Batch(batch.map_err(drop)),
                },
            };
            match work {
                Work::Job(Ok(Job::Stop) | Err(())) => break,
                Work::Job(Ok(job)) => self.apply(job, &mut handlers),
                Work::Batch(Ok(batch)) => {
                    if !self.handle(batch, &mut handlers, &mut timer) {
                        break;
                    }
                }
                Work::Batch(Err(())) => return,
            }
        }
        // Stopping: rig-io handed over its last batches before the stop, so
        // they are here already; run them rather than lose them.
        while let Ok(batch) = self.data.try_recv() {
            self.handle(batch, &mut handlers, &mut timer);
        }
    }

    /// A control job or a batch, if one is queued (control first).
    fn try_work(&self) -> Option<Work> {
        match self.control.try_recv() {
            Ok(job) => return Some(Work::Job(Ok(job))),
            Err(TryRecvError::Disconnected) => return Some(Work::Job(Err(()))),
            Err(TryRecvError::Empty) => {}
        }
        match self.data.try_recv() {
            Ok(batch) => Some(Work::Batch(Ok(batch))),
            Err(TryRecvError::Disconnected) => Some(Work::Batch(Err(()))),
            Err(TryRecvError::Empty) => None,
        }
    }

    /// Runs a batch; `false` when a stop was found in the control queue
    /// while looking for a registration (the batch still runs to its end).
    fn handle(
        &self,
        batch: Batch,
        handlers: &mut HashMap<SubKey, MessageHandler>,
        timer: &mut HandlerTimer,
    ) -> bool {
        let len = batch.len();
        timer.start();
        let mut going = true;
        // Scratch for filter matching (allocated once per batch, if at all).
        let mut served = Vec::new();
        // By reference: a message is not moved out of the batch (216 bytes
        // each); the batch drops them all at the end.
        for (target, message) in &batch {
            let key = match target {
                Target::Handler(key) => *key,
                Target::Filters(filters) => {
                    filters.dispatch(message, &self.stopping, &mut served);
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
                timer.run(&self.counters, || handler(message));
            }
        }
        timer.finish(&self.counters);
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
            Job::Run(task) => {
                guarded(&self.counters, task);
            }
            Job::Stop => {}
        }
    }
}
