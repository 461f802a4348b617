//! The crash test from the issue: a child process pushes into the outbox
//! and is SIGKILLed at a random point; after each kill the outbox is
//! reopened and must hold every push whose `enqueue` returned, once, in
//! order per topic; a simulated server deduplicates by `_rig_id`, and the
//! application must see each push exactly once.
//!
//! The child is this test binary run again (`current_exe`) with
//! [`CHILD_ENV`] naming the database: only then does [`crash_child_role`]
//! do anything. Seeded: set `RIG_OUTBOX_CRASH_SEED` to replay a failure.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;

use super::util::TempDb;
use crate::outbox::{Limits, Outbox, OutboxId, SqliteOutbox, carried_id};
use crate::protocol::Payload;

/// Names the database when this binary runs as the crashing child.
const CHILD_ENV: &str = "RIG_OUTBOX_CRASH_CHILD";
/// The child's full name, for `--exact`.
const CHILD_TEST: &str = "outbox::tests::crash::crash_child_role";
/// Pushes per child thread if it is not killed first.
const PUSHES_PER_THREAD: usize = 24;
/// Child threads; each owns its topics so that print order is push order.
const TOPICS: [[&str; 2]; 2] = [["room:a", "room:b"], ["room:c", "room:d"]];
const ROUNDS: usize = 60;
/// The longest wait for a line from a child: a hang fails, never blocks.
const LINE_DEADLINE: Duration = Duration::from_secs(20);

