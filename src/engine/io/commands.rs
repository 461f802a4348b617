//! Commands from the handles, executed on rig-io against one socket.

use super::slot::{ChannelEntry, PushEntry, PushTarget, SocketSlot, Sub, SubSink};
use super::thread::Ctx;
use crate::engine::dispatch::pool::{Dispatcher, Job};
use crate::engine::shared::command::{Command, NewChannel, NewPush, NewSend, PushSink, Sink};
use crate::engine::shared::health::add;
use crate::engine::shared::push_result::{PushError, PushResult};
use crate::engine::shared::status::ChannelRef;
use crate::protocol::{CLOSE_NORMAL, PushId, SessionError, SocketState};

/// Pings the session remembers (and so do we).
const MAX_PINGS: usize = 32;

impl SocketSlot {
    pub(crate) fn execute(&mut self, ctx: &mut Ctx<'_>, command: Command) {
        let now = ctx.now;
        match command {
            Command::Connect(_) => {
                self.sticky = None;
                self.session.connect(now);
            }
            Command::Disconnect { code, reason, .. } => {
                self.session.disconnect(now, code, reason);
                if self.session.state() == SocketState::Closed {
                    // A waiting reconnect was cancelled: nothing else will
                    // say so.
                    self.sticky = None;
                    self.set_state(crate::engine::shared::status::ConnectionState::Idle);
                }
            }
            Command::ReconnectNow(_) => self.reconnect_now(ctx),
            Command::RemoveSocket(_) => {
                self.removing = true;
                self.session.disconnect(now, CLOSE_NORMAL, "removed");
            }
            Command::WatchStatus { sender, .. } => self.watch(sender),
            Command::OnStatus { id, scope, handler, .. } => {
                self.on_status(ctx.dispatcher, id, scope, handler);
            }
            Command::OffStatus { id, .. } => self.off_status(id),
            Command::Ping { reply, .. } => {
                // Not open: the sender drops and the caller sees it.
                if self.session.ping(now) {
                    self.pings.push_back(reply);
                    if self.pings.len() > MAX_PINGS {
                        // The session forgets its oldest ping too.
                        self.pings.pop_front();
                    }
                }
            }
            Command::AddChannel(new) => self.add_channel(*new),
            Command::Join { channel, timeout, push, .. } => {
                let id = self.channels.get(&channel).map(|c| c.id);
                self.start_push(push, id, |session, id| session.join(now, id, timeout));
            }
            Command::Leave { channel, timeout, push, .. } => {
                let id = self.channels.get(&channel).map(|c| c.id);
                self.start_push(push, id, |session, id| session.leave(now, id, timeout));
            }
            Command::Push(new) => {
                let NewPush { channel, event, payload, timeout, push, .. } = *new;
                let id = self.channels.get(&channel).map(|c| c.id);
                self.start_push(push, id, |session, id| {
                    session.push(now, id, event, payload, timeout)
                });
            }
            Command::Send(new) => {
                let NewSend { channel, event, payload, .. } = *new;
                // The caller checked the channel was joined; it may have
                // stopped being joined (or been removed) before this turn.
                let lost = match self.channels.get(&channel) {
                    Some(entry) => {
                        let sent = self.session.send(entry.id, event.clone(), payload);
                        sent.err().map(|err| err.to_string())
                    }
                    None => Some("the channel was removed".to_owned()),
                };
                if let Some(why) = lost {
                    add(&self.counters.sends_lost, 1);
                    log::warn!("send {event}: not sent: {why}");
                }
            }
            Command::DurablePush { channel, id, push, .. } => {
                self.outbox_register(ctx, channel, id, push);
            }
            Command::RemoveChannel { channel, .. } => {
                if let Some(id) = self.channels.get(&channel).map(|c| c.id) {
                    // ChannelClosed { Removed } follows and releases it.
                    self.session.remove(id);
                }
            }
            Command::Subscribe { channel, sub, filter, sink, overflow, .. } => {
                let Some(entry) = self.channels.get_mut(&channel) else {
                    // Closed: a queue's sender drops here (its receiver
                    // disconnects); a handler is never registered.
                    return;
                };
                let sink = match sink {
                    Sink::Queue { tx, rx, dropped, stalled } => {
                        SubSink::Queue { tx, rx, dropped, stalled }
                    }
                    Sink::Handler(handler) => {
                        let worker = ctx.dispatcher.worker_for(entry.reference.topic_string());
                        ctx.dispatcher.control(worker, Job::Register(sub, handler));
                        SubSink::Handler { worker }
                    }
                    Sink::Inline(handler) => SubSink::Inline(handler),
                };
                entry.subs.push(Sub { key: sub, filter, sink, overflow });
            }
            Command::Unsubscribe { channel, sub, .. } => {
                let Some(entry) = self.channels.get_mut(&channel) else { return };
                entry.subs.retain(|s| {
                    if s.key != sub {
                        return true;
                    }
                    if let SubSink::Handler { worker } = s.sink {
                        ctx.dispatcher.control(worker, Job::Unregister(sub));
                    }
                    false
                });
            }
            Command::Then { push, callback, rx, .. } => {
                let pending = self.push_ids.get(&push).and_then(|id| self.pushes.get_mut(id));
                if let Some(entry) = pending {
                    entry.target = PushTarget::Callback(callback);
                } else if let Err(callback) = self.outbox_then(push, callback) {
                    // Resolved already: the outcome sits in the handle's slot.
                    let result = rx.try_recv().unwrap_or(Err(PushError::EngineStopped));
                    ctx.dispatcher.outcome(callback, result);
                }
            }
            Command::Resolved { generation, addrs, .. } => self.resolved(ctx, generation, addrs),
            Command::AddSocket(_) | Command::Shutdown | Command::Resume => {}
        }
    }

