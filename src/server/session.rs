//! One client's Phoenix socket: routing by topic, joins, leaves and channel lifecycles.
//!
//! Sans-IO: messages in (`handle_message`, `handle_timeout`), [`Effect`]s out.
//! The event loop encodes and delivers the effects; the session never sees a
//! socket, another connection or a clock.
//!
//! ```text
//!  (no channel) --phx_join ok--> joined --phx_leave--> reply ok, phx_close --> (no channel)
//!                                  |  \--close / close_reply----------------> phx_close
//!                                  |  \--crash (boom, unknown event)--------> phx_error
//!                                  \--slow--> busy (later pushes queue) --3 s--> reply, joined
//! ```
//!
//! Rules from the fixtures: heartbeats are answered by the socket itself
//! (`join_ref` null, empty response); an event for a topic without a channel
//! gets `unmatched topic` with a null `join_ref`; a `phx_leave` there gets ok;
//! a duplicate join replies ok and then closes the old channel; pushes are
//! routed by topic whatever their `join_ref`, except a stale `phx_leave`,
//! which is ignored.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bytestring::ByteString;
use serde_json::{Map, Value};

use super::channels::stream::Pace;
use super::channels::{self, Ctx, Kind, Outcome, lifecycle, reason};
use super::close::CloseReason;
use super::json;
use super::push_log::PushLog;
use super::stats::{Counters, bump, drop_one};
use crate::protocol::{Message, PHOENIX_TOPIC, Payload, Ref, Reply, events};
use crate::time::Instant;

/// What the session asks the event loop to do, in order.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Send to this client.
    Send(Message),
    /// Send to every subscriber of the message's topic.
    Broadcast(Message),
    /// Subscribe this client to a topic's broadcasts.
    Subscribe(ByteString),
    /// Unsubscribe this client from a topic's broadcasts.
    Unsubscribe(ByteString),
    /// Track this client's presence, broadcast the joins diff, then push the state.
    PresenceTrack {
        topic: ByteString,
        join_ref: Option<Ref>,
        key: String,
        meta: Map<String, Value>,
    },
    /// Replace this client's presence meta and broadcast the diff.
    PresenceUpdate { topic: ByteString, meta: Map<String, Value> },
    /// Stop tracking this client on a topic and broadcast the leaves diff.
    PresenceUntrack { topic: ByteString },
    /// Close the connection for this reason.
    Close(CloseReason),
}

#[derive(Debug)]
struct Channel {
    join_ref: Option<Ref>,
    kind: Kind,
    /// While busy (`slow`): when it ends and the reply then due.
    busy: Option<(Instant, Message)>,
    /// Messages that arrived while busy, in order.
    backlog: VecDeque<Message>,
}

/// The Phoenix socket state of one connection.
#[derive(Debug, Default)]
pub(crate) struct Session {
    channels: HashMap<ByteString, Channel>,
    effects: Vec<Effect>,
    /// The server's counters: heartbeats, joins, channels, crashes.
    stats: Arc<Counters>,
    /// Where `inbox:*` channels record pushes (shared by the server's sessions).
    push_log: Arc<PushLog>,
}

impl Session {
    /// A session counting into counters of its own (for tests).
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A session counting into the server's counters.
    pub(crate) fn with_stats(stats: Arc<Counters>) -> Self {
        Self { channels: HashMap::new(), effects: Vec::new(), stats, push_log: Arc::default() }
    }

    /// Records `inbox:*` pushes in `push_log` (the server's) instead of a private log.
    pub(crate) fn with_push_log(mut self, push_log: Arc<PushLog>) -> Self {
        self.push_log = push_log;
        self
    }

