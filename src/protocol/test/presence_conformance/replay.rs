//! Replays the real Phoenix transcript `presence.jsonl` through two views.
//!
//! Two sockets join `presence:lobby`: A as alice ("online"), then B as bob
//! ("away"); bob updates his meta to "busy" and closes his socket. Each
//! connection's `in` rows go, in file order, to that connection's view, with
//! the join ref of its `phx_join`. After every row we check who is listed
//! (and with which status), and what the view reported.

use std::collections::HashMap;

use crate::protocol::presence::{Handled, PresenceEvent, PresenceView};
use crate::protocol::test::fixtures;
use crate::protocol::{Ref, Serializer, ServerSerializer, V2Serializer};

/// Who is listed: `(key, [status of each meta])`.
type Listed = Vec<(String, Vec<String>)>;

fn listed(view: &PresenceView) -> Listed {
    view.list(|key, p| {
        let statuses = p.metas.iter().map(|m| m["status"].as_str().unwrap_or("?").to_owned());
        (key.to_owned(), statuses.collect())
    })
}

fn users(expected: &[(&str, &str)]) -> Listed {
    expected.iter().map(|(k, s)| ((*k).to_owned(), vec![(*s).to_owned()])).collect()
}

/// What we expect after each `in` row: the outcome's kind and the listing.
fn expected(conn: &str, row: u32) -> (&'static str, Listed) {
    let alice = ("alice", "online");
    match (conn, row) {
        // A: join reply, then its own diff (held), then the state.
        ("A", 3) => ("ignored", users(&[])),
        ("A", 4) => ("queued", users(&[])),
        ("A", 5) => ("synced", users(&[alice])),
        // A sees bob join, update (busy), and leave when his socket closes.
        ("A", 11) => ("synced", users(&[alice, ("bob", "away")])),
        ("A", 16) => ("synced", users(&[alice, ("bob", "busy")])),
        ("A", 19) => ("synced", users(&[alice])),
        // B: the same join order, a state that has both users, the update.
        ("B", 8) => ("ignored", users(&[])),
        ("B", 9) => ("queued", users(&[])),
        ("B", 10) => ("synced", users(&[alice, ("bob", "away")])),
        ("B", 14) => ("ignored", users(&[alice, ("bob", "away")])),
        ("B", 15) => ("synced", users(&[alice, ("bob", "busy")])),
        _ => panic!("unexpected in row {row} on {conn}"),
    }
}

fn kind(handled: &Handled) -> &'static str {
    match handled {
        Handled::Ignored => "ignored",
        Handled::Stale => "stale",
        Handled::Queued => "queued",
        Handled::Synced(_) => "synced",
    }
}

