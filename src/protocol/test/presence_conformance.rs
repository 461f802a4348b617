//! Presence conformance: CONFORMANCE.md section 5 (R01–R14), ported from the
//! scenarios of phoenix.js `assets/test/presence_test.js` (behaviour only, no
//! code), a replay of the real Phoenix transcript `presence.jsonl`, and a
//! property test of [`PresenceView`] against a model of the server.

mod model;
mod replay;

use serde_json::{Value, json};

use crate::protocol::presence::{
    Handled, Presence, PresenceDiff, PresenceEvent, PresenceState, PresenceView, list, sync_diff,
    sync_state,
};
use crate::protocol::{Message, Payload, Ref};

fn state(value: Value) -> PresenceState {
    serde_json::from_value(value).unwrap()
}

fn presence(value: Value) -> Presence {
    serde_json::from_value(value).unwrap()
}

fn diff(joins: Value, leaves: Value) -> PresenceDiff {
    PresenceDiff { joins: state(joins), leaves: state(leaves) }
}

/// The phoenix.js test fixtures.
fn fixture_state() -> PresenceState {
    state(json!({
        "u1": {"metas": [{"id": 1, "phx_ref": "1"}]},
        "u2": {"metas": [{"id": 2, "phx_ref": "2"}]},
        "u3": {"metas": [{"id": 3, "phx_ref": "3"}]},
    }))
}

type Joined = Vec<(String, Option<Presence>, Presence)>;
type Left = Vec<(String, Presence, Presence)>;

/// `sync_state` with callbacks that record every call.
fn sync_state_recorded(
    current: &PresenceState,
    new_state: PresenceState,
) -> (PresenceState, Joined, Left) {
    let mut joined = Vec::new();
    let mut left = Vec::new();
    let result = sync_state(
        current,
        new_state,
        |key, cur, new| joined.push((key.to_owned(), cur.cloned(), new.clone())),
        |key, cur, gone| left.push((key.to_owned(), cur.clone(), gone.clone())),
    );
    (result, joined, left)
}

fn state_msg(join_ref: &str, payload: &Value) -> Message {
    Message::new(
        Some(Ref::new(join_ref)),
        None,
        "room:1",
        "presence_state",
        Payload::json(payload.to_string()),
    )
}

fn diff_msg(joins: &Value, leaves: &Value) -> Message {
    let payload = json!({"joins": joins, "leaves": leaves});
    Message::new(None, None, "room:1", "presence_diff", Payload::json(payload.to_string()))
}

/// phoenix.js `listByFirst`: the first meta of each presence.
fn first_metas(view: &PresenceView) -> Vec<Value> {
    view.list(|_, p| p.metas.first().cloned().unwrap_or(Value::Null))
}

fn synced(handled: Handled) -> Vec<PresenceEvent> {
    match handled {
        Handled::Synced(events) => events,
        other => panic!("expected Synced, got {other:?}"),
    }
}

#[test]
fn r01_sync_state_does_not_mutate_its_input_and_returns_the_new_state() {
    let new_state = state(json!({"u1": {"metas": [{"id": 1, "phx_ref": "1"}]}}));
    let empty = PresenceState::new();
    let result = sync_state(&empty, new_state.clone(), |_, _, _| {}, |_, _, _| {});
    assert!(empty.is_empty());
    assert_eq!(result, new_state);

    let before = state(json!({"u4": {"metas": [{"id": 4, "phx_ref": "4"}]}}));
    let copy = before.clone();
    let result = sync_state(&before, fixture_state(), |_, _, _| {}, |_, _, _| {});
    assert_eq!(before, copy, "the current state is untouched");
    assert_eq!(result, fixture_state());
}

#[test]
fn r02_sync_state_reports_new_keys_as_joins_and_vanished_keys_as_leaves() {
    let current = state(json!({"u4": {"metas": [{"id": 4, "phx_ref": "4"}]}}));
    let (result, joined, left) = sync_state_recorded(&current, fixture_state());
    assert_eq!(result, fixture_state());
    let expected_joins: Joined = fixture_state().into_iter().map(|(k, p)| (k, None, p)).collect();
    assert_eq!(joined, expected_joins);
    assert_eq!(
        left,
        vec![(
            "u4".to_owned(),
            presence(json!({"metas": []})),
            presence(json!({"metas": [{"id": 4, "phx_ref": "4"}]})),
        )]
    );
}

