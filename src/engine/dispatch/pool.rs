//! The dispatcher pool: `rig-dispatch-N` threads that run user callbacks
//! (`on` handlers, push callbacks) so that no user code runs on rig-io.
//!
//! Every handler belongs to one worker, chosen by a hash of its channel's
//! topic: the messages of a topic are handled in order by one thread, while
//! different topics run in parallel, and a slow handler only slows the
//! topics of its own worker.
//!
//! Each worker has two queues. Messages go on a data queue in batches:
//! rig-io collects a turn's messages per worker in an [`Outgoing`] buffer
//! and hands each worker one batch at the end of the turn (one send and at
//! most one wake-up per worker per turn, instead of one per message). The
//! queue is bounded in messages, not batches: a per-worker counter of
//! queued messages is checked before a message joins a batch, and what does
//! not fit is dropped and counted (rig-io never waits on a worker). Control
//! jobs (register or remove a handler, a push outcome, stop) go on an
//! unbounded queue: they must not be lost, and their number is bounded by
//! the user's own calls. A handler is registered before any message for it
//! is sent, so a message for an unknown handler means its registration is
//! still in the control queue: the worker drains that first.
//!
//! Filter subscriptions ([`Socket::subscribe_filter`](crate::engine::Socket::subscribe_filter))
//! ride the same batches: rig-io sends each message of a socket that has
//! any to the worker of its topic as one [`Target::Filters`] item, and the
//! worker runs the socket's filter table there (see `shared::filter_set`). The
//! matching never runs on rig-io, and a topic's messages stay in order.

use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::thread::JoinHandle;

use crossbeam_channel::Sender;

use crate::engine::shared::callback::{MessageHandler, OutcomeCallback, Resume, Task};
use crate::engine::shared::filter_set::SocketFilters;
use crate::engine::shared::health::EngineCounters;
use crate::engine::shared::idle::{DEFAULT_SLOW_HANDLER, IdleStrategy};
use crate::engine::shared::ids::SubKey;
use crate::engine::shared::push_result::PushResult;
use crate::protocol::Message;

/// Messages handed to one worker at once.
pub(crate) type Batch = Vec<(Target, Message)>;

/// How a worker waits for work and when a handler is slow.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WorkerPace {
    pub(crate) idle: IdleStrategy,
    pub(crate) slow: std::time::Duration,
}

impl Default for WorkerPace {
    fn default() -> Self {
        Self { idle: IdleStrategy::Park, slow: DEFAULT_SLOW_HANDLER }
    }
}

/// Who a message in a batch is for.
#[derive(Debug)]
pub(crate) enum Target {
    /// One `on` handler of the worker.
    Handler(SubKey),
    /// A socket's filter subscriptions: the worker runs their table.
    Filters(Arc<SocketFilters>),
}

/// Most messages rig-io collects for one worker before it hands them over
/// mid-turn (a long read turn must not hold a worker idle).
const MAX_BATCH: usize = 1024;

/// Most slots a worker's next batch is allocated with after a flush.
const NEXT_BATCH: usize = 256;

pub(crate) enum Job {
    Register(SubKey, MessageHandler),
    Unregister(SubKey),
    Outcome(OutcomeCallback, PushResult),
    /// Other user code: a lifecycle callback with its status entry.
    Run(Task),
    Stop,
}

/// The queues of one worker, as its senders see them.
#[derive(Debug)]
struct WorkerLink {
    data: Sender<Batch>,
    control: Sender<Job>,
    /// Messages sent and not yet handled (the data queue's bound).
    queued: Arc<AtomicUsize>,
    /// Set by rig-io when it paused a socket on this full worker (Block).
    stalled: Arc<AtomicBool>,
}

/// Sends work to the dispatcher pool.
#[derive(Clone, Debug)]
pub(crate) struct Dispatcher {
    workers: Arc<[WorkerLink]>,
    capacity: usize,
    counters: Arc<EngineCounters>,
    /// Set by [`stop`](Self::stop): a worker waiting for room in a Block
    /// filter subscription gives up.
    stopping: Arc<AtomicBool>,
}

impl Dispatcher {
    /// Starts `workers` threads (at least one) named `rig-dispatch-N`, each
    /// holding up to `capacity` messages. Each thread holds a clone of
    /// `alive` and drops it when it exits. A worker that rig-io stalled on
    /// (Block) calls `resume` after its next batch.
    #[cfg(test)]
    pub(crate) fn spawn(
        workers: usize,
        capacity: usize,
        counters: Arc<EngineCounters>,
        alive: &Sender<()>,
        resume: &Resume,
    ) -> std::io::Result<(Self, Vec<JoinHandle<()>>)> {
        Self::spawn_with(workers, capacity, counters, alive, resume, WorkerPace::default())
    }

