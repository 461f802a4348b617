//! The indexed table against the linear reference (`Filter::matches` over
//! every subscription), on hand-picked and random subscriptions and messages.

use proptest::prelude::*;

use crate::filter::{Expr, Filter, SubscriptionId, Table, TopicPattern};
use crate::protocol::{Message, Payload};

const TOPICS: [&str; 9] =
    ["room:1", "room:2", "room:10", "room:1:admin", "room:", "room", "lobby", "phoenix", "é:1"];
const PATTERNS: [&str; 16] = [
    "room:1", "room:10", "lobby", "room:*", "room:1*", "r*", "*", "lo*", "*:admin", "room:?",
    "r*1", "*o*", "é:*", "?:1", "room:*:*", "room",
];
const EVENTS: [&str; 4] = ["a", "b", "c", "d"];
const EXPRS: [&str; 6] = [
    "payload.n > 5",
    r#"payload.user == "ann""#,
    "payload.items.0 == 1",
    "payload.n",
    r#"payload.user =~ "^a""#,
    r#"payload.user != "ann" && payload.n <= 9"#,
];
const PAYLOADS: [&str; 7] = [
    r#"{"n":7,"user":"ann"}"#,
    r#"{"n":3,"user":"bob","items":[1,2]}"#,
    r#"{"items":[2],"user":"al"}"#,
    "{}",
    "[1,2]",
    "not json",
    "BINARY",
];

fn message(topic: &str, event: &str, payload: &str) -> Message {
    let payload = if payload == "BINARY" {
        Payload::binary(br#"{"n":7}"#.to_vec())
    } else {
        Payload::json(payload.to_owned())
    };
    Message::new(None, None, topic.to_owned(), event.to_owned(), payload)
}

fn linear(filters: &[Filter], message: &Message) -> Vec<SubscriptionId> {
    (0..)
        .zip(filters)
        .filter(|(_, f)| f.matches(message))
        .map(|(n, _)| SubscriptionId::new(n))
        .collect()
}

fn filter_from(pattern: usize, events: Option<Vec<usize>>, exprs: Vec<usize>) -> Filter {
    let mut filter = Filter::topic(PATTERNS[pattern]).unwrap();
    if let Some(events) = events {
        filter = filter.events(events.into_iter().map(|e| EVENTS[e]));
    }
    for e in exprs {
        filter = filter.when(Expr::parse(EXPRS[e]).unwrap());
    }
    filter
}

#[test]
fn index_agrees_with_the_linear_scan_on_every_small_case() {
    let filters: Vec<Filter> = (0..PATTERNS.len())
        .map(|p| {
            filter_from(
                p,
                (p % 3 == 0).then(|| vec![p % 4, 1]),
                vec![p % 7].into_iter().filter(|&e| e < 6).collect(),
            )
        })
        .collect();
    let table = Table::from_filters(filters.iter().cloned().map(|f| (f, ())));
    for topic in TOPICS {
        for event in EVENTS {
            for payload in PAYLOADS {
                let msg = message(topic, event, payload);
                assert_eq!(table.matches(&msg), linear(&filters, &msg), "{msg:?}");
            }
        }
    }
}

#[test]
fn each_match_is_reported_once_with_its_value() {
    let table = Table::from_filters([
        (Filter::topic("room:1").unwrap(), 'e'),
        (Filter::topic("room:*").unwrap(), 'p'),
        (Filter::topic("room:1*").unwrap(), 'q'),
        (Filter::topic("*1").unwrap(), 'g'),
        (Filter::new(TopicPattern::Exact("room:1".into())), 'f'),
    ]);
    let mut seen = Vec::new();
    table.for_each_match(&message("room:1", "x", "{}"), |id, v| seen.push((id.as_u64(), *v)));
    seen.sort_unstable();
    assert_eq!(seen, [(0, 'e'), (1, 'p'), (2, 'q'), (3, 'g'), (4, 'f')]);
}

#[test]
fn empty_event_set_matches_nothing() {
    let table =
        Table::from_filters([(Filter::topic("*").unwrap().events(Vec::<String>::new()), ())]);
    assert!(table.matches(&message("a", "b", "{}")).is_empty());
}

fn filter_strategy() -> impl Strategy<Value = Filter> {
    (
        0..PATTERNS.len(),
        prop::option::of(prop::collection::vec(0..EVENTS.len(), 0..3)),
        prop::collection::vec(0..EXPRS.len(), 0..3),
    )
        .prop_map(|(p, events, exprs)| filter_from(p, events, exprs))
}

proptest! {
    #[test]
    fn table_matches_equal_a_linear_scan(
        filters in prop::collection::vec(filter_strategy(), 0..40),
        messages in prop::collection::vec((0..TOPICS.len(), 0..EVENTS.len(), 0..PAYLOADS.len()), 1..20),
    ) {
        let table = Table::from_filters(filters.iter().cloned().map(|f| (f, ())));
        prop_assert_eq!(table.len(), filters.len());
        for (t, e, p) in messages {
            let msg = message(TOPICS[t], EVENTS[e], PAYLOADS[p]);
            prop_assert_eq!(table.matches(&msg), linear(&filters, &msg), "{:?}", msg);
        }
    }
}

/// The payload is split only for a candidate (topic and event matched) that
/// has predicates, and then once per message however many such candidates.
#[test]
fn payload_is_split_lazily_and_once_per_message() {
    use crate::filter::payload::TOP_LEVEL_SPLITS;
    let splits = || TOP_LEVEL_SPLITS.with(std::cell::Cell::get);
    let table = Table::from_filters([
        (Filter::topic("room:*").unwrap().when(Expr::parse("payload.n > 5").unwrap()), ()),
        (Filter::topic("room:1").unwrap().when(Expr::parse("payload.user").unwrap()), ()),
        (Filter::topic("r*").unwrap().events(["a"]).when(Expr::parse("payload.n").unwrap()), ()),
        (Filter::topic("lobby").unwrap(), ()),
    ]);
    let before = splits();
    assert_eq!(table.matches(&message("lobby", "a", r#"{"n":7}"#)).len(), 1);
    assert_eq!(table.matches(&message("elsewhere", "a", r#"{"n":7}"#)).len(), 0);
    assert_eq!(splits(), before, "no candidate with predicates: nothing parsed");
    assert_eq!(table.matches(&message("room:1", "a", r#"{"n":7,"user":1}"#)).len(), 3);
    assert_eq!(splits(), before + 1, "three candidates with predicates: one split");
    assert_eq!(table.matches(&message("r", "b", r#"{"n":7}"#)).len(), 0);
    assert_eq!(splits(), before + 1, "event filtered out before the payload");
}