#[test]
fn r03_sync_state_joins_only_new_metas_of_an_existing_key() {
    let new_state =
        state(json!({"u3": {"metas": [{"id": 3, "phx_ref": "3"}, {"id": 3, "phx_ref": "3.new"}]}}));
    let current = state(json!({"u3": {"metas": [{"id": 3, "phx_ref": "3"}]}}));
    let (result, joined, left) = sync_state_recorded(&current, new_state.clone());
    assert_eq!(result, new_state);
    assert_eq!(
        joined,
        vec![(
            "u3".to_owned(),
            Some(presence(json!({"metas": [{"id": 3, "phx_ref": "3"}]}))),
            presence(json!({"metas": [{"id": 3, "phx_ref": "3.new"}]})),
        )]
    );
    assert!(left.is_empty());
}

#[test]
fn r04_sync_diff_on_an_empty_state_returns_the_joins() {
    let joins = json!({"u1": {"metas": [{"id": 1, "phx_ref": "1"}]}});
    let result =
        sync_diff(PresenceState::new(), diff(joins.clone(), json!({})), |_, _, _| {}, |_, _, _| {});
    assert_eq!(result, state(joins));
}

#[test]
fn r05_diff_removing_the_last_meta_deletes_the_key_and_a_join_appends_its_meta() {
    let joins = json!({"u1": {"metas": [{"id": 1, "phx_ref": "1.2"}]}});
    let leaves = json!({"u2": {"metas": [{"id": 2, "phx_ref": "2"}]}});
    let result = sync_diff(fixture_state(), diff(joins, leaves), |_, _, _| {}, |_, _, _| {});
    assert_eq!(
        result,
        state(json!({
            "u1": {"metas": [{"id": 1, "phx_ref": "1"}, {"id": 1, "phx_ref": "1.2"}]},
            "u3": {"metas": [{"id": 3, "phx_ref": "3"}]},
        }))
    );
}

#[test]
fn r06_diff_removing_one_of_several_metas_keeps_the_key() {
    let current =
        state(json!({"u1": {"metas": [{"id": 1, "phx_ref": "1"}, {"id": 1, "phx_ref": "1.2"}]}}));
    let leaves = json!({"u1": {"metas": [{"id": 1, "phx_ref": "1"}]}});
    let result = sync_diff(current, diff(json!({}), leaves), |_, _, _| {}, |_, _, _| {});
    assert_eq!(result, state(json!({"u1": {"metas": [{"id": 1, "phx_ref": "1.2"}]}})));
}

/// R07 adapted: JavaScript objects inherit `__proto__`, `constructor` and
/// `hasOwnProperty`, so phoenix.js must guard those keys. A Rust `BTreeMap`
/// has no inherited members; what we check is that such keys (and other
/// awkward ones: `metas`, `joins`, the empty string), read from wire JSON,
/// go through `sync_state`, `sync_diff`, `list` and the view as plain keys,
/// and that nothing outside the state being synced changes.
#[test]
fn r07_object_internal_key_names_are_plain_keys() {
    let keys = ["__proto__", "constructor", "hasOwnProperty", "toString", "metas", "joins", ""];
    let mut wire = serde_json::Map::new();
    for (i, key) in keys.iter().enumerate() {
        wire.insert((*key).to_owned(), json!({"metas": [{"phx_ref": format!("r{i}")}]}));
    }
    let wire = Value::Object(wire);
    let new_state: PresenceState = serde_json::from_str(&wire.to_string()).unwrap();
    assert_eq!(new_state.len(), keys.len());

    let (synced, joined, left) = sync_state_recorded(&PresenceState::new(), new_state.clone());
    assert_eq!(synced, new_state);
    assert_eq!(joined.len(), keys.len());
    assert!(left.is_empty());
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    assert_eq!(list(&synced, |key, _| key), sorted);

    let leaves = json!({"__proto__": {"metas": [{"phx_ref": "r0"}]}, "constructor": {"metas": [{"phx_ref": "r1"}]}});
    let after = sync_diff(synced, diff(json!({}), leaves.clone()), |_, _, _| {}, |_, _, _| {});
    assert!(!after.contains_key("__proto__") && !after.contains_key("constructor"));
    assert_eq!(after.len(), keys.len() - 2);

    // Through the view, from wire text; a second view sees none of it.
    let mut view = PresenceView::new();
    let untouched = PresenceView::new();
    synced_or_panic(&mut view, &state_msg("1", &wire));
    synced_or_panic(&mut view, &diff_msg(&json!({}), &leaves));
    assert_eq!(view.state(), &after);
    assert!(untouched.state().is_empty());
    assert!(PresenceState::new().is_empty());
}