    /// [`spawn`](Self::spawn) with the workers' idle strategy and slow
    /// handler limit.
    pub(crate) fn spawn_with(
        workers: usize,
        capacity: usize,
        counters: Arc<EngineCounters>,
        alive: &Sender<()>,
        resume: &Resume,
        pace: WorkerPace,
    ) -> std::io::Result<(Self, Vec<JoinHandle<()>>)> {
        let workers = workers.max(1);
        let mut links = Vec::with_capacity(workers);
        let mut threads = Vec::with_capacity(workers);
        let stopping = Arc::new(AtomicBool::new(false));
        for n in 0..workers {
            let (data, data_rx) = crossbeam_channel::unbounded();
            let (control, control_rx) = crossbeam_channel::unbounded();
            let queued = Arc::new(AtomicUsize::new(0));
            let stalled = Arc::new(AtomicBool::new(false));
            let worker = super::worker::Worker {
                data: data_rx,
                control: control_rx,
                queued: Arc::clone(&queued),
                stalled: Arc::clone(&stalled),
                resume: Arc::clone(resume),
                counters: Arc::clone(&counters),
                stopping: Arc::clone(&stopping),
                pace,
            };
            let alive = alive.clone();
            let thread =
                std::thread::Builder::new().name(format!("rig-dispatch-{n}")).spawn(move || {
                    let _alive = alive;
                    worker.run();
                })?;
            links.push(WorkerLink { data, control, queued, stalled });
            threads.push(thread);
        }
        let capacity = capacity.max(1);
        Ok((Self { workers: links.into(), capacity, counters, stopping }, threads))
    }

    /// How many workers the pool has.
    pub(crate) fn workers(&self) -> usize {
        self.workers.len()
    }

    /// The worker that runs the handlers of `topic` (FNV-1a: cheap, stable,
    /// and spreads the usual `prefix:id` topics well).
    pub(crate) fn worker_for(&self, topic: &str) -> usize {
        let hash = topic.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let n = self.workers.len().max(1) as u64;
        usize::try_from(hash % n).unwrap_or(0)
    }

    /// Queues a control job for a worker (never dropped while it runs).
    pub(crate) fn control(&self, worker: usize, job: Job) {
        let sent = self.workers.get(worker).is_some_and(|link| link.control.send(job).is_ok());
        if !sent {
            log::warn!("dispatcher worker {worker} is gone; a callback will not run");
        }
    }

    /// Runs a push callback on a worker. Outcomes are not ordered against
    /// message handlers; worker 0 takes them all.
    pub(crate) fn outcome(&self, callback: OutcomeCallback, result: PushResult) {
        self.control(0, Job::Outcome(callback, result));
    }

    /// Asks every worker to stop once it has handled what is queued.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, SeqCst);
        for link in self.workers.iter() {
            let _ = link.control.send(Job::Stop);
        }
    }

    /// Jobs waiting per worker: queued messages plus control jobs.
    pub(crate) fn depths(&self) -> Vec<usize> {
        self.workers
            .iter()
            .map(|link| link.queued.load(Relaxed).saturating_add(link.control.len()))
            .collect()
    }

    /// Sends a batch to a worker (counted in its bound first).
    fn send(&self, worker: usize, batch: Batch) {
        let Some(link) = self.workers.get(worker) else { return };
        let len = batch.len();
        link.queued.fetch_add(len, AcqRel);
        if link.data.send(batch).is_err() {
            link.queued.fetch_sub(len, AcqRel);
            self.counters.dispatch_dropped.fetch_add(len as u64, Relaxed);
            log::warn!("dispatcher worker {worker} is gone; {len} messages dropped");
        }
    }

    /// Whether a worker has room for one more message beside `pending`
    /// collected ones.
    fn has_room(&self, worker: usize, pending: usize) -> bool {
        self.workers
            .get(worker)
            .is_some_and(|link| link.queued.load(Acquire).saturating_add(pending) < self.capacity)
    }
}

/// rig-io's side of the pool: the messages of the current turn, one batch
/// per worker, handed over by [`flush`](Self::flush).
#[derive(Debug)]
pub(crate) struct Outgoing {
    dispatcher: Dispatcher,
    batches: Vec<Batch>,
}

