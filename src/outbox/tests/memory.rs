use super::contract;
use crate::outbox::{FullPolicy, Limits, MemoryOutbox, Outbox};
use crate::protocol::Payload;

#[test]
fn memory_order_per_topic() {
    contract::order_per_topic(&MemoryOutbox::new(Limits::default()));
}

#[test]
fn memory_ack_deletes_and_states() {
    contract::ack_deletes_and_states(&MemoryOutbox::new(Limits::default()));
}

#[test]
fn memory_reject_when_full() {
    contract::reject_when_full(&MemoryOutbox::new(contract::small(FullPolicy::Reject)));
}

#[test]
fn memory_drop_oldest_when_full() {
    contract::drop_oldest_when_full(&MemoryOutbox::new(contract::small(FullPolicy::DropOldest)));
}

#[test]
fn memory_payload_kinds() {
    contract::payload_kinds(&MemoryOutbox::new(Limits::default()));
}

#[test]
fn memory_zero_entries_refuses_everything() {
    let outbox = MemoryOutbox::new(Limits::default().max_entries(0).policy(FullPolicy::DropOldest));
    assert!(outbox.enqueue("t", "e", Payload::json("{}")).unwrap_err().is_full());
}
