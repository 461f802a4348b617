//! Applying a session's [`Effect`]s: the glue between one connection's
//! Phoenix state and every other connection.

use bytestring::ByteString;

use super::conn::Phase;
use super::event_loop::Hub;
use super::fanout::{EncodeCache, encode};
use super::session::Effect;
use super::stats::{add, bump};
use crate::protocol::{Message, Payload, Ref, events};
use crate::time::Instant;

impl Hub {
    /// Applies `effects` produced by the session of connection `slot`, in order.
    pub(crate) fn apply(&mut self, slot: usize, effects: Vec<Effect>, now: Instant) {
        for effect in effects {
            match effect {
                Effect::Send(msg) => self.send(slot, &msg),
                Effect::Broadcast(msg) => self.broadcast(&msg),
                Effect::Subscribe(topic) => self.pubsub.subscribe(topic, slot),
                Effect::Unsubscribe(topic) => self.pubsub.unsubscribe(&topic, slot),
                Effect::PresenceTrack { topic, join_ref, key, meta } => {
                    let Some(owner) = self.owner(slot) else { continue };
                    let (diff, state) = self.presence.track(&topic, owner, key, meta);
                    self.broadcast_payload(&topic, events::PRESENCE_DIFF, diff);
                    let msg = Message::new(join_ref, None, topic, events::PRESENCE_STATE, state);
                    self.send(slot, &msg);
                }
                Effect::PresenceUpdate { topic, meta } => {
                    let Some(owner) = self.owner(slot) else { continue };
                    if let Some(diff) = self.presence.update(&topic, owner, meta) {
                        self.broadcast_payload(&topic, events::PRESENCE_DIFF, diff);
                    }
                }
                Effect::PresenceUntrack { topic } => {
                    let Some(owner) = self.owner(slot) else { continue };
                    if let Some(diff) = self.presence.untrack(&topic, owner) {
                        self.broadcast_payload(&topic, events::PRESENCE_DIFF, diff);
                    }
                }
                Effect::Close(reason) => self.begin_close(slot, reason, now),
            }
        }
    }

    /// Ends every channel of the connection (its socket is going away).
    pub(crate) fn end_session(&mut self, slot: usize, now: Instant) {
        let Some(conn) = self.conn_mut(slot) else { return };
        let (Phase::Open(ws) | Phase::Closing(ws)) = &mut conn.phase else { return };
        ws.session.close_all();
        let effects = ws.session.take_effects();
        self.apply(slot, effects, now);
    }

    fn owner(&mut self, slot: usize) -> Option<u64> {
        self.conn_mut(slot).map(|c| c.id)
    }

    fn broadcast_payload(&mut self, topic: &ByteString, event: &str, payload: Payload) {
        let none: Option<Ref> = None;
        self.broadcast(&Message::new(none.clone(), none, topic.clone(), event, payload));
    }

    /// Encodes and queues `msg` for connection `slot`, if it is open.
    fn send(&mut self, slot: usize, msg: &Message) {
        let Some(conn) = self.conn_mut(slot) else { return };
        let Phase::Open(ws) = &mut conn.phase else { return };
        log::trace!("connection {}: out {}", conn.id, crate::redact::text(&format!("{msg:?}")));
        if let Some(frame) = encode(ws.serializer.as_ref(), msg) {
            ws.enqueue(frame);
            self.mark(slot);
        }
    }

    /// Queues `msg` for every subscriber of its topic, encoding once per vsn.
    fn broadcast(&mut self, msg: &Message) {
        let mut cache = EncodeCache::default();
        let subscribers = self.pubsub.subscribers(&msg.topic).to_vec();
        let mut reached = 0;
        for slot in subscribers {
            let Some(conn) = self.conn_mut(slot) else { continue };
            let Phase::Open(ws) = &mut conn.phase else { continue };
            if let Some(frame) = cache.get(&ws.serializer, msg) {
                ws.enqueue(frame);
                reached += 1;
                self.mark(slot);
            }
        }
        bump(&self.stats.broadcasts);
        add(&self.stats.broadcast_messages, reached);
    }

    /// Schedules a pump for `slot`, or its drop when it holds too much.
    fn mark(&mut self, slot: usize) {
        let cap = self.config.max_outgoing();
        let Some(conn) = self.conn_mut(slot) else { return };
        let Phase::Open(ws) = &conn.phase else { return };
        if ws.queued_bytes() > cap {
            self.overflowed.push(slot);
        } else if !conn.dirty {
            conn.dirty = true;
            self.dirty.push(slot);
        }
    }
}
