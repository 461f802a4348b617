//! The dispatcher thread: runs user callbacks (`on` handlers, push
//! callbacks) so that no user code runs on rig-io.
//!
//! Two queues feed it. Messages for handlers go on a bounded queue: rig-io
//! never waits on it and drops (and counts) what does not fit. Control jobs
//! (register or remove a handler, a push outcome) go on an unbounded queue:
//! they must not be lost, and their number is bounded by the user's own
//! calls (one outcome per push). A handler is registered before any message
//! for it is sent, so a message for an unknown handler means its
//! registration is still in the control queue: the dispatcher drains that
//! first. Handlers see their messages in order; a push callback is not
//! ordered against message handlers.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TrySendError, select};

use super::health::EngineCounters;
use super::ids::SubKey;
use super::push::PushResult;
use crate::protocol::Message;

/// A message callback (`Channel::on`).
pub(crate) type MessageHandler = Box<dyn FnMut(&Message) + Send>;
/// A push callback (`Push::then`).
pub(crate) type OutcomeCallback = Box<dyn FnOnce(PushResult) + Send>;

pub(crate) enum Job {
    Register(SubKey, MessageHandler),
    Unregister(SubKey),
    Outcome(OutcomeCallback, PushResult),
    Stop,
}

/// Sends work to the dispatcher thread.
#[derive(Clone, Debug)]
pub(crate) struct Dispatcher {
    data: Sender<(SubKey, Message)>,
    control: Sender<Job>,
    counters: Arc<EngineCounters>,
}

impl Dispatcher {
    /// Starts the thread. `alive` is dropped when it exits.
    pub(crate) fn spawn(
        capacity: usize,
        counters: Arc<EngineCounters>,
        alive: Sender<()>,
    ) -> std::io::Result<(Self, JoinHandle<()>)> {
        let (data, data_rx) = crossbeam_channel::bounded(capacity);
        let (control, control_rx) = crossbeam_channel::unbounded();
        let thread_counters = Arc::clone(&counters);
        let thread =
            std::thread::Builder::new().name("rig-dispatch".to_owned()).spawn(move || {
                let _alive = alive;
                run(&data_rx, &control_rx, &thread_counters);
            })?;
        Ok((Self { data, control, counters }, thread))
    }

    /// Queues a message for a handler; drops and counts it when the queue
    /// is full. Returns whether it was queued.
    pub(crate) fn message(&self, handler: SubKey, message: Message) -> bool {
        match self.data.try_send((handler, message)) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.dispatch_dropped.fetch_add(1, Relaxed);
                false
            }
        }
    }

    /// Queues a control job (never dropped while the thread runs).
    pub(crate) fn control(&self, job: Job) {
        if self.control.send(job).is_err() {
            log::warn!("the dispatcher thread is gone; a callback will not run");
        }
    }

    /// Jobs waiting.
    pub(crate) fn len(&self) -> usize {
        self.data.len().saturating_add(self.control.len())
    }
}

fn run(data: &Receiver<(SubKey, Message)>, control: &Receiver<Job>, counters: &EngineCounters) {
    let mut handlers: HashMap<SubKey, MessageHandler> = HashMap::new();
    loop {
        select! {
            recv(control) -> job => match job {
                Ok(job) => if !apply(job, &mut handlers, counters) { return },
                Err(_) => return,
            },
            recv(data) -> item => {
                let Ok((key, message)) = item else { return };
                if !handlers.contains_key(&key) {
                    // Its registration may still be in the control queue.
                    while let Ok(job) = control.try_recv() {
                        if !apply(job, &mut handlers, counters) {
                            return;
                        }
                    }
                }
                if let Some(handler) = handlers.get_mut(&key) {
                    guarded(counters, || handler(&message));
                }
            },
        }
    }
}

/// Applies a control job; `false` means stop.
fn apply(
    job: Job,
    handlers: &mut HashMap<SubKey, MessageHandler>,
    counters: &EngineCounters,
) -> bool {
    match job {
        Job::Register(key, handler) => {
            handlers.insert(key, handler);
        }
        Job::Unregister(key) => {
            handlers.remove(&key);
        }
        Job::Outcome(callback, result) => guarded(counters, move || callback(result)),
        Job::Stop => return false,
    }
    true
}

/// Runs user code; a panic is caught, logged and counted.
fn guarded(counters: &EngineCounters, f: impl FnOnce()) {
    if catch_unwind(AssertUnwindSafe(f)).is_err() {
        counters.handler_panics.fetch_add(1, Relaxed);
        log::error!("a callback panicked (caught; the dispatcher goes on)");
    }
}
