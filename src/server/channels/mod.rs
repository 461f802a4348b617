//! The channels the embedded server routes, as the fixture server defines them.
//!
//! | topic        | join params                 | events handled                                  |
//! |--------------|-----------------------------|-------------------------------------------------|
//! | `room:*`     | any (`room:forbidden` fails)| echo, echo_error, noreply, push_me, shout, boom, close, close_reply, slow, binary, binary_push, binary_shout |
//! | `stream:*`   | `rate`+`count` or `mode:"burst"`; `pace:"frame"` | none: the server pushes `event`s then `done` |
//! | `presence:*` | `user_id` + meta            | update                                          |
//! | `inbox:*`    | any                         | any: recorded in the [`PushLog`](super::PushLog), deduplicated by `_rig_id` |
//!
//! Any other event crashes the channel (`phx_error`), as a missing
//! `handle_in` clause does in Elixir.

use bytestring::ByteString;
use serde_json::Value;

use super::push_log::PushLog;
use super::session::Effect;
use crate::protocol::{Message, Payload, Ref, Reply, events};
use crate::time::Instant;

pub(crate) mod inbox;
pub(crate) mod presence;
pub(crate) mod room;
pub(crate) mod stream;

/// What a channel does with one event.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Nothing more to send.
    NoReply,
    /// Reply to the push.
    Reply(Reply),
    /// Stop normally: only `phx_close`, no reply.
    Stop,
    /// Stop normally after replying.
    StopReply(Reply),
    /// The channel crashed: `phx_error`, then it is gone.
    Crash,
    /// The channel is busy until `until`; then it sends `reply`.
    Busy { until: Instant, reply: Reply },
}

/// What a channel can touch while it handles an event.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Instant,
    pub(crate) topic: &'a ByteString,
    pub(crate) join_ref: Option<&'a Ref>,
    pub(crate) effects: &'a mut Vec<Effect>,
    /// Where `inbox:*` records pushes.
    pub(crate) push_log: &'a PushLog,
    /// Effects that must follow the reply (a presence diff after `update`'s ok).
    pub(crate) after_reply: Vec<Effect>,
}

impl Ctx<'_> {
    /// A server push to this client: `[join_ref, null, topic, event, payload]`.
    pub(crate) fn push(&mut self, event: &str, payload: Payload) {
        let msg = Message::new(self.join_ref.cloned(), None, self.topic.clone(), event, payload);
        self.effects.push(Effect::Send(msg));
    }

    /// A broadcast to every subscriber of the topic, this client included.
    pub(crate) fn broadcast(&mut self, event: &str, payload: Payload) {
        let msg = Message::new(None, None, self.topic.clone(), event, payload);
        self.effects.push(Effect::Broadcast(msg));
    }
}

/// The channel kinds and their state.
#[derive(Debug)]
pub(crate) enum Kind {
    Room,
    Stream(stream::Stream),
    Presence,
    Inbox,
}

/// A successful join: the response and the new channel's kind.
pub(crate) struct Joined {
    pub(crate) response: Value,
    pub(crate) kind: Kind,
    /// Presence to track right after the reply: (key, meta).
    pub(crate) track: Option<(String, serde_json::Map<String, Value>)>,
}

/// Routes a join by topic: `None` means no channel matches (unmatched topic).
pub(crate) fn join(topic: &str, params: &Value, now: Instant) -> Option<Result<Joined, Value>> {
    if topic.starts_with("room:") {
        Some(room::join(topic))
    } else if topic.starts_with("stream:") {
        Some(stream::join(topic, params, now))
    } else if topic.starts_with("presence:") {
        Some(presence::join(topic, params))
    } else if topic.starts_with("inbox:") {
        Some(Ok(inbox::join(topic)))
    } else {
        None
    }
}

/// Handles one event on a joined channel.
pub(crate) fn handle_in(
    kind: &mut Kind,
    event: &str,
    payload: Payload,
    ctx: &mut Ctx<'_>,
) -> Outcome {
    match kind {
        Kind::Room => room::handle_in(event, payload, ctx),
        Kind::Stream(_) => Outcome::Crash,
        Kind::Presence => presence::handle_in(event, payload, ctx),
        Kind::Inbox => inbox::handle_in(&payload, ctx),
    }
}

/// `{"joined": topic}`, the response every fixture channel gives.
pub(crate) fn joined(topic: &str) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("joined".into(), Value::String(topic.to_owned()));
    map
}

/// `[jr, jr, topic, event, {}]`: how Phoenix reports a channel's end.
pub(crate) fn lifecycle(join_ref: Option<&Ref>, topic: &ByteString, event: &str) -> Message {
    Message::new(join_ref.cloned(), join_ref.cloned(), topic.clone(), event, Payload::empty())
}

/// `{"reason": reason}`.
pub(crate) fn reason(reason: &str) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("reason".into(), Value::String(reason.to_owned()));
    Value::Object(map)
}

/// Whether `event` is one of the events the socket itself handles.
pub(crate) fn is_control(event: &str) -> bool {
    event == events::JOIN || event == events::LEAVE
}
