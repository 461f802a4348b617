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
/// Wakes rig-io to retry paused sockets (a worker made room).
pub(crate) type Resume = Arc<dyn Fn() + Send + Sync>;
