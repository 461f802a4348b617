//! Filter subscriptions driven through the dispatcher API directly (no
//! sockets): a seeded property test of order, exactly-once and drop
//! accounting; removal while a worker waits on a full Block queue; panics.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use super::pool::{Dispatcher, Outgoing};
use crate::engine::FilterSubscription;
use crate::engine::shared::callback::Resume;
use crate::engine::shared::config::Overflow;
use crate::engine::shared::filter_set::{Membership, SocketFilters};
use crate::engine::shared::filter_target::{FilterTarget, TargetShared, TargetSink};
use crate::engine::shared::health::{EngineCounters, SocketCounters};
use crate::filter::{Expr, Filter};
use crate::protocol::{Message, Payload};

/// A guard against a hung test, not a timing assertion.
const GUARD: Duration = Duration::from_secs(20);

struct Pool {
    dispatcher: Dispatcher,
    outgoing: Outgoing,
    filters: Arc<SocketFilters>,
    engine: Arc<EngineCounters>,
    socket: Arc<SocketCounters>,
    threads: Vec<JoinHandle<()>>,
    _alive: Sender<()>,
}

fn pool(workers: usize, capacity: usize) -> Pool {
    let engine = Arc::new(EngineCounters::default());
    let socket = Arc::new(SocketCounters::default());
    let (alive, _) = crossbeam_channel::bounded(0);
    let resume: Resume = Arc::new(|| {});
    let (dispatcher, threads) =
        Dispatcher::spawn(workers, capacity, Arc::clone(&engine), &alive, &resume).unwrap();
    let outgoing = Outgoing::new(dispatcher.clone());
    let filters = Arc::new(SocketFilters::new(Arc::clone(&socket), Arc::clone(&engine)));
    Pool { dispatcher, outgoing, filters, engine, socket, threads, _alive: alive }
}

impl Pool {
    fn subscribe(&self, filter: Filter, overflow: Overflow, capacity: usize) -> FilterSubscription {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        let own_rx = (overflow == Overflow::DropOldest).then(|| rx.clone());
        let shared = Arc::new(TargetShared::default());
        let pattern = filter.topic_pattern().to_string().into_boxed_str();
        let sink = TargetSink::Queue { tx, own_rx };
        let target = FilterTarget { shared: Arc::clone(&shared), sink, overflow, pattern };
        let id = self.filters.add(filter, target);
        let member =
            Membership { filters: Arc::clone(&self.filters), id, shared, overflow, gone: false };
        FilterSubscription { rx, member }
    }

    /// What rig-io does with one message: route it to its topic's worker;
    /// when Block is wanted, retry a full worker (rig-io would pause and
    /// resume); otherwise a full worker's loss is counted per subscription.
    fn route(&mut self, message: Message) {
        let worker = self.dispatcher.worker_for(&message.topic);
        if self.filters.wants_block() {
            let mut message = message;
            let clock = crate::time::Clock::real();
            let deadline = clock.now() + GUARD;
            loop {
                match self.outgoing.try_filters(worker, &self.filters, message) {
                    Ok(()) => return,
                    Err(back) => message = back,
                }
                self.outgoing.flush();
                assert!(clock.now() < deadline, "the worker never made room");
                std::thread::yield_now();
            }
        } else if let Err(message) = self.outgoing.filters(worker, &self.filters, message) {
            self.filters.count_unrouted(&message);
        }
    }

    fn finish(self) {
        self.dispatcher.stop();
        for thread in self.threads {
            thread.join().unwrap();
        }
    }
}

/// xorshift64*: a seeded generator, so a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

const TOPICS: [&str; 8] =
    ["room:1", "room:2", "room:3", "chat:a", "chat:b", "chat:a:admin", "chat:b:admin", "misc"];
const PATTERNS: [&str; 8] =
    ["room:*", "chat:*", "chat:*:admin", "room:1", "misc", "*", "chat:?", "x:*"];
const EVENTS: [&str; 3] = ["a", "b", "c"];

