//! Property test: a [`PresenceView`] against a model of the server.
//!
//! The model is the server's truth: a list of live metas `(key, meta)`, each
//! with a unique `phx_ref`. Random operations (track, untrack, update) change
//! it; each produces the diff Phoenix would broadcast, and after each we keep
//! a snapshot (what a `presence_state` would carry).
//!
//! A client joins after diff `j`; the server snapshots its state after diff
//! `k >= j`; the client receives diffs `j+1..` in order, with the state
//! delivered after diff `p` (anywhere, before or after `k`: Phoenix races the
//! two). Optionally the channel rejoins (a new join ref) after diff `q`,
//! missing the diffs until it is subscribed again, and gets a second state;
//! if the first state had not arrived by then, it arrives later, stale.
//!
//! Checked: once the view has a state at least as new as the diffs it has
//! seen, it equals the truth after the last diff it saw (metas compared as
//! sets per key); the reported join and leave events, replayed on a shadow
//! map, reproduce the view's state step by step; at the end, the view equals
//! the final truth.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::protocol::presence::{Handled, PresenceEvent, PresenceView};
use crate::protocol::{Message, Payload, Ref};

const KEYS: [&str; 5] = ["u0", "u1", "u2", "__proto__", "constructor"];

#[derive(Clone, Debug)]
enum ServerOp {
    Track { key: usize },
    Untrack { pick: usize },
    Update { pick: usize },
}

/// key → phx_ref → meta: a presence state with metas as sets.
type Truth = BTreeMap<String, BTreeMap<String, Value>>;

/// The server: live metas in tracking order, the diffs it broadcast, and
/// the truth after each diff (`snapshots[i]` = after `i` diffs).
struct Server {
    live: Vec<(String, Value)>,
    next_ref: u64,
    diffs: Vec<Value>,
    snapshots: Vec<Truth>,
}

fn truth_of(live: &[(String, Value)]) -> Truth {
    let mut truth = Truth::new();
    for (key, meta) in live {
        let phx_ref = meta["phx_ref"].as_str().unwrap_or_default().to_owned();
        truth.entry(key.clone()).or_default().insert(phx_ref, meta.clone());
    }
    truth
}

fn state_payload(truth: &Truth) -> Value {
    let map: serde_json::Map<String, Value> = truth
        .iter()
        .map(|(key, metas)| (key.clone(), json!({"metas": metas.values().collect::<Vec<_>>()})))
        .collect();
    Value::Object(map)
}

impl Server {
    fn run(ops: &[ServerOp]) -> Self {
        let mut server = Self {
            live: Vec::new(),
            next_ref: 0,
            diffs: Vec::new(),
            snapshots: vec![Truth::new()],
        };
        for op in ops {
            if let Some(diff) = server.apply(op) {
                server.diffs.push(diff);
                server.snapshots.push(truth_of(&server.live));
            }
        }
        server
    }

    fn new_meta(&mut self, key: &str, prev: Option<&Value>) -> Value {
        self.next_ref += 1;
        let mut meta =
            json!({"phx_ref": format!("r{}", self.next_ref), "n": self.next_ref, "key": key});
        if let Some(prev) = prev {
            meta["phx_ref_prev"] = prev["phx_ref"].clone();
        }
        meta
    }

    fn apply(&mut self, op: &ServerOp) -> Option<Value> {
        match *op {
            ServerOp::Track { key } => {
                let key = KEYS[key % KEYS.len()].to_owned();
                let meta = self.new_meta(&key, None);
                self.live.push((key.clone(), meta.clone()));
                Some(json!({"joins": {key: {"metas": [meta]}}, "leaves": {}}))
            }
            ServerOp::Untrack { pick } if !self.live.is_empty() => {
                let (key, meta) = self.live.remove(pick % self.live.len());
                Some(json!({"joins": {}, "leaves": {key: {"metas": [meta]}}}))
            }
            ServerOp::Update { pick } if !self.live.is_empty() => {
                let at = pick % self.live.len();
                let (key, old) = self.live[at].clone();
                let new = self.new_meta(&key, Some(&old));
                self.live[at].1 = new.clone();
                Some(json!({"joins": {&key: {"metas": [new]}}, "leaves": {&key: {"metas": [old]}}}))
            }
            ServerOp::Untrack { .. } | ServerOp::Update { .. } => None,
        }
    }
}

