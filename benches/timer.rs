//! Timer benchmarks: rig's `TimerWheel` against the raw baselines a session
//! could use instead, in the same group so results read as ratios.
//!
//! - `insert_cancel`: arm N timers (deadlines 0..30 s, random), then cancel
//!   them all (push timeouts answered by replies). Baselines: `BinaryHeap`
//!   with lazy deletion (a cancel only flags the entry, which stays in the
//!   heap until popped) and `BTreeMap` (the ordered map the wheel replaced).
//! - `insert_poll`: arm N timers (deadlines 0..10 s, random), then walk the
//!   clock in 1 ms steps to 10 s, popping everything due at each step (an I/O
//!   thread's loop).
//!
//! Run with `cargo bench --bench timer`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rig::time::{Clock, Instant};
use rig::timer::TimerWheel;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

/// Deterministic xorshift64: the same deadlines for every implementation.
fn deadlines_ms(n: usize, span_ms: u64) -> Vec<u64> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % span_ms
        })
        .collect()
}

fn origin() -> Instant {
    let (clock, _mock) = Clock::mock();
    clock.now()
}

fn insert_cancel(c: &mut Criterion) {
    let origin = origin();
    let mut group = c.benchmark_group("timer/insert_cancel");
    group.sample_size(30);
    for n in SIZES {
        let ticks = deadlines_ms(n, 30_000);
        let instants: Vec<Instant> =
            ticks.iter().map(|&ms| origin + Duration::from_millis(ms)).collect();
        group.throughput(Throughput::Elements(n as u64));

        group.bench_with_input(BenchmarkId::new("wheel", n), &instants, |b, instants| {
            b.iter(|| {
                let mut wheel = TimerWheel::new(origin);
                let keys: Vec<_> =
                    instants.iter().enumerate().map(|(i, &d)| wheel.insert(d, i)).collect();
                for key in keys {
                    black_box(wheel.cancel(key));
                }
                wheel
            });
        });

        group.bench_with_input(BenchmarkId::new("binary_heap", n), &ticks, |b, ticks| {
            b.iter(|| {
                let mut heap = BinaryHeap::with_capacity(ticks.len());
                let mut cancelled = vec![false; ticks.len()];
                for (seq, &tick) in ticks.iter().enumerate() {
                    heap.push(Reverse((tick, seq)));
                }
                for flag in &mut cancelled {
                    *flag = black_box(true);
                }
                (heap, cancelled)
            });
        });

        group.bench_with_input(BenchmarkId::new("btree_map", n), &ticks, |b, ticks| {
            b.iter(|| {
                let mut map = BTreeMap::new();
                for (seq, &tick) in ticks.iter().enumerate() {
                    map.insert((tick, seq), seq);
                }
                for (seq, &tick) in ticks.iter().enumerate() {
                    black_box(map.remove(&(tick, seq)));
                }
                map
            });
        });
    }
    group.finish();
}

fn insert_poll(c: &mut Criterion) {
    const SPAN_MS: u64 = 10_000;
    let origin = origin();
    let steps: Vec<Instant> = (0..=SPAN_MS).map(|ms| origin + Duration::from_millis(ms)).collect();
    let mut group = c.benchmark_group("timer/insert_poll");
    group.sample_size(20);
    for n in SIZES {
        let ticks = deadlines_ms(n, SPAN_MS);
        let instants: Vec<Instant> =
            ticks.iter().map(|&ms| origin + Duration::from_millis(ms)).collect();
        group.throughput(Throughput::Elements(n as u64));

        group.bench_with_input(BenchmarkId::new("wheel", n), &instants, |b, instants| {
            b.iter(|| {
                let mut wheel = TimerWheel::new(origin);
                for (i, &d) in instants.iter().enumerate() {
                    wheel.insert(d, i);
                }
                let mut fired = 0usize;
                for &now in &steps {
                    while let Some(v) = wheel.poll(now) {
                        fired += black_box(v) & 1;
                    }
                }
                fired
            });
        });

        group.bench_with_input(BenchmarkId::new("binary_heap", n), &ticks, |b, ticks| {
            b.iter(|| {
                let mut heap = BinaryHeap::with_capacity(ticks.len());
                for (seq, &tick) in ticks.iter().enumerate() {
                    heap.push(Reverse((tick, seq)));
                }
                let mut fired = 0usize;
                for now in 0..=SPAN_MS {
                    while heap.peek().is_some_and(|Reverse((tick, _))| *tick <= now) {
                        if let Some(Reverse((_, seq))) = heap.pop() {
                            fired += black_box(seq) & 1;
                        }
                    }
                }
                fired
            });
        });

        group.bench_with_input(BenchmarkId::new("btree_map", n), &ticks, |b, ticks| {
            b.iter(|| {
                let mut map = BTreeMap::new();
                for (seq, &tick) in ticks.iter().enumerate() {
                    map.insert((tick, seq), seq);
                }
                let mut fired = 0usize;
                for now in 0..=SPAN_MS {
                    while let Some(entry) = map.first_entry() {
                        if entry.key().0 > now {
                            break;
                        }
                        fired += black_box(entry.remove()) & 1;
                    }
                }
                fired
            });
        });
    }
    group.finish();
}

criterion_group!(benches, insert_cancel, insert_poll);
criterion_main!(benches);