fn random_filter(rng: &mut Rng) -> Filter {
    let pattern = PATTERNS[rng.below(PATTERNS.len() as u64) as usize];
    let mut filter = Filter::topic(pattern).unwrap();
    if rng.below(2) == 0 {
        let first = EVENTS[rng.below(3) as usize];
        let second = EVENTS[rng.below(3) as usize];
        filter = filter.events([first, second]);
    }
    if rng.below(3) == 0 {
        let bound = rng.below(10);
        filter = filter.when(Expr::parse(&format!("payload.v > {bound}")).unwrap());
    }
    filter
}

fn message(topic: &str, event: &str, seq: u64, v: u64) -> Message {
    let payload = Payload::json(format!(r#"{{"seq":{seq},"v":{v}}}"#));
    Message::new(None, None, topic.to_owned(), event.to_owned(), payload)
}

fn seq_of(message: &Message) -> u64 {
    let value: serde_json::Value =
        serde_json::from_str(message.payload.as_json().unwrap()).unwrap();
    value["seq"].as_u64().unwrap()
}

/// Per topic, the seqs in the order received.
fn by_topic(messages: &[Message]) -> HashMap<String, Vec<u64>> {
    let mut map: HashMap<String, Vec<u64>> = HashMap::new();
    for m in messages {
        map.entry(m.topic.to_string()).or_default().push(seq_of(m));
    }
    map
}

fn is_subsequence(small: &[u64], big: &[u64]) -> bool {
    let mut it = big.iter();
    small.iter().all(|s| it.any(|b| b == s))
}

/// Random topics, events, payloads and subscriptions through 1–4 workers:
/// every Block subscription receives each matching topic's messages in
/// order, exactly once; under DropNewest/DropOldest delivered + dropped ==
/// matched exactly, and what arrives keeps each topic's order. Rounds with
/// a tiny dispatcher queue make rig-io's own drops part of the count.
#[test]
fn filters_keep_order_exactly_once_and_count_every_drop() {
    let (mut block_subs, mut all_dropped, mut unrouted) = (0, 0, 0);
    for (seed, workers, worker_capacity) in
        [(1_u64, 1_usize, 1 << 20), (7, 2, 1 << 20), (42, 4, 64), (2026, 3, 16), (99, 2, 1 << 20)]
    {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut pool = pool(workers, worker_capacity);
        let drops_only = worker_capacity < 1024;
        let mut subs = Vec::new();
        for _ in 0..12 {
            let filter = random_filter(&mut rng);
            let overflow = match rng.below(3) {
                0 if !drops_only => Overflow::Block,
                0 | 1 => Overflow::DropNewest,
                _ => Overflow::DropOldest,
            };
            let capacity = 1 + rng.below(16) as usize;
            let sub = pool.subscribe(filter.clone(), overflow, capacity);
            subs.push((filter, overflow, sub));
        }
        // Block subscriptions are read as they go; drop ones only at the end.
        let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
        #[expect(
            clippy::needless_collect,
            reason = "the readers must run while messages are routed"
        )]
        let readers: Vec<(usize, JoinHandle<Vec<Message>>)> = subs
            .iter()
            .enumerate()
            .filter(|(_, (_, overflow, _))| *overflow == Overflow::Block)
            .map(|(i, (_, _, sub))| {
                let rx: Receiver<Message> = sub.receiver().clone();
                let shared = Arc::clone(&sub.member.shared);
                let stop = stop_rx.clone();
                let reader = std::thread::spawn(move || {
                    let mut got = Vec::new();
                    loop {
                        crossbeam_channel::select! {
                            recv(rx) -> m => match m {
                                Ok(m) => { shared.made_room(); got.push(m) }
                                Err(_) => break,
                            },
                            recv(stop) -> _ => {
                                while let Ok(m) = rx.try_recv() { got.push(m) }
                                break;
                            }
                        }
                    }
                    got
                });
                (i, reader)
            })
            .collect();
        let mut sent = Vec::new();
        for seq in 0..4_000 {
            let topic = TOPICS[rng.below(TOPICS.len() as u64) as usize];
            let event = EVENTS[rng.below(3) as usize];
            let m = message(topic, event, seq, rng.below(12));
            sent.push(m.clone());
            pool.route(m);
            if rng.below(50) == 0 {
                pool.outgoing.flush();
            }
        }
        pool.outgoing.flush();
        // Every message was handled once the workers drained their queues.
        let clock = crate::time::Clock::real();
        let deadline = clock.now() + GUARD;
        while pool.dispatcher.depths().iter().any(|d| *d > 0) {
            assert!(clock.now() < deadline, "seed {seed}: workers never drained");
            std::thread::yield_now();
        }
        drop(stop_tx);
        let mut received: HashMap<usize, Vec<Message>> =
            readers.into_iter().map(|(i, r)| (i, r.join().unwrap())).collect();
        let mut total_dropped = 0;
        for (i, (filter, overflow, sub)) in subs.iter().enumerate() {
            let matched: Vec<Message> =
                sent.iter().filter(|m| filter.matches(m)).cloned().collect();
            let got = received
                .remove(&i)
                .unwrap_or_else(|| std::iter::from_fn(|| sub.try_recv().ok()).collect());
            let (want, have) = (by_topic(&matched), by_topic(&got));
            let context = format!("seed {seed}, sub {i} ({overflow:?}, {filter:?})");
            if *overflow == Overflow::Block {
                block_subs += usize::from(!matched.is_empty());
                assert_eq!(have, want, "{context}: Block sees all, in order, once");
                assert_eq!(sub.dropped(), 0, "{context}");
            } else {
                assert_eq!(got.len() as u64 + sub.dropped(), matched.len() as u64, "{context}");
                for (topic, seqs) in &have {
                    assert!(is_subsequence(seqs, &want[topic]), "{context}: order of {topic}");
                }
            }
            total_dropped += sub.dropped();
        }
        assert_eq!(pool.socket.filter_dropped.load(Relaxed), total_dropped, "seed {seed}");
        assert_eq!(pool.engine.filter_dropped.load(Relaxed), total_dropped, "seed {seed}");
        all_dropped += total_dropped;
        unrouted += pool.engine.dispatch_dropped.load(Relaxed);
        pool.finish();
    }
    // The seeds exercise every path.
    assert!(
        block_subs > 0 && all_dropped > 0 && unrouted > 0,
        "{block_subs} {all_dropped} {unrouted}"
    );
}

