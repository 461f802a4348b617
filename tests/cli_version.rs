//! `rig --version` and `rig-bench --version`: the crate version, and the git
//! commit when the binaries were built from a checkout.

use std::process::Command;

/// The commit `git` reports for the repository these tests were built in,
/// or `None` outside a checkout (a packaged crate).
fn checkout_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn version_of(program: &str, flag: &str) -> String {
    let out = Command::new(program).arg(flag).output().unwrap();
    assert!(out.status.success(), "{program} {flag}: {out:?}");
    assert!(out.stderr.is_empty(), "{program} {flag} wrote to stderr: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_binary_prints_its_version_and_commit() {
    let version = env!("CARGO_PKG_VERSION");
    let expected_tail = match checkout_commit() {
        Some(commit) => format!("{version} (commit {commit})\n"),
        None => format!("{version}\n"),
    };
    for (name, program) in
        [("rig", env!("CARGO_BIN_EXE_rig")), ("rig-bench", env!("CARGO_BIN_EXE_rig-bench"))]
    {
        for flag in ["--version", "-V"] {
            let line = version_of(program, flag);
            assert_eq!(line, format!("{name} {expected_tail}"), "{name} {flag}");
        }
    }
}