#[test]
fn presence_jsonl_replay_lists_the_right_users_after_each_row() {
    let transcript = fixtures::load("presence.jsonl");
    let serializer = V2Serializer::default();
    let mut views: HashMap<String, PresenceView> = HashMap::new();
    let mut join_refs: HashMap<String, Ref> = HashMap::new();
    let mut outcomes: HashMap<(String, u32), Handled> = HashMap::new();
    let mut checked = 0;

    for row in &transcript.rows {
        let Some(conn) = row.conn.clone() else { continue };
        if row.is_frame("out") {
            let sent = serializer.decode_client(row.frame().unwrap()).unwrap();
            if sent.is_event("phx_join") {
                join_refs.insert(conn.clone(), sent.join_ref.clone().unwrap());
                views.insert(conn.clone(), PresenceView::new());
            }
            continue;
        }
        if !row.is_frame("in") {
            continue;
        }
        let msg = serializer.decode(row.frame().unwrap()).unwrap();
        let view = views.get_mut(&conn).expect("a view per joined connection");
        let handled = view.handle_message(join_refs.get(&conn), &msg).unwrap();
        let (want_kind, want_listed) = expected(&conn, row.i);
        assert_eq!(kind(&handled), want_kind, "{conn} row {}: {handled:?}", row.i);
        assert_eq!(listed(view), want_listed, "{conn} row {}", row.i);
        outcomes.insert((conn, row.i), handled);
        checked += 1;
    }
    assert_eq!(checked, 11, "every in row of both connections was checked");

    // A's state: alice joins, then the held diff re-joins her own meta.
    let Some(Handled::Synced(a_state)) = outcomes.get(&("A".to_owned(), 5)) else { panic!() };
    assert!(
        matches!(&a_state[0], PresenceEvent::Join { key, current: None, .. } if key == "alice")
    );
    assert!(
        matches!(&a_state[1], PresenceEvent::Join { key, current: Some(_), .. } if key == "alice")
    );
    assert_eq!(a_state.last(), Some(&PresenceEvent::Sync));

    // The update: one meta left, the new one carries phx_ref_prev.
    let bob = views["A"].state().get("bob").cloned();
    let Some(Handled::Synced(update)) = outcomes.get(&("A".to_owned(), 16)) else { panic!() };
    match update.as_slice() {
        [
            PresenceEvent::Join { key: jk, current: Some(before), joined },
            PresenceEvent::Leave { key: lk, current: after, left },
            PresenceEvent::Sync,
        ] => {
            assert_eq!((jk.as_str(), lk.as_str()), ("bob", "bob"));
            assert_eq!(before.metas[0]["status"], "away");
            assert_eq!(joined.metas[0]["phx_ref_prev"], before.metas[0]["phx_ref"]);
            assert_eq!(after.metas, joined.metas, "a single updated meta remains");
            assert_eq!(left.metas, before.metas);
        }
        other => panic!("unexpected update events {other:?}"),
    }
    assert!(bob.is_none(), "bob left A's view at row 19");

    // The leave after bob's socket closed.
    let Some(Handled::Synced(gone)) = outcomes.get(&("A".to_owned(), 19)) else { panic!() };
    assert!(
        matches!(&gone[0], PresenceEvent::Leave { key, current, .. } if key == "bob" && current.metas.is_empty())
    );
    let b_bob = &views["B"].state()["bob"];
    assert_eq!(b_bob.metas.len(), 1);
    assert_eq!(b_bob.metas[0]["status"], "busy");
}

/// Phoenix on a loaded server sends the state first (about 19 % of joins):
/// the same rows with A's diff and state swapped give the same views.
#[test]
fn presence_jsonl_replay_with_state_before_diff_gives_the_same_views() {
    let transcript = fixtures::load("presence.jsonl");
    let serializer = V2Serializer::default();
    let mut rows: Vec<_> = transcript.rows.iter().filter(|r| r.is_frame("in")).collect();
    for conn in ["A", "B"] {
        let diff = rows.iter().position(|r| {
            r.conn.as_deref() == Some(conn)
                && r.text.as_deref().is_some_and(|t| t.contains("presence_diff"))
        });
        let state = rows.iter().position(|r| {
            r.conn.as_deref() == Some(conn)
                && r.text.as_deref().is_some_and(|t| t.contains("presence_state"))
        });
        rows.swap(diff.unwrap(), state.unwrap());
    }
    let join_ref = Ref::new("1");
    let mut views: HashMap<&str, PresenceView> =
        [("A", PresenceView::new()), ("B", PresenceView::new())].into();
    for row in rows {
        let msg = serializer.decode(row.frame().unwrap()).unwrap();
        let conn = row.conn.as_deref().unwrap();
        let handled = views.get_mut(conn).unwrap().handle_message(Some(&join_ref), &msg).unwrap();
        assert_ne!(handled, Handled::Queued, "state first: nothing is held");
    }
    assert_eq!(listed(&views["A"]), users(&[("alice", "online")]));
    assert_eq!(listed(&views["B"]), users(&[("alice", "online"), ("bob", "busy")]));
}
