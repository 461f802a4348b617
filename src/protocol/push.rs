//! Pushes and their reply correlation by `ref` (phoenix.js `push.js`).
//!
//! Every push the session makes (join attempts, leaves, user events) has a
//! record here until it resolves. A record's `ref` is registered while a
//! frame for it is on the wire, so a `phx_reply` finds its push in O(1).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use bytestring::ByteString;

use super::message::{Payload, Ref};
use super::message_ref::RefText;
use super::session::{ChannelId, PushId};
use crate::timer::TimerKey;

/// What a push is for; it decides what its reply or timeout does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PushKind {
    /// The channel's join push, reused for every (re)join attempt.
    Join,
    /// A leave; its reply or timeout closes the channel.
    Leave,
    /// A user event.
    Message,
    /// A frame whose reply nobody waits for (the `phx_leave` after a join
    /// timeout); its record only absorbs the reply.
    Discard,
}

/// One push.
#[derive(Debug)]
pub(crate) struct PushRecord {
    pub(crate) channel: ChannelId,
    pub(crate) topic: ByteString,
    pub(crate) kind: PushKind,
    pub(crate) event: ByteString,
    pub(crate) payload: Payload,
    pub(crate) timeout: Duration,
    /// The ref of the frame on the wire, if one was sent and not answered.
    pub(crate) sent_ref: Option<Ref>,
    pub(crate) timer: Option<TimerKey>,
    /// Whether the user still waits for an outcome (a push resolves once).
    pub(crate) notify: bool,
    /// Whether a frame of this push waits in the socket send buffer, so
    /// that dropping it does not scan the buffer for nothing.
    pub(crate) in_send_buffer: bool,
}

impl PushRecord {
    pub(crate) fn new(
        channel: ChannelId,
        topic: ByteString,
        kind: PushKind,
        event: impl Into<ByteString>,
        payload: Payload,
        timeout: Duration,
        notify: bool,
    ) -> Self {
        Self {
            channel,
            topic,
            kind,
            event: event.into(),
            payload,
            timeout,
            sent_ref: None,
            timer: None,
            notify,
            in_send_buffer: false,
        }
    }
}

/// All pushes of a session, by id and by the ref on the wire.
///
/// Ids grow and are never reused. Records sit in a `BTreeMap` so that
/// iteration (e.g. abandoning a closed channel's pushes) is in creation
/// order, which keeps event order deterministic. `by_channel` finds a
/// channel's pushes without walking every record, so closing many channels
/// stays linear.
#[derive(Debug, Default)]
pub(crate) struct Pushes {
    /// Boxed: a B-tree leaf holds 11 entries, so an inline record cost
    /// 2.6 KiB for a session whose only push is a join.
    records: BTreeMap<PushId, Box<PushRecord>>,
    /// By the ref's text alone: a reply's ref matches whether it came back
    /// as a string or a number.
    by_ref: HashMap<RefText, PushId>,
    by_channel: BTreeSet<(ChannelId, PushId)>,
    next: u64,
}

impl Pushes {
    pub(crate) fn insert(&mut self, record: PushRecord) -> PushId {
        self.next = self.next.wrapping_add(1);
        let id = PushId(self.next);
        self.by_channel.insert((record.channel, id));
        self.records.insert(id, Box::new(record));
        id
    }

    pub(crate) fn get(&self, id: PushId) -> Option<&PushRecord> {
        self.records.get(&id).map(|record| &**record)
    }

    pub(crate) fn get_mut(&mut self, id: PushId) -> Option<&mut PushRecord> {
        self.records.get_mut(&id).map(|record| &mut **record)
    }

    /// Removes a record and its ref registration.
    pub(crate) fn remove(&mut self, id: PushId) -> Option<PushRecord> {
        let record = self.records.remove(&id)?;
        self.by_channel.remove(&(record.channel, id));
        if let Some(r) = &record.sent_ref {
            self.unregister(r, id);
        }
        Some(*record)
    }

    /// Registers `r` as the ref of `id`'s frame on the wire, replacing any
    /// earlier one.
    pub(crate) fn set_ref(&mut self, id: PushId, r: Ref) {
        let old = match self.records.get_mut(&id) {
            Some(record) => record.sent_ref.replace(r.clone()),
            None => return,
        };
        if let Some(old) = old {
            self.unregister(&old, id);
        }
        self.by_ref.insert(r.text_key().clone(), id);
    }

    /// Forgets the ref of `id` (the reply binding goes away).
    pub(crate) fn clear_ref(&mut self, id: PushId) {
        let old = self.records.get_mut(&id).and_then(|record| record.sent_ref.take());
        if let Some(old) = old {
            self.unregister(&old, id);
        }
    }

    /// The push whose frame carried `r`.
    pub(crate) fn by_ref(&self, r: &Ref) -> Option<PushId> {
        self.by_ref.get(r.text_key()).copied()
    }

    /// The ids of a channel's pushes, oldest first.
    pub(crate) fn of_channel(&self, channel: ChannelId) -> Vec<PushId> {
        let range = (channel, PushId(0))..=(channel, PushId(u64::MAX));
        self.by_channel.range(range).map(|(_, id)| *id).collect()
    }

    /// How many refs are waiting for a reply (phoenix.js `chan_reply_*`
    /// bindings).
    #[cfg(test)]
    pub(crate) fn refs_waiting(&self) -> usize {
        self.by_ref.len()
    }

    /// Every record's id (tests).
    #[cfg(test)]
    pub(crate) fn ids(&self) -> impl Iterator<Item = PushId> + '_ {
        self.records.keys().copied()
    }

    /// The timer slots of every record (tests check them against the wheel).
    #[cfg(test)]
    pub(crate) fn timers(&self) -> impl Iterator<Item = Option<TimerKey>> + '_ {
        self.records.values().map(|r| r.timer)
    }

    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    fn unregister(&mut self, r: &Ref, id: PushId) {
        if self.by_ref.get(r.text_key()) == Some(&id) {
            self.by_ref.remove(r.text_key());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: PushKind) -> PushRecord {
        let topic = ByteString::from_static("room:a");
        PushRecord::new(ChannelId(1), topic, kind, "e", Payload::empty(), Duration::ZERO, true)
    }

    #[test]
    fn refs_follow_the_latest_attempt() {
        let mut pushes = Pushes::default();
        let join = pushes.insert(record(PushKind::Join));
        pushes.set_ref(join, Ref::from_u64(1));
        assert_eq!(pushes.by_ref(&Ref::from_u64(1)), Some(join));
        pushes.set_ref(join, Ref::from_u64(3));
        assert_eq!(pushes.by_ref(&Ref::from_u64(1)), None);
        assert_eq!(pushes.by_ref(&Ref::from_u64(3)), Some(join));
        pushes.clear_ref(join);
        assert_eq!(pushes.refs_waiting(), 0);
        assert!(pushes.get(join).is_some());
    }

    #[test]
    fn remove_unregisters_and_ids_are_not_reused() {
        let mut pushes = Pushes::default();
        let a = pushes.insert(record(PushKind::Message));
        pushes.set_ref(a, Ref::from_u64(7));
        assert!(pushes.remove(a).is_some());
        assert_eq!(pushes.by_ref(&Ref::from_u64(7)), None);
        let b = pushes.insert(record(PushKind::Message));
        assert_ne!(a, b);
        assert_eq!(pushes.of_channel(ChannelId(1)), [b]);
        assert_eq!(pushes.len(), 1);
    }
}