fn view_truth(view: &PresenceView) -> Truth {
    let mut truth = Truth::new();
    for (key, presence) in view.state() {
        let metas = truth.entry(key.clone()).or_default();
        for meta in &presence.metas {
            let phx_ref = meta["phx_ref"].as_str().unwrap_or_default().to_owned();
            assert!(metas.insert(phx_ref, meta.clone()).is_none(), "duplicate meta in {key}");
        }
    }
    truth
}

/// Replays reported events on `shadow`, checking each event's `current`.
fn replay_events(shadow: &mut Truth, events: &[PresenceEvent]) -> Result<(), TestCaseError> {
    let refs = |metas: &[Value]| -> Vec<String> {
        let mut r: Vec<String> =
            metas.iter().map(|m| m["phx_ref"].as_str().unwrap().to_owned()).collect();
        r.sort();
        r
    };
    for event in events {
        match event {
            PresenceEvent::Join { key, current, joined } => {
                let before: Option<Vec<String>> =
                    shadow.get(key).map(|m| m.keys().cloned().collect());
                prop_assert_eq!(
                    before,
                    current.as_ref().map(|c| refs(&c.metas)),
                    "join current of {}",
                    key
                );
                let metas = shadow.entry(key.clone()).or_default();
                for meta in &joined.metas {
                    metas.insert(meta["phx_ref"].as_str().unwrap().to_owned(), meta.clone());
                }
            }
            PresenceEvent::Leave { key, current, left } => {
                let metas = shadow.entry(key.clone()).or_default();
                for meta in &left.metas {
                    metas.remove(meta["phx_ref"].as_str().unwrap());
                }
                let after: Vec<String> = metas.keys().cloned().collect();
                prop_assert_eq!(after, refs(&current.metas), "leave current of {}", key);
                if metas.is_empty() {
                    shadow.remove(key);
                }
            }
            PresenceEvent::Sync => {}
        }
    }
    prop_assert_eq!(events.last(), Some(&PresenceEvent::Sync));
    Ok(())
}

/// Picks a point in `lo..=hi` from a fraction in `0..=1000`.
fn point(lo: usize, hi: usize, per_mille: usize) -> usize {
    lo + (hi - lo) * per_mille / 1000
}

