//! Replays every real Phoenix transcript against `rig serve --token secret`
//! (the rules are in `util::replay`), and checks that the replay itself fails
//! on a difference.

use crate::util::fixtures::{self, Transcript};
use crate::util::replay::Replay;
use crate::util::{RigServer, WsClient};

fn replay(name: &str) {
    Replay::new(name).run();
}

/// Every transcript in the directory has a test below; a new file fails here
/// until it gets one.
#[test]
fn every_transcript_is_replayed() {
    let covered = [
        "binary.jsonl",
        "close.jsonl",
        "connect_heartbeat.jsonl",
        "connect_refused.jsonl",
        "crash_rejoin.jsonl",
        "duplicate_join.jsonl",
        "echo_reply_push.jsonl",
        "idle_timeout.jsonl",
        "join_variants.jsonl",
        "malformed.jsonl",
        "presence.jsonl",
        "slow_push.jsonl",
        "stream.jsonl",
        "v1_binary.jsonl",
        "v1_serializer.jsonl",
    ];
    assert_eq!(fixtures::all_names(), covered, "transcripts without a replay test");
}

#[test]
fn replay_binary() {
    replay("binary.jsonl");
}

#[test]
fn replay_close() {
    replay("close.jsonl");
}

#[test]
fn replay_connect_heartbeat() {
    replay("connect_heartbeat.jsonl");
}

#[test]
fn replay_connect_refused() {
    replay("connect_refused.jsonl");
}

#[test]
fn replay_crash_rejoin() {
    replay("crash_rejoin.jsonl");
}

#[test]
fn replay_duplicate_join() {
    replay("duplicate_join.jsonl");
}

#[test]
fn replay_echo_reply_push() {
    replay("echo_reply_push.jsonl");
}

#[test]
fn replay_idle_timeout() {
    replay("idle_timeout.jsonl");
}

#[test]
fn replay_join_variants() {
    replay("join_variants.jsonl");
}

#[test]
fn replay_malformed() {
    replay("malformed.jsonl");
}

#[test]
fn replay_presence() {
    replay("presence.jsonl");
}

#[test]
fn replay_slow_push() {
    replay("slow_push.jsonl");
}

#[test]
fn replay_stream() {
    replay("stream.jsonl");
}

#[test]
fn replay_v1_binary() {
    replay("v1_binary.jsonl");
}

#[test]
fn replay_v1_serializer() {
    replay("v1_serializer.jsonl");
}

/// connect_heartbeat.jsonl notes that Bandit answers WebSocket pings (they
/// are not Phoenix frames, so no row records them).
#[test]
fn websocket_ping_gets_a_pong_and_phoenix_goes_on() {
    let server = RigServer::start_secret();
    let mut client = WsClient::connect(server.addr(), "/socket/websocket?token=secret&vsn=2.0.0");
    client.ping_expecting_pong(b"are you there");
    client.ping_expecting_pong(b"");
    client.send_text(r#"[null,"1","phoenix","heartbeat",{}]"#);
    client.expect_text(r#"[null,"1","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
    client.close_expecting(1000, 1000);
}

/// A transcript written inline, one JSON row per line.
fn inline(rows: &str) -> Transcript {
    let rows = rows
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    Transcript { name: "inline.jsonl".to_owned(), rows }
}

const INLINE_OPEN: &str = r#"
{"i": 1, "t_ms": 0.0, "dir": "http", "url": "ws://127.0.0.1:4000/socket/websocket?token=secret&vsn=2.0.0", "status": 101}
{"i": 2, "t_ms": 0.1, "dir": "out", "opcode": "text", "text": "[\"1\",\"1\",\"room:self\",\"phx_join\",{}]"}
{"i": 3, "t_ms": 0.2, "dir": "in", "opcode": "text", "text": "[\"1\",\"1\",\"room:self\",\"phx_reply\",{\"response\":{\"joined\":\"room:self\"},\"status\":\"ok\"}]"}
"#;

/// The replay itself must fail when a frame arrives that the transcript does
/// not list: here the echo reply, before the client close.
#[test]
#[should_panic(expected = "nothing should arrive here")]
fn replay_fails_on_an_unlisted_frame() {
    let rows = format!(
        "{INLINE_OPEN}{}",
        r#"
{"i": 4, "t_ms": 0.3, "dir": "out", "opcode": "text", "text": "[\"1\",\"2\",\"room:self\",\"echo\",{}]"}
{"i": 5, "t_ms": 0.4, "dir": "out", "opcode": "close", "code": 1000, "server_close_code": 1000, "server_close_reason": ""}
"#
    );
    Replay::of(inline(&rows)).run();
}

/// ... and when a frame differs from the listed one by a single byte.
#[test]
#[should_panic(expected = "unexpected frame")]
fn replay_fails_on_a_different_frame() {
    let rows = format!(
        "{INLINE_OPEN}{}",
        r#"
{"i": 4, "t_ms": 0.3, "dir": "out", "opcode": "text", "text": "[\"1\",\"2\",\"room:self\",\"echo\",{\"a\":1}]"}
{"i": 5, "t_ms": 0.4, "dir": "in", "opcode": "text", "text": "[\"1\",\"2\",\"room:self\",\"phx_reply\",{\"response\":{\"a\":2},\"status\":\"ok\"}]"}
"#
    );
    Replay::of(inline(&rows)).run();
}