fn synced_or_panic(view: &mut PresenceView, msg: &Message) -> Vec<PresenceEvent> {
    synced(view.handle_message(Some(&Ref::new("1")), msg).unwrap())
}

/// R08: "key order" here is sorted key order (see the module docs: the map
/// is sorted, where phoenix.js lists in insertion order).
#[test]
fn r08_list_returns_every_presence_in_key_order() {
    assert_eq!(
        list(&fixture_state(), |_, p| p.clone()),
        vec![
            presence(json!({"metas": [{"id": 1, "phx_ref": "1"}]})),
            presence(json!({"metas": [{"id": 2, "phx_ref": "2"}]})),
            presence(json!({"metas": [{"id": 3, "phx_ref": "3"}]})),
        ]
    );
    let scrambled: PresenceState =
        serde_json::from_str(r#"{"u3":{"metas":[]},"u1":{"metas":[]},"u2":{"metas":[]}}"#).unwrap();
    assert_eq!(list(&scrambled, |key, _| key), ["u1", "u2", "u3"]);
}

#[test]
fn r09_list_maps_each_presence_through_the_chooser() {
    let current = state(json!({"u1": {"metas": [
        {"id": 1, "phx_ref": "1.first"},
        {"id": 1, "phx_ref": "1.second"},
    ]}}));
    let firsts = list(&current, |_, p| p.metas.first().cloned());
    assert_eq!(firsts, vec![Some(json!({"id": 1, "phx_ref": "1.first"}))]);
    let keyed = list(&current, |key, p| format!("{key}:{}", p.metas.len()));
    assert_eq!(keyed, ["u1:2"]);
}

#[test]
fn r10_view_applies_state_then_diff_and_list_reflects_each() {
    let mut view = PresenceView::new();
    let user1 = json!({"metas": [{"id": 1, "phx_ref": "1"}]});
    let user2 = json!({"metas": [{"id": 2, "phx_ref": "2"}]});
    synced_or_panic(&mut view, &state_msg("1", &json!({"u1": user1, "u2": user2})));
    assert_eq!(
        first_metas(&view),
        [json!({"id": 1, "phx_ref": "1"}), json!({"id": 2, "phx_ref": "2"})]
    );
    synced_or_panic(&mut view, &diff_msg(&json!({}), &json!({"u1": user1})));
    assert_eq!(first_metas(&view), [json!({"id": 2, "phx_ref": "2"})]);
}

fn join(key: &str, current: Option<Value>, joined: Value) -> PresenceEvent {
    PresenceEvent::Join {
        key: key.to_owned(),
        current: current.map(presence),
        joined: presence(joined),
    }
}

fn leave(key: &str, current: Value, left: Value) -> PresenceEvent {
    PresenceEvent::Leave { key: key.to_owned(), current: presence(current), left: presence(left) }
}

#[test]
fn r11_diff_before_state_is_queued_then_applied() {
    let jr = Ref::new("1");
    let mut view = PresenceView::new();
    let user1 = json!({"metas": [{"id": 1, "phx_ref": "1"}]});
    let user2 = json!({"metas": [{"id": 2, "phx_ref": "2"}]});

    let queued = view.handle_message(Some(&jr), &diff_msg(&json!({}), &json!({"u2": user2})));
    assert_eq!(queued.unwrap(), Handled::Queued);
    assert!(first_metas(&view).is_empty());
    assert_eq!(view.pending_diffs(), 1);

    let events = synced(
        view.handle_message(Some(&jr), &state_msg("1", &json!({"u1": user1, "u2": user2})))
            .unwrap(),
    );
    assert_eq!(
        events,
        vec![
            join("u1", None, user1),
            join("u2", None, user2.clone()),
            leave("u2", json!({"metas": []}), user2),
            PresenceEvent::Sync,
        ]
    );
    assert_eq!(first_metas(&view), [json!({"id": 1, "phx_ref": "1"})]);
    assert_eq!(view.pending_diffs(), 0);
    assert!(!view.is_pending(Some(&jr)));
}

#[test]
fn r12_rejoin_makes_the_view_pending_until_the_new_state() {
    let (jr1, jr2) = (Ref::new("1"), Ref::new("2"));
    let mut view = PresenceView::new();
    let user1 = json!({"metas": [{"id": 1, "phx_ref": "1"}]});
    let user3 = json!({"metas": [{"id": 3, "phx_ref": "3"}]});
    let user4 = json!({"metas": [{"id": 4, "phx_ref": "4"}]});
    synced(view.handle_message(Some(&jr1), &state_msg("1", &json!({"u1": user1}))).unwrap());
    synced(view.handle_message(Some(&jr1), &diff_msg(&json!({"u4": user4}), &json!({}))).unwrap());

    // The channel rejoined with join ref "2" (phoenix.js: a reconnect).
    assert!(view.is_pending(Some(&jr2)));
    let queued = view.handle_message(Some(&jr2), &diff_msg(&json!({}), &json!({"u1": user1})));
    assert_eq!(queued.unwrap(), Handled::Queued);
    assert_eq!(
        first_metas(&view),
        [json!({"id": 1, "phx_ref": "1"}), json!({"id": 4, "phx_ref": "4"})]
    );

    // A state still addressed to the old join is outdated.
    let stale = view.handle_message(Some(&jr2), &state_msg("1", &json!({})));
    assert_eq!(stale.unwrap(), Handled::Stale);
    assert_eq!(view.pending_diffs(), 1);

    let events = synced(
        view.handle_message(Some(&jr2), &state_msg("2", &json!({"u1": user1, "u3": user3})))
            .unwrap(),
    );
    assert_eq!(first_metas(&view), [json!({"id": 3, "phx_ref": "3"})]);
    assert!(events.contains(&leave("u4", json!({"metas": []}), user4)), "replaced: u4 left");
    assert!(events.contains(&join("u3", None, user3)));
    assert!(!view.is_pending(Some(&jr2)));
}

#[test]
fn r13_custom_event_names_are_honoured() {
    let mut view = PresenceView::with_events("the_state", "the_diff");
    let user1 = json!({"metas": [{"id": 1, "phx_ref": "1"}]});
    let jr = Ref::new("1");
    let custom = |event: &str, payload: Value| {
        Message::new(None, None, "room:1", event, Payload::json(payload.to_string()))
    };
    // The default names mean nothing to this view.
    let ignored = view.handle_message(Some(&jr), &state_msg("1", &json!({"u1": user1})));
    assert_eq!(ignored.unwrap(), Handled::Ignored);
    synced(view.handle_message(Some(&jr), &custom("the_state", json!({"user1": user1}))).unwrap());
    assert_eq!(first_metas(&view), [json!({"id": 1, "phx_ref": "1"})]);
    let leave_all = json!({"joins": {}, "leaves": {"user1": user1}});
    synced(view.handle_message(Some(&jr), &custom("the_diff", leave_all)).unwrap());
    assert!(first_metas(&view).is_empty());
}

#[test]
fn r14_meta_update_leaves_a_single_updated_meta() {
    let jr = Ref::new("1");
    let mut view = PresenceView::new();
    let user1 = json!({"metas": [{"id": 1, "phx_ref": "1"}]});
    let user2 = json!({"metas": [{"id": 2, "name": "chris", "phx_ref": "2"}]});
    synced(
        view.handle_message(Some(&jr), &state_msg("1", &json!({"u1": user1, "u2": user2})))
            .unwrap(),
    );

    let updated =
        json!({"metas": [{"id": 2, "name": "chris.2", "phx_ref": "2.2", "phx_ref_prev": "2"}]});
    let events = synced(
        view.handle_message(Some(&jr), &diff_msg(&json!({"u2": updated}), &json!({"u2": user2})))
            .unwrap(),
    );
    assert_eq!(
        view.list(|_, p| p.metas.clone()),
        vec![
            vec![json!({"id": 1, "phx_ref": "1"})],
            vec![json!({"id": 2, "name": "chris.2", "phx_ref": "2.2", "phx_ref_prev": "2"})],
        ]
    );
    assert_eq!(
        events,
        vec![
            join("u2", Some(user2.clone()), updated.clone()),
            leave("u2", updated, user2),
            PresenceEvent::Sync,
        ]
    );
}