/// A worker waiting for room in a full Block queue does not hold up the
/// subscription's removal: `remove` returns, the worker gives the message
/// up and goes on with the next ones.
#[test]
fn remove_ends_a_block_wait_and_the_worker_goes_on() {
    let mut pool = pool(1, 1 << 20);
    let stuck = pool.subscribe(Filter::topic("a").unwrap(), Overflow::Block, 1);
    let other = pool.subscribe(Filter::topic("b").unwrap(), Overflow::DropNewest, 16);
    for seq in 0..3 {
        pool.route(message("a", "e", seq, 0));
    }
    pool.outgoing.flush();
    // The first fits; the worker waits with the second.
    let first = stuck.receiver().recv_timeout(GUARD).unwrap();
    assert_eq!(seq_of(&first), 0);
    stuck.remove().unwrap();
    pool.route(message("b", "e", 9, 0));
    pool.outgoing.flush();
    assert_eq!(seq_of(&other.recv_timeout(GUARD).unwrap()), 9);
    assert!(!pool.filters.wants_block());
    pool.finish();
}

/// A filter callback that panics is counted, and the worker keeps calling.
#[test]
fn a_panicking_filter_callback_is_counted_and_the_worker_goes_on() {
    let mut pool = pool(2, 1 << 20);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let handler: crate::engine::shared::callback::MessageHandler = Box::new(move |m: &Message| {
        let seq = seq_of(m);
        assert!(seq % 2 == 1, "even seq {seq}");
        sink.lock().push(seq);
    });
    let shared = Arc::new(TargetShared::default());
    let target = FilterTarget {
        shared: Arc::clone(&shared),
        sink: TargetSink::Callback(Mutex::new(handler)),
        overflow: Overflow::DropNewest,
        pattern: "room:*".into(),
    };
    pool.filters.add(Filter::topic("room:*").unwrap(), target);
    for seq in 0..10 {
        pool.route(message("room:1", "e", seq, 0));
    }
    pool.outgoing.flush();
    let clock = crate::time::Clock::real();
    let deadline = clock.now() + GUARD;
    while shared.delivered.load(Relaxed) < 10 {
        assert!(clock.now() < deadline, "the callback stopped being called");
        std::thread::yield_now();
    }
    assert_eq!(shared.panics.load(Relaxed), 5);
    assert_eq!(pool.engine.handler_panics.load(Relaxed), 5);
    assert_eq!(*seen.lock(), [1, 3, 5, 7, 9]);
    pool.finish();
}

