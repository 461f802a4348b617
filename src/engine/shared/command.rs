//! The command queue from user threads (and the resolver) to rig-io.
//!
//! A bounded queue (memory only for what it holds, [`queue`]) plus the poll's mio `Waker`. Wake-ups are
//! coalesced with an `AtomicBool`: a sender wakes the poll only when the
//! flag was clear, and rig-io clears it *before* draining the queue, so a
//! command is either drained in this turn or its sender sees the flag clear
//! and wakes the poll again. A burst of commands costs one wake-up.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytestring::ByteString;
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use mio::Waker;

use super::callback::{MessageHandler, OutcomeCallback, StatusHandler};
use super::channel::ChannelShared;
use super::error::EngineError;
use super::failure::ConnectionError;
use super::health::SocketCounters;
use super::ids::{ChannelKey, PushKey, SocketKey, SubKey};
use super::options::SocketOptions;
use super::push_result::PushResult;
use super::queue;
use super::status::{ChannelRef, Status};
use crate::protocol::{ChannelParams, Message, Payload};

/// Something for rig-io to do.
pub(crate) enum Command {
    AddSocket(Box<NewSocket>),
    /// A Block consumer made room: retry the paused sockets.
    Resume,
    RemoveSocket(SocketKey),
    Connect(SocketKey),
    Disconnect {
        socket: SocketKey,
        code: u16,
        reason: String,
    },
    ReconnectNow(SocketKey),
    WatchStatus {
        socket: SocketKey,
        sender: queue::Sender<Status>,
    },
    /// A lifecycle callback: every later status entry, on a worker. One
    /// for a channel (`scope`) is dropped once that channel has closed.
    OnStatus {
        socket: SocketKey,
        /// What `Socket::off` names it by.
        id: u64,
        scope: Option<ChannelRef>,
        handler: StatusHandler,
    },
    /// Removes the lifecycle callback `id`.
    OffStatus {
        socket: SocketKey,
        id: u64,
    },
    Ping {
        socket: SocketKey,
        reply: Sender<Duration>,
    },
    AddChannel(Box<NewChannel>),
    Join {
        socket: SocketKey,
        channel: ChannelKey,
        timeout: Option<Duration>,
        push: PushSink,
    },
    Leave {
        socket: SocketKey,
        channel: ChannelKey,
        timeout: Option<Duration>,
        push: PushSink,
    },
    Push(Box<NewPush>),
    /// A message without a reply (`Channel::send`): nothing to resolve.
    Send(Box<NewSend>),
    /// A durable push is in the outbox: file its handle, send when joined.
    DurablePush {
        socket: SocketKey,
        channel: ChannelKey,
        id: crate::outbox::OutboxId,
        push: PushSink,
    },
    RemoveChannel {
        socket: SocketKey,
        channel: ChannelKey,
    },
    Subscribe {
        socket: SocketKey,
        channel: ChannelKey,
        sub: SubKey,
        filter: EventFilter,
        sink: Sink,
        /// What happens when this consumer is full.
        overflow: super::config::Overflow,
    },
    Unsubscribe {
        socket: SocketKey,
        channel: ChannelKey,
        sub: SubKey,
    },
    Then {
        socket: SocketKey,
        push: PushKey,
        callback: OutcomeCallback,
        rx: Receiver<PushResult>,
    },
    Resolved {
        socket: SocketKey,
        generation: u64,
        addrs: Result<Vec<SocketAddr>, ConnectionError>,
    },
    Shutdown,
}

pub(crate) struct NewSocket {
    pub(crate) key: SocketKey,
    pub(crate) options: SocketOptions,
    pub(crate) counters: Arc<SocketCounters>,
    /// The socket's outbox, opened by `Engine::socket`.
    pub(crate) outbox: Option<Arc<super::outbox::OutboxShared>>,
    pub(crate) filters: Arc<super::filter_set::SocketFilters>,
}

