//! `rig-stress --version`: the rig version line, as `rig --version` prints it.

#![allow(clippy::unwrap_used, reason = "tests fail by panicking")]

use std::process::Command;

#[test]
fn prints_the_rig_version_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_rig-stress")).arg("--version").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(line, format!("rig-stress {}\n", rig::VERSION));
}