/// After `remove` returns nothing more reaches the queue, while a flood
/// is being dispatched on another thread.
#[test]
fn nothing_arrives_after_remove_returns() {
    let pool = pool(2, 1 << 20);
    let sub = pool.subscribe(Filter::topic("room:*").unwrap(), Overflow::DropNewest, 1 << 20);
    let filters = Arc::clone(&pool.filters);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let stop = Arc::clone(&stop);
        let filters = Arc::clone(&filters);
        std::thread::spawn(move || {
            let never = std::sync::atomic::AtomicBool::new(false);
            let mut served = Vec::new();
            let mut seq = 0;
            while !stop.load(Relaxed) {
                filters.dispatch(&message("room:1", "e", seq, 0), &never, &mut served);
                seq += 1;
            }
        })
    };
    let clock = crate::time::Clock::real();
    let deadline = clock.now() + GUARD;
    while sub.receiver().len() < 1000 {
        assert!(clock.now() < deadline, "the flood never arrived");
        std::thread::yield_now();
    }
    let rx = sub.receiver().clone();
    let shared = Arc::clone(&sub.member.shared);
    sub.remove().unwrap();
    let at_remove = (rx.len(), shared.delivered.load(Relaxed));
    // Keep flooding for a while: the count must not move.
    for _ in 0..1000 {
        std::thread::yield_now();
    }
    stop.store(true, Relaxed);
    flood.join().unwrap();
    assert_eq!((rx.len(), shared.delivered.load(Relaxed)), at_remove);
    pool.finish();
}

mod edges {
    use super::*;

    /// The socket's health counts a filter delivery or drop once: in
    /// `filter_*`, which `delivered` / `dropped` include.
    #[test]
    fn health_counts_filter_deliveries_and_drops_once() {
        let mut pool = pool(1, 1024);
        let sub = pool.subscribe(Filter::topic("room:*").unwrap(), Overflow::DropNewest, 1);
        for seq in 0..3 {
            pool.route(message("room:1", "a", seq, 0));
        }
        pool.outgoing.flush();
        let clock = crate::time::Clock::real();
        let deadline = clock.now() + GUARD;
        while sub.dropped() + sub.delivered() < 3 {
            assert!(clock.now() < deadline);
            std::thread::yield_now();
        }
        let health = pool.socket.snapshot();
        assert_eq!(health.filter_dropped, 2);
        assert_eq!(health.dropped, 2, "filter drops counted twice in SocketHealth::dropped");
        assert_eq!(
            health.delivered, 1,
            "filter deliveries counted twice in SocketHealth::delivered"
        );
        drop(sub);
        pool.finish();
    }

    /// Removing a binding whose callback owns another subscription of the
    /// same socket: dropping the closure removes that subscription, which
    /// takes the registry's writer lock, so retired tables are dropped
    /// only after the lock is released.
    #[test]
    fn removing_a_callback_that_owns_another_subscription_returns() {
        let pool = pool(1, 1024);
        let inner = pool.subscribe(Filter::topic("room:*").unwrap(), Overflow::DropNewest, 4);
        let shared = Arc::new(TargetShared::default());
        let sink = TargetSink::Callback(Mutex::new(Box::new(move |_m: &Message| {
            let _ = &inner;
        })));
        let target = FilterTarget {
            shared: Arc::clone(&shared),
            sink,
            overflow: Overflow::DropNewest,
            pattern: "x:*".into(),
        };
        let id = pool.filters.add(Filter::topic("x:*").unwrap(), target);
        let filters = Arc::clone(&pool.filters);
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let result = filters.remove(id, &shared, Overflow::DropNewest);
            let _ = done_tx.send(result);
        });
        let outcome = done_rx.recv_timeout(Duration::from_secs(5));
        assert!(outcome.is_ok(), "remove() never returned: a deadlock on the registry writer lock");
        pool.finish();
    }
}
