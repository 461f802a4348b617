//! The crash test of the resilience issue, through the engine: a child
//! process pushes durable messages and is SIGKILLed at random points, many
//! times over one outbox file; then an engine on the same file connects to
//! a server with a [`PushLog`] and every push whose call returned in any
//! child is recorded exactly once, in push order per topic.
//!
//! Most children are offline (their socket points at a closed port), as the
//! issue asks. Some are online, connected to the parent's server, so a kill
//! can land between the server recording a push and the child's ack
//! reaching the disk: those pushes are sent again later and the `PushLog`
//! must drop the repeat (its `duplicates` counter shows it happened).
//!
//! The child is this test binary run again with [`CHILD_DB`] set: only then
//! does [`crash_child_role`] do anything. Seeded: `RIG_ENGINE_CRASH_SEED`
//! replays a failure.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;
use rig::engine::{Engine, EngineConfig, SocketOptions};
use rig::outbox::OutboxId;
use rig::protocol::Payload;
use rig::server::{PushLog, Server, ServerConfig};

use crate::engine_outbox::TempDb;

/// The outbox file, when this binary runs as the crashing child.
const CHILD_DB: &str = "RIG_ENGINE_CRASH_CHILD_DB";
/// The socket endpoint the child uses (a closed port when offline).
const CHILD_URL: &str = "RIG_ENGINE_CRASH_CHILD_URL";
/// The child's full name, for `--exact`.
const CHILD_TEST: &str = "engine_outbox_crash::crash_child_role";
/// One topic per child thread, so that print order is push order per topic.
const TOPICS: [&str; 2] = ["inbox:crash-a", "inbox:crash-b"];
/// Durable pushes per child thread if it is not killed first.
const PUSHES_PER_THREAD: usize = 12;
const ROUNDS: usize = 60;
/// The longest wait for a line from a child: a hang fails, never blocks.
const LINE_DEADLINE: Duration = Duration::from_secs(30);

/// Child role: one engine, one socket with the outbox, a thread per topic
/// printing each id once `push_durable` has returned. Does nothing in a
/// normal test run.
#[test]
fn crash_child_role() {
    let (Some(db), Some(url)) = (std::env::var_os(CHILD_DB), std::env::var(CHILD_URL).ok()) else {
        return;
    };
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let options = SocketOptions::builder(url).outbox(db).build().unwrap();
    let socket = engine.socket(options).unwrap();
    socket.connect().unwrap();
    std::thread::scope(|scope| {
        for topic in TOPICS {
            let channel = socket.channel(topic, Payload::empty()).unwrap();
            let _join = channel.join();
            scope.spawn(move || {
                for n in 0..PUSHES_PER_THREAD {
                    let payload = Payload::json(format!(r#"{{"n":{n}}}"#));
                    let push = channel.push_durable("note", payload).unwrap();
                    let id = push.outbox_id().unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "PUSHED {topic} {id}").unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

/// SplitMix64: the parent's seeded choices.
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

/// Runs one child against `url`, SIGKILLs it after `kill_after` printed
/// pushes (or lets it finish), and returns the pushes it printed and
/// whether it was killed.
fn run_child(db: &TempDb, url: &str, kill_after: usize) -> (Vec<(String, OutboxId)>, bool) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env(CHILD_DB, &db.0)
        .env(CHILD_URL, url)
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
                // A line cut by the kill has no newline: its id is unknown,
                // so it promises nothing.
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
    let mut parse = |line: String| match line.strip_prefix("PUSHED ") {
        Some(rest) => {
            let (topic, id) = rest.trim_end().split_once(' ').unwrap();
            pushed.push((topic.to_owned(), id.parse().unwrap()));
            true
        }
        None => false,
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
    (pushed, killed)
}

/// A port nothing listens on: bound, then released.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("ws://127.0.0.1:{port}/socket")
}

#[test]
fn sigkilled_children_lose_no_returned_durable_push_and_the_server_sees_each_once() {
    let seed = std::env::var("RIG_ENGINE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_c4a5_u64);
    eprintln!("engine outbox crash test seed: {seed} (RIG_ENGINE_CRASH_SEED to replay)");
    let mut rng = Rng(seed);
    let log = Arc::new(PushLog::new());
    let server = Server::start(ServerConfig::builder().push_log(Arc::clone(&log)).build()).unwrap();
    let offline = closed_port_url();
    let db = TempDb::new("crash");

    let mut printed: Vec<(String, OutboxId)> = Vec::new();
    let (mut kills, mut online_rounds) = (0, 0);
    let all_lines = PUSHES_PER_THREAD * TOPICS.len();
    for _round in 0..ROUNDS {
        // One round in four online: kills then cut acks short.
        let online = rng.below(4) == 0;
        let url = if online { server.url() } else { offline.as_str() };
        // Sometimes before the first push (while starting), sometimes not
        // at all; most often somewhere in between.
        let kill_after = rng.below(all_lines + 2);
        let (pushed, killed) = run_child(&db, url, kill_after);
        kills += usize::from(killed);
        online_rounds += usize::from(online);
        printed.extend(pushed);
    }

    // The restart: an engine on the same outbox joins the topics it lists.
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let options = SocketOptions::builder(server.url()).outbox(&db.0).build().unwrap();
    let socket = engine.socket(options).unwrap();
    let left_over = socket.outbox_topics();
    for topic in &left_over {
        assert!(TOPICS.contains(&topic.as_str()), "unexpected topic {topic}");
    }
    socket.connect().unwrap();
    let channels: Vec<_> =
        TOPICS.iter().map(|t| socket.channel(*t, Payload::empty()).unwrap()).collect();
    for channel in &channels {
        channel.join().wait_timeout(Duration::from_secs(10)).expect("joined in time").unwrap();
    }
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + Duration::from_secs(30);
    while socket.health().outbox_depth > 0 {
        assert!(clock.now() < deadline, "the outbox did not drain: {:?}", socket.health());
        let _ = crossbeam_channel::never::<()>().recv_timeout(Duration::from_millis(10));
    }

    let health = socket.health();
    eprintln!(
        "{kills} of {ROUNDS} children killed ({online_rounds} rounds online); {} pushes returned; \
         the server recorded {}, dropped {} duplicates; the restart acked {}",
        printed.len(),
        log.recorded(),
        log.duplicates(),
        health.outbox_acked
    );
    assert!(kills >= ROUNDS / 2, "only {kills} of {ROUNDS} children were killed mid-run");
    assert!(printed.len() > ROUNDS, "too few pushes returned to test anything");
    let ids: HashSet<OutboxId> = printed.iter().map(|(_, id)| *id).collect();
    assert_eq!(ids.len(), printed.len(), "two pushes were given the same id");
    assert_eq!(log.untagged(), 0);
    for topic in TOPICS {
        let recorded: Vec<OutboxId> = log.entries(topic).into_iter().map(|(id, _)| id).collect();
        let once: HashSet<OutboxId> = recorded.iter().copied().collect();
        assert_eq!(once.len(), recorded.len(), "{topic}: a push reached the application twice");
        let position: HashMap<OutboxId, usize> =
            recorded.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let returned: Vec<OutboxId> =
            printed.iter().filter(|(t, _)| t == topic).map(|(_, id)| *id).collect();
        for id in &returned {
            assert!(position.contains_key(id), "{topic}: {id} returned but was never delivered");
        }
        let order: Vec<usize> = returned.iter().map(|id| position[id]).collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{topic}: delivered out of push order");
    }
}
