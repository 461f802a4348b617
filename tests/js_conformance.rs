//! The official phoenix.js client (npm `phoenix`, pinned in tests/js) against
//! `rig serve`, through the scenarios recorded against real Phoenix.
//!
//! Needs `node` and `npm` on PATH; runs `npm ci` in tests/js once when its
//! `node_modules` is missing.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use crate::util::RigServer;
use crate::util::fixtures;
use crate::util::server::{SHUTDOWN, wait_with_deadline};

/// `npm ci` from the registry on a slow day.
const NPM_CI: Duration = Duration::from_secs(300);

/// The whole script (its own watchdog fires at 150 s).
const SCRIPT: Duration = Duration::from_secs(170);

fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// Output of a finished command.
struct Finished {
    success: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `command` to completion, killing it after `timeout`.
fn run(mut command: Command, timeout: Duration) -> Finished {
    let what = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = wait_with_deadline(&mut child, timeout);
    if status.is_none() {
        let _ = child.kill();
        let _ = wait_with_deadline(&mut child, SHUTDOWN);
    }
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let Some(status) = status else {
        panic!("{what} did not finish within {timeout:?}\nstdout:\n{stdout}\nstderr:\n{stderr}")
    };
    Finished { success: status.success(), code: status.code(), stdout, stderr }
}

fn require_tool(tool: &str) {
    let mut command = Command::new(tool);
    command.arg("--version");
    let found = command.stdout(Stdio::null()).stderr(Stdio::null()).status();
    assert!(
        found.is_ok_and(|status| status.success()),
        "`{tool}` is required by the JS conformance suite but was not found on PATH: \
         install Node.js 18+ with npm (e.g. `apt-get install nodejs npm`)"
    );
}

fn ensure_node_modules(dir: &Path) {
    if dir.join("node_modules/phoenix/package.json").is_file()
        && dir.join("node_modules/ws/package.json").is_file()
    {
        return;
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund"]).current_dir(dir);
    let done = run(npm, NPM_CI);
    assert!(
        done.success,
        "`npm ci` in {} failed ({:?}):\n{}\n{}",
        dir.display(),
        done.code,
        done.stdout,
        done.stderr
    );
}

#[test]
fn official_phoenix_js_client_matches_real_phoenix() {
    require_tool("node");
    require_tool("npm");
    let dir = js_dir();
    ensure_node_modules(&dir);
    let server = RigServer::start_secret();
    let url = format!("ws://{}/socket", server.addr());
    let recorded = fixtures::dir().join("js_client_scenarios.json");
    let mut node = Command::new("node");
    node.arg("conformance.mjs").arg(&url).arg(&recorded).current_dir(&dir);
    let done = run(node, SCRIPT);
    assert!(
        done.success,
        "phoenix.js conformance failed (exit {:?}). Report:\n{}\nstderr:\n{}",
        done.code, done.stdout, done.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&done.stdout)
        .unwrap_or_else(|e| panic!("the report is not JSON ({e}):\n{}", done.stdout));
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(report["passed"], 18, "all 18 recorded scenarios must run: {report:#}");
}
