//! `rig proxy` as a user runs it: a child process in front of the embedded
//! server, driven through its standard input (reset, blackhole, stall,
//! refuse, stats), with the engine connected through it. The seed is
//! printed and honoured, every control is acknowledged on stdout, a bad
//! line is reported without stopping the proxy, and SIGTERM ends it with
//! status 0.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, ChildStdin, Stdio};
use std::time::Duration;

use crossbeam_channel::Receiver;
use rig::engine::{ErrorKind, Status};
use rig::protocol::{Backoff, Payload};

use crate::engine_util::{WAIT, engine, server, socket_with, until_status};
use crate::netsim_util::{HEARTBEAT_INTERVAL, HEARTBEAT_TIMEOUT, failed_with};
use crate::util::server::wait_with_deadline;

/// A `rig proxy` child, killed if the test fails before it exits.
struct ProxyChild {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl ProxyChild {
    fn start(args: &[&str]) -> Self {
        let mut child = crate::cli_util::rig(&[&["proxy"], args].concat())
            .env("RIG_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = crossbeam_channel::unbounded();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, stdin, lines }
    }

    fn line(&self) -> String {
        self.lines.recv_timeout(WAIT).expect("a line from rig proxy in time")
    }

    /// Sends a control line and returns the acknowledgement.
    fn control(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        self.line()
    }
}

impl Drop for ProxyChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn engine_netsim_rig_proxy_cli_exposes_every_on_demand_fault_and_the_seed() {
    let server = server();
    let upstream = server.local_addr().to_string();
    let mut proxy = ProxyChild::start(&[
        "--upstream",
        &upstream,
        "--seed",
        "7",
        "--latency",
        "1",
        "--slice",
        "7",
        "--slice-gap",
        "1",
        "--direction",
        "downstream",
    ]);
    let first = proxy.line();
    let listen = first
        .strip_prefix("proxying ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    assert!(first.ends_with(&format!("-> {upstream} seed=7")), "{first}");

    let engine = engine();
    let (socket, status) = socket_with(&engine, &format!("ws://{listen}/socket"), |o| {
        o.heartbeat_interval(HEARTBEAT_INTERVAL)
            .heartbeat_timeout(HEARTBEAT_TIMEOUT)
            .connect_timeout(Duration::from_millis(500))
            .reconnect_backoff(Backoff::constant(Duration::from_millis(50)))
            .rejoin_backoff(Backoff::constant(Duration::from_millis(50)))
    });
    let room = socket.channel("room:cli", Payload::empty()).unwrap();
    socket.connect().unwrap();
    assert!(room.join().wait_timeout(WAIT).unwrap().unwrap().is_ok());
    let echo = |n: u32| {
        let body = format!(r#"{{"n":{n}}}"#);
        let reply = room.push("echo", Payload::json(body.clone())).wait_timeout(WAIT);
        assert_eq!(reply.unwrap().unwrap().response.as_json(), Some(body.as_str()));
    };
    echo(1);

    // reset: RST, reconnect, rejoin.
    assert_eq!(proxy.control("reset"), "reset");
    until_status(&status, WAIT, failed_with(ErrorKind::PeerClosed));
    until_status(&status, WAIT, |s| *s == Status::Open);
    echo(2);

    // blackhole: half-open, caught by the heartbeat; lifted, it heals.
    assert_eq!(proxy.control("blackhole on"), "blackhole on");
    until_status(&status, WAIT, failed_with(ErrorKind::HeartbeatTimeout));
    assert_eq!(proxy.control("blackhole off"), "blackhole off");
    until_status(&status, WAIT, |s| *s == Status::Open);
    echo(3);

    // stall: shorter than the heartbeat timeout, so nothing breaks.
    assert_eq!(proxy.control("stall 100"), "stall 100 ms");
    echo(4);

    // refuse: new connections fail, the open one goes on.
    assert_eq!(proxy.control("refuse on"), "refuse on");
    let refused = std::net::TcpStream::connect(&listen).map(drop).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    echo(5);
    assert_eq!(proxy.control("refuse off"), "refuse off");

    // A bad line is reported on stderr and changes nothing.
    writeln!(proxy.stdin, "dance").unwrap();
    let stats = proxy.control("stats");
    assert!(stats.contains("resets=1") && stats.contains("stalls=2"), "{stats}");
    assert!(socket.is_connected());

    drop((room, socket));
    engine.shutdown();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &proxy.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = wait_with_deadline(&mut proxy.child, WAIT).expect("rig proxy exits on SIGTERM");
    assert!(exit.success(), "{exit:?}");
    let mut stderr = String::new();
    proxy.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("unknown command \"dance\""), "{stderr}");
}
