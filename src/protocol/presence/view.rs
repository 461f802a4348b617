//! [`PresenceView`]: a channel's presence, kept in sync from its messages.

use std::collections::VecDeque;

use super::sync::{Change, apply_diff, apply_state, list};
use super::types::{Presence, PresenceDiff, PresenceState, decode_diff, decode_state};
use crate::protocol::{DecodeError, Message, Ref, events};

/// How many diffs a view holds while it waits for a state, by default.
pub const DEFAULT_PENDING_LIMIT: usize = 4096;

/// A change reported by [`PresenceView::handle_message`] (phoenix.js
/// `onJoin`, `onLeave` and `onSync`).
///
/// # Examples
///
/// ```
/// use rig::protocol::presence::PresenceEvent;
///
/// let sync = PresenceEvent::Sync;
/// assert!(matches!(sync, PresenceEvent::Sync));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum PresenceEvent {
    /// Metas joined `key`.
    Join {
        /// The presence key (usually a user id).
        key: String,
        /// The presence before the join; `None` if the key is new.
        current: Option<Presence>,
        /// The metas that joined (only those).
        joined: Presence,
    },
    /// Metas left `key`.
    Leave {
        /// The presence key.
        key: String,
        /// What remains of the presence; no metas if the key is gone.
        current: Presence,
        /// The metas that left.
        left: Presence,
    },
    /// The view is in sync with the server: the last event of each change.
    Sync,
}

/// What [`PresenceView::handle_message`] did with a message.
///
/// # Examples
///
/// ```
/// use rig::protocol::presence::Handled;
///
/// assert!(!Handled::Ignored.changed());
/// assert!(Handled::Synced(Vec::new()).changed());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Handled {
    /// Not this view's state or diff event: nothing changed.
    Ignored,
    /// A state or diff addressed to an earlier join of the channel (its
    /// `join_ref` is not the channel's): dropped, as phoenix.js drops
    /// outdated messages.
    Stale,
    /// A diff that arrived before the state of the current join: held, and
    /// applied right after that state.
    Queued,
    /// The view changed: every join, then every leave (each in key order;
    /// a state is followed by the held diffs' changes), then one
    /// [`PresenceEvent::Sync`].
    Synced(Vec<PresenceEvent>),
}

impl Handled {
    /// Whether the view's state changed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rig::protocol::presence::Handled::Queued.changed());
    /// ```
    #[must_use]
    pub fn changed(&self) -> bool {
        matches!(self, Self::Synced(_))
    }
}

/// A channel's presence list, kept in sync from `presence_state` and
/// `presence_diff` messages (phoenix.js `new Presence(channel)`).
///
/// Feed it every message of its channel with
/// [`handle_message`](Self::handle_message), along with the channel's current
/// join ref. It changes only on its two events (by default `presence_state`
/// and `presence_diff`; see [`with_events`](Self::with_events)).
///
/// **Pending diffs.** Until the state of the channel's current join has
/// arrived, diffs are held, then applied right after that state. Real Phoenix
/// usually sends the joiner's own diff *before* the state, so this is the
/// normal path, not a corner case. After a rejoin (a new join ref) the view
/// is pending again: diffs wait for the new state, which replaces the old
/// one (keys missing from it are reported as leaves); diffs still held from
/// the earlier join are discarded, since the new state covers them. At most
/// [`DEFAULT_PENDING_LIMIT`] diffs are held (see
/// [`with_pending_limit`](Self::with_pending_limit)); beyond that the oldest
/// is dropped and counted in [`dropped_diffs`](Self::dropped_diffs): the
/// oldest are the likeliest to be in the coming state already.
///
/// **Reporting.** Changes come back as a list of [`PresenceEvent`]s in
/// [`Handled::Synced`], computed after the view is updated; the view runs no
/// user code, so no handler can leave it half-updated (a dispatcher calls the
/// handlers with these events). A payload that does not decode is an error
/// and leaves the view exactly as it was.
///
/// # Examples
///
/// ```
/// use rig::protocol::presence::{Handled, PresenceView};
/// use rig::protocol::{Message, Payload, Ref};
///
/// let join_ref = Ref::new("1");
/// let mut view = PresenceView::new();
///
/// // Phoenix's usual order: the joiner's own diff, then the state.
/// let diff = Message::new(None, None, "room:1", "presence_diff", Payload::json(
///     r#"{"joins":{"alice":{"metas":[{"phx_ref":"A1"}]}},"leaves":{}}"#));
/// assert_eq!(view.handle_message(Some(&join_ref), &diff)?, Handled::Queued);
///
/// let state = Message::new(Some(join_ref.clone()), None, "room:1", "presence_state",
///     Payload::json(r#"{"alice":{"metas":[{"phx_ref":"A1"}]}}"#));
/// assert!(view.handle_message(Some(&join_ref), &state)?.changed());
/// assert_eq!(view.list(|key, _| key), ["alice"]);
/// # Ok::<(), rig::protocol::DecodeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct PresenceView {
    state: PresenceState,
    /// Diffs held until a state arrives, each with the channel join ref it
    /// arrived under.
    pending: VecDeque<(Option<Ref>, PresenceDiff)>,
    /// The channel join ref whose state we applied, once one arrived.
    synced_for: Option<Option<Ref>>,
    state_event: String,
    diff_event: String,
    pending_limit: usize,
    dropped_diffs: u64,
}

