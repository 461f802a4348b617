//! The dispatcher pool driven directly: per-topic order under random
//! traffic, isolation of a slow handler, bounds, panics.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;
use parking_lot::Mutex;

use super::pool::{Dispatcher, Job, Outgoing};
use crate::engine::shared::callback::Resume;
use crate::engine::shared::health::EngineCounters;
use crate::engine::shared::ids::SubKey;
use crate::protocol::{Message, Payload};

/// A guard against a hung test, not a timing assertion.
const GUARD: Duration = Duration::from_secs(20);

/// What a handler saw: the sequence numbers of its messages.
type Seen = Arc<Mutex<Vec<u64>>>;

struct Pool {
    dispatcher: Dispatcher,
    outgoing: Outgoing,
    counters: Arc<EngineCounters>,
    threads: Vec<JoinHandle<()>>,
    _alive: Sender<()>,
}

fn pool(workers: usize, capacity: usize) -> Pool {
    let counters = Arc::new(EngineCounters::default());
    let (alive, _) = crossbeam_channel::bounded(0);
    let resume: Resume = Arc::new(|| {});
    let (dispatcher, threads) =
        Dispatcher::spawn(workers, capacity, Arc::clone(&counters), &alive, &resume).unwrap();
    let outgoing = Outgoing::new(dispatcher.clone());
    Pool { dispatcher, outgoing, counters, threads, _alive: alive }
}

impl Pool {
    /// Hands over what is collected, stops the workers and waits for them.
    fn finish(mut self) -> Arc<EngineCounters> {
        self.outgoing.flush();
        self.dispatcher.stop();
        for thread in self.threads {
            thread.join().unwrap();
        }
        self.counters
    }
}

fn message(topic: &str, seq: u64) -> Message {
    Message::new(None, None, topic, "e", Payload::json(seq.to_string()))
}

