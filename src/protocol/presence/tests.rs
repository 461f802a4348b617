//! Unit tests of the view's bookkeeping (the phoenix.js behaviours are in
//! `protocol/test/presence_conformance.rs`).

use serde_json::json;

use super::{Handled, PresenceView};
use crate::protocol::{DecodeError, Message, Payload, Ref};

fn diff_joining(key: &str, phx_ref: &str) -> Message {
    let payload = json!({"joins": {key: {"metas": [{"phx_ref": phx_ref}]}}, "leaves": {}});
    Message::new(None, None, "t", "presence_diff", Payload::json(payload.to_string()))
}

fn state(payload: &str) -> Message {
    Message::new(None, None, "t", "presence_state", Payload::json(payload))
}

#[test]
fn a_payload_that_does_not_decode_changes_nothing() {
    let jr = Ref::new("1");
    let mut view = PresenceView::new();
    view.handle_message(Some(&jr), &state(r#"{"a":{"metas":[{"phx_ref":"1"}]}}"#)).unwrap();
    let before = view.state().clone();
    for bad in [
        state(r#"{"b":{"metas":[]},"c":{"no_metas":1}}"#),
        state("not json"),
        Message::new(None, None, "t", "presence_diff", Payload::json(r#"{"joins":[]}"#)),
        Message::new(None, None, "t", "presence_state", Payload::binary(vec![1u8, 2])),
    ] {
        let err = view.handle_message(Some(&jr), &bad).unwrap_err();
        assert!(matches!(err, DecodeError::Shape { .. } | DecodeError::Json { .. }), "{err:?}");
        assert_eq!(view.state(), &before);
        assert!(!view.is_pending(Some(&jr)));
    }
}

#[test]
fn held_diffs_are_bounded_and_the_oldest_are_dropped() {
    let jr = Ref::new("1");
    let mut view = PresenceView::new().with_pending_limit(2);
    for (i, key) in ["a", "b", "c"].iter().enumerate() {
        let handled = view.handle_message(Some(&jr), &diff_joining(key, &i.to_string()));
        assert_eq!(handled.unwrap(), Handled::Queued);
    }
    assert_eq!((view.pending_diffs(), view.dropped_diffs()), (2, 1));
    view.handle_message(Some(&jr), &state("{}")).unwrap();
    assert_eq!(view.list(|key, _| key), ["b", "c"]);
    assert_eq!(view.pending_diffs(), 0);
}

#[test]
fn diffs_held_for_an_earlier_join_are_discarded_when_a_new_join_holds_one() {
    let mut view = PresenceView::new();
    view.handle_message(Some(&Ref::new("1")), &diff_joining("a", "1")).unwrap();
    view.handle_message(Some(&Ref::new("1")), &diff_joining("b", "2")).unwrap();
    view.handle_message(Some(&Ref::new("2")), &diff_joining("c", "3")).unwrap();
    assert_eq!(view.pending_diffs(), 1);
    assert_eq!(view.dropped_diffs(), 0, "discarding is not an overflow");
}

#[test]
fn without_a_channel_the_view_syncs_on_the_first_state() {
    let mut view = PresenceView::new();
    assert!(view.is_pending(None));
    assert_eq!(view.handle_message(None, &diff_joining("a", "1")).unwrap(), Handled::Queued);
    assert!(view.handle_message(None, &state("{}")).unwrap().changed());
    assert!(!view.is_pending(None));
    assert!(view.handle_message(None, &diff_joining("b", "2")).unwrap().changed());
    assert_eq!(view.list(|key, _| key), ["a", "b"]);
}

#[test]
fn stale_needs_both_join_refs_to_differ() {
    let mut view = PresenceView::new();
    let old = Message::new(Some(Ref::new("1")), None, "t", "presence_state", Payload::json("{}"));
    assert_eq!(view.handle_message(Some(&Ref::new("2")), &old).unwrap(), Handled::Stale);
    assert!(view.is_pending(Some(&Ref::new("2"))));
    // A V1 server sends no join_ref: the message is taken as current.
    assert!(view.handle_message(Some(&Ref::new("2")), &state("{}")).unwrap().changed());
    // Without a channel join ref there is nothing to compare with.
    assert!(view.handle_message(None, &old).unwrap().changed());
}