impl Default for PresenceView {
    fn default() -> Self {
        Self::new()
    }
}

impl PresenceView {
    /// An empty, pending view for the events `presence_state` and
    /// `presence_diff`.
    ///
    /// # Examples
    ///
    /// ```
    /// let view = rig::protocol::presence::PresenceView::new();
    /// assert!(view.state().is_empty());
    /// assert!(view.is_pending(None));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_events(events::PRESENCE_STATE, events::PRESENCE_DIFF)
    }

    /// An empty, pending view for custom state and diff event names
    /// (phoenix.js `opts.events`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::presence::PresenceView;
    /// use rig::protocol::{Message, Payload};
    ///
    /// let mut view = PresenceView::with_events("the_state", "the_diff");
    /// let msg = Message::new(None, None, "t", "the_state", Payload::json(r#"{"u":{"metas":[]}}"#));
    /// assert!(view.handle_message(None, &msg)?.changed());
    /// # Ok::<(), rig::protocol::DecodeError>(())
    /// ```
    #[must_use]
    pub fn with_events(state_event: impl Into<String>, diff_event: impl Into<String>) -> Self {
        Self {
            state: PresenceState::new(),
            pending: VecDeque::new(),
            synced_for: None,
            state_event: state_event.into(),
            diff_event: diff_event.into(),
            pending_limit: DEFAULT_PENDING_LIMIT,
            dropped_diffs: 0,
        }
    }

    /// Sets how many diffs are held while waiting for a state (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// let view = rig::protocol::presence::PresenceView::new().with_pending_limit(16);
    /// assert_eq!(view.pending_diffs(), 0);
    /// ```
    #[must_use]
    pub fn with_pending_limit(mut self, limit: usize) -> Self {
        self.pending_limit = limit.max(1);
        self
    }

    /// Applies a channel message: a state, a diff, or anything else (ignored).
    ///
    /// `channel_join_ref` is the join ref of the channel's current join (the
    /// ref of its last `phx_join`). A state records it; a diff is held while
    /// no state was recorded for it. A state or diff whose own `join_ref`
    /// differs from it is [`Handled::Stale`]. Pass the same value (e.g.
    /// `None`) every time to use the view without a channel.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when a state or diff payload is binary, not JSON, or
    /// not shaped like presences (e.g. an entry without `metas`). The view is
    /// then unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::presence::{Handled, PresenceEvent, PresenceView};
    /// use rig::protocol::{Message, Payload, Ref};
    ///
    /// let jr = Ref::new("1");
    /// let mut view = PresenceView::new();
    /// let state = Message::new(Some(jr.clone()), None, "t", "presence_state",
    ///     Payload::json(r#"{"u1":{"metas":[{"phx_ref":"1"}]}}"#));
    /// let Handled::Synced(events) = view.handle_message(Some(&jr), &state)? else { panic!() };
    /// assert!(matches!(&events[0], PresenceEvent::Join { key, current: None, .. } if key == "u1"));
    /// assert_eq!(events.last(), Some(&PresenceEvent::Sync));
    ///
    /// let shout = Message::new(None, None, "t", "shout", Payload::empty());
    /// assert_eq!(view.handle_message(Some(&jr), &shout)?, Handled::Ignored);
    /// # Ok::<(), rig::protocol::DecodeError>(())
    /// ```
    pub fn handle_message(
        &mut self,
        channel_join_ref: Option<&Ref>,
        msg: &Message,
    ) -> Result<Handled, DecodeError> {
        let is_state = msg.is_event(&self.state_event);
        if !is_state && !msg.is_event(&self.diff_event) {
            return Ok(Handled::Ignored);
        }
        if let (Some(own), Some(current)) = (msg.join_ref.as_ref(), channel_join_ref)
            && own != current
        {
            return Ok(Handled::Stale);
        }
        if is_state {
            let new_state = decode_state(&msg.payload)?;
            Ok(Handled::Synced(self.apply_state(channel_join_ref, new_state)))
        } else {
            let diff = decode_diff(&msg.payload)?;
            if self.is_pending(channel_join_ref) {
                self.hold(channel_join_ref, diff);
                return Ok(Handled::Queued);
            }
            let mut events = Vec::new();
            apply_diff(&mut self.state, diff, &mut |change| events.push(to_event(change)));
            events.push(PresenceEvent::Sync);
            Ok(Handled::Synced(events))
        }
    }

    fn hold(&mut self, channel_join_ref: Option<&Ref>, diff: PresenceDiff) {
        // Diffs held under an earlier join will never be applied (see
        // `apply_state`); they are the oldest, so they sit at the front.
        while self
            .pending
            .front()
            .is_some_and(|(held_for, _)| held_for.as_ref() != channel_join_ref)
        {
            self.pending.pop_front();
        }
        if self.pending.len() >= self.pending_limit {
            self.pending.pop_front();
            self.dropped_diffs = self.dropped_diffs.saturating_add(1);
        }
        self.pending.push_back((channel_join_ref.cloned(), diff));
    }

    fn apply_state(
        &mut self,
        channel_join_ref: Option<&Ref>,
        new_state: PresenceState,
    ) -> Vec<PresenceEvent> {
        let mut events = Vec::new();
        let mut sink = |change: Change<'_>| events.push(to_event(change));
        self.synced_for = Some(channel_join_ref.cloned());
        apply_state(&mut self.state, new_state, &mut sink);
        for (held_for, diff) in std::mem::take(&mut self.pending) {
            // Only the diffs of this join: one held under an earlier join (the
            // channel rejoined before that join's state came) predates this
            // state, which already covers it, while the leave that undid one
            // of its joins may have fallen between the two subscriptions and
            // would never come. phoenix.js applies those too.
            if held_for.as_ref() == channel_join_ref {
                apply_diff(&mut self.state, diff, &mut sink);
            }
        }
        events.push(PresenceEvent::Sync);
        events
    }

    /// Whether diffs are being held: no state has arrived yet for the
    /// channel's current join ref (phoenix.js `inPendingSyncState`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::presence::PresenceView;
    /// use rig::protocol::{Message, Payload, Ref};
    ///
    /// let mut view = PresenceView::new();
    /// let state = Message::new(None, None, "t", "presence_state", Payload::json("{}"));
    /// view.handle_message(Some(&Ref::new("1")), &state)?;
    /// assert!(!view.is_pending(Some(&Ref::new("1"))));
    /// assert!(view.is_pending(Some(&Ref::new("2"))), "rejoined: waiting for a new state");
    /// # Ok::<(), rig::protocol::DecodeError>(())
    /// ```
    #[must_use]
    pub fn is_pending(&self, channel_join_ref: Option<&Ref>) -> bool {
        self.synced_for.as_ref().is_none_or(|synced| synced.as_ref() != channel_join_ref)
    }

    /// The current presences, by key.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::protocol::presence::PresenceView::new().state().is_empty());
    /// ```
    #[must_use]
    pub fn state(&self) -> &PresenceState {
        &self.state
    }

    /// Maps every presence through `chooser(key, presence)`, in key order
    /// (phoenix.js `presence.list(by)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let view = rig::protocol::presence::PresenceView::new();
    /// assert!(view.list(|key, _| key.to_owned()).is_empty());
    /// ```
    pub fn list<'a, T>(&'a self, chooser: impl FnMut(&'a str, &'a Presence) -> T) -> Vec<T> {
        list(&self.state, chooser)
    }

    /// How many diffs are held, waiting for a state.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::presence::PresenceView::new().pending_diffs(), 0);
    /// ```
    #[must_use]
    pub fn pending_diffs(&self) -> usize {
        self.pending.len()
    }

    /// How many held diffs were dropped because the pending limit was reached.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::presence::PresenceView::new().dropped_diffs(), 0);
    /// ```
    #[must_use]
    pub fn dropped_diffs(&self) -> u64 {
        self.dropped_diffs
    }
}

fn to_event(change: Change<'_>) -> PresenceEvent {
    match change {
        Change::Join { key, current, joined } => PresenceEvent::Join {
            key: key.to_owned(),
            current: current.cloned(),
            joined: joined.clone(),
        },
        Change::Leave { key, current, left } => PresenceEvent::Leave {
            key: key.to_owned(),
            current: current.clone(),
            left: left.clone(),
        },
    }
}
