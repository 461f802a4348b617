//! A socket's lifecycle callbacks (`Socket::on_open`, `on_close`,
//! `Channel::on_error`, ...), as rig-io holds them: each status entry goes
//! to worker 0 once per callback, so the callbacks of an engine run in the
//! order their entries happened, never on rig-io.

use std::sync::Arc;

use super::slot::SocketSlot;
use crate::engine::dispatch::pool::{Dispatcher, Job};
use crate::engine::shared::callback::StatusHandler;
use crate::engine::shared::status::{ChannelChange, ChannelRef, Status};

/// The callbacks of one socket (boxed in the slot: most sockets have none).
pub(crate) struct Lifecycle {
    dispatcher: Dispatcher,
    /// Each callback with its id and the channel it is for, if it is for one.
    handlers: Vec<(u64, Option<ChannelRef>, StatusHandler)>,
}

impl Lifecycle {
    /// Hands `status` to every callback, on worker 0 (the worker that also
    /// runs push outcomes: one order for all of them).
    /// A channel's callbacks go with its close, the last entry about it.
    pub(crate) fn publish(&mut self, status: &Status) {
        for (_, _, handler) in &self.handlers {
            let handler = Arc::clone(handler);
            let status = status.clone();
            self.dispatcher.control(0, Job::Run(Box::new(move || handler(&status))));
        }
        if let Status::Channel { channel, change: ChannelChange::Closed(_) } = status {
            self.handlers.retain(|(_, scope, _)| scope.as_ref() != Some(channel));
        }
    }

    /// Callbacks held (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.handlers.len()
    }
}

impl SocketSlot {
    /// Adds a lifecycle callback; it sees the entries from now on.
    pub(crate) fn on_status(
        &mut self,
        dispatcher: &Dispatcher,
        id: u64,
        scope: Option<ChannelRef>,
        handler: StatusHandler,
    ) {
        let lifecycle = self.lifecycle.get_or_insert_with(|| {
            Box::new(Lifecycle { dispatcher: dispatcher.clone(), handlers: Vec::new() })
        });
        lifecycle.handlers.push((id, scope, handler));
    }

    /// Removes lifecycle callback `id`; the last one takes the box along.
    pub(crate) fn off_status(&mut self, id: u64) {
        let Some(lifecycle) = self.lifecycle.as_mut() else { return };
        lifecycle.handlers.retain(|(held, _, _)| *held != id);
        if lifecycle.handlers.is_empty() {
            self.lifecycle = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::shared::callback::Resume;
    use crate::engine::shared::health::EngineCounters;
    use crate::protocol::CloseReason;

    #[test]
    fn a_channels_callbacks_go_with_its_close_and_see_it_first() {
        let counters = Arc::new(EngineCounters::default());
        let (alive, _) = crossbeam_channel::bounded(0);
        let resume: Resume = Arc::new(|| {});
        let (dispatcher, threads) = Dispatcher::spawn(1, 16, counters, &alive, &resume).unwrap();
        let (tx, seen) = crossbeam_channel::unbounded();
        let room = ChannelRef::new(1, "room:a".into());
        let mut lifecycle = Lifecycle { dispatcher: dispatcher.clone(), handlers: Vec::new() };
        for (id, scope) in [(1, None), (2, Some(room.clone()))] {
            let tx = tx.clone();
            let name = if scope.is_some() { "channel" } else { "socket" };
            lifecycle.handlers.push((
                id,
                scope,
                Arc::new(move |s: &Status| tx.send((name, s.to_string())).unwrap()),
            ));
        }
        let other = ChannelRef::new(2, "room:b".into());
        let closed = |channel: &ChannelRef| Status::Channel {
            channel: channel.clone(),
            change: ChannelChange::Closed(CloseReason::Left),
        };
        lifecycle.publish(&closed(&other));
        assert_eq!(lifecycle.len(), 2, "another channel's close keeps them");
        lifecycle.publish(&closed(&room));
        assert_eq!(lifecycle.len(), 1, "the channel's callback is gone, the socket's stays");
        lifecycle.publish(&Status::Open);
        let mut got: Vec<_> =
            (0..5).map(|_| seen.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
        got.sort();
        let want = [
            ("channel", "room:a: closed: left"),
            ("channel", "room:b: closed: left"),
            ("socket", "open"),
            ("socket", "room:a: closed: left"),
            ("socket", "room:b: closed: left"),
        ];
        assert_eq!(got, want.map(|(who, what)| (who, what.to_owned())));
        dispatcher.stop();
        for thread in threads {
            thread.join().unwrap();
        }
    }
}
