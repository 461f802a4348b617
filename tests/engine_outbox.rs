//! Durable pushes through the engine: the socket's outbox, replay on join,
//! acks, resends, dedup by the server's `PushLog`, and the errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rig::engine::{EngineError, Push, PushError, Socket};
use rig::outbox::{Limits, MemoryOutbox, Outbox, OutboxId};
use rig::protocol::Payload;
use rig::server::{PushLog, Server, ServerConfig, ServerHandle};

use crate::engine_util::{WAIT, engine, socket_with};

/// A unique path for an outbox file; its files are removed on drop.
pub(crate) struct TempDb(pub(crate) std::path::PathBuf);

impl TempDb {
    pub(crate) fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir()
            .join(format!("rig-engine-outbox-{name}-{}-{n}.db", std::process::id()));
        let db = Self(path);
        db.remove();
        db
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

pub(crate) fn server_with_log(log: &Arc<PushLog>) -> ServerHandle {
    Server::start(ServerConfig::builder().push_log(Arc::clone(log)).build()).unwrap()
}

/// Waits for a durable push's reply (bounded).
pub(crate) fn reply_of(push: &mut Push, within: Duration) -> rig::engine::PushResult {
    push.wait_timeout(within).expect("the durable push resolves in time")
}

/// Polls `check` until it holds or `within` passes (then fails with `what`).
fn eventually(within: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + within;
    while !check() {
        assert!(clock.now() < deadline, "not within {within:?}: {what}");
        // A bounded pause without thread::sleep (the clippy config bans it).
        let _ = crossbeam_channel::never::<()>().recv_timeout(Duration::from_millis(5));
    }
}

fn ids_of(log: &PushLog, topic: &str) -> Vec<OutboxId> {
    log.entries(topic).into_iter().map(|(id, _)| id).collect()
}

fn offline_socket(engine: &rig::engine::Engine, url: &str, db: &TempDb) -> Socket {
    socket_with(engine, url, |o| o.outbox(&db.0)).0
}

#[test]
fn pushes_made_offline_are_delivered_in_order_after_connect() {
    let log = Arc::new(PushLog::new());
    let server = server_with_log(&log);
    let db = TempDb::new("offline");
    let engine = engine();
    let socket = offline_socket(&engine, server.url(), &db);
    let inbox = socket.channel("inbox:offline", Payload::empty()).unwrap();
    let mut pushes: Vec<Push> = (0..20)
        .map(|n| inbox.push_durable("note", Payload::json(format!(r#"{{"n":{n}}}"#))).unwrap())
        .collect();
    let ids: Vec<OutboxId> = pushes.iter().map(|p| p.outbox_id().unwrap()).collect();
    assert_eq!(socket.health().outbox_depth, 20);
    assert_eq!(socket.outbox_topics(), ["inbox:offline"]);
    // Not joined: nothing is sent, the handles wait.
    assert_eq!(pushes[0].try_outcome(), None);

    socket.connect().unwrap();
    inbox.join().wait().unwrap();
    for push in &mut pushes {
        let reply = reply_of(push, WAIT).unwrap();
        assert!(reply.is_ok());
        assert_eq!(reply.response.as_json(), Some(r#"{"dup":false}"#));
    }
    assert_eq!(ids_of(&log, "inbox:offline"), ids);
    let texts: Vec<String> = log.entries("inbox:offline").into_iter().map(|(_, t)| t).collect();
    assert!(texts[3].contains(r#""n":3"#), "{}", texts[3]);
    let health = socket.health();
    assert_eq!((health.outbox_depth, health.outbox_acked), (0, 20));
    assert!(socket.outbox_topics().is_empty());
}

#[test]
fn server_restart_mid_stream_loses_nothing_and_dedups() {
    let log = Arc::new(PushLog::new());
    let server = server_with_log(&log);
    let addr = server.local_addr();
    let url = server.url().to_owned();
    let db = TempDb::new("restart");
    let engine = engine();
    let socket = offline_socket(&engine, &url, &db);
    socket.connect().unwrap();
    let inbox = socket.channel("inbox:restart", Payload::empty()).unwrap();
    inbox.join().wait().unwrap();

    let mut pushes = Vec::new();
    for n in 0..30 {
        pushes.push(inbox.push_durable("note", Payload::json(format!(r#"{{"n":{n}}}"#))).unwrap());
    }
    // Down while some of those are in flight; more pushes while it is down.
    server.shutdown();
    for n in 30..60 {
        pushes.push(inbox.push_durable("note", Payload::json(format!(r#"{{"n":{n}}}"#))).unwrap());
    }
    let server =
        Server::start(ServerConfig::builder().addr(addr).push_log(Arc::clone(&log)).build())
            .unwrap();
    for push in &mut pushes {
        assert!(reply_of(push, Duration::from_secs(15)).unwrap().is_ok());
    }
    let recorded = ids_of(&log, "inbox:restart");
    let mut unique = recorded.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), recorded.len(), "a push was recorded twice");
    for push in &pushes {
        assert!(log.contains(push.outbox_id().unwrap()));
    }
    assert_eq!(log.recorded(), 60);
    assert_eq!(socket.health().outbox_depth, 0);
    drop(server);
}

#[test]
fn an_error_reply_is_an_answer_acked_and_reported() {
    let server = crate::engine_util::server();
    let engine = engine();
    let store = Arc::new(MemoryOutbox::new(Limits::default()));
    let (socket, _status) = socket_with(&engine, server.url(), |o| o.outbox_with(store.clone()));
    socket.connect().unwrap();
    let room = socket.channel("room:errors", Payload::empty()).unwrap();
    room.join().wait().unwrap();
    let mut push = room.push_durable("echo_error", Payload::json(r#"{"why":"no"}"#)).unwrap();
    let refused = reply_of(&mut push, WAIT).unwrap_err();
    let reply = refused.reply().expect("an error reply is an Err with the reply inside");
    assert_eq!(&*reply.status, "error");
    assert!(reply.response.as_json().unwrap().contains(r#""why":"no""#));
    assert_eq!(store.stats().entries, 0, "an error reply is not sent again");
    assert_eq!(store.stats().acked, 1);
}

#[test]
fn a_timeout_sends_again_and_the_handle_keeps_waiting() {
    let server = crate::engine_util::server();
    let engine = engine();
    let store = Arc::new(MemoryOutbox::new(Limits::default()));
    let (socket, _status) = socket_with(&engine, server.url(), |o| {
        o.outbox_with(store.clone()).timeout(Duration::from_millis(100))
    });
    socket.connect().unwrap();
    let room = socket.channel("room:silent", Payload::empty()).unwrap();
    room.join().wait().unwrap();
    // `noreply` is never answered.
    let mut push = room.push_durable("noreply", Payload::json("{}")).unwrap();
    eventually(Duration::from_secs(10), "two resends", || socket.health().outbox_requeued >= 2);
    assert_eq!(push.try_outcome(), None);
    assert_eq!(store.stats().entries, 1);
    // Removing the channel resolves the handle; the entry stays for later.
    room.remove().unwrap();
    assert_eq!(reply_of(&mut push, WAIT), Err(PushError::ChannelGone));
    assert_eq!(store.stats().entries, 1);
    assert_eq!(socket.outbox_topics(), ["room:silent"]);
}

#[test]
fn a_full_outbox_refuses_with_the_payload_handed_back() {
    let engine = engine();
    let store = Arc::new(MemoryOutbox::new(Limits::default().max_entries(2)));
    let (socket, _status) =
        socket_with(&engine, "ws://127.0.0.1:9/socket", |o| o.outbox_with(store.clone()));
    let room = socket.channel("room:full", Payload::empty()).unwrap();
    room.push_durable("m", Payload::json(r#"{"n":1}"#)).unwrap();
    room.push_durable("m", Payload::json(r#"{"n":2}"#)).unwrap();
    let err = room.push_durable("m", Payload::json(r#"{"n":3}"#)).unwrap_err();
    let EngineError::Outbox(err) = err else { panic!("not an outbox error: {err:?}") };
    assert!(err.is_full(), "{err}");
    assert_eq!(err.into_payload(), Some(Payload::json(r#"{"n":3}"#)));
    let err = room.push_durable("m", Payload::json(r#"{"_rig_id":"x"}"#)).unwrap_err();
    assert!(matches!(err, EngineError::Outbox(rig::outbox::Error::Payload(_))), "{err:?}");
    assert_eq!(store.stats().entries, 2);
}

#[test]
fn a_socket_without_an_outbox_refuses_durable_pushes() {
    let engine = engine();
    let (socket, _status) = socket_with(&engine, "ws://127.0.0.1:9/socket", |o| o);
    let room = socket.channel("room:plain", Payload::empty()).unwrap();
    let err = room.push_durable("m", Payload::json("{}")).unwrap_err();
    assert!(matches!(err, EngineError::NoOutbox), "{err:?}");
    assert!(socket.outbox().is_none() && socket.outbox_topics().is_empty());
}

#[test]
fn a_corrupt_outbox_file_fails_socket_creation() {
    let db = TempDb::new("corrupt");
    std::fs::write(&db.0, vec![0x5a_u8; 8192]).unwrap();
    let engine = engine();
    let options = rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket")
        .outbox(&db.0)
        .build()
        .unwrap();
    let err = engine.socket(options).unwrap_err();
    assert!(
        matches!(err, EngineError::Outbox(rig::outbox::Error::Corrupt { .. })),
        "not a corrupt-file error: {err:?}"
    );
    assert!(err.to_string().contains("corrupt"), "{err}");
    // The file is left as it was: nothing is overwritten.
    assert_eq!(std::fs::read(&db.0).unwrap(), vec![0x5a_u8; 8192]);
}

#[test]
fn entries_left_by_an_earlier_engine_are_replayed_when_their_topic_is_joined() {
    let log = Arc::new(PushLog::new());
    let server = server_with_log(&log);
    let db = TempDb::new("replay");
    let ids: Vec<OutboxId> = {
        let engine = engine();
        let socket = offline_socket(&engine, server.url(), &db);
        let a = socket.channel("inbox:a", Payload::empty()).unwrap();
        let b = socket.channel("inbox:b", Payload::empty()).unwrap();
        let ids = (0..6)
            .map(|n| {
                let channel = if n % 2 == 0 { &a } else { &b };
                let push = channel.push_durable("m", Payload::json(format!(r#"{{"n":{n}}}"#)));
                push.unwrap().outbox_id().unwrap()
            })
            .collect();
        drop((a, b, socket));
        engine.shutdown();
        ids
    };
    let engine = engine();
    let socket = offline_socket(&engine, server.url(), &db);
    assert_eq!(socket.outbox_topics(), ["inbox:a", "inbox:b"]);
    socket.connect().unwrap();
    let a = socket.channel("inbox:a", Payload::empty()).unwrap();
    a.join().wait().unwrap();
    eventually(WAIT, "inbox:a replayed", || log.entries("inbox:a").len() == 3);
    assert_eq!(ids_of(&log, "inbox:a"), [ids[0], ids[2], ids[4]]);
    // Nobody joined inbox:b: its entries wait on disk.
    eventually(WAIT, "inbox:a acked", || socket.outbox_topics() == ["inbox:b"]);
    assert!(log.entries("inbox:b").is_empty());
    let b = socket.channel("inbox:b", Payload::empty()).unwrap();
    b.join().wait().unwrap();
    eventually(WAIT, "inbox:b replayed", || log.entries("inbox:b").len() == 3);
    assert_eq!(ids_of(&log, "inbox:b"), [ids[1], ids[3], ids[5]]);
    eventually(WAIT, "all acked", || socket.health().outbox_depth == 0);
}

#[test]
fn a_durable_push_callback_runs_with_the_reply() {
    let log = Arc::new(PushLog::new());
    let server = server_with_log(&log);
    let engine = engine();
    let store = Arc::new(MemoryOutbox::new(Limits::default()));
    let (socket, _status) = socket_with(&engine, server.url(), |o| o.outbox_with(store.clone()));
    let inbox = socket.channel("inbox:then", Payload::empty()).unwrap();
    let (tx, outcomes) = crossbeam_channel::bounded(1);
    // Filed while offline: the callback waits for the join and the reply.
    let push = inbox.push_durable("note", Payload::json(r#"{"n":1}"#)).unwrap();
    let id = push.outbox_id().unwrap();
    push.then(move |outcome| {
        let _ = tx.send(outcome.map(|reply| reply.response.as_json().map(str::to_owned)));
    });
    socket.connect().unwrap();
    inbox.join().wait().unwrap();
    let outcome = outcomes.recv_timeout(WAIT).unwrap();
    assert_eq!(outcome, Ok(Some(r#"{"dup":false}"#.to_owned())));
    assert!(log.contains(id));
}
