//! What a channel's presence handler does with each message, on the
//! channel's dispatcher worker: keep the [`PresenceView`] in sync and hold
//! the diffs that come before the state of the current join.
//!
//! The view learns which join it is synced for from the `presence_state`
//! itself (the server pushes it to the joiner with the join's ref; the
//! engine has already dropped messages of earlier joins). It learns that
//! the channel rejoined (after a reconnect, an error, a join timeout) from
//! the channel's join counter, which rig-io bumps each time the channel
//! starts joining: from then on diffs are held until the new state, which
//! replaces the old one (keys it lacks are reported as leaves), and the
//! held diffs are applied after it, as phoenix.js does with
//! `pendingDiffs` (CONFORMANCE R11, R12). The counter is read when a
//! message is handled, a little after rig-io received it: a diff of the old join still queued when the
//! rejoin starts is held and applied after the new state too (phoenix.js
//! applies such diffs as well; joins and leaves match by `phx_ref`, so a
//! meta already in the state is not doubled).
//!
//! ```text
//!   no state yet ──presence_state──▶ synced ──rejoin (join counter moves)──▶ pending
//!     │ diffs held                     │ diffs applied                       │ diffs held
//!     └────────────────────────────────┴──◀── presence_state (+ held diffs) ─┘
//! ```

use std::collections::VecDeque;

use crate::protocol::presence::{DEFAULT_PENDING_LIMIT, Handled, PresenceEvent, PresenceView};
use crate::protocol::{DecodeError, Message, Ref, events};

/// The handler's own state beside the view.
#[derive(Debug, Default)]
pub(crate) struct PresenceFeed {
    /// Whether a state was applied, and for which join ref.
    synced: Option<Option<Ref>>,
    /// The channel's join counter when that state was applied.
    synced_at: u64,
    /// Diffs waiting for the state of the current join, oldest first.
    held: VecDeque<Message>,
    /// Diffs dropped because too many were held.
    pub(crate) dropped: u64,
}

impl PresenceFeed {
    /// Whether diffs are held: no state yet, or the channel started a new
    /// join since the last one.
    pub(crate) fn is_pending(&self, joins: u64) -> bool {
        self.synced.is_none() || joins != self.synced_at
    }

    /// Applies `message` to `view`, `joins` being the channel's join
    /// counter now; returns the changes (empty when nothing changed).
    ///
    /// A payload that does not decode changes nothing and is an error.
    pub(crate) fn handle(
        &mut self,
        view: &mut PresenceView,
        joins: u64,
        message: &Message,
    ) -> Result<Vec<PresenceEvent>, DecodeError> {
        if message.is_event(events::PRESENCE_STATE) {
            if self.is_stale(message.join_ref.as_ref()) {
                return Ok(Vec::new());
            }
            let join_ref = message.join_ref.clone();
            let mut changes = synced(view.handle_message(join_ref.as_ref(), message)?);
            self.synced = Some(join_ref.clone());
            self.synced_at = joins;
            for diff in std::mem::take(&mut self.held) {
                // A held diff that does not decode was already reported
                // when it arrived.
                if let Ok(handled) = view.handle_message(join_ref.as_ref(), &diff) {
                    changes.extend(synced(handled));
                }
            }
            return Ok(changes);
        }
        if !message.is_event(events::PRESENCE_DIFF) {
            return Ok(Vec::new());
        }
        if self.is_pending(joins) {
            // Decoded now (by a scratch view, which holds it), so a bad
            // diff is reported when it arrives.
            PresenceView::new().handle_message(None, message)?;
            if self.held.len() >= DEFAULT_PENDING_LIMIT {
                self.held.pop_front();
                self.dropped = self.dropped.saturating_add(1);
            }
            self.held.push_back(message.clone());
            return Ok(Vec::new());
        }
        let join_ref = self.synced.clone().flatten();
        Ok(synced(view.handle_message(join_ref.as_ref(), message)?))
    }

    /// A state for a join older than the one the view is synced for (join
    /// refs are increasing numbers on a socket).
    fn is_stale(&self, join_ref: Option<&Ref>) -> bool {
        let number = |r: Option<&Ref>| r.and_then(|r| r.as_str().parse::<u64>().ok());
        match (number(join_ref), number(self.synced.as_ref().and_then(Option::as_ref))) {
            (Some(new), Some(old)) => new < old,
            _ => false,
        }
    }

    /// How many diffs are held.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.len()
    }
}

