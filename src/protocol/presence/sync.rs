//! The pure sync functions: phoenix.js `Presence.syncState`, `syncDiff`, `list`.

use serde_json::Value;

use super::types::{Presence, PresenceDiff, PresenceState, has_ref, phx_ref};

/// One change found while syncing, borrowed from the state being built.
pub(super) enum Change<'a> {
    /// `joined` (the new metas only) joined `key`; `current` is the presence
    /// before the join, if the key was present.
    Join { key: &'a str, current: Option<&'a Presence>, joined: &'a Presence },
    /// `left` (the metas that left) left `key`; `current` is what remains
    /// (no metas when the key is gone).
    Leave { key: &'a str, current: &'a Presence, left: &'a Presence },
}

/// Applies a full state to `state` in place, reporting each change to `sink`.
pub(super) fn apply_state(
    state: &mut PresenceState,
    new_state: PresenceState,
    sink: &mut impl FnMut(Change<'_>),
) {
    let mut diff = PresenceDiff::default();
    for (key, presence) in state.iter() {
        if !new_state.contains_key(key) {
            diff.leaves.insert(key.clone(), presence.clone());
        }
    }
    for (key, new_presence) in new_state {
        let Some(current) = state.get(&key) else {
            diff.joins.insert(key, new_presence);
            continue;
        };
        let left = metas_missing_from(&current.metas, &new_presence.metas);
        if !left.is_empty() {
            diff.leaves.insert(key.clone(), Presence { metas: left, extra: current.extra.clone() });
        }
        let joined = metas_missing_from(&new_presence.metas, &current.metas);
        if !joined.is_empty() {
            diff.joins.insert(key, Presence { metas: joined, extra: new_presence.extra });
        }
    }
    apply_diff(state, diff, sink);
}

/// Applies a diff to `state` in place, reporting each change to `sink`:
/// every join (in key order), then every leave (in key order).
pub(super) fn apply_diff(
    state: &mut PresenceState,
    diff: PresenceDiff,
    sink: &mut impl FnMut(Change<'_>),
) {
    for (key, joined) in diff.joins {
        let current = state.remove(&key);
        sink(Change::Join { key: &key, current: current.as_ref(), joined: &joined });
        let mut merged = joined;
        if let Some(current) = current {
            // The old metas stay first, except those the join replaces.
            let kept = metas_missing_from(&current.metas, &merged.metas);
            merged.metas.splice(0..0, kept);
        }
        state.insert(key, merged);
    }
    for (key, left) in diff.leaves {
        // A leave for a key we do not have is ignored, as in phoenix.js.
        let Some(current) = state.get_mut(&key) else { continue };
        current.metas.retain(|meta| !has_ref(&left.metas, phx_ref(meta)));
        sink(Change::Leave { key: &key, current, left: &left });
        if current.metas.is_empty() {
            state.remove(&key);
        }
    }
}

/// The metas of `metas` whose `phx_ref` is not in `other`, in order.
fn metas_missing_from(metas: &[Value], other: &[Value]) -> Vec<Value> {
    metas.iter().filter(|meta| !has_ref(other, phx_ref(meta))).cloned().collect()
}

/// Syncs a full server state into a local one (phoenix.js
/// `Presence.syncState`): the result is `new_state`, with metas that were
/// already known kept in their old order; `state` itself is not changed.
///
/// For each key that is new, `on_join(key, None, presence)`. For a known key
/// that gained metas, `on_join(key, Some(old_presence), new_metas_only)`. For a
/// key that lost metas, `on_leave(key, remaining, left_metas)`, where
/// `remaining` has no metas if the key vanished. Joins come first, then
/// leaves, each in key order.
///
/// # Examples
///
/// ```
/// use rig::protocol::presence::{sync_state, PresenceState};
///
/// let old: PresenceState = serde_json::from_str(r#"{"u4":{"metas":[{"phx_ref":"4"}]}}"#)?;
/// let new: PresenceState = serde_json::from_str(r#"{"u1":{"metas":[{"phx_ref":"1"}]}}"#)?;
/// let mut joined = Vec::new();
/// let mut left = Vec::new();
/// let state = sync_state(
///     &old,
///     new.clone(),
///     |key, current, _| joined.push((key.to_owned(), current.is_some())),
///     |key, current, _| left.push((key.to_owned(), current.metas.len())),
/// );
/// assert_eq!(state, new);
/// assert_eq!(joined, [("u1".to_owned(), false)]);
/// assert_eq!(left, [("u4".to_owned(), 0)]);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn sync_state<J, L>(
    state: &PresenceState,
    new_state: PresenceState,
    mut on_join: J,
    mut on_leave: L,
) -> PresenceState
where
    J: FnMut(&str, Option<&Presence>, &Presence),
    L: FnMut(&str, &Presence, &Presence),
{
    let mut state = state.clone();
    apply_state(&mut state, new_state, &mut |change| dispatch(change, &mut on_join, &mut on_leave));
    state
}

/// Applies a diff to a state and returns it (phoenix.js `Presence.syncDiff`).
///
/// Joins first: a joined key gets the diff's presence, with the old metas
/// that the join does not replace (by `phx_ref`) kept in front, then
/// `on_join(key, old_presence, joined)`. Then leaves: the left metas are
/// removed by `phx_ref`, then `on_leave(key, remaining, left)`, and a key
/// with no metas left is deleted. A leave for an unknown key is ignored.
///
/// A meta update (Phoenix sends the key in both `joins`, with `phx_ref_prev`,
/// and `leaves`) thus ends as the single new meta.
///
/// # Examples
///
/// ```
/// use rig::protocol::presence::{sync_diff, PresenceDiff, PresenceState};
///
/// let state: PresenceState = serde_json::from_str(r#"{"u1":{"metas":[{"phx_ref":"1"}]}}"#)?;
/// let diff: PresenceDiff = serde_json::from_str(
///     r#"{"joins":{"u1":{"metas":[{"phx_ref":"2"}]}},"leaves":{"u1":{"metas":[{"phx_ref":"1"}]}}}"#,
/// )?;
/// let state = sync_diff(state, diff, |_, _, _| {}, |_, _, _| {});
/// assert_eq!(state["u1"].phx_refs().collect::<Vec<_>>(), ["2"]);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn sync_diff<J, L>(
    mut state: PresenceState,
    diff: PresenceDiff,
    mut on_join: J,
    mut on_leave: L,
) -> PresenceState
where
    J: FnMut(&str, Option<&Presence>, &Presence),
    L: FnMut(&str, &Presence, &Presence),
{
    apply_diff(&mut state, diff, &mut |change| dispatch(change, &mut on_join, &mut on_leave));
    state
}

fn dispatch<J, L>(change: Change<'_>, on_join: &mut J, on_leave: &mut L)
where
    J: FnMut(&str, Option<&Presence>, &Presence),
    L: FnMut(&str, &Presence, &Presence),
{
    match change {
        Change::Join { key, current, joined } => on_join(key, current, joined),
        Change::Leave { key, current, left } => on_leave(key, current, left),
    }
}

/// Maps every presence of `state` through `chooser(key, presence)`, in key
/// order (phoenix.js `Presence.list`). `|_, p| p` lists the presences
/// themselves.
///
/// # Examples
///
/// ```
/// use rig::protocol::presence::{list, PresenceState};
///
/// let state: PresenceState = serde_json::from_str(
///     r#"{"u2":{"metas":[{"phx_ref":"2"}]},"u1":{"metas":[{"phx_ref":"1a"},{"phx_ref":"1b"}]}}"#,
/// )?;
/// assert_eq!(list(&state, |key, _| key), ["u1", "u2"]);
/// let first_refs = list(&state, |_, p| p.phx_refs().next());
/// assert_eq!(first_refs, [Some("1a"), Some("2")]);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn list<'a, T>(
    state: &'a PresenceState,
    mut chooser: impl FnMut(&'a str, &'a Presence) -> T,
) -> Vec<T> {
    state.iter().map(|(key, presence)| chooser(key, presence)).collect()
}
