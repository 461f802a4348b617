//! Filter subscriptions added and removed at run time while a server
//! stream flows at 100 000 events/s: a subscriber present throughout sees
//! every event once, in order; a removed one receives nothing after its
//! `remove()` returned.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use crossbeam_channel::Receiver;
use rig::engine::{Engine, EngineConfig, Overflow};
use rig::filter::Filter;
use rig::protocol::{Message, Payload};

use crate::engine_filter::{GUARD, connected, seq_of};
use crate::engine_util::server;

const EVENTS: u64 = 200_000;
const RATE: u64 = 100_000;

/// A removed subscription: its receiver, how many messages were queued
/// when `remove()` returned, and the last seq read before.
struct Removed {
    rx: Receiver<Message>,
    queued_at_remove: usize,
    last_read: u64,
    overflow: Overflow,
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

#[test]
fn filters_added_and_removed_while_100k_events_per_second_flow() {
    let server = server();
    let engine = Engine::start(EngineConfig::builder().dispatch_workers(2).build()).unwrap();
    let (socket, _status) = connected(&engine, server.url());
    let filter = || Filter::topic("stream:churn*").unwrap().events(["event"]);
    let steady = socket.subscribe_filter_with(filter(), Overflow::Block, Some(8192)).unwrap();
    let done =
        socket.subscribe_filter(Filter::topic("stream:churn").unwrap().events(["done"])).unwrap();
    let finished = Arc::new(AtomicBool::new(false));
    let reader = std::thread::spawn(move || {
        let mut seqs = Vec::with_capacity(EVENTS as usize);
        while (seqs.len() as u64) < EVENTS {
            seqs.push(seq_of(&steady.recv_timeout(GUARD).unwrap()));
        }
        (seqs, steady)
    });
    let churn = {
        let socket = socket.clone();
        let finished = Arc::clone(&finished);
        std::thread::spawn(move || {
            let mut rng = Rng(0x5eed_2026);
            let mut removed = Vec::new();
            while !finished.load(Relaxed) {
                let overflow =
                    if rng.below(2) == 0 { Overflow::Block } else { Overflow::DropNewest };
                let sub = socket.subscribe_filter_with(filter(), overflow, Some(8192)).unwrap();
                let want = 20 + rng.below(500);
                let mut last_read = 0;
                let mut read = 0;
                while read < want && !finished.load(Relaxed) {
                    if let Ok(m) = sub.recv_timeout(Duration::from_millis(5)) {
                        let seq = seq_of(&m);
                        assert!(seq > last_read, "seq {seq} after {last_read}");
                        if overflow == Overflow::Block && last_read > 0 {
                            assert_eq!(seq, last_read + 1, "a Block subscriber misses nothing");
                        }
                        last_read = seq;
                        read += 1;
                    }
                }
                let rx = sub.receiver().clone();
                sub.remove().unwrap();
                let queued_at_remove = rx.len();
                removed.push(Removed { rx, queued_at_remove, last_read, overflow });
            }
            removed
        })
    };
    let params = Payload::json(format!(r#"{{"rate":{RATE},"count":{EVENTS}}}"#));
    let channel = socket.channel("stream:churn", params).unwrap();
    assert!(channel.join().wait().unwrap().is_ok());
    done.recv_timeout(Duration::from_secs(120)).unwrap();
    let (seqs, steady) = reader.join().unwrap();
    finished.store(true, Relaxed);
    let removed = churn.join().unwrap();

    // Present throughout: every event once, in order.
    assert_eq!(seqs.len() as u64, EVENTS);
    assert!(seqs.iter().zip(1..).all(|(seq, want)| *seq == want), "steady saw a gap or a repeat");
    assert_eq!(steady.dropped(), 0);
    assert!(steady.try_recv().is_err(), "nothing beyond the stream");

    // Removed ones: nothing arrived after remove() returned, and what sat
    // in the queue then follows what was read, in order.
    assert!(removed.len() > 10, "only {} subscriptions came and went", removed.len());
    for (i, gone) in removed.iter().enumerate() {
        assert_eq!(gone.rx.len(), gone.queued_at_remove, "subscription {i} got more after remove");
        let rest: Vec<u64> = gone.rx.try_iter().map(|m| seq_of(&m)).collect();
        let mut last = gone.last_read;
        for seq in rest {
            assert!(seq > last, "subscription {i}: {seq} after {last}");
            if gone.overflow == Overflow::Block && last > 0 {
                assert_eq!(seq, last + 1, "subscription {i} (Block) skipped");
            }
            last = seq;
        }
    }
}
