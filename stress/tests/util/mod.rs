//! What the rig-stress tests share: running the program, bounded in time.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The longest a run may take before the test fails (the runs below take
/// about 15 s; the machine is shared and slow).
pub(crate) const LIMIT: Duration = Duration::from_secs(180);

/// Runs rig-stress with `args`; kills it and fails after [`LIMIT`].
pub(crate) fn stress(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rig-stress"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(LIMIT).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());
    let out = std::io::read_to_string(stdout).unwrap();
    let status = child.wait().unwrap();
    let _ = done_tx.send(());
    watchdog.join().unwrap();
    let err = err_reader.join().unwrap();
    Output { status, stdout: out.into_bytes(), stderr: err.into_bytes() }
}
