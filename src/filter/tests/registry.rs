//! The registry: ids, publication, and the remove guarantee under
//! concurrency (a matcher thread against an adding/removing thread).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use crate::filter::{Filter, Registry, RemoveError};
use crate::protocol::{Message, Payload};

fn msg(topic: &str) -> Message {
    Message::new(None, None, topic.to_owned(), "e", Payload::empty())
}

#[test]
fn add_publishes_and_ids_are_never_reused() {
    let registry = Registry::new();
    let a = registry.add(Filter::topic("a").unwrap(), 1);
    assert_eq!(registry.remove(a), Ok(true));
    let b = registry.add(Filter::topic("a").unwrap(), 2);
    assert_ne!(a, b);
    assert_eq!(registry.load().matches(&msg("a")), [b]);
    assert_eq!(registry.remove(a), Ok(false));
    assert_eq!(registry.len(), 1);
}

#[test]
fn remove_refuses_while_this_thread_holds_a_snapshot_and_keeps_the_subscription() {
    let registry = Registry::new();
    let id = registry.add(Filter::topic("a").unwrap(), ());
    {
        let _outer = registry.load();
        let inner = registry.load();
        drop(inner);
        assert_eq!(registry.remove(id), Err(RemoveError::SnapshotHeld));
        assert_eq!(registry.len(), 1);
    }
    assert_eq!(registry.remove(id), Ok(true));
    assert!(registry.is_empty());
}

#[test]
fn remove_waits_for_a_snapshot_held_by_another_thread() {
    let registry = Arc::new(Registry::new());
    let id = registry.add(Filter::topic("a").unwrap(), ());
    let (loaded_tx, loaded_rx) = crossbeam_channel::bounded(0);
    let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(0);
    let released = Arc::new(AtomicBool::new(false));
    let holder = {
        let registry = Arc::clone(&registry);
        let released = Arc::clone(&released);
        thread::spawn(move || {
            let snapshot = registry.load();
            loaded_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            released.store(true, Ordering::SeqCst);
            assert_eq!(snapshot.matches(&msg("a")).len(), 1);
            drop(snapshot);
        })
    };
    loaded_rx.recv().unwrap();
    let remover = {
        let registry = Arc::clone(&registry);
        let released = Arc::clone(&released);
        thread::spawn(move || {
            assert_eq!(registry.remove(id), Ok(true));
            // Only possible once the holder let its snapshot go.
            assert!(released.load(Ordering::SeqCst));
        })
    };
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    remover.join().unwrap();
}

#[test]
fn remove_nowait_hides_from_new_snapshots_only() {
    let registry = Registry::new();
    let id = registry.add(Filter::topic("a").unwrap(), ());
    let held = registry.load();
    assert!(registry.remove_nowait(id));
    assert_eq!(held.matches(&msg("a")), [id]);
    assert!(registry.load().matches(&msg("a")).is_empty());
    drop(held);
    // A later remove of the same id still waits for old tables, then says gone.
    assert_eq!(registry.remove(id), Ok(false));
}

/// One thread matches in a loop; another adds and removes subscriptions and,
/// after each `remove` returns, marks the subscription dead. A match reported
/// for a dead subscription breaks the guarantee.
#[test]
fn no_match_is_reported_after_remove_returns() {
    const ROUNDS: usize = 2_000;
    let registry: Arc<Registry<Arc<AtomicBool>>> = Arc::new(Registry::new());
    // A few long-lived subscriptions so tables are never trivially empty.
    for topic in ["room:*", "*", "room:1"] {
        registry.add(Filter::topic(topic).unwrap(), Arc::new(AtomicBool::new(false)));
    }
    let done = Arc::new(AtomicBool::new(false));
    let violations = Arc::new(AtomicUsize::new(0));
    let matched = Arc::new(AtomicUsize::new(0));
    let matcher = {
        let (registry, done) = (Arc::clone(&registry), Arc::clone(&done));
        let (violations, matched) = (Arc::clone(&violations), Arc::clone(&matched));
        thread::spawn(move || {
            let message = msg("room:1");
            while !done.load(Ordering::SeqCst) {
                let snapshot = registry.load();
                snapshot.for_each_match(&message, |_, dead| {
                    matched.fetch_add(1, Ordering::Relaxed);
                    if dead.load(Ordering::SeqCst) {
                        violations.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        })
    };
    let patterns = ["room:1", "room:*", "r*1", "*"];
    for round in 0..ROUNDS {
        let dead = Arc::new(AtomicBool::new(false));
        let filter = Filter::topic(patterns[round % patterns.len()]).unwrap();
        let id = registry.add(filter, Arc::clone(&dead));
        assert_eq!(registry.remove(id), Ok(true));
        dead.store(true, Ordering::SeqCst);
    }
    done.store(true, Ordering::SeqCst);
    matcher.join().unwrap();
    assert_eq!(violations.load(Ordering::SeqCst), 0);
    assert!(matched.load(Ordering::Relaxed) > 0);
    assert_eq!(registry.len(), 3);
}

/// A thread holding a snapshot (a handler) may add a subscription while
/// another thread's `remove` waits for that very snapshot.
#[test]
fn a_snapshot_holder_can_add_while_a_remove_waits_for_it() {
    let registry = Arc::new(Registry::new());
    let id = registry.add(Filter::topic("a").unwrap(), ());
    let (loaded_tx, loaded_rx) = crossbeam_channel::bounded(0);
    let (done_tx, done_rx) = crossbeam_channel::bounded(2);
    let holder = {
        let registry = Arc::clone(&registry);
        let done_tx = done_tx.clone();
        thread::spawn(move || {
            let snapshot = registry.load();
            loaded_tx.send(()).unwrap();
            // The remover has published the table without `id`: it waits now.
            while !registry.is_empty() {
                thread::yield_now();
            }
            let added = registry.add(Filter::topic("b").unwrap(), ());
            drop(snapshot);
            done_tx.send("holder").unwrap();
            added
        })
    };
    loaded_rx.recv().unwrap();
    let remover = {
        let registry = Arc::clone(&registry);
        thread::spawn(move || {
            assert_eq!(registry.remove(id), Ok(true));
            done_tx.send("remover").unwrap();
        })
    };
    let guard = std::time::Duration::from_secs(20);
    let mut finished =
        vec![done_rx.recv_timeout(guard).unwrap(), done_rx.recv_timeout(guard).unwrap()];
    finished.sort_unstable();
    assert_eq!(finished, ["holder", "remover"]);
    let added = holder.join().unwrap();
    remover.join().unwrap();
    assert_eq!(registry.load().ids().collect::<Vec<_>>(), [added]);
}
