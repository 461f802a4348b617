//! A socket's lifecycle callbacks (`Socket::on_open`, `on_close`,
//! `Channel::on_error`, ...), as rig-io holds them: each status entry goes
//! to worker 0 once per callback, so the callbacks of an engine run in the
//! order their entries happened, never on rig-io.

use std::sync::Arc;

use super::slot::SocketSlot;
use crate::engine::dispatch::pool::{Dispatcher, Job};
use crate::engine::shared::callback::StatusHandler;
use crate::engine::shared::status::Status;

/// The callbacks of one socket (boxed in the slot: most sockets have none).
pub(crate) struct Lifecycle {
    dispatcher: Dispatcher,
    handlers: Vec<StatusHandler>,
}

impl Lifecycle {
    /// Hands `status` to every callback, on worker 0 (the worker that also
    /// runs push outcomes: one order for all of them).
    pub(crate) fn publish(&self, status: &Status) {
        for handler in &self.handlers {
            let handler = Arc::clone(handler);
            let status = status.clone();
            self.dispatcher.control(0, Job::Run(Box::new(move || handler(&status))));
        }
    }
}

impl SocketSlot {
    /// Adds a lifecycle callback; it sees the entries from now on.
    pub(crate) fn on_status(&mut self, dispatcher: &Dispatcher, handler: StatusHandler) {
        let lifecycle = self.lifecycle.get_or_insert_with(|| {
            Box::new(Lifecycle { dispatcher: dispatcher.clone(), handlers: Vec::new() })
        });
        lifecycle.handlers.push(handler);
    }
}