/// Child role: opens the outbox and pushes from two threads, printing each
/// id once `enqueue` has returned. Does nothing in a normal test run.
#[test]
fn crash_child_role() {
    let Some(path) = std::env::var_os(CHILD_ENV) else { return };
    let outbox = SqliteOutbox::open(&path, Limits::default()).unwrap();
    std::thread::scope(|scope| {
        for topics in TOPICS {
            let outbox = &outbox;
            scope.spawn(move || {
                for n in 0..PUSHES_PER_THREAD {
                    let topic = topics[n % topics.len()];
                    let payload = Payload::json(format!(r#"{{"n":{n}}}"#));
                    let id = outbox.enqueue(topic, "msg", payload).unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "PUSHED {topic} {id}").unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

/// SplitMix64: the seeded choices of the parent.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What one child round printed, and how it ended.
struct Round {
    pushed: Vec<(String, OutboxId)>,
    killed: bool,
}

/// Runs one child, kills it after `kill_after` complete lines (or lets it
/// finish if it prints fewer), and returns every complete line it printed.
fn run_child(db: &TempDb, kill_after: usize) -> Round {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env(CHILD_ENV, db.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines) = crossbeam_channel::unbounded();
    let reader = std::thread::spawn(move || {
        let mut stdout = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            match stdout.read_line(&mut line) {
                // A line cut by the kill has no newline: its push may have
                // returned, but its id is unknown, so it is not counted.
                Ok(n) if n > 0 && line.ends_with('\n') => {
                    if lines_tx.send(line).is_err() {
                        return;
                    }
                }
                _ => return,
            }
        }
    });
    let mut pushed = Vec::new();
    let mut parse = |line: String| {
        if let Some(rest) = line.strip_prefix("PUSHED ") {
            let (topic, id) = rest.trim_end().split_once(' ').unwrap();
            pushed.push((topic.to_owned(), id.parse().unwrap()));
            true
        } else {
            false
        }
    };
    let mut seen = 0;
    while seen < kill_after {
        match lines.recv_timeout(LINE_DEADLINE) {
            Ok(line) => seen += usize::from(parse(line)),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("the child printed nothing for {LINE_DEADLINE:?}");
            }
        }
    }
    // SIGKILL (an error only if it already exited, which wait shows).
    let _ = child.kill();
    let status = child.wait().unwrap();
    reader.join().unwrap();
    for line in lines.try_iter() {
        parse(line);
    }
    let killed = status.signal() == Some(9);
    if !killed && !status.success() {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
        panic!("the child failed ({status}): {err}");
    }
    Round { pushed, killed }
}

/// The simulated server: drops a push whose `_rig_id` it has applied, and
/// passes the others to the application.
#[derive(Default)]
struct Server {
    /// The payload first applied under each id.
    applied: HashMap<OutboxId, String>,
    /// What reached the application, in order.
    application: Vec<OutboxId>,
    duplicates: usize,
}

impl Server {
    fn receive(&mut self, payload: &Payload) {
        let id = carried_id(payload).expect("every test payload is a JSON object");
        let text = payload.as_json().unwrap_or_default().to_owned();
        if let Some(first) = self.applied.get(&id) {
            // A redelivery must be the same push, not another push that
            // happens to share the id (which dedup would wrongly drop).
            assert_eq!(*first, text, "two different pushes carry id {id}");
            self.duplicates += 1;
        } else {
            self.applied.insert(id, text);
            self.application.push(id);
        }
    }
}

/// Reopens after a crash and checks the promise: every printed id whose
/// entry was not acked is pending exactly once, in printed order per topic.
fn check_reopened(outbox: &SqliteOutbox, promised: &[(String, OutboxId)], round: usize) {
    let mut all = HashSet::new();
    for topic in outbox.topics() {
        let pending: Vec<OutboxId> = outbox.pending(&topic).map(|e| e.id).collect();
        for id in &pending {
            assert!(all.insert(*id), "round {round}: {id} held twice");
        }
        let expected: Vec<OutboxId> =
            promised.iter().filter(|(t, _)| *t == topic).map(|(_, id)| *id).collect();
        let expected_set: HashSet<_> = expected.iter().copied().collect();
        let in_order: Vec<OutboxId> =
            pending.iter().copied().filter(|id| expected_set.contains(id)).collect();
        assert_eq!(in_order, expected, "round {round}: topic {topic} lost or reordered pushes");
    }
    for (topic, id) in promised {
        assert!(
            all.contains(id),
            "round {round}: {id} on {topic} returned but is not in the outbox"
        );
    }
}

#[test]
fn crash_sigkill_at_random_points_loses_no_returned_push() {
    let seed = std::env::var("RIG_OUTBOX_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0b0c_5eed_u64);
    eprintln!("outbox crash test seed: {seed} (RIG_OUTBOX_CRASH_SEED to replay)");
    let mut rng = Rng(seed);
    let db = TempDb::new("crash");
    let mut server = Server::default();
    // Printed by a child and not yet acked: must be in the outbox.
    let mut promised: Vec<(String, OutboxId)> = Vec::new();
    let mut printed = Vec::new();
    let mut kills = 0;
    let all_lines = PUSHES_PER_THREAD * TOPICS.len();
    for round in 0..ROUNDS {
        // Sometimes kill before the first push (while opening), sometimes
        // let the child finish; most often somewhere in between.
        let kill_after = rng.below(all_lines + 2);
        let child = run_child(&db, kill_after);
        kills += usize::from(child.killed);
        printed.extend(child.pushed.iter().map(|(_, id)| *id));
        promised.extend(child.pushed);

        let outbox = SqliteOutbox::open(db.path(), Limits::default()).unwrap();
        check_reopened(&outbox, &promised, round);
        // Deliver everything; ack about half (the rest stand for acks lost in
        // a crash: they come again next round and the server drops them).
        for topic in outbox.topics() {
            for entry in outbox.pending(&topic) {
                assert!(outbox.mark_sent(entry.id));
                server.receive(&entry.payload);
                if rng.below(2) == 0 {
                    assert!(outbox.ack(entry.id));
                    promised.retain(|(_, id)| *id != entry.id);
                }
            }
        }
        outbox.close().unwrap();
    }
    // The last restart: deliver and ack the rest.
    let outbox = SqliteOutbox::open(db.path(), Limits::default()).unwrap();
    check_reopened(&outbox, &promised, ROUNDS);
    for topic in outbox.topics() {
        for entry in outbox.pending(&topic) {
            server.receive(&entry.payload);
            assert!(outbox.ack(entry.id));
        }
    }
    outbox.close().unwrap();
    assert_eq!(SqliteOutbox::open(db.path(), Limits::default()).unwrap().stats().entries, 0);

    eprintln!(
        "{kills} of {ROUNDS} children killed; {} pushes printed, {} reached the application, {} duplicates dropped",
        printed.len(),
        server.application.len(),
        server.duplicates
    );
    assert!(kills >= ROUNDS / 2, "only {kills} of {ROUNDS} children were killed mid-run");
    assert!(server.duplicates > 0, "redelivery (and so dedup) was exercised");
    let once: HashSet<OutboxId> = server.application.iter().copied().collect();
    assert_eq!(once.len(), server.application.len(), "the application saw a push twice");
    let missing: Vec<_> = printed.iter().filter(|id| !once.contains(id)).collect();
    assert!(missing.is_empty(), "returned pushes never delivered: {missing:?}");
}
