//! `rig diagnose` against `rig serve`: a good socket (plain and TLS), a
//! refused token, a closed port, an untrusted certificate, a refused join.

use crate::cli_util::{TlsServer, rig, run, socket_url};
use crate::util::RigServer;

fn diagnose(url: &str, token: &str, args: &[&str]) -> crate::cli_util::Run {
    let mut all = vec!["diagnose", url];
    all.extend_from_slice(args);
    let mut command = rig(&all);
    command.env("RIG_TOKEN", token);
    run(command, "")
}

fn report(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

fn step_names(report: &serde_json::Value) -> Vec<(String, bool)> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap().to_owned(), s["ok"].as_bool().unwrap()))
        .collect()
}

fn steps(list: &[(&str, bool)]) -> Vec<(String, bool)> {
    list.iter().map(|(n, ok)| ((*n).to_owned(), *ok)).collect()
}

#[test]
fn a_good_socket_passes_every_step() {
    let server = RigServer::start_secret();
    let done = diagnose(&socket_url(&server), "secret", &["--topic", "room:d", "--json"]);
    assert_eq!(done.code, Some(0), "{done:?}");
    let r = report(&done.stdout);
    assert_eq!(r["ok"], true);
    let want =
        [("dns", true), ("tcp", true), ("websocket", true), ("heartbeat", true), ("join", true)];
    assert_eq!(step_names(&r), steps(&want));
    assert_eq!(r["steps"][2]["status"], 101);
    assert_eq!(r["steps"][3]["samples_ms"].as_array().unwrap().len(), 5);
    assert!(!done.stdout.contains("secret"), "{}", done.stdout);
    // The text report names each step too.
    let text = diagnose(&socket_url(&server), "secret", &[]);
    assert_eq!(text.code, Some(0), "{text:?}");
    assert!(text.stdout.contains("heartbeat    ok"), "{}", text.stdout);
}

#[test]
fn a_refused_token_fails_the_upgrade_with_a_hint() {
    let server = RigServer::start_secret();
    let done = diagnose(&socket_url(&server), "bad-token", &["--json"]);
    assert_eq!(done.code, Some(3), "{done:?}");
    let r = report(&done.stdout);
    assert_eq!(step_names(&r), steps(&[("dns", true), ("tcp", true), ("websocket", false)]));
    assert_eq!(r["steps"][2]["status"], 403);
    assert!(r["steps"][2]["hint"].as_str().unwrap().contains("token"));
    assert!(!done.stdout.contains("bad-token"), "{}", done.stdout);
}

#[test]
fn a_closed_port_fails_tcp() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let done = diagnose(&format!("ws://127.0.0.1:{port}/socket"), "x", &[]);
    assert_eq!(done.code, Some(3), "{done:?}");
    assert!(done.stdout.contains("tcp          FAILED"), "{}", done.stdout);
    assert!(done.stdout.contains("hint: is the server running"), "{}", done.stdout);
}

#[test]
fn a_refused_join_fails_the_join_step() {
    let server = RigServer::start_secret();
    let done = diagnose(&socket_url(&server), "secret", &["--topic", "room:forbidden", "--json"]);
    assert_eq!(done.code, Some(3), "{done:?}");
    let r = report(&done.stdout);
    assert_eq!(r["steps"][4]["step"], "join");
    assert_eq!(r["steps"][4]["response"]["reason"], "unauthorized");
}

#[test]
fn tls_shows_version_cipher_and_certificate_and_checks_trust() {
    let tls = TlsServer::start("diagnose");
    let url = tls.url();
    let trusted = diagnose(&url, "secret", &["--tls-ca", tls.ca(), "--json"]);
    let untrusted = diagnose(&url, "secret", &["--json"]);
    let insecure = diagnose(&url, "secret", &["--insecure", "--json"]);

    assert_eq!(trusted.code, Some(0), "{trusted:?}");
    let r = report(&trusted.stdout);
    let tls = &r["steps"][2];
    assert_eq!(tls["step"], "tls");
    assert!(tls["version"].as_str().unwrap().starts_with("TLSv1_"), "{tls}");
    assert!(tls["cipher"].as_str().unwrap().starts_with("TLS"), "{tls}");
    let cert = &r["steps"][3];
    assert_eq!(cert["verified"], true, "{cert}");
    assert!(cert["subject"].as_str().unwrap().contains("rcgen"), "{cert}");
    assert!(cert["not_after"].as_str().unwrap().ends_with('Z'), "{cert}");

    assert_eq!(untrusted.code, Some(3), "{untrusted:?}");
    let r = report(&untrusted.stdout);
    assert_eq!(r["steps"][3]["ok"], false);
    assert_eq!(r["steps"][3]["verified"], false);
    assert!(r["steps"][3]["hint"].as_str().unwrap().contains("--tls-ca"));

    assert_eq!(insecure.code, Some(0), "{insecure:?}");
    assert!(insecure.stderr.contains("warning: --insecure"), "{}", insecure.stderr);
}