    /// The counters this session writes to.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> &Counters {
        &self.stats
    }

    /// The effects produced so far, oldest first.
    pub(crate) fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Handles one decoded client message.
    pub(crate) fn handle_message(&mut self, now: Instant, mut msg: Message) {
        match json::canonical(&msg.payload) {
            Ok(payload) => msg.payload = payload,
            Err(_) => {
                self.effects.push(Effect::Close(CloseReason::Malformed));
                return;
            }
        }
        if &*msg.topic == PHOENIX_TOPIC && msg.is_event(events::HEARTBEAT) {
            bump(&self.stats.heartbeats);
            let reply = Reply::new("ok", Payload::empty()).to_payload();
            let msg = Message::new(None, msg.r#ref, msg.topic, events::REPLY, reply);
            self.effects.push(Effect::Send(msg));
            return;
        }
        let Some(channel) = self.channels.get(&msg.topic) else {
            if msg.is_event(events::JOIN) {
                self.join(now, msg, None);
            } else if msg.is_event(events::LEAVE) {
                let ok = Reply::new("ok", Payload::empty()).to_payload();
                let reply = Message::new(msg.join_ref, msg.r#ref, msg.topic, events::REPLY, ok);
                self.effects.push(Effect::Send(reply));
            } else {
                self.unmatched(msg);
            }
            return;
        };
        let stale = channel.join_ref.is_some() && channel.join_ref != msg.join_ref;
        if msg.is_event(events::JOIN) {
            if let Some(old) = self.channels.remove(&msg.topic) {
                self.teardown(&msg.topic, &old);
                self.join(now, msg, Some(old));
            }
            return;
        }
        if msg.is_event(events::LEAVE) && stale {
            return;
        }
        self.deliver(now, msg);
    }

    /// Finishes busy periods that are over and runs what queued behind them.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        let ready: Vec<ByteString> = self
            .channels
            .iter()
            .filter(|(_, ch)| ch.busy.as_ref().is_some_and(|(until, _)| *until <= now))
            .map(|(topic, _)| topic.clone())
            .collect();
        for topic in ready {
            let Some(channel) = self.channels.get_mut(&topic) else { continue };
            if let Some((_, reply)) = channel.busy.take() {
                self.effects.push(Effect::Send(reply));
            }
            while let Some(channel) = self.channels.get_mut(&topic) {
                if channel.busy.is_some() {
                    break;
                }
                let Some(next) = channel.backlog.pop_front() else { break };
                self.deliver(now, next);
            }
        }
    }

    /// The earliest time `handle_timeout` has work to do, or (with
    /// `streams`) a batch-paced stream has an event due. Frame-paced streams
    /// are in [`Self::next_pace_deadline`].
    pub(crate) fn next_deadline(&self, streams: bool) -> Option<Instant> {
        self.channels
            .values()
            .filter_map(|ch| match (&ch.busy, &ch.kind) {
                (Some((until, _)), _) => Some(*until),
                (None, Kind::Stream(stream)) if streams && stream.pace() == Pace::Batch => {
                    stream.next_deadline()
                }
                _ => None,
            })
            .min()
    }

    /// When a frame-paced stream (`"pace":"frame"`) has its next event due:
    /// the event loop wakes for it on a precise timer, not the 1 ms wheel.
    pub(crate) fn next_pace_deadline(&self) -> Option<Instant> {
        self.channels
            .values()
            .filter_map(|ch| match &ch.kind {
                Kind::Stream(stream) if stream.pace() == Pace::Frame => stream.next_deadline(),
                _ => None,
            })
            .min()
    }

    /// Whether a stream has an event (or its `done`) due at `now`.
    pub(crate) fn has_due_stream(&self, now: Instant) -> bool {
        self.channels.values().any(|ch| matches!(&ch.kind, Kind::Stream(s) if s.is_due(now)))
    }

    /// Queues up to `max` due stream messages as `Send` effects; returns how
    /// many. A due frame-paced stream goes first and its one message is
    /// queued alone, so it goes out in a write of its own.
    pub(crate) fn produce_streams(&mut self, now: Instant, unix_us: u64, max: usize) -> usize {
        let mut batch = Vec::new();
        let mut total = 0;
        for framed_pass in [true, false] {
            for (topic, channel) in &mut self.channels {
                let Kind::Stream(stream) = &mut channel.kind else { continue };
                if (stream.pace() == Pace::Frame) != framed_pass {
                    continue;
                }
                batch.clear();
                stream.produce(now, unix_us, max.saturating_sub(total), &mut batch);
                total += batch.len();
                for (event, payload) in batch.drain(..) {
                    if event == "event" {
                        bump(&self.stats.stream_events);
                    }
                    let msg =
                        Message::new(channel.join_ref.clone(), None, topic.clone(), event, payload);
                    self.effects.push(Effect::Send(msg));
                }
                if total >= max || (framed_pass && total > 0) {
                    return total;
                }
            }
        }
        total
    }

    /// The socket is gone: every channel ends (presence leaves are broadcast).
    pub(crate) fn close_all(&mut self) {
        let channels: Vec<_> = self.channels.drain().collect();
        for (topic, channel) in channels {
            self.teardown(&topic, &channel);
        }
    }

    fn unmatched(&mut self, msg: Message) {
        let payload = Reply::new("error", json::payload(&reason("unmatched topic"))).to_payload();
        let reply = Message::new(None, msg.r#ref, msg.topic, events::REPLY, payload);
        self.effects.push(Effect::Send(reply));
    }

    /// Joins `msg.topic`; `replaced` is the channel a duplicate join displaced.
    fn join(&mut self, now: Instant, msg: Message, replaced: Option<Channel>) {
        let params = json::params(&msg.payload);
        let Some(result) = channels::join(&msg.topic, &params, now) else {
            bump(&self.stats.joins_refused);
            self.unmatched(msg);
            return;
        };
        let (status, response) = match &result {
            Ok(joined) => {
                bump(&self.stats.joins_ok);
                bump(&self.stats.channels_joined);
                ("ok", &joined.response)
            }
            Err(response) => {
                bump(&self.stats.joins_refused);
                ("error", response)
            }
        };
        let payload = Reply::new(status, json::payload(response)).to_payload();
        let reply = Message::new(
            msg.join_ref.clone(),
            msg.r#ref,
            msg.topic.clone(),
            events::REPLY,
            payload,
        );
        self.effects.push(Effect::Send(reply));
        if let Some(old) = replaced {
            let close = lifecycle(old.join_ref.as_ref(), &msg.topic, events::CLOSE);
            self.effects.push(Effect::Send(close));
        }
        let Ok(joined) = result else { return };
        self.effects.push(Effect::Subscribe(msg.topic.clone()));
        if let Some((key, meta)) = joined.track {
            self.effects.push(Effect::PresenceTrack {
                topic: msg.topic.clone(),
                join_ref: msg.join_ref.clone(),
                key,
                meta,
            });
        }
        let channel = Channel {
            join_ref: msg.join_ref,
            kind: joined.kind,
            busy: None,
            backlog: VecDeque::new(),
        };
        self.channels.insert(msg.topic, channel);
    }

    /// The effects of a channel ending (it is already out of the table).
    fn teardown(&mut self, topic: &ByteString, channel: &Channel) {
        drop_one(&self.stats.channels_joined);
        self.effects.push(Effect::Unsubscribe(topic.clone()));
        if matches!(channel.kind, Kind::Presence) {
            self.effects.push(Effect::PresenceUntrack { topic: topic.clone() });
        }
    }

    /// Hands `msg` to its joined channel, or queues it while the channel is busy.
    fn deliver(&mut self, now: Instant, msg: Message) {
        let Some(channel) = self.channels.get_mut(&msg.topic) else { return };
        if channel.busy.is_some() {
            channel.backlog.push_back(msg);
            return;
        }
        let join_ref = channel.join_ref.clone();
        let reply_to = |reply: Reply| {
            Message::new(
                join_ref.clone(),
                msg.r#ref.clone(),
                msg.topic.clone(),
                events::REPLY,
                reply.to_payload(),
            )
        };
        if msg.is_event(events::LEAVE) {
            let reply = reply_to(Reply::new("ok", Payload::empty()));
            self.effects.push(Effect::Send(reply));
            self.end(&msg.topic, events::CLOSE);
            return;
        }
        if channels::is_control(&msg.event) {
            return;
        }
        let mut ctx = Ctx {
            now,
            topic: &msg.topic,
            join_ref: join_ref.as_ref(),
            effects: &mut self.effects,
            push_log: &self.push_log,
            after_reply: Vec::new(),
        };
        let outcome =
            channels::handle_in(&mut channel.kind, &msg.event, msg.payload.clone(), &mut ctx);
        let after_reply = ctx.after_reply;
        match outcome {
            Outcome::NoReply => {}
            Outcome::Reply(reply) => self.effects.push(Effect::Send(reply_to(reply))),
            Outcome::Stop => self.end(&msg.topic, events::CLOSE),
            Outcome::StopReply(reply) => {
                self.effects.push(Effect::Send(reply_to(reply)));
                self.end(&msg.topic, events::CLOSE);
            }
            Outcome::Crash => {
                bump(&self.stats.channel_crashes);
                self.end(&msg.topic, events::ERROR);
            }
            Outcome::Busy { until, reply } => {
                let reply = reply_to(reply);
                if let Some(channel) = self.channels.get_mut(&msg.topic) {
                    channel.busy = Some((until, reply));
                }
            }
        }
        self.effects.extend(after_reply);
    }

    /// Ends the channel on `topic` with `phx_close` or `phx_error`.
    fn end(&mut self, topic: &ByteString, event: &str) {
        let Some(channel) = self.channels.remove(topic) else { return };
        self.effects.push(Effect::Send(lifecycle(channel.join_ref.as_ref(), topic, event)));
        self.teardown(topic, &channel);
    }
}
