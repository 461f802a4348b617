//! User code handed across threads: message handlers and push callbacks
//! (made on user threads, carried by commands, run on the dispatcher
//! workers), and the hook a worker calls to resume paused sockets.

use std::sync::Arc;

use crate::engine::shared::push_result::PushResult;
use crate::protocol::Message;

/// A message callback (`Channel::on`).
pub(crate) type MessageHandler = Box<dyn FnMut(&Message) + Send>;
/// A push callback (`Push::then`).
pub(crate) type OutcomeCallback = Box<dyn FnOnce(PushResult) + Send>;
/// A lifecycle callback (`Socket::on_open`, `Channel::on_error`, ...): it
/// sees every status entry of its socket and picks the ones it is for. Run
/// on a dispatcher worker; shared, so rig-io hands a worker one reference
/// per entry and no lock is held while it runs.
pub(crate) type StatusHandler = Arc<dyn Fn(&crate::engine::shared::status::Status) + Send + Sync>;
/// Work for a dispatcher worker that is not a message (a lifecycle callback
/// with its status entry).
pub(crate) type Task = Box<dyn FnOnce() + Send>;
/// Wakes rig-io to retry paused sockets (a worker made room).
pub(crate) type Resume = Arc<dyn Fn() + Send + Sync>;
