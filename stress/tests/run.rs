//! `rig-stress` end to end: a short faulty run passes and writes every
//! report field; an injected loss fails with exit 1; bad flags exit 2.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking"
)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

mod util;

use util::{LIMIT, stress};

fn report_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    dir.join(format!("{name}-{}.json", std::process::id()))
}

fn read_report(path: &PathBuf) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_short_run_with_resets_stalls_and_a_restart_passes_and_reports_everything() {
    let json = report_path("short");
    let args = [
        "--clients",
        "50",
        "--topics",
        "2",
        "--rate",
        "20",
        "--duration",
        "10",
        "--reset-every",
        "3000",
        "--stall-every",
        "2500",
        "--stall-for",
        "300",
        "--restart-server-every",
        "6000",
        "--latency",
        "2",
        "--jitter",
        "2",
        "--seed",
        "11",
        "--json",
        json.to_str().unwrap(),
    ];
    let out = stress(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.starts_with("rig-stress: seed=11 "), "the seed comes first: {stderr}");
    let r = read_report(&json);
    assert_eq!(r["seed"], 11);
    assert_eq!(r["config"]["clients"], 50);
    assert_eq!(r["violations"], serde_json::json!([]));
    for (object, keys) in [
        (
            "pushes",
            &["sent", "acked", "lost", "recorded", "duplicates", "timeouts", "unresolved"][..],
        ),
        (
            "events",
            &[
                "expected",
                "delivered",
                "lost",
                "dropped",
                "cut_by_fault",
                "duplicated",
                "reordered",
            ],
        ),
        ("faults", &["resets", "stalls", "restarts", "skipped"]),
        ("time_to_recover_us", &["count", "p50", "p90", "p99", "max"]),
        ("latency_us", &["count", "p50", "p90", "p99", "p999", "max"]),
        ("resources", &["peak_rss_kb", "cpu_pct", "engine_cpu_pct"]),
    ] {
        for key in keys {
            assert!(r[object][key].is_number(), "{object}.{key} in {r:#}");
        }
    }
    assert!(r["faults"]["resets"].as_u64().unwrap() >= 2, "{r:#}");
    assert!(r["faults"]["stalls"].as_u64().unwrap() >= 2, "{r:#}");
    assert_eq!(r["faults"]["restarts"], 1, "{r:#}");
    assert!(r["reconnects"].as_u64().unwrap() >= 50, "every socket reconnected: {r:#}");
    assert!(r["events"]["delivered"].as_u64().unwrap() > 0, "{r:#}");
    assert_eq!(r["events"]["lost"], 0, "{r:#}");
    let acked = r["pushes"]["acked"].as_u64().unwrap();
    assert!(acked > 0, "{r:#}");
    assert!(
        r["pushes"]["recorded"].as_u64().unwrap() >= acked,
        "the push log holds every ack: {r:#}"
    );
    assert_eq!(r["pushes"]["lost"], 0, "{r:#}");
    assert!(r["time_to_recover_us"]["count"].as_u64().unwrap() > 0, "{r:#}");
    assert!(r["resources"]["peak_rss_kb"].as_u64().unwrap() > 0, "{r:#}");
}

#[test]
fn an_injected_loss_is_a_violation_and_exits_1() {
    let json = report_path("inject");
    let args = [
        "--clients",
        "5",
        "--topics",
        "1",
        "--rate",
        "50",
        "--duration",
        "2",
        "--push-rate",
        "0",
        "--seed",
        "3",
        "--inject-loss",
        "7",
        "--json",
        json.to_str().unwrap(),
    ];
    let out = stress(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("VIOLATION"), "{stderr}");
    let r = read_report(&json);
    assert!(r["events"]["lost"].as_u64().unwrap() > 0, "{r:#}");
    let violations = r["violations"].as_array().unwrap();
    assert!(violations.iter().any(|v| v.as_str().unwrap().contains("lost inside a join")), "{r:#}");
}

