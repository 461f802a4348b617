//! Filter benchmarks: the cost of matching one message against N
//! subscriptions through rig's indexed `filter::Table`, against a linear scan
//! of the same filters (`Filter::matches` on each) in the same group, so the
//! results read as ratios.
//!
//! - `filter/match_hit`: a message one exact-topic subscription (with an
//!   event set) wants.
//! - `filter/match_predicate`: a message whose exact-topic subscription has a
//!   payload predicate (`payload.n > 5`), so the lazy JSON split is measured
//!   (at N = 1 nothing has that topic: it is a miss).
//! - `filter/match_miss`: a message no subscription wants (the common case
//!   for a dispatcher with many narrow subscriptions).
//! - `filter/registry_load`: `Registry::load()` + match, the dispatcher's
//!   whole per-message cost with live subscriptions (what a
//!   `rig-dispatch-N` worker pays per message of a socket with filter
//!   subscriptions), beside a linear scan of the same filters behind a
//!   plain `Arc` (no snapshot, no index) as the baseline.
//!
//! The mix of N subscriptions: 60 % exact topics, 20 % prefixes, 10 % globs,
//! 10 % exact topics with a payload predicate; every third one has an event set.
//!
//! Run with `cargo bench --bench filter`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rig::filter::{Expr, Filter, Registry, Table};
use rig::protocol::{Message, Payload};

const SIZES: [usize; 4] = [1, 10, 100, 1_000];

fn filters(n: usize) -> Vec<Filter> {
    let predicate = Expr::parse("payload.n > 5").ok();
    (0..n)
        .filter_map(|i| {
            let filter = match i % 10 {
                0..=5 => Filter::topic(&format!("room:{i}")),
                6 | 7 => Filter::topic(&format!("user:{i}:*")),
                8 => Filter::topic(&format!("*:{i}:admin")),
                _ => Filter::topic(&format!("room:{i}"))
                    .map(|f| f.when(predicate.clone().unwrap_or_else(|| Expr::new(Vec::new())))),
            }
            .ok()?;
            Some(if i % 3 == 0 { filter.events(["new_msg", "typing"]) } else { filter })
        })
        .collect()
}

fn message(topic: &str) -> Message {
    Message::new(None, None, topic.to_owned(), "new_msg", Payload::json(r#"{"n":9,"user":"ann"}"#))
}

fn bench_group(c: &mut Criterion, name: &str, topic: &str) {
    let mut group = c.benchmark_group(name);
    let msg = message(topic);
    for n in SIZES {
        let filters = filters(n);
        let table = Table::from_filters(filters.iter().cloned().map(|f| (f, ())));
        group.bench_with_input(BenchmarkId::new("table", n), &msg, |b, msg| {
            b.iter(|| {
                let mut hits = 0_usize;
                table.for_each_match(black_box(msg), |_, ()| hits += 1);
                hits
            });
        });
        group.bench_with_input(BenchmarkId::new("linear", n), &msg, |b, msg| {
            b.iter(|| filters.iter().filter(|f| f.matches(black_box(msg))).count());
        });
    }
    group.finish();
}

fn match_hit(c: &mut Criterion) {
    bench_group(c, "filter/match_hit", "room:0");
}

fn match_predicate(c: &mut Criterion) {
    bench_group(c, "filter/match_predicate", "room:9");
}

fn match_miss(c: &mut Criterion) {
    bench_group(c, "filter/match_miss", "lobby:nobody");
}

fn registry_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("filter/registry_load");
    let msg = message("room:0");
    for n in SIZES {
        let registry = Registry::new();
        for filter in filters(n) {
            registry.add(filter, ());
        }
        group.bench_with_input(BenchmarkId::new("load_and_match", n), &msg, |b, msg| {
            b.iter(|| {
                let mut hits = 0_usize;
                registry.load().for_each_match(black_box(msg), |_, ()| hits += 1);
                hits
            });
        });
        let shared = std::sync::Arc::new(filters(n));
        group.bench_with_input(BenchmarkId::new("linear_arc", n), &msg, |b, msg| {
            b.iter(|| shared.iter().filter(|f| f.matches(black_box(msg))).count());
        });
    }
    group.finish();
}

criterion_group!(benches, match_hit, match_predicate, match_miss, registry_load);
criterion_main!(benches);
