//! The C test program (tests/c/smoke.c) and the example (examples/c/lobby.c),
//! compiled with the system `cc` against the static library and
//! include/rig.h, run against the embedded server; once more under
//! valgrind, which must find no leak and no error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::Duration;

use rig::server::{Server, ServerConfig, ServerHandle};

const TOKEN: &str = "secret";

fn server(addr: SocketAddr) -> ServerHandle {
    Server::start(ServerConfig::builder().addr(addr).token(TOKEN).build()).unwrap()
}

/// target/<profile>: where cargo puts librig_ffi.a, beside this test's `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_owned()
}

/// librig_ffi.a, built now: `cargo test` builds the library only as an
/// rlib for the tests, so a static library left from an older build would
/// be linked without this.
fn static_lib() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let profile = profile_dir();
            let mut cargo = Command::new(env!("CARGO"));
            cargo.args(["build", "--quiet", "-p", "rig-ffi", "--lib", "--target-dir"]);
            cargo.arg(profile.parent().unwrap());
            if profile.file_name().is_some_and(|name| name == "release") {
                cargo.arg("--release");
            }
            assert!(cargo.status().unwrap().success(), "cargo build -p rig-ffi failed");
            profile.join("librig_ffi.a")
        })
        .clone()
}

/// Compiles `source` (relative to the crate) into `out` with the system cc.
fn compile(source: &str, out: &Path) {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("cc")
        .args(["-std=c11", "-g", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join(source))
        .arg(static_lib())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(out)
        .status()
        .expect("the system cc runs");
    assert!(status.success(), "cc {source} failed");
}

/// Reads the child's stdout lines into a channel (bounded waits on it).
fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn expect_line(rx: &mpsc::Receiver<String>, child: &mut Child, want: &str, within: Duration) {
    match rx.recv_timeout(within) {
        Ok(line) if line == want => {}
        other => {
            let _ = child.kill();
            panic!("expected {want:?} from the C program, got {other:?}");
        }
    }
}

/// The child's exit status, or a kill and a failure after `within`.
fn wait_bounded(child: Child, within: Duration) -> std::process::ExitStatus {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut child = child;
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(within) {
        Ok(status) => status.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("the C program did not exit within {within:?}");
        }
    }
}

/// Runs the smoke program (under `wrapper`, if any) through a server restart.
fn run_smoke(wrapper: &[&str], within: Duration) {
    let scratch = tempfile::tempdir().unwrap();
    let program = scratch.path().join("smoke");
    compile("tests/c/smoke.c", &program);
    let mut server = server("127.0.0.1:0".parse().unwrap());
    let addr = server.local_addr();
    let mut command = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut command = Command::new(first);
            command.args(rest).arg(&program);
            command
        }
        None => Command::new(&program),
    };
    let mut child = command
        .arg(server.url())
        .arg(scratch.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines(&mut child);
    expect_line(&rx, &mut child, "RESTART", within);
    server.shutdown();
    server = self::server(addr);
    writeln!(child.stdin.as_mut().unwrap(), "go").unwrap();
    expect_line(&rx, &mut child, "OK", within);
    let status = wait_bounded(child, within);
    assert!(status.success(), "the C program failed: {status}");
    server.shutdown();
}

#[test]
fn c_program_joins_pushes_receives_and_survives_a_server_restart() {
    run_smoke(&[], Duration::from_secs(60));
}

#[test]
fn c_program_is_clean_under_valgrind() {
    let found =
        Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("RIG_REQUIRE_VALGRIND").is_none(),
            "valgrind is missing and RIG_REQUIRE_VALGRIND is set"
        );
        eprintln!("skipped: valgrind is not installed (set RIG_REQUIRE_VALGRIND to fail instead)");
        return;
    }
    // "Possibly lost" is left out: Rust's thread handles and glibc's
    // cached thread stacks are held through interior pointers by threads
    // alive at exit (thread-locals, the SQLite outbox's writer), which
    // valgrind cannot tell from leaks. Lost blocks and memory errors fail.
    let wrapper = [
        "valgrind",
        "--quiet",
        "--leak-check=full",
        "--show-leak-kinds=definite,indirect",
        "--errors-for-leak-kinds=definite,indirect",
        "--error-exitcode=1",
    ];
    run_smoke(&wrapper, Duration::from_secs(300));
}

#[test]
fn the_c_example_joins_pushes_and_prints_presence() {
    let scratch = tempfile::tempdir().unwrap();
    let program = scratch.path().join("lobby");
    compile("examples/c/lobby.c", &program);
    let server = server("127.0.0.1:0".parse().unwrap());
    let mut child =
        Command::new(&program).arg(server.url()).arg(TOKEN).stdout(Stdio::piped()).spawn().unwrap();
    let rx = lines(&mut child);
    let status = wait_bounded(child, Duration::from_secs(60));
    // The program has exited: its stdout is at end of file.
    let stdout: Vec<String> = rx.iter().collect();
    let stdout = stdout.join("\n");
    assert!(status.success(), "lobby failed: {stdout}");
    assert!(stdout.contains("broadcast: shout {\"text\":\"hello from C\"}"), "{stdout}");
    assert!(stdout.contains("presence: {\"c-example\":"), "{stdout}");
    server.shutdown();
}
