//! The shared index: what `pending` may show while writes are in flight.

use crate::outbox::queue::Queue;
use crate::outbox::tag::{self, Prepared};
use crate::outbox::{FullPolicy, Limits};
use crate::protocol::Payload;

fn prep() -> Prepared {
    tag::prepare(Payload::json("{}")).unwrap()
}

fn ids(queue: &Queue, topic: &str) -> Vec<u64> {
    queue.pending(topic).iter().map(|e| e.id.seq()).collect()
}

#[test]
fn pending_never_shows_a_later_entry_before_an_earlier_one() {
    let mut queue = Queue::new(Limits::default(), 7);
    let a = queue.admit("t", "e", prep(), true).unwrap().entry.id;
    let b = queue.admit("t", "e", prep(), true).unwrap().entry.id;
    let other = queue.admit("u", "e", prep(), true).unwrap().entry.id;
    assert!(ids(&queue, "t").is_empty(), "nothing committed yet");
    queue.written(b.seq());
    assert!(ids(&queue, "t").is_empty(), "b committed but a is still being written");
    queue.written(other.seq());
    assert_eq!(ids(&queue, "u"), [other.seq()], "other topics do not wait");
    queue.written(a.seq());
    assert_eq!(ids(&queue, "t"), [a.seq(), b.seq()]);
    assert!(queue.mark_sent(other));
    assert!(ids(&queue, "u").is_empty());
    assert_eq!(queue.stats().in_flight, 1);
    assert_eq!(a.stamp(), 7);
}

#[test]
fn a_failed_write_is_forgotten_and_frees_its_room() {
    let mut queue = Queue::new(Limits::default().max_entries(1), 1);
    let a = queue.admit("t", "e", prep(), true).unwrap().entry.id;
    assert!(queue.admit("t", "e", prep(), true).unwrap_err().is_full());
    assert!(queue.forget(a.seq()).is_some());
    assert_eq!(queue.stats().entries, 0);
    let b = queue.admit("t", "e", prep(), true).unwrap().entry.id;
    assert!(b.seq() > a.seq(), "sequence numbers are never reused");
}

#[test]
fn restored_entries_over_the_limits_are_kept_and_new_ones_wait() {
    let mut source = Queue::new(Limits::default(), 1);
    let entries: Vec<_> =
        (0..3).map(|_| source.admit("t", "e", prep(), false).unwrap().entry).collect();
    let mut queue = Queue::new(Limits::default().max_entries(2), 2);
    for entry in entries {
        queue.restore(entry);
    }
    assert_eq!(ids(&queue, "t"), [1, 2, 3]);
    assert!(queue.admit("t", "e", prep(), true).unwrap_err().is_full());
    let mut dropping =
        Queue::new(Limits::default().max_entries(2).policy(FullPolicy::DropOldest), 3);
    for entry in queue.pending("t") {
        dropping.restore(entry);
    }
    let admitted = dropping.admit("t", "e", prep(), false).unwrap();
    assert_eq!(admitted.evicted, [1, 2], "evicts down to the bound");
    assert_eq!(admitted.entry.id.seq(), 4, "after the restored entries");
}

#[test]
fn drop_oldest_never_deletes_an_entry_still_being_written() {
    let limits = Limits::default().max_entries(1).policy(FullPolicy::DropOldest);
    let mut queue = Queue::new(limits, 4);
    // Another caller's entry is on its way to disk: its `enqueue` has not
    // returned, and must not return Ok for a deleted entry.
    let writing = queue.admit("t", "e", prep(), true).unwrap().entry.id;
    assert!(queue.admit("t", "e", prep(), true).unwrap_err().is_full());
    assert!(queue.contains(writing));
    // Once written it may make room like any other.
    queue.written(writing.seq());
    let admitted = queue.admit("t", "e", prep(), true).unwrap();
    assert_eq!(admitted.evicted, [writing.seq()]);
    assert!(!queue.contains(writing));
    assert!(queue.contains(admitted.entry.id));
}
