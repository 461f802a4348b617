//! Presence: the `presence_state` / `presence_diff` events as a synced view.
//!
//! Phoenix.Presence tracks, per topic, who is there: a map from a key
//! (usually a user id) to a [`Presence`], which lists one meta per tracked
//! process. A client joining the topic receives the whole map once
//! (`presence_state`) and then changes (`presence_diff`, `{"joins", "leaves"}`).
//!
//! In scope: the data model, the pure sync functions of phoenix.js's
//! `Presence` ([`sync_state`], [`sync_diff`], [`list`]) and a stateful
//! [`PresenceView`] fed with channel messages. Out of scope: I/O, threads and
//! user callbacks; the view returns [`PresenceEvent`]s and the engine's
//! dispatcher runs the handlers.
//!
//! Behaviour follows phoenix.js (`assets/js/phoenix/presence.js`, checked by
//! the R01–R14 conformance tests), with these deliberate differences:
//!
//! - Keys are kept in a sorted map, so listing is in key order rather than
//!   JavaScript insertion order, and no key (`__proto__`, `constructor`, ...)
//!   is special.
//! - The sync functions never mutate their input (phoenix.js's `syncState`
//!   rewrites the metas of the `newState` it is given).
//! - A payload that is not a presence map is a [`DecodeError`](crate::protocol::DecodeError)
//!   and changes nothing (phoenix.js throws halfway through).
//! - The view drops a state or diff whose `join_ref` is not the channel's
//!   (phoenix.js's channel does that before its presence sees the message),
//!   bounds the diffs it holds while pending, and applies after a state only
//!   the diffs held for that same join (phoenix.js also applies diffs held
//!   from an earlier join, which can bring back a presence that left while
//!   the channel was rejoining).
//!
//! # Examples
//!
//! ```
//! use rig::protocol::presence::{sync_diff, sync_state, PresenceDiff, PresenceState};
//!
//! let state: PresenceState = serde_json::from_str(r#"{"alice":{"metas":[{"phx_ref":"A1"}]}}"#)?;
//! let state = sync_state(&PresenceState::new(), state, |_, _, _| {}, |_, _, _| {});
//! let diff: PresenceDiff = serde_json::from_str(
//!     r#"{"joins":{"bob":{"metas":[{"phx_ref":"B1"}]}},"leaves":{"alice":{"metas":[{"phx_ref":"A1"}]}}}"#,
//! )?;
//! let state = sync_diff(state, diff, |_, _, _| {}, |_, _, _| {});
//! assert_eq!(state.keys().collect::<Vec<_>>(), ["bob"]);
//! # Ok::<(), serde_json::Error>(())
//! ```

mod sync;
#[cfg(test)]
mod tests;
mod types;
mod view;

pub use sync::{list, sync_diff, sync_state};
pub use types::{Presence, PresenceDiff, PresenceState};
pub use view::{DEFAULT_PENDING_LIMIT, Handled, PresenceEvent, PresenceView};