/// One delivery to the client: a diff (index into `server.diffs`), or a
/// state (snapshot index, join ref it is addressed to).
enum Delivery {
    Diff(usize),
    State { snapshot: usize, join_ref: &'static str },
    Rejoin,
}

fn schedule(n: usize, f: &[usize; 7], rejoin: bool) -> Vec<Delivery> {
    let mut out = Vec::new();
    let j1 = point(0, n, f[0]);
    let q = if rejoin { point(j1, n, f[1]) } else { n };
    let k1 = point(j1, n, f[2]);
    let p1 = point(j1, n, f[3]);
    if p1 == j1 {
        out.push(Delivery::State { snapshot: k1, join_ref: "1" });
    }
    for d in j1..q {
        out.push(Delivery::Diff(d));
        if d + 1 == p1 {
            out.push(Delivery::State { snapshot: k1, join_ref: "1" });
        }
    }
    if rejoin {
        out.push(Delivery::Rejoin);
        let j2 = point(q, n, f[4]);
        let k2 = point(j2, n, f[5]);
        let p2 = point(j2, n, f[6]);
        let stale_first = p1 > q;
        if p2 == j2 {
            out.push(Delivery::State { snapshot: k2, join_ref: "2" });
        }
        for d in j2..n {
            out.push(Delivery::Diff(d));
            if stale_first && d == j2 {
                // The first join's state, late: addressed to the old join.
                out.push(Delivery::State { snapshot: k1, join_ref: "1" });
            }
            if d + 1 == p2 {
                out.push(Delivery::State { snapshot: k2, join_ref: "2" });
            }
        }
    }
    out
}

fn check_view(server: &Server, deliveries: &[Delivery]) -> Result<(), TestCaseError> {
    let mut view = PresenceView::new();
    let mut channel_ref = Ref::new("1");
    let mut shadow = Truth::new();
    // The newest snapshot applied for the current join, and the last diff seen.
    let mut synced_at: Option<usize> = None;
    let mut seen = 0;
    for delivery in deliveries {
        let is_diff = matches!(delivery, Delivery::Diff(_));
        let (msg, expect_stale) = match *delivery {
            Delivery::Rejoin => {
                channel_ref = Ref::new("2");
                synced_at = None;
                continue;
            }
            Delivery::Diff(d) => {
                seen = d + 1;
                let payload = Payload::json(server.diffs[d].to_string());
                (Message::new(None, None, "presence:x", "presence_diff", payload), false)
            }
            Delivery::State { snapshot, join_ref } => {
                let payload = Payload::json(state_payload(&server.snapshots[snapshot]).to_string());
                let msg = Message::new(
                    Some(Ref::new(join_ref)),
                    None,
                    "presence:x",
                    "presence_state",
                    payload,
                );
                if join_ref == channel_ref.as_str() {
                    synced_at = Some(snapshot);
                }
                (msg, join_ref != channel_ref.as_str())
            }
        };
        let handled = view.handle_message(Some(&channel_ref), &msg).unwrap();
        match &handled {
            Handled::Stale => prop_assert!(expect_stale),
            Handled::Queued => prop_assert!(synced_at.is_none() && !expect_stale),
            Handled::Synced(events) => {
                prop_assert!(!expect_stale);
                prop_assert!(!is_diff || synced_at.is_some(), "a diff applied before the state");
                replay_events(&mut shadow, events)?;
                prop_assert_eq!(&shadow, &view_truth(&view), "events replay to the state");
            }
            Handled::Ignored => {
                return Err(TestCaseError::fail("presence events are never ignored"));
            }
        }
        if synced_at.is_some_and(|k| k <= seen) {
            prop_assert_eq!(
                view_truth(&view),
                server.snapshots[seen].clone(),
                "after diff {}",
                seen
            );
        }
    }
    prop_assert_eq!(view_truth(&view), server.snapshots[server.diffs.len()].clone(), "final state");
    prop_assert_eq!(view.pending_diffs(), 0);
    Ok(())
}

fn server_op() -> impl Strategy<Value = ServerOp> {
    prop_oneof![
        3 => (0..KEYS.len()).prop_map(|key| ServerOp::Track { key }),
        2 => any::<usize>().prop_map(|pick| ServerOp::Untrack { pick }),
        2 => any::<usize>().prop_map(|pick| ServerOp::Update { pick }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn presence_view_matches_a_simple_model(
        ops in prop::collection::vec(server_op(), 0..40),
        fractions in prop::array::uniform7(0..=1000usize),
        rejoin in any::<bool>(),
    ) {
        let server = Server::run(&ops);
        let deliveries = schedule(server.diffs.len(), &fractions, rejoin);
        check_view(&server, &deliveries)?;
    }
}

/// The case the model found against phoenix.js's behaviour: a diff held under
/// join 1 (whose state never came) must not be applied on join 2's state,
/// because the leave that undid it fell between the two subscriptions.
#[test]
fn rejoin_discards_diffs_held_for_the_earlier_join() {
    let mut view = PresenceView::new();
    let (jr1, jr2) = (Ref::new("1"), Ref::new("2"));
    let alice = json!({"metas": [{"phx_ref": "A1"}]});
    let joins = json!({"joins": {"alice": alice}, "leaves": {}});
    let diff = Message::new(None, None, "t", "presence_diff", Payload::json(joins.to_string()));
    assert_eq!(view.handle_message(Some(&jr1), &diff).unwrap(), Handled::Queued);
    // Rejoined; alice left meanwhile, so the new state does not have her.
    let state = Message::new(Some(jr2.clone()), None, "t", "presence_state", Payload::json("{}"));
    let handled = view.handle_message(Some(&jr2), &state).unwrap();
    assert_eq!(handled, Handled::Synced(vec![PresenceEvent::Sync]));
    assert!(view.state().is_empty(), "phoenix.js would list alice again");
    assert_eq!(view.pending_diffs(), 0);
}