pub(crate) struct NewChannel {
    pub(crate) socket: SocketKey,
    pub(crate) key: ChannelKey,
    pub(crate) topic: ByteString,
    pub(crate) params: ChannelParams,
    pub(crate) shared: Arc<ChannelShared>,
}

pub(crate) struct NewPush {
    pub(crate) socket: SocketKey,
    pub(crate) channel: ChannelKey,
    pub(crate) event: ByteString,
    pub(crate) payload: Payload,
    pub(crate) timeout: Option<Duration>,
    pub(crate) push: PushSink,
}

pub(crate) struct NewSend {
    pub(crate) socket: SocketKey,
    pub(crate) channel: ChannelKey,
    pub(crate) event: ByteString,
    pub(crate) payload: Payload,
}

/// Where a push's outcome goes: its handle's one-slot channel.
pub(crate) struct PushSink {
    pub(crate) key: PushKey,
    pub(crate) tx: Sender<PushResult>,
}

/// Which events of a channel a subscription wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EventFilter {
    All,
    Event(ByteString),
}

impl EventFilter {
    pub(crate) fn matches(&self, message: &Message) -> bool {
        match self {
            Self::All => true,
            Self::Event(event) => message.event == *event,
        }
    }
}

/// Where a subscription's messages go.
pub(crate) enum Sink {
    /// A receiver the user holds. `rx` is rig-io's own receiver for
    /// [`Overflow::DropOldest`](crate::engine::Overflow::DropOldest).
    Queue {
        tx: queue::Sender<Message>,
        rx: Option<Receiver<Message>>,
        dropped: Arc<std::sync::atomic::AtomicU64>,
        /// Set by rig-io when it stalls on this full queue (Block).
        stalled: Arc<AtomicBool>,
    },
    /// A callback run by a dispatcher worker.
    Handler(MessageHandler),
    /// A callback run by rig-io itself (`Channel::on_inline`).
    Inline(MessageHandler),
}

/// The sending side: cloned into every handle and the resolver thread.
#[derive(Clone, Debug)]
pub(crate) struct CommandQueue {
    tx: queue::Sender<Command>,
    waker: Arc<Waker>,
    pending: Arc<AtomicBool>,
}

/// rig-io's side.
#[derive(Debug)]
pub(crate) struct CommandInbox {
    rx: Receiver<Command>,
    pending: Arc<AtomicBool>,
}

pub(crate) fn queue(capacity: usize, waker: Arc<Waker>) -> (CommandQueue, CommandInbox) {
    let (tx, rx) = queue::bounded(capacity);
    let pending = Arc::new(AtomicBool::new(false));
    (CommandQueue { tx, waker, pending: Arc::clone(&pending) }, CommandInbox { rx, pending })
}

impl CommandQueue {
    /// Queues a command (waiting while the queue is full) and wakes rig-io
    /// unless a wake-up is already pending.
    pub(crate) fn send(&self, command: Command) -> Result<(), EngineError> {
        self.tx.send(command).map_err(|_| EngineError::Stopped)?;
        if !self.pending.swap(true, Ordering::AcqRel)
            && let Err(e) = self.waker.wake()
        {
            // The flag stays set: rig-io drains on every turn anyway,
            // so the command is not lost, only possibly late.
            log::error!("cannot wake the I/O thread: {e}");
        }
        Ok(())
    }

    /// Commands waiting.
    pub(crate) fn len(&self) -> usize {
        self.tx.len()
    }
}

impl CommandInbox {
    /// Re-arms the wake-up flag; call before draining.
    pub(crate) fn rearm(&self) {
        self.pending.store(false, Ordering::Release);
    }

    /// The next command, if any. `Err(())` once every sender is gone.
    pub(crate) fn next(&self) -> Result<Option<Command>, ()> {
        match self.rx.try_recv() {
            Ok(command) => Ok(Some(command)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(()),
        }
    }
}