impl Outgoing {
    pub(crate) fn new(dispatcher: Dispatcher) -> Self {
        let batches = (0..dispatcher.workers()).map(|_| Vec::new()).collect();
        Self { dispatcher, batches }
    }

    /// Adds a message for a handler of `worker` to this turn's batch; drops
    /// and counts it when the worker's queue is full. Returns whether it
    /// was queued.
    pub(crate) fn message(&mut self, worker: usize, handler: SubKey, message: Message) -> bool {
        self.push(worker, Target::Handler(handler), message).is_ok()
    }

    /// Adds a message for a socket's filter subscriptions (the worker runs
    /// their table); like [`message`](Self::message) on a full worker, but
    /// the message comes back (rig-io counts it per subscription).
    #[expect(
        clippy::result_large_err,
        reason = "the message comes back by value, as crossbeam's TrySendError does: no box per message on the hot path"
    )]
    pub(crate) fn filters(
        &mut self,
        worker: usize,
        filters: &Arc<SocketFilters>,
        message: Message,
    ) -> Result<(), Message> {
        self.push(worker, Target::Filters(Arc::clone(filters)), message)
    }

    #[expect(
        clippy::result_large_err,
        reason = "the message comes back by value, as crossbeam's TrySendError does: no box per message on the hot path"
    )]
    fn push(&mut self, worker: usize, target: Target, message: Message) -> Result<(), Message> {
        let Some(batch) = self.batches.get_mut(worker) else { return Err(message) };
        if !self.dispatcher.has_room(worker, batch.len()) {
            self.dispatcher.counters.dispatch_dropped.fetch_add(1, Relaxed);
            return Err(message);
        }
        batch.push((target, message));
        if batch.len() >= MAX_BATCH {
            let full = std::mem::replace(batch, Vec::with_capacity(MAX_BATCH));
            self.dispatcher.send(worker, full);
        }
        Ok(())
    }

    /// Adds a message for a Block handler: nothing is dropped; when the
    /// worker is full the worker is flagged (it wakes rig-io after its next
    /// batch) and the message comes back.
    #[expect(
        clippy::result_large_err,
        reason = "the message comes back by value, as crossbeam's TrySendError does: no box per message on the hot path"
    )]
    pub(crate) fn try_message(
        &mut self,
        worker: usize,
        handler: SubKey,
        message: Message,
    ) -> Result<(), Message> {
        self.try_push(worker, Target::Handler(handler), message)
    }

    /// [`try_message`](Self::try_message) for a socket's filter
    /// subscriptions when one of them is Block.
    #[expect(
        clippy::result_large_err,
        reason = "the message comes back by value, as crossbeam's TrySendError does: no box per message on the hot path"
    )]
    pub(crate) fn try_filters(
        &mut self,
        worker: usize,
        filters: &Arc<SocketFilters>,
        message: Message,
    ) -> Result<(), Message> {
        self.try_push(worker, Target::Filters(Arc::clone(filters)), message)
    }

    #[expect(
        clippy::result_large_err,
        reason = "the message comes back by value, as crossbeam's TrySendError does: no box per message on the hot path"
    )]
    fn try_push(&mut self, worker: usize, target: Target, message: Message) -> Result<(), Message> {
        let Some(batch) = self.batches.get(worker) else { return Err(message) };
        if !self.dispatcher.has_room(worker, batch.len()) {
            let Some(link) = self.dispatcher.workers.get(worker) else { return Err(message) };
            link.stalled.store(true, SeqCst);
            // The worker may have made room before it could see the flag.
            if !self.dispatcher.has_room(worker, batch.len()) {
                return Err(message);
            }
        }
        let Some(batch) = self.batches.get_mut(worker) else { return Err(message) };
        batch.push((target, message));
        if batch.len() >= MAX_BATCH {
            let full = std::mem::replace(batch, Vec::with_capacity(MAX_BATCH));
            self.dispatcher.send(worker, full);
        }
        Ok(())
    }

    /// Hands every collected batch to its worker.
    pub(crate) fn flush(&mut self) {
        for (worker, batch) in self.batches.iter_mut().enumerate() {
            if !batch.is_empty() {
                // The next turn's batch starts at this one's size (a burst
                // does not grow it from nothing again), within a bound an
                // idle engine can keep.
                let next = Vec::with_capacity(batch.len().min(NEXT_BATCH));
                let full = std::mem::replace(batch, next);
                self.dispatcher.send(worker, full);
            }
        }
    }
}