fn synced(handled: Handled) -> Vec<PresenceEvent> {
    match handled {
        Handled::Synced(events) => events,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Payload;

    fn state(join_ref: &str, json: &str) -> Message {
        Message::new(
            Some(Ref::new(join_ref)),
            None,
            "presence:t",
            "presence_state",
            Payload::json(json),
        )
    }

    fn diff(json: &str) -> Message {
        Message::new(None, None, "presence:t", "presence_diff", Payload::json(json))
    }

    fn meta(key: &str, phx_ref: &str) -> String {
        format!(r#"{{"{key}":{{"metas":[{{"phx_ref":"{phx_ref}"}}]}}}}"#)
    }

    fn joins(key: &str, phx_ref: &str) -> Message {
        diff(&format!(r#"{{"joins":{},"leaves":{{}}}}"#, meta(key, phx_ref)))
    }

    fn leaves(key: &str, phx_ref: &str) -> Message {
        diff(&format!(r#"{{"joins":{{}},"leaves":{}}}"#, meta(key, phx_ref)))
    }

    fn keys(view: &PresenceView) -> Vec<&str> {
        view.list(|key, _| key)
    }

    #[test]
    fn r11_diffs_before_the_first_state_wait_for_it() {
        let (mut feed, mut view) = (PresenceFeed::default(), PresenceView::new());
        assert!(feed.handle(&mut view, 1, &joins("ann", "A1")).unwrap().is_empty());
        assert!(feed.handle(&mut view, 1, &joins("bob", "B1")).unwrap().is_empty());
        assert_eq!(feed.held(), 2);
        let changes = feed.handle(&mut view, 1, &state("1", &meta("ann", "A1"))).unwrap();
        assert_eq!(feed.held(), 0);
        assert_eq!(keys(&view), ["ann", "bob"]);
        // ann from the state, then the held diffs: ann again (phoenix.js
        // reports every key of a diff's joins, even a meta it already
        // has), then bob.
        let joined: Vec<&str> = changes
            .iter()
            .filter_map(|e| match e {
                PresenceEvent::Join { key, .. } => Some(key.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(joined, ["ann", "ann", "bob"]);
        assert_eq!(view.state()["ann"].metas.len(), 1);
    }

    #[test]
    fn r12_a_rejoin_holds_diffs_until_the_new_state_which_replaces_the_old() {
        let (mut feed, mut view) = (PresenceFeed::default(), PresenceView::new());
        let two = r#"{"ann":{"metas":[{"phx_ref":"A1"}]},"bob":{"metas":[{"phx_ref":"B1"}]}}"#;
        feed.handle(&mut view, 1, &state("1", two)).unwrap();
        assert!(!feed.is_pending(1));
        // Reconnected: the channel rejoins (counter 2). ann's new meta is
        // announced before the state; bob left while we were away.
        assert!(feed.handle(&mut view, 2, &joins("ann", "A2")).unwrap().is_empty());
        assert!(feed.is_pending(2));
        assert_eq!(keys(&view), ["ann", "bob"], "unchanged while pending");
        let changes = feed.handle(&mut view, 2, &state("5", &meta("ann", "A2"))).unwrap();
        assert_eq!(keys(&view), ["ann"]);
        let metas = &view.state()["ann"].metas;
        assert_eq!(metas.len(), 1);
        assert_eq!(metas[0]["phx_ref"], "A2");
        assert!(changes.iter().any(
            |e| matches!(e, PresenceEvent::Leave { key, current, .. } if key == "bob" && current.metas.is_empty())
        ));
        assert_eq!(changes.last(), Some(&PresenceEvent::Sync));
        // Synced again: diffs apply at once.
        let changes = feed.handle(&mut view, 2, &leaves("ann", "A2")).unwrap();
        assert!(matches!(&changes[0], PresenceEvent::Leave { key, .. } if key == "ann"));
        assert!(keys(&view).is_empty());
    }

    #[test]
    fn an_older_joins_state_and_other_events_change_nothing() {
        let (mut feed, mut view) = (PresenceFeed::default(), PresenceView::new());
        feed.handle(&mut view, 2, &state("7", &meta("ann", "A2"))).unwrap();
        assert!(feed.handle(&mut view, 2, &state("3", &meta("old", "O1"))).unwrap().is_empty());
        let shout = Message::new(None, None, "presence:t", "shout", Payload::empty());
        assert!(feed.handle(&mut view, 2, &shout).unwrap().is_empty());
        assert_eq!(keys(&view), ["ann"]);
    }

    #[test]
    fn a_bad_payload_is_an_error_and_changes_nothing() {
        let (mut feed, mut view) = (PresenceFeed::default(), PresenceView::new());
        assert!(feed.handle(&mut view, 1, &diff(r#"{"joins":3}"#)).is_err());
        assert_eq!(feed.held(), 0);
        feed.handle(&mut view, 1, &state("1", &meta("ann", "A1"))).unwrap();
        assert!(feed.handle(&mut view, 1, &diff("3")).is_err());
        assert!(feed.handle(&mut view, 1, &state("1", r#"{"x":1}"#)).is_err());
        assert_eq!(keys(&view), ["ann"]);
    }

    #[test]
    fn held_diffs_are_bounded_and_the_excess_counted() {
        let (mut feed, mut view) = (PresenceFeed::default(), PresenceView::new());
        for n in 0..DEFAULT_PENDING_LIMIT + 3 {
            feed.handle(&mut view, 1, &joins(&format!("u{n}"), "R")).unwrap();
        }
        assert_eq!((feed.held(), feed.dropped), (DEFAULT_PENDING_LIMIT, 3));
        feed.handle(&mut view, 1, &state("1", "{}")).unwrap();
        // The three oldest were dropped.
        assert!(!view.state().contains_key("u0"));
        assert!(view.state().contains_key("u3"));
    }
}