fn seq_of(message: &Message) -> u64 {
    message.payload.as_json().unwrap().parse().unwrap()
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

/// Random topics, handlers per topic and hand-over points: every handler
/// sees exactly its topic's messages, once each, in the order sent.
#[test]
fn every_handler_sees_its_topic_in_order_exactly_once() {
    for (seed, workers) in [(1_u64, 1_usize), (7, 2), (42, 4), (2026, 3)] {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut pool = pool(workers, 1 << 20);
        let topics: Vec<String> = (0..24).map(|i| format!("room:{i}")).collect();
        // Per topic: its handlers (key, what they saw).
        let mut handlers: Vec<Vec<(SubKey, Seen)>> = Vec::new();
        let mut next_key = 1;
        for topic in &topics {
            let worker = pool.dispatcher.worker_for(topic);
            let mut of_topic = Vec::new();
            for _ in 0..=rng.below(3) {
                let key = SubKey(next_key);
                next_key += 1;
                let seen = Arc::new(Mutex::new(Vec::new()));
                let sink = Arc::clone(&seen);
                let handler = Box::new(move |m: &Message| sink.lock().push(seq_of(m)));
                pool.dispatcher.control(worker, Job::Register(key, handler));
                of_topic.push((key, seen));
            }
            handlers.push(of_topic);
        }
        let mut sent = vec![0_u64; topics.len()];
        for _ in 0..20_000 {
            let t = usize::try_from(rng.below(topics.len() as u64)).unwrap();
            let topic = &topics[t];
            let worker = pool.dispatcher.worker_for(topic);
            for (key, _) in &handlers[t] {
                assert!(pool.outgoing.message(worker, *key, message(topic, sent[t])));
            }
            sent[t] += 1;
            if rng.below(40) == 0 {
                pool.outgoing.flush();
            }
        }
        let counters = pool.finish();
        assert_eq!(counters.dispatch_dropped.load(Relaxed), 0);
        for (t, of_topic) in handlers.iter().enumerate() {
            let expected: Vec<u64> = (0..sent[t]).collect();
            for (key, seen) in of_topic {
                assert_eq!(*seen.lock(), expected, "seed {seed}, topic {t}, handler {key:?}");
            }
        }
    }
}

/// Two topics on different workers: while the first one's handler is
/// stuck, the second one's still runs.
#[test]
fn a_slow_handler_does_not_delay_a_topic_on_another_worker() {
    let mut pool = pool(2, 1024);
    let slow = "slow:0";
    let slow_worker = pool.dispatcher.worker_for(slow);
    let fast = (1..)
        .map(|i| format!("fast:{i}"))
        .find(|t| pool.dispatcher.worker_for(t) != slow_worker)
        .unwrap();
    let fast_worker = pool.dispatcher.worker_for(&fast);
    let (entered_tx, entered) = crossbeam_channel::unbounded();
    let (release, release_rx) = crossbeam_channel::unbounded::<()>();
    let (handled_tx, handled) = crossbeam_channel::unbounded();
    let stuck = Box::new(move |_: &Message| {
        entered_tx.send(()).unwrap();
        release_rx.recv_timeout(GUARD).unwrap();
    });
    let quick = Box::new(move |m: &Message| handled_tx.send(seq_of(m)).unwrap());
    pool.dispatcher.control(slow_worker, Job::Register(SubKey(1), stuck));
    pool.dispatcher.control(fast_worker, Job::Register(SubKey(2), quick));

    assert!(pool.outgoing.message(slow_worker, SubKey(1), message(slow, 0)));
    pool.outgoing.flush();
    entered.recv_timeout(GUARD).unwrap();
    for seq in 0..100 {
        assert!(pool.outgoing.message(fast_worker, SubKey(2), message(&fast, seq)));
    }
    pool.outgoing.flush();
    for seq in 0..100 {
        assert_eq!(handled.recv_timeout(GUARD).unwrap(), seq);
    }
    // The slow handler is still inside its first call.
    assert!(entered.is_empty());
    assert_eq!(pool.dispatcher.depths()[slow_worker], 1);
    release.send(()).unwrap();
    pool.finish();
}

/// The bound counts messages (collected and handed over alike), not
/// batches; what does not fit is dropped and counted.
#[test]
fn a_full_worker_drops_and_counts() {
    let mut pool = pool(1, 4);
    let (entered_tx, entered) = crossbeam_channel::unbounded();
    let (release, release_rx) = crossbeam_channel::unbounded::<()>();
    let handler = Box::new(move |_: &Message| {
        entered_tx.send(()).unwrap();
        release_rx.recv_timeout(GUARD).unwrap();
    });
    pool.dispatcher.control(0, Job::Register(SubKey(1), handler));
    for seq in 0..4 {
        assert!(pool.outgoing.message(0, SubKey(1), message("t", seq)));
    }
    assert!(!pool.outgoing.message(0, SubKey(1), message("t", 4)));
    pool.outgoing.flush();
    entered.recv_timeout(GUARD).unwrap();
    // Handed over and not handled yet: still counted against the bound.
    assert_eq!(pool.dispatcher.depths(), vec![4]);
    assert!(!pool.outgoing.message(0, SubKey(1), message("t", 5)));
    for _ in 0..4 {
        release.send(()).unwrap();
    }
    let counters = pool.finish();
    assert_eq!(counters.dispatch_dropped.load(Relaxed), 2);
    assert_eq!(entered.len(), 3);
}

/// Block: a full worker gives the message back and is flagged; after its
/// next batch it calls the resume hook (once).
#[test]
fn a_full_worker_gives_block_messages_back_and_resumes() {
    let counters = Arc::new(EngineCounters::default());
    let (alive, _) = crossbeam_channel::bounded(0);
    let (woken_tx, woken) = crossbeam_channel::unbounded();
    let resume: Resume = Arc::new(move || woken_tx.send(()).unwrap());
    let (dispatcher, threads) =
        Dispatcher::spawn(1, 2, Arc::clone(&counters), &alive, &resume).unwrap();
    let mut outgoing = Outgoing::new(dispatcher.clone());
    let (seen_tx, seen) = crossbeam_channel::unbounded();
    let handler = Box::new(move |m: &Message| seen_tx.send(seq_of(m)).unwrap());
    dispatcher.control(0, Job::Register(SubKey(1), handler));
    outgoing.try_message(0, SubKey(1), message("t", 0)).unwrap();
    outgoing.try_message(0, SubKey(1), message("t", 1)).unwrap();
    let back = outgoing.try_message(0, SubKey(1), message("t", 2)).unwrap_err();
    assert_eq!(seq_of(&back), 2);
    outgoing.flush();
    woken.recv_timeout(GUARD).unwrap();
    assert_eq!((seen.recv().unwrap(), seen.recv().unwrap()), (0, 1));
    outgoing.try_message(0, SubKey(1), back).unwrap();
    outgoing.flush();
    assert_eq!(seen.recv_timeout(GUARD).unwrap(), 2);
    dispatcher.stop();
    for thread in threads {
        thread.join().unwrap();
    }
    // Woken once, and nothing counted as dropped.
    assert!(woken.is_empty());
    assert_eq!(counters.dispatch_dropped.load(Relaxed), 0);
}

/// A panicking handler is counted; its worker goes on with the next
/// messages, its own included.
#[test]
fn a_panicking_handler_is_counted_and_the_worker_goes_on() {
    let mut pool = pool(1, 64);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let handler = Box::new(move |m: &Message| {
        let seq = seq_of(m);
        assert!(seq % 2 == 1, "even message {seq}");
        sink.lock().push(seq);
    });
    pool.dispatcher.control(0, Job::Register(SubKey(1), handler));
    for seq in 0..6 {
        assert!(pool.outgoing.message(0, SubKey(1), message("t", seq)));
    }
    let counters = pool.finish();
    assert_eq!(counters.handler_panics.load(Relaxed), 3);
    assert_eq!(*seen.lock(), vec![1, 3, 5]);
}

#[test]
fn topics_spread_over_the_workers() {
    let pool = pool(4, 1);
    let mut used = [0_usize; 4];
    for i in 0..400 {
        used[pool.dispatcher.worker_for(&format!("room:{i}"))] += 1;
    }
    assert!(used.iter().all(|&n| n > 50), "{used:?}");
    // The same topic always lands on the same worker.
    assert_eq!(pool.dispatcher.worker_for("room:7"), pool.dispatcher.worker_for("room:7"));
    pool.finish();
}
