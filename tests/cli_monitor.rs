//! `rig monitor` against `rig serve`: exact lines for a known stream, event
//! filters, the pretty format, a refused token, and SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::Duration;

use crate::cli_util::{TlsServer, rig, run, socket_url};
use crate::util::RigServer;
use crate::util::server::wait_with_deadline;

/// Masks what changes from run to run: the `ts` of each line and the
/// server's `t` and `server_elapsed_us`.
fn masked(line: &str) -> String {
    let mut value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    let ts = value["ts"].as_str().expect("ts");
    assert!(ts.len() == 27 && ts.ends_with('Z'), "RFC 3339 UTC with µs: {ts}");
    value["ts"] = "TS".into();
    for key in ["t", "server_elapsed_us"] {
        if value["payload"].get(key).is_some() {
            value["payload"][key] = 0.into();
        }
    }
    value.to_string()
}

fn monitor(server: &RigServer, args: &[&str]) -> crate::cli_util::Run {
    let url = socket_url(server);
    let mut all = vec!["monitor", url.as_str()];
    all.extend_from_slice(args);
    let mut command = rig(&all);
    command.env("RIG_TOKEN", "secret");
    run(command, "")
}

#[test]
fn a_known_stream_gives_exact_lines_then_exits_at_count() {
    let server = RigServer::start_secret();
    let args = ["-t", "stream:m", "--join-param", "rate=200", "--join-param", "count=3"];
    let done = monitor(&server, &[&args[..], &["--count", "4"]].concat());
    assert_eq!(done.code, Some(0), "{done:?}");
    let lines: Vec<String> = done.stdout.lines().map(masked).collect();
    // serde_json's map orders keys; the shape is what matters here.
    let want = [
        r#"{"event":"event","join_ref":"1","payload":{"seq":1,"t":0},"ref":null,"topic":"stream:m","ts":"TS"}"#,
        r#"{"event":"event","join_ref":"1","payload":{"seq":2,"t":0},"ref":null,"topic":"stream:m","ts":"TS"}"#,
        r#"{"event":"event","join_ref":"1","payload":{"seq":3,"t":0},"ref":null,"topic":"stream:m","ts":"TS"}"#,
        r#"{"event":"done","join_ref":"1","payload":{"count":3,"server_elapsed_us":0},"ref":null,"topic":"stream:m","ts":"TS"}"#,
    ];
    assert_eq!(lines, want);
    // The raw line keeps the contract's field order.
    let first = done.stdout.lines().next().unwrap();
    assert!(first.starts_with(r#"{"ts":""#), "{first}");
    assert!(first.ends_with(r#","ref":null,"join_ref":"1"}"#), "{first}");
    assert!(done.stderr.contains("4 events printed"), "{}", done.stderr);
}

#[test]
fn event_filter_and_pretty_format() {
    let server = RigServer::start_secret();
    let done = monitor(
        &server,
        &[
            "-t",
            "stream:p",
            "--join-param",
            "count=2",
            "-e",
            "done",
            "--format",
            "pretty",
            "--count",
            "1",
        ],
    );
    assert_eq!(done.code, Some(0), "{done:?}");
    let line = done.stdout.trim_end();
    assert!(line.contains(r#" stream:p done {"count":2,"server_elapsed_us":"#), "{line}");
    assert_eq!(done.stdout.lines().count(), 1, "{done:?}");
    assert!(!done.stdout.contains('\x1b'), "no color when stdout is not a terminal");
}

#[test]
fn refused_token_exits_3() {
    let server = RigServer::start_secret();
    let url = socket_url(&server);
    let mut command = rig(&["monitor", &url, "-t", "room:a"]);
    command.env("RIG_TOKEN", "not-the-token");
    let done = run(command, "");
    assert_eq!(done.code, Some(3), "{done:?}");
    assert!(done.stderr.contains("authentication failed"), "{}", done.stderr);
    assert!(!done.stderr.contains("not-the-token"), "{}", done.stderr);
}

#[test]
fn no_topic_is_a_usage_error() {
    let done = run(rig(&["monitor", "ws://127.0.0.1:1/socket"]), "");
    assert_eq!(done.code, Some(2), "{done:?}");
}

#[test]
fn sigterm_exits_0_with_final_counts() {
    let server = RigServer::start_secret();
    let url = socket_url(&server);
    let mut command = rig(&["monitor", &url, "-t", "stream:s", "--join-param", "count=1000000"]);
    command.env("RIG_TOKEN", "secret").stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains(r#""event":"event""#), "{first}");
    // Keep draining, so the monitor never blocks on a full pipe.
    let drain = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with our own child's pid and a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = wait_with_deadline(&mut child, Duration::from_secs(30)).expect("exits");
    assert_eq!(status.code(), Some(0));
    drain.join().unwrap().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("events printed"), "{stderr}");
}

#[test]
fn wss_with_a_full_websocket_url_and_connect_params() {
    let tls = TlsServer::start("monitor");
    // A full `.../socket/websocket` URL; the token as a plain --param.
    let url = format!("{}/websocket", tls.url());
    let args =
        ["monitor", url.as_str(), "-t", "stream:w", "--join-param", "count=1", "--count", "2"];
    let mut command =
        rig(&[&args[..], &["--param", "token=secret", "--tls-ca", tls.ca()]].concat());
    command.env_remove("RIG_TOKEN");
    let done = run(command, "");
    assert_eq!(done.code, Some(0), "{done:?}");
    let events: Vec<String> = done.stdout.lines().map(masked).collect();
    assert_eq!(events.len(), 2, "{done:?}");
    assert!(events[1].contains(r#""event":"done""#), "{events:?}");
}

#[test]
fn duration_ends_a_quiet_watch_with_exit_0() {
    let server = RigServer::start_secret();
    let done = monitor(&server, &["-t", "room:quiet", "--duration", "0.5", "--vsn", "1"]);
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(done.stdout.is_empty(), "{done:?}");
    assert!(done.stderr.contains("room:quiet: joining -> joined"), "{}", done.stderr);
    assert!(done.stderr.contains("0 events printed"), "{}", done.stderr);
}

#[test]
fn where_filters_a_pattern_topic_with_exact_lines() {
    let server = RigServer::start_secret();
    // `stream:*` is joined as written and matched as a prefix pattern.
    let args = ["-t", "stream:*", "--join-param", "rate=200", "--join-param", "count=9"];
    let done = monitor(&server, &[&args[..], &["-w", "payload.seq > 3", "--count", "3"]].concat());
    assert_eq!(done.code, Some(0), "{done:?}");
    let lines: Vec<String> = done.stdout.lines().map(masked).collect();
    let want = [
        r#"{"event":"event","join_ref":"1","payload":{"seq":4,"t":0},"ref":null,"topic":"stream:*","ts":"TS"}"#,
        r#"{"event":"event","join_ref":"1","payload":{"seq":5,"t":0},"ref":null,"topic":"stream:*","ts":"TS"}"#,
        r#"{"event":"event","join_ref":"1","payload":{"seq":6,"t":0},"ref":null,"topic":"stream:*","ts":"TS"}"#,
    ];
    assert_eq!(lines, want);
    assert!(done.stderr.contains("3 events printed"), "{}", done.stderr);
}

#[test]
fn several_where_are_anded_with_the_event_set() {
    let server = RigServer::start_secret();
    let args = ["-t", "stream:and", "--join-param", "rate=200", "--join-param", "count=6"];
    let filters =
        ["-e", "event", "-w", "payload.seq >= 2", "-w", "payload.seq != 3", "--count", "2"];
    let done = monitor(&server, &[&args[..], &filters[..]].concat());
    assert_eq!(done.code, Some(0), "{done:?}");
    let seqs: Vec<String> = done.stdout.lines().map(masked).collect();
    assert_eq!(seqs.len(), 2, "{done:?}");
    assert!(seqs[0].contains(r#""payload":{"seq":2,"t":0}"#), "{seqs:?}");
    assert!(seqs[1].contains(r#""payload":{"seq":4,"t":0}"#), "{seqs:?}");
    // The event set and the predicate both apply: only `done` has `count`.
    let done_only = ["-e", "done", "-w", "payload.count == 6", "--count", "1"];
    let done = monitor(&server, &[&args[..], &done_only[..]].concat());
    assert_eq!(done.code, Some(0), "{done:?}");
    let lines: Vec<String> = done.stdout.lines().map(masked).collect();
    assert_eq!(
        lines,
        [
            r#"{"event":"done","join_ref":"1","payload":{"count":6,"server_elapsed_us":0},"ref":null,"topic":"stream:and","ts":"TS"}"#
        ]
    );
}

#[test]
fn a_bad_where_expression_exits_2_with_a_caret() {
    // Checked before connecting: no server is needed.
    let url = "ws://127.0.0.1:1/socket";
    let done = run(rig(&["monitor", url, "-t", "room:a", "-w", "payload.n >> 5"]), "");
    assert_eq!(done.code, Some(2), "{done:?}");
    assert!(done.stderr.contains("rig: bad -w expression, column 12: "), "{}", done.stderr);
    assert!(done.stderr.contains("\n    payload.n >> 5\n               ^\n"), "{}", done.stderr);
    assert!(done.stdout.is_empty(), "{done:?}");
}
