//! `rig demo` with a short duration: exits 0, restarts its server midway and
//! shows the reconnect and rejoin, then a summary.

use crate::cli_util::{rig, run};

#[test]
fn a_short_demo_shows_a_reconnect_and_exits_0() {
    let done = run(rig(&["demo", "--duration", "3", "--rate", "200"]), "");
    assert_eq!(done.code, Some(0), "{done:?}");
    let out = &done.stdout;
    assert!(out.starts_with("embedded server on ws://127.0.0.1:"), "{out}");
    assert!(out.contains("restarting the embedded server"), "{out}");
    assert!(out.contains("status: reconnecting (attempt 1)"), "{out}");
    assert_eq!(out.matches("status: open").count(), 2, "open, then open again: {out}");
    assert!(out.contains("stream:demo: errored -> joining"), "rejoined: {out}");
    let summary = out.lines().last().unwrap();
    assert!(summary.starts_with("summary: "), "{summary}");
    assert!(summary.contains("reconnects 1,"), "{summary}");
    assert!(summary.contains("latency p50 "), "{summary}");
}

#[test]
fn bad_demo_flags_are_usage_errors() {
    assert_eq!(run(rig(&["demo", "--duration", "0"]), "").code, Some(2));
    assert_eq!(run(rig(&["demo", "--rate", "0"]), "").code, Some(2));
}
