//! The `rig-bench` contract against `rig serve`: one JSON line with every
//! field, no gaps for a burst and for a paced stream; exit 2 on usage
//! errors, 3 when the server cannot be reached.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::util::RigServer;
use crate::util::server::wait_with_deadline;

/// How long one run may take (a debug build on a loaded 2-core machine).
const RUN: Duration = Duration::from_secs(120);

/// Runs `rig-bench args`; returns its exit code, stdout and stderr.
fn rig_bench(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rig-bench"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_with_deadline(&mut child, RUN);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("rig-bench {args:?} did not finish within {RUN:?}");
    }
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status.and_then(|s| s.code()), stdout, stderr)
}

/// Runs a measured stream and checks the report's shape; returns it.
fn run_ok(url: &str, load: &[&str], count: u64) -> Value {
    let mut args = vec!["--url", url];
    args.extend_from_slice(load);
    let (code, stdout, stderr) = rig_bench(&args);
    assert_eq!(code, Some(0), "rig-bench {args:?}: stdout {stdout:?}, stderr {stderr:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stdout:?}");
    let report: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(report["mode"], "engine");
    assert_eq!(report["events"], count, "{report}");
    assert_eq!(report["gaps"], 0, "{report}");
    let elapsed = report["elapsed_s"].as_f64().unwrap();
    assert!(elapsed > 0.0, "{report}");
    assert!(report["events_per_s"].as_f64().unwrap() > 0.0, "{report}");
    let latency = &report["latency_us"];
    let quantiles = ["p50", "p90", "p99", "p999", "max"].map(|q| latency[q].as_u64().unwrap());
    assert!(quantiles.windows(2).all(|w| w[0] <= w[1]), "quantiles in order: {report}");
    assert!(report["cpu_pct"].as_f64().unwrap() >= 0.0, "{report}");
    assert!(report["vmhwm_kb"].as_u64().unwrap() > 0, "{report}");
    report
}

#[test]
fn burst_and_rate_runs_report_every_event_without_gaps() {
    let server = RigServer::start(&[]);
    let url = format!("ws://{}/socket", server.addr());
    run_ok(&url, &["--burst", "--count", "20000"], 20_000);
    let paced =
        run_ok(&url, &["--rate", "2000", "--count", "2000", "--topic", "stream:paced"], 2000);
    // 2,000 events at 2,000/s: the last is due 1 s after the first.
    assert!(paced["elapsed_s"].as_f64().unwrap() >= 0.99, "{paced}");
}

#[test]
fn every_consumer_path_reports_every_event_and_names_itself() {
    let server = RigServer::start(&[]);
    let url = format!("ws://{}/socket", server.addr());
    for consumer in ["on", "subscription", "filter"] {
        let topic = format!("stream:{consumer}");
        let burst = ["--burst", "--count", "5000", "--consumer", consumer, "--topic", &topic];
        assert_eq!(run_ok(&url, &burst, 5000)["consumer"], consumer);
        let paced = ["--rate", "2000", "--count", "200", "--pace", "frame", "--consumer", consumer];
        assert_eq!(run_ok(&url, &paced, 200)["consumer"], consumer);
    }
}

#[test]
fn usage_errors_exit_2() {
    let url = "ws://127.0.0.1:9/socket";
    let cases: [&[&str]; 9] = [
        &[],
        &["--url", url, "--count", "10"],
        &["--url", url, "--burst"],
        &["--url", url, "--burst", "--rate", "5", "--count", "10"],
        &["--url", url, "--rate", "0", "--count", "10"],
        &["--url", "not a url", "--burst", "--count", "10"],
        &["--url", url, "--burst", "--count", "10", "--consumer", "spin"],
        &["--url", url, "--burst", "--count", "10", "--pace", "slow"],
        &["--url", url, "--burst", "--count", "10", "--param", "novalue"],
    ];
    for args in cases {
        let (code, stdout, stderr) = rig_bench(args);
        assert_eq!(code, Some(2), "rig-bench {args:?}: stdout {stdout:?}, stderr {stderr:?}");
        assert!(stdout.is_empty(), "{args:?}: {stdout:?}");
        assert!(stderr.contains("usage: rig-bench"), "{args:?}: {stderr:?}");
    }
}

#[test]
fn unreachable_server_exits_3() {
    // Bind then drop a listener: the port is free and refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}/socket");
    let (code, stdout, stderr) = rig_bench(&["--url", &url, "--burst", "--count", "10"]);
    assert_eq!(code, Some(3), "stdout {stdout:?}, stderr {stderr:?}");
    assert!(stdout.is_empty(), "{stdout:?}");
}

#[test]
fn a_metrics_port_in_use_is_a_usage_error_before_connecting() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    // Nothing listens at port 9: getting as far as connecting would exit 3.
    let args = ["--url", "ws://127.0.0.1:9/socket", "--burst", "--count", "1", "--metrics", &addr];
    let (code, _, stderr) = rig_bench(&args);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--metrics"), "{stderr}");
}
