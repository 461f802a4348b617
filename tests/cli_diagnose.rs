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
