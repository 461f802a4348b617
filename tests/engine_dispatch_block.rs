//! `Overflow::Block` through the real engine and the embedded server: a
//! full consumer pauses its socket (nothing dropped, order kept), the other
//! sockets keep flowing, rig-io neither reads nor spins on a paused socket
//! while it still writes, the heartbeat does not time out while paused, and
//! memory stays bounded.

use std::time::Duration;

use rig::engine::{Engine, EngineConfig, Overflow, Socket, Status, Subscription};
use rig::protocol::{Message, Payload};

use crate::engine_util::{server, socket_with, until_status};

/// A guard against a hung test, not a timing assertion.
const GUARD: Duration = Duration::from_secs(60);
const CAPACITY: usize = 64;

fn block_engine() -> Engine {
    let config = EngineConfig::builder()
        .overflow(Overflow::Block)
        .subscription_capacity(CAPACITY)
        .dispatch_capacity(CAPACITY)
        .build();
    Engine::start(config).unwrap()
}

fn connected(engine: &Engine, url: &str, heartbeat: Option<Duration>) -> Socket {
    let (socket, status) = socket_with(engine, url, |o| match heartbeat {
        Some(every) => o.heartbeat_interval(every).heartbeat_timeout(every),
        None => o,
    });
    socket.connect().unwrap();
    until_status(&status, GUARD, |s| *s == Status::Open);
    socket
}

fn burst(socket: &Socket, topic: &str, count: u64) -> Subscription {
    let params = Payload::json(format!(r#"{{"mode":"burst","count":{count}}}"#));
    let channel = socket.channel(topic, params).unwrap();
    let all = channel.subscribe_all().unwrap();
    let _join = channel.join();
    all
}

fn seq_of(message: &Message) -> u64 {
    let value: serde_json::Value =
        serde_json::from_str(message.payload.as_json().unwrap()).unwrap();
    value["seq"].as_u64().unwrap()
}

/// Reads `count` events (in order, seq 1..=count) and then `done`,
/// calling `every` after each event.
fn read_all(sub: &Subscription, count: u64, mut every: impl FnMut(u64)) {
    let mut next = 1;
    loop {
        let message = sub.recv_timeout(GUARD).unwrap();
        match &*message.event {
            "event" => {
                assert_eq!(seq_of(&message), next);
                every(next);
                next += 1;
            }
            "done" => break,
            _ => {}
        }
    }
    assert_eq!(next, count + 1);
    assert_eq!(sub.dropped(), 0);
}

/// Waits (bounded) until the socket has been paused at least once.
fn until_paused(socket: &Socket) {
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + GUARD;
    while socket.health().pauses == 0 {
        assert!(clock.now() < deadline, "never paused: {:?}", socket.health());
        stall(Duration::from_millis(1));
    }
}

/// A consumer that is slow on purpose (the point of these tests), or a
/// back-off between two health checks.
#[expect(
    clippy::disallowed_methods,
    reason = "a deliberately slow consumer, not a timing assertion"
)]
fn stall(duration: Duration) {
    std::thread::sleep(duration);
}

/// The process's resident set, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A slow consumer (it sleeps now and then) of a Block subscription gets
/// every event of a 20k burst, in order, none dropped; meanwhile another
/// socket of the same engine delivers its own burst in full.
#[test]
fn engine_block_subscription_gets_a_whole_burst_while_another_socket_flows() {
    let server = server();
    let engine = block_engine();
    let slow_socket = connected(&engine, server.url(), None);
    let other_socket = connected(&engine, server.url(), None);
    let slow = burst(&slow_socket, "stream:slow", 20_000);
    until_paused(&slow_socket);

    // The slow consumer has not read anything yet: the other socket flows.
    let other = burst(&other_socket, "stream:other", 2_000);
    read_all(&other, 2_000, |_| {});
    assert!(slow_socket.health().delivered <= CAPACITY as u64 + 1);

    read_all(&slow, 20_000, |seq| {
        if seq % 1_000 == 0 {
            stall(Duration::from_millis(2));
        }
    });
    let health = slow_socket.health();
    assert_eq!((health.dropped, health.heartbeat_timeouts, health.reconnects), (0, 0, 0));
}