    fn add_channel(&mut self, new: NewChannel) {
        let NewChannel { key, topic, params, shared, .. } = new;
        let id = self.session.channel(topic.clone(), params);
        let reference = ChannelRef::new(key.0, topic);
        self.by_id.insert(id, key);
        self.channels.insert(key, ChannelEntry { id, reference, shared, subs: Vec::new() });
    }

    /// Runs a session command that yields a push, and files its sink.
    fn start_push(
        &mut self,
        sink: PushSink,
        channel: Option<crate::protocol::ChannelId>,
        start: impl FnOnce(
            &mut crate::protocol::Session,
            crate::protocol::ChannelId,
        ) -> Result<PushId, SessionError>,
    ) {
        let Some(channel) = channel else {
            let _ = sink.tx.try_send(Err(PushError::ChannelGone));
            return;
        };
        match start(&mut self.session, channel) {
            Ok(id) => {
                self.push_ids.insert(sink.key, id);
                self.pushes
                    .insert(id, PushEntry { key: sink.key, target: PushTarget::Handle(sink.tx) });
            }
            Err(SessionError::UnknownChannel { .. }) => {
                let _ = sink.tx.try_send(Err(PushError::ChannelGone));
            }
            Err(e) => {
                let _ = sink.tx.try_send(Err(PushError::Rejected(e)));
            }
        }
    }

    /// Connect now with a fresh backoff: a waiting reconnect (or a stuck
    /// attempt) is abandoned and a new attempt starts at once. An open
    /// socket is left alone.
    fn reconnect_now(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        self.not_before = None;
        self.deferred_attempt = None;
        self.sticky = None;
        match self.session.state() {
            SocketState::Open => {}
            SocketState::Closing => self.session.connect(now),
            _ => {
                // disconnect() resets the backoff and cancels the timer; its
                // CloseTransport (if an attempt was under way) is served
                // before the new connect.
                self.session.disconnect(now, CLOSE_NORMAL, "reconnect");
                while let Some(event) = self.session.poll_event() {
                    self.on_event(ctx, event);
                }
                self.session.connect(now);
            }
        }
    }
}

/// A command for a socket that is gone: answer whoever waits.
pub(crate) fn orphan(command: Command, dispatcher: &Dispatcher) {
    let gone: PushResult = Err(PushError::ChannelGone);
    match command {
        Command::Join { push, .. } | Command::Leave { push, .. } => {
            let _ = push.tx.try_send(gone);
        }
        Command::Push(new) => {
            let _ = new.push.tx.try_send(gone);
        }
        Command::DurablePush { push, .. } => {
            let _ = push.tx.try_send(Err(PushError::EngineStopped));
        }
        Command::Then { callback, rx, .. } => {
            let result = rx.try_recv().unwrap_or(gone);
            dispatcher.outcome(callback, result);
        }
        _ => {}
    }
}
