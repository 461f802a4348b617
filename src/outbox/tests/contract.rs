//! What every backend must do; each backend's file runs these.

use crate::outbox::{Error, FullPolicy, ID_KEY, Limits, Outbox, OutboxId, carried_id};
use crate::protocol::Payload;

fn json(n: u32) -> Payload {
    Payload::json(format!(r#"{{"n":{n}}}"#))
}

fn ids(outbox: &dyn Outbox, topic: &str) -> Vec<OutboxId> {
    outbox.pending(topic).map(|e| e.id).collect()
}

pub(super) fn order_per_topic(outbox: &dyn Outbox) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for n in 0..20 {
        let topic = if n % 3 == 0 { "b" } else { "a" };
        let id = outbox.enqueue(topic, "msg", json(n)).unwrap();
        if topic == "a" { a.push(id) } else { b.push(id) }
    }
    assert_eq!(ids(outbox, "a"), a);
    assert_eq!(ids(outbox, "b"), b);
    assert!(ids(outbox, "c").is_empty());
    assert_eq!(outbox.topics(), ["b", "a"]);
    let first = outbox.pending("a").next().unwrap();
    assert_eq!((first.topic.as_str(), first.event.as_str()), ("a", "msg"));
    assert_eq!(carried_id(&first.payload), Some(first.id));
    assert!(first.payload.as_json().unwrap().contains(ID_KEY));
    assert_eq!(outbox.stats().entries, 20);
}

pub(super) fn ack_deletes_and_states(outbox: &dyn Outbox) {
    let x = outbox.enqueue("t", "e", json(1)).unwrap();
    let y = outbox.enqueue("t", "e", json(2)).unwrap();
    let z = outbox.enqueue("t", "e", json(3)).unwrap();
    assert!(outbox.mark_sent(x));
    assert!(outbox.mark_sent(y));
    assert!(!outbox.mark_sent(y), "already in flight");
    assert_eq!(ids(outbox, "t"), [z], "in-flight entries are not pending");
    assert_eq!(outbox.stats().in_flight, 2);
    assert!(outbox.ack(x));
    assert!(!outbox.ack(x), "second ack of the same id");
    assert!(outbox.nack(y));
    assert!(!outbox.nack(y), "not in flight any more");
    assert!(!outbox.nack(z), "never sent");
    let pending: Vec<_> = outbox.pending("t").collect();
    assert_eq!(pending.iter().map(|e| e.id).collect::<Vec<_>>(), [y, z], "nack keeps the order");
    assert_eq!(pending.first().map(|e| e.attempts), Some(1));
    outbox.mark_sent(y);
    outbox.mark_sent(z);
    assert_eq!(outbox.requeue_all(), 2);
    assert_eq!(ids(outbox, "t"), [y, z]);
    // An id of another outbox session (other stamp) is not ours.
    assert!(!outbox.ack(OutboxId::from_parts(y.stamp() ^ 1, y.seq())));
    let stats = outbox.stats();
    assert_eq!((stats.entries, stats.in_flight, stats.acked, stats.nacked), (2, 0, 1, 3));
    assert!(stats.bytes > 0);
    assert!(outbox.ack(y) && outbox.ack(z));
    assert_eq!(outbox.stats().bytes, 0);
    assert!(outbox.topics().is_empty());
}

pub(super) fn reject_when_full(outbox: &dyn Outbox) {
    // Made with max 3 entries, 200 bytes, Reject.
    let kept: Vec<_> = (0..3).map(|n| outbox.enqueue("t", "e", json(n)).unwrap()).collect();
    let err = outbox.enqueue("t", "e", json(9)).unwrap_err();
    assert!(matches!(err, Error::Full { entries: 3, max_entries: 3, .. }), "{err}");
    assert_eq!(err.into_payload().unwrap().as_json(), Some(r#"{"n":9}"#));
    assert_eq!(ids(outbox, "t"), kept, "nothing accepted was lost");
    assert!(outbox.ack(kept[0]));
    outbox.enqueue("t", "e", json(10)).unwrap();
    // Bytes: a payload bigger than the whole bound.
    let big = Payload::json(format!(r#"{{"s":"{}"}}"#, "x".repeat(300)));
    assert!(outbox.enqueue("u", "e", big).unwrap_err().is_full());
    assert_eq!(outbox.stats().rejected, 2);
    assert_eq!(outbox.stats().entries, 3);
}

pub(super) fn drop_oldest_when_full(outbox: &dyn Outbox) {
    // Made with max 3 entries, 200 bytes, DropOldest.
    let all: Vec<_> = (0..5)
        .map(|n| outbox.enqueue(if n % 2 == 0 { "a" } else { "b" }, "e", json(n)).unwrap())
        .collect();
    assert_eq!(ids(outbox, "a"), [all[2], all[4]]);
    assert_eq!(ids(outbox, "b"), [all[3]]);
    assert_eq!(outbox.stats().dropped, 2);
    assert!(!outbox.ack(all[0]), "dropped entries are gone");
    // Bytes make room too: one ~150-byte push evicts until it fits.
    let wide = Payload::json(format!(r#"{{"s":"{}"}}"#, "x".repeat(140)));
    let w = outbox.enqueue("a", "e", wide).unwrap();
    assert!(outbox.stats().bytes <= 200);
    assert_eq!(ids(outbox, "a").last(), Some(&w));
    let big = Payload::json(format!(r#"{{"s":"{}"}}"#, "x".repeat(300)));
    assert!(outbox.enqueue("a", "e", big).unwrap_err().is_full(), "bigger than the bound alone");
}

pub(super) fn payload_kinds(outbox: &dyn Outbox) {
    let array = outbox.enqueue("t", "e", Payload::json("[1,2]")).unwrap();
    let bin = outbox.enqueue("t", "e", Payload::binary(vec![0u8, 255, 7])).unwrap();
    let pending: Vec<_> = outbox.pending("t").collect();
    assert_eq!(pending.iter().map(|e| e.id).collect::<Vec<_>>(), [array, bin]);
    assert_eq!(pending[0].payload.as_json(), Some("[1,2]"));
    assert!(!pending[0].tagged && !pending[1].tagged);
    assert_eq!(pending[1].payload, Payload::binary(vec![0u8, 255, 7]));
    let reserved = outbox.enqueue("t", "e", Payload::json(r#"{"_rig_id":"mine"}"#));
    assert!(matches!(reserved, Err(Error::Payload(_))));
    assert_eq!(outbox.stats().entries, 2);
}

/// Limits the bound tests are made with.
pub(super) fn small(policy: FullPolicy) -> Limits {
    Limits::default().max_entries(3).max_bytes(200).policy(policy)
}