#[test]
fn usage_errors_exit_2_and_help_documents_the_contract() {
    for args in [&["--clients", "0"][..], &["--loss", "101"], &["--no-such-flag"]] {
        let out = stress(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let fast = stress(&["--reset-every", "5", "--stall-every", "7"]);
    let err = String::from_utf8_lossy(&fast.stderr);
    assert_eq!(fast.status.code(), Some(2), "{err}");
    assert!(err.contains("--reset-every") && err.contains("at least 100"), "{err}");
    let help = stress(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--clients",
        "--topics",
        "--rate",
        "--duration",
        "--latency",
        "--jitter",
        "--loss",
        "--reset-every",
        "--stall-every",
        "--restart-server-every",
        "--seed",
        "--json",
        "--report",
    ] {
        assert!(text.contains(flag), "{flag} missing from --help:\n{text}");
    }
    assert!(text.contains("Exit 0"), "{text}");
    assert!(!text.contains("--inject-loss"), "internal flags stay hidden:\n{text}");
}

#[test]
fn the_faulty_phase_ends_at_duration_and_skips_the_faults_that_fell_behind() {
    // About 20 restarts are planned in 2 s, but each keeps the server down
    // for 400 ms: at most 5 fit in the phase, the rest must be skipped
    // rather than run one after another past it (counts, not a clock).
    let json = report_path("behind");
    let args = [
        "--clients",
        "5",
        "--topics",
        "1",
        "--duration",
        "2",
        "--restart-server-every",
        "100",
        "--restart-down",
        "400",
        "--seed",
        "14",
        "--json",
        json.to_str().unwrap(),
    ];
    let out = stress(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    let r = read_report(&json);
    let restarts = r["faults"]["restarts"].as_u64().unwrap();
    let skipped = r["faults"]["skipped"].as_u64().unwrap();
    assert!((1..=5).contains(&restarts), "{r:#}");
    assert!(restarts + skipped >= 15, "the plan had about 20: {r:#}");
}

#[test]
fn loss_runs_the_clients_in_a_lossy_namespace_or_exits_2_saying_why() {
    let json = report_path("loss");
    let args = [
        "--clients",
        "10",
        "--topics",
        "1",
        "--rate",
        "20",
        "--duration",
        "3",
        "--loss",
        "5",
        "--reset-every",
        "1500",
        "--seed",
        "5",
        "--json",
        json.to_str().unwrap(),
    ];
    let out = stress(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) {
        // Not root, or ip/nft missing: the reason is given, nothing ran.
        assert!(stderr.contains("--loss needs a network namespace"), "{stderr}");
        eprintln!("skipped: {stderr}");
        return;
    }
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r = read_report(&json);
    assert_eq!(r["mode"], "namespace", "{r:#}");
    assert!(r["netns_dropped_packets"].is_number(), "{r:#}");
    assert!(r["resources"]["clients_peak_rss_kb"].as_u64().unwrap() > 0, "{r:#}");
    assert!(r["events"]["delivered"].as_u64().unwrap() > 0, "{r:#}");
    assert_eq!(r["violations"], serde_json::json!([]), "{r:#}");
}

#[test]
fn pushes_through_sqlite_outboxes_survive_resets_and_a_restart() {
    let json = report_path("sqlite");
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("outbox-{}", std::process::id()));
    let args = [
        "--clients",
        "8",
        "--topics",
        "1",
        "--push-rate",
        "20",
        "--duration",
        "4",
        "--reset-every",
        "1500",
        "--restart-server-every",
        "2500",
        "--seed",
        "9",
        "--outbox-dir",
        dir.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    let out = stress(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r = read_report(&json);
    let acked = r["pushes"]["acked"].as_u64().unwrap();
    assert!(acked > 100, "{r:#}");
    assert!(r["pushes"]["recorded"].as_u64().unwrap() >= acked, "{r:#}");
    assert_eq!(r["pushes"]["outbox_left"], 0, "{r:#}");
    let runs: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(runs.len(), 1, "one run directory in {dir:?}");
    let files = std::fs::read_dir(&runs[0]).unwrap().map(|e| e.unwrap().file_name());
    let outboxes = files.filter(|f| f.to_string_lossy().ends_with(".sqlite")).count();
    assert_eq!(outboxes, 8, "one SQLite outbox per client in {:?}", runs[0]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn too_many_sockets_for_one_process_move_the_clients_to_a_child() {
    let json = report_path("child");
    // 20 clients with a planning limit of 290 files: the server's 20 and
    // the engine's 20 (plus slack) do not fit in one process; no proxy
    // fault is asked for, so there is no proxy.
    let args = [
        "--clients",
        "20",
        "--topics",
        "1",
        "--rate",
        "20",
        "--duration",
        "4",
        "--restart-server-every",
        "2000",
        "--seed",
        "4",
        "--fd-limit",
        "290",
        "--json",
        json.to_str().unwrap(),
    ];
    let out = stress(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r = read_report(&json);
    assert_eq!(
        (&r["mode"], &r["proxy_used"]),
        (&serde_json::json!("child-process"), &serde_json::json!(false)),
        "{r:#}"
    );
    assert_eq!(r["faults"]["restarts"], 1, "{r:#}");
    assert!(r["resources"]["clients_peak_rss_kb"].as_u64().unwrap() > 0, "{r:#}");
    // And a limit too small for the proxy's sockets is refused up front.
    let refused = stress(&["--clients", "20", "--reset-every", "1000", "--fd-limit", "300"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("at most 14 clients with proxy faults"), "{stderr}");
}

#[test]
fn sigint_ends_the_run_early_with_a_report() {
    use std::io::BufRead as _;

    let json = report_path("sigint");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rig-stress"))
        .args(["--clients", "5", "--topics", "1", "--duration", "3600", "--seed", "8"])
        .args(["--json", json.to_str().unwrap()])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(first.starts_with("rig-stress: seed=8"), "{first}");
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    // Bounded: kill -9 after LIMIT if the run does not end.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(LIMIT).is_err() {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
    });
    let rest = std::io::read_to_string(stderr).unwrap();
    let status = child.wait().unwrap();
    let _ = done_tx.send(());
    watchdog.join().unwrap();
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    let r = read_report(&json);
    assert_eq!(r["interrupted"], true, "{r:#}");
    assert!(r["wall_s"].as_f64().unwrap() < 3600.0, "{r:#}");
}