/// A deliberately slow server, not a timing assertion.
#[expect(clippy::disallowed_methods, reason = "a deliberately slow server, not a timing assertion")]
fn pause(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

/// A server on 127.0.0.1:0 for one connection; `serve` gets the accepted
/// stream and returns what the test checks.
fn one_connection<T: Send + 'static>(
    serve: impl FnOnce(std::net::TcpStream) -> T + Send + 'static,
) -> (String, std::thread::JoinHandle<T>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/socket", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || serve(listener.accept().unwrap().0));
    (url, server)
}

#[test]
fn an_upgrade_reply_sent_one_byte_at_a_time_is_cut_by_the_timeout() {
    use std::io::{BufRead as _, BufReader, Write as _};
    // Reads the request, then drips a valid 101 reply one byte per 50 ms
    // (each read of the client sees a byte long before a per-read timeout);
    // returns how many bytes went out before the client hung up, and how
    // many the reply has.
    let (url, server) = one_connection(|stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut key = String::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("sec-websocket-key:") {
                key = line[line.len() - value.len()..].trim().to_owned();
            }
            line.clear();
        }
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let reply = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        let mut stream = stream;
        let mut sent = 0;
        for byte in reply.as_bytes() {
            if stream.write_all(&[*byte]).is_err() {
                break;
            }
            sent += 1;
            pause(50);
        }
        (sent, reply.len())
    });
    let done = diagnose(&url, "x", &["--timeout", "1000", "--json"]);
    assert_eq!(done.code, Some(3), "{done:?}");
    let r = report(&done.stdout);
    assert_eq!(step_names(&r), steps(&[("dns", true), ("tcp", true), ("websocket", false)]));
    let detail = r["steps"][2]["detail"].as_str().unwrap();
    assert!(detail.contains("timed out") && detail.contains("1000 ms"), "{detail}");
    assert!(r["steps"][2]["hint"].as_str().unwrap().contains("--timeout"), "{r:#}");
    let (sent, whole) = server.join().unwrap();
    assert!(sent < whole, "the reply was never cut: {sent} of {whole} bytes");
}

#[test]
fn the_timeout_bounds_the_whole_run_not_each_reply() {
    // Each heartbeat is answered after 300 ms, well within a 1000 ms read
    // timeout, but five of them need 1500 ms: more than the run may take.
    // Returns how many heartbeats were answered.
    let (url, server) = one_connection(|stream| {
        let mut socket = tungstenite::accept(stream).unwrap();
        let mut answered = 0;
        while let Ok(message) = socket.read() {
            let Ok(text) = message.to_text() else { break };
            let Ok(frame) = serde_json::from_str::<serde_json::Value>(text) else { break };
            pause(300);
            let reply = serde_json::json!([null, frame[1], "phoenix", "phx_reply", {"status": "ok", "response": {}}]);
            if socket.send(tungstenite::Message::text(reply.to_string())).is_err() {
                break;
            }
            answered += 1;
        }
        answered
    });
    let done = diagnose(&url, "x", &["--timeout", "1000", "--json"]);
    assert_eq!(done.code, Some(3), "{done:?}");
    let r = report(&done.stdout);
    let want = [("dns", true), ("tcp", true), ("websocket", true), ("heartbeat", false)];
    assert_eq!(step_names(&r), steps(&want));
    let detail = r["steps"][3]["detail"].as_str().unwrap();
    assert!(detail.contains("timed out"), "{detail}");
    let answered = server.join().unwrap();
    assert!(answered < 5, "every heartbeat was waited for: {answered}");
}
