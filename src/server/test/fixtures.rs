//! Replays every recorded Phoenix transcript against the server: each `out`
//! row is sent and each `in` row must arrive byte for byte (presence refs and
//! stream times normalised). The thorough replay lives in tests/; this one
//! keeps the server honest while it changes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use tungstenite::Message;

use super::util::{Client, server_with, try_connect};
use crate::server::{ServerConfig, ServerConfigBuilder, ServerHandle};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/phoenix-1.7")
}

fn rows(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(dir().join(name)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Replaces the value after each `"key":` with `_`, for values that vary.
fn normalise(text: &str) -> String {
    let mut out = text.to_owned();
    for key in ["\"phx_ref\":", "\"phx_ref_prev\":", "\"t\":", "\"server_elapsed_us\":"] {
        let mut from = 0;
        while let Some(at) = out.get(from..).and_then(|s| s.find(key)) {
            let start = from + at + key.len();
            let rest = out.get(start..).unwrap_or_default();
            let len = if rest.starts_with('"') {
                rest.get(1..).and_then(|r| r.find('"')).map_or(rest.len(), |n| n + 2)
            } else {
                rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len())
            };
            out.replace_range(start..start + len, "_");
            from = start + 1;
        }
    }
    out
}

fn binary(row: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(row["b64"].as_str().unwrap()).unwrap()
}

fn replay(name: &str, config: ServerConfigBuilder) {
    let server: ServerHandle = server_with(config.token("secret").build());
    let mut conns: HashMap<String, Client> = HashMap::new();
    for row in rows(name) {
        let conn = row["conn"].as_str().unwrap_or_default().to_owned();
        let at = format!("{name} row {}", row["i"]);
        match (row["dir"].as_str().unwrap(), row["opcode"].as_str()) {
            ("http", _) => {
                let url = row["url"].as_str().unwrap();
                let query = url.split_once('?').map_or("", |(_, q)| q);
                match try_connect(&server, query, &[]) {
                    Ok(client) => {
                        assert_eq!(row["status"], 101, "{at}");
                        conns.insert(conn, client);
                    }
                    Err(tungstenite::Error::Http(response)) => {
                        assert_eq!(row["status"], response.status().as_u16(), "{at}");
                    }
                    Err(e) => panic!("{at}: {e}"),
                }
            }
            ("out", Some("text")) => {
                conns.get_mut(&conn).unwrap().send(row["text"].as_str().unwrap())
            }
            ("out", Some("binary")) => conns.get_mut(&conn).unwrap().send_binary(binary(&row)),
            ("out", Some("close")) => {
                let c = conns.get_mut(&conn).unwrap();
                let code = u16::try_from(row["code"].as_u64().unwrap()).unwrap();
                let frame =
                    tungstenite::protocol::CloseFrame { code: code.into(), reason: "".into() };
                c.ws.close(Some(frame)).unwrap();
                match c.next() {
                    Message::Close(Some(frame)) => {
                        assert_eq!(
                            u16::from(frame.code),
                            row["server_close_code"].as_u64().unwrap() as u16,
                            "{at}"
                        );
                    }
                    Message::Close(None) => assert_eq!(row["server_close_code"], 1005, "{at}"),
                    other => panic!("{at}: expected the close reply, got {other:?}"),
                }
            }
            ("in", Some("text")) => {
                let got = conns.get_mut(&conn).unwrap().next_text();
                assert_eq!(normalise(&got), normalise(row["text"].as_str().unwrap()), "{at}");
            }
            ("in", Some("binary")) => match conns.get_mut(&conn).unwrap().next() {
                Message::Binary(got) => assert_eq!(got.as_ref(), binary(&row).as_slice(), "{at}"),
                other => panic!("{at}: expected a binary frame, got {other:?}"),
            },
            ("in", Some("close")) => {
                conns.get_mut(&conn).unwrap().expect_close(row["code"].as_u64().unwrap() as u16);
            }
            _ => {}
        }
    }
    for (name, c) in &mut conns {
        if c.ws.can_read() && c.ws.can_write() {
            assert!(
                c.next_within(Duration::from_millis(100)).is_none(),
                "{name}: unexpected frame"
            );
        }
    }
}

fn default() -> ServerConfigBuilder {
    ServerConfig::builder()
}

#[test]
fn fixture_connect_refused() {
    replay("connect_refused.jsonl", default());
}

#[test]
fn fixture_connect_heartbeat() {
    replay("connect_heartbeat.jsonl", default());
}

#[test]
fn fixture_join_variants() {
    replay("join_variants.jsonl", default());
}

#[test]
fn fixture_echo_reply_push() {
    replay("echo_reply_push.jsonl", default());
}

#[test]
fn fixture_close() {
    replay("close.jsonl", default());
}

#[test]
fn fixture_crash_rejoin() {
    replay("crash_rejoin.jsonl", default());
}

#[test]
fn fixture_duplicate_join() {
    replay("duplicate_join.jsonl", default());
}

#[test]
fn fixture_slow_push() {
    replay("slow_push.jsonl", default());
}

#[test]
fn fixture_stream() {
    replay("stream.jsonl", default());
}

#[test]
fn fixture_presence() {
    replay("presence.jsonl", default());
}

#[test]
fn fixture_malformed() {
    replay("malformed.jsonl", default());
}

#[test]
fn fixture_idle_timeout() {
    replay("idle_timeout.jsonl", ServerConfig::builder().idle_timeout(Duration::from_secs(2)));
}

#[test]
fn normalise_blanks_varying_values() {
    assert_eq!(
        normalise(r#"{"phx_ref":"Ab-c","seq":1,"t":123}"#),
        r#"{"phx_ref":_,"seq":1,"t":_}"#
    );
}