/// A slow `on` handler (it sleeps now and then) with a small dispatcher
/// queue: every event of a 20k burst, in order, none dropped.
#[test]
fn engine_block_handler_gets_a_whole_burst_in_order() {
    const EVENTS: u64 = 20_000;
    let server = server();
    let engine = block_engine();
    let socket = connected(&engine, server.url(), None);
    let params = Payload::json(format!(r#"{{"mode":"burst","count":{EVENTS}}}"#));
    let channel = socket.channel("stream:handler", params).unwrap();
    let (tx, seen) = crossbeam_channel::unbounded();
    let mut next = 1;
    channel
        .on("event", move |message| {
            assert_eq!(seq_of(message), next);
            if next % 1_000 == 0 {
                stall(Duration::from_millis(2));
            }
            next += 1;
        })
        .unwrap();
    channel.on("done", move |_| tx.send(()).unwrap()).unwrap();
    let _join = channel.join();
    seen.recv_timeout(GUARD).unwrap();
    let health = engine.health();
    assert_eq!((health.dispatch_dropped, health.handler_panics), (0, 0));
    let socket_health = socket.health();
    assert_eq!(socket_health.dropped, 0);
    assert!(socket_health.pauses >= 1, "{socket_health:?}");
}

/// Policies per subscription on an engine whose default is DropNewest: a
/// Block subscription gets everything, while a DropNewest one on the same
/// channel, never read, keeps its first 64 messages and counts every other
/// one as dropped.
#[test]
fn engine_block_is_chosen_per_subscription() {
    let server = server();
    let config = EngineConfig::builder().subscription_capacity(CAPACITY).build();
    let engine = Engine::start(config).unwrap();
    let socket = connected(&engine, server.url(), None);
    let params = Payload::json(r#"{"mode":"burst","count":5000}"#);
    let channel = socket.channel("stream:mixed", params).unwrap();
    let every = channel.subscribe_all_with(Overflow::Block).unwrap();
    let lossy = channel.subscribe_all().unwrap();
    let _join = channel.join();
    let mut total = 0;
    loop {
        let message = every.recv_timeout(GUARD).unwrap();
        total += 1;
        if &*message.event == "done" {
            break;
        }
    }
    assert!(total > 5_000);
    assert_eq!(every.dropped(), 0);
    assert_eq!(lossy.dropped() + CAPACITY as u64, total);
    assert_eq!(socket.health().dropped, lossy.dropped());
    assert_eq!(std::iter::from_fn(|| lossy.try_recv().ok()).count(), CAPACITY);
}

/// Set in the child process that runs [`block_pause_child`] alone.
const CHILD: &str = "RIG_TEST_BLOCK_PAUSE_CHILD";

/// Runs [`block_pause_child`] in a child process of this test binary, alone:
/// the resident set of a process that runs the other tests in parallel
/// (and symbolizes their deliberate panics) says nothing about this one.
#[test]
fn engine_block_pause_holds_the_heartbeat_and_bounds_memory() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["engine_dispatch_block::block_pause_child", "--exact", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // The child really ran the test (a filter typo would run nothing).
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// A burst far larger than the socket buffers, a consumer that holds off
/// for ten heartbeat periods: no heartbeat timeout (the replies are unread
/// behind the burst), no drop, and the process grows by no more than the
/// bound below while the socket is paused.
///
/// The bound: the queue (64 messages of ~150 bytes, 10 KiB) plus the stash
/// (at most one read turn of the transport: about 6 000 frames of ~70
/// bytes, under 1 MiB as messages) plus tungstenite's read buffer are
/// about 1 MiB (2.4 MiB measured); 8 MiB leaves room for the allocator.
/// Reading the whole burst instead of pausing would hold 200 000
/// messages, over 30 MiB.
#[test]
fn block_pause_child() {
    const EVENTS: u64 = 200_000;
    const BOUND_KIB: u64 = 8 * 1024;
    if std::env::var_os(CHILD).is_none() {
        // Only meaningful alone, in the child process started above.
        return;
    }
    let server = server();
    let engine = block_engine();
    let heartbeat = Duration::from_millis(50);
    let socket = connected(&engine, server.url(), Some(heartbeat));
    let before = rss_kib();
    let sub = burst(&socket, "stream:held", EVENTS);
    until_paused(&socket);
    // Ten heartbeat periods with the socket paused.
    stall(heartbeat * 10);
    let grown = rss_kib().saturating_sub(before);
    assert!(grown < BOUND_KIB, "RSS grew by {grown} KiB while paused");
    assert_eq!(socket.health().heartbeat_timeouts, 0);

    read_all(&sub, EVENTS, |_| {});
    let health = socket.health();
    assert_eq!((health.dropped, health.heartbeat_timeouts, health.reconnects), (0, 0, 0));
    assert!(health.pauses >= 1);
}

/// CPU time (utime + stime, in clock ticks) of this process's thread named
/// `name` (at most 15 bytes: the kernel's `comm`).
fn thread_ticks(name: &str) -> u64 {
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let path = task.unwrap().path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).unwrap();
        // Fields after the parenthesised command; utime and stime are the
        // 14th and 15th fields of the whole line.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        return fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    }
    panic!("no thread named {name}");
}

/// While a Block consumer holds a socket paused, rig-io does not read it and
/// is not woken by it: over a second of pause its thread uses a small
/// fraction of the CPU (a busy loop would use ~100 ticks per second; the
/// bound is a CPU budget, not a wall-clock threshold), it wakes about as
/// often as the 10 ms retry timer, the paused socket still writes (a
/// `shout` pushed while paused reaches another socket), the heartbeat does
/// not time out, and every event then arrives once, in order.
#[test]
fn engine_block_pause_stops_reading_without_spinning() {
    const EVENTS: u64 = 100_000;
    const IO_THREAD: &str = "rig-io-paused";
    let server = server();
    let config = EngineConfig::builder()
        .thread_name(IO_THREAD)
        .overflow(Overflow::Block)
        .subscription_capacity(CAPACITY)
        .build();
    let engine = Engine::start(config).unwrap();
    let heartbeat = Duration::from_millis(100);
    let paused = connected(&engine, server.url(), Some(heartbeat));
    let listener = connected(&engine, server.url(), None);
    let room = paused.channel("room:paused", Payload::empty()).unwrap();
    room.join().wait_timeout(GUARD).unwrap().unwrap();
    let heard_room = listener.channel("room:paused", Payload::empty()).unwrap();
    let shouts = heard_room.subscribe("shout").unwrap();
    heard_room.join().wait_timeout(GUARD).unwrap().unwrap();

    let sub = burst(&paused, "stream:paused", EVENTS);
    until_paused(&paused);
    let frames_out = paused.health().frames_out;
    let (ticks, wakeups) = (thread_ticks(IO_THREAD), engine.health().wakeups);
    stall(Duration::from_secs(1));
    let (ticks, wakeups) = (thread_ticks(IO_THREAD) - ticks, engine.health().wakeups - wakeups);
    assert!(ticks < 50, "rig-io used {ticks} ticks in a second of pause");
    // The retry timer wakes it ~100 times a second; reading would be
    // thousands of wake-ups.
    assert!(wakeups < 1_000, "rig-io woke {wakeups} times in a second of pause");
    assert_eq!(sub.receiver().len(), CAPACITY, "the consumer's queue stayed full: still paused");

    // Writes go on while paused.
    let _shout = room.push("shout", Payload::json(r#"{"text":"paused"}"#));
    let shout = shouts.recv_timeout(GUARD).unwrap();
    assert_eq!(shout.payload.as_json(), Some(r#"{"text":"paused"}"#));
    assert!(paused.health().frames_out > frames_out);

    read_all(&sub, EVENTS, |_| {});
    let health = paused.health();
    assert_eq!((health.dropped, health.heartbeat_timeouts, health.reconnects), (0, 0, 0));
}
