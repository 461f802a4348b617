//! `rig monitor` against servers that end the watch: an upgrade answered
//! 3xx/4xx and a normal close are not retried (exit 3 with the reason, not
//! an idle watch until `--duration`), a 5xx is retried, and topics the
//! server closes (`phx_close`) end the watch with exit 1 unless
//! `--rejoin-closed` joins them again.

use std::net::{TcpListener, TcpStream};

use crossbeam_channel::{Receiver, Sender};
use serde_json::json;
use tungstenite::Message;

use crate::cli_util::{Run, rig, run};
use crate::engine_fake::{Behaviour, FakeServer};

/// Longer than any of these watches should last: the old behaviour (sit
/// until the deadline, exit 0) fails the exit-code asserts.
const IDLE_LIMIT: &str = "20";

fn monitor(url: &str, extra: &[&str]) -> Run {
    let args = ["monitor", url, "-t", "room:x", "--duration", IDLE_LIMIT];
    run(rig(&[&args[..], extra].concat()), "")
}

#[test]
fn an_upgrade_answered_3xx_or_4xx_ends_with_exit_3_and_the_status() {
    let answers = [
        ("HTTP/1.1 302 Found\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n", "302"),
        ("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n", "400"),
        ("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n", "404"),
    ];
    for (answer, status) in answers {
        let fake = FakeServer::start(move |_| Behaviour::RawResponse(answer));
        let done = monitor(&fake.url(), &[]);
        assert_eq!(done.code, Some(3), "{status}: {done:?}");
        assert!(done.stderr.contains(&format!("http status {status} (not retried)")), "{done:?}");
        assert!(done.stderr.contains("hint: "), "{done:?}");
        assert_eq!(fake.accepted(), 1, "{status} is not retried");
    }
}

#[test]
fn an_upgrade_answered_5xx_is_retried_until_the_deadline() {
    let answer = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n";
    let fake = FakeServer::start(move |_| Behaviour::RawResponse(answer));
    let args = ["monitor", &fake.url(), "-t", "room:x", "--duration", "2"];
    let done = run(rig(&args), "");
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(fake.accepted() >= 2, "retried: {} connections; {done:?}", fake.accepted());
}

#[test]
fn a_normal_close_ends_with_exit_3_and_says_it_is_not_retried() {
    let fake = FakeServer::start(|_| Behaviour::CloseWith(1000));
    let done = monitor(&fake.url(), &[]);
    assert_eq!(done.code, Some(3), "{done:?}");
    assert!(
        done.stderr.contains(
            "the server closed the connection (code 1000: bye); a normal close is not retried"
        ),
        "{done:?}"
    );
    assert_eq!(fake.accepted(), 1, "{done:?}");
}

/// A Phoenix endpoint that accepts every join and closes the `close:*`
/// topics (`phx_close`) right after; reports each joined topic.
fn closing_server() -> (String, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/socket", listener.local_addr().unwrap());
    let (tx, joins) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let tx = tx.clone();
            std::thread::spawn(move || serve_closing(stream, &tx));
        }
    });
    (url, joins)
}

fn serve_closing(stream: TcpStream, joins: &Sender<String>) {
    let Ok(mut ws) = tungstenite::accept(stream) else { return };
    while let Ok(message) = ws.read() {
        let Ok(text) = message.to_text() else { continue };
        let Ok(serde_json::Value::Array(frame)) = serde_json::from_str(text) else { continue };
        let [join_ref, reference, topic, event, _payload] = &frame[..] else { continue };
        if event != "phx_join" {
            continue;
        }
        let reply =
            json!([join_ref, reference, topic, "phx_reply", {"status": "ok", "response": {}}]);
        let close = json!([join_ref, null, topic, "phx_close", {}]);
        let name = topic.as_str().unwrap_or_default().to_owned();
        let mut sent = ws.send(Message::text(reply.to_string()));
        if name.starts_with("close:") {
            sent = sent.and_then(|()| ws.send(Message::text(close.to_string())));
        }
        let _ = joins.send(name);
        if sent.is_err() {
            return;
        }
    }
}

#[test]
fn topics_the_server_closed_end_the_watch_with_exit_1() {
    let (url, joins) = closing_server();
    let args = ["monitor", &url, "-t", "close:x", "-t", "close:y", "--duration", IDLE_LIMIT];
    let done = run(rig(&args), "");
    assert_eq!(done.code, Some(1), "{done:?}");
    assert!(done.stderr.contains("rig: the server closed every topic: "), "{done:?}");
    assert!(done.stderr.contains("close:x (closed by the server)"), "{done:?}");
    assert!(done.stderr.contains("close:y (closed by the server)"), "{done:?}");
    assert!(done.stderr.contains("hint: pass --rejoin-closed"), "{done:?}");
    assert_eq!(joins.try_iter().count(), 2, "each topic joined once");
}

#[test]
fn rejoin_closed_joins_each_closed_topic_again() {
    let (url, joins) = closing_server();
    let topics = ["-t", "close:x", "-t", "open:y"];
    let flags = ["--rejoin-closed", "--duration", "3"];
    let args = [&["monitor", url.as_str()][..], &topics[..], &flags[..]].concat();
    let done = run(rig(&args), "");
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(done.stderr.contains("rig: close:x: joining again"), "{done:?}");
    let joined: Vec<String> = joins.try_iter().collect();
    let again = joined.iter().filter(|t| *t == "close:x").count();
    assert!(again >= 2, "close:x joined again while open:y stays: {joined:?}");
    assert_eq!(joined.iter().filter(|t| *t == "open:y").count(), 1, "{joined:?} {done:?}");
}
