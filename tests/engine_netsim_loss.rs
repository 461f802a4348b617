//! The engine under real packet loss: 5 % of the TCP packets arriving at
//! the engine are dropped by nftables in a network namespace
//! ([`LossyLink`]). Needs root with `ip` and `nft`; otherwise the test says
//! why and passes without running (there is nothing to run it on).
//!
//! How the engine gets into the namespace: network namespaces are per
//! thread, and a new thread starts in its creator's. So a helper thread
//! joins the namespace (`setns`) and calls `Engine::start` there: rig-io,
//! rig-dns and the dispatchers are born inside, and every socket rig-io
//! opens is a namespace socket, while the test thread, the proxy and the
//! server stay on the host. This keeps the whole engine API (pushes,
//! statuses, health) in reach of the test, which a child process (`rig
//! monitor` under `ip netns exec`) would hide behind its output; the
//! price is one `unsafe` call (`setns`) in the test.
//!
//! Clean-up on any exit, a panic included: the `LossyLink` guard is made
//! first, so it drops last, after the engine (whose threads pin the
//! namespace) has shut down; its `Drop` deletes the namespace, which takes
//! the veth pair and the rules with it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::fs::File;
use std::net::IpAddr;
use std::os::fd::AsRawFd as _;

use rig::engine::{ConnectionState, Engine};
use rig::netsim::netns::{LossyLink, NetnsError};

use crate::engine_util::engine;
use crate::netsim_util::{Link, Setup, wait_for};

/// Starts an engine whose threads live in `namespace`.
fn engine_in(namespace: &str) -> Engine {
    let path = format!("/run/netns/{namespace}");
    let file = File::open(&path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
    std::thread::Builder::new()
        .name("netns-engine-starter".into())
        .spawn(move || {
            // SAFETY: setns only switches this thread's network namespace;
            // the fd is a valid, open namespace file for the whole call.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            engine()
        })
        .unwrap()
        .join()
        .unwrap()
}

fn namespace_exists(name: &str) -> bool {
    let out = std::process::Command::new("ip").args(["netns", "list"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().any(|l| l.split_whitespace().next() == Some(name))
}

#[test]
fn engine_netsim_real_loss_in_a_namespace_recovers_and_keeps_the_invariants() {
    let link = match LossyLink::create(5) {
        Ok(link) => link,
        Err(NetnsError::Unavailable(why)) => {
            eprintln!("skipping the real-loss test: {why}");
            return;
        }
        Err(e) => panic!("cannot make a lossy link: {e}"),
    };
    let name = link.namespace().to_owned();
    let ns = name.clone();
    {
        let mut run =
            Link::start_with(Setup::seed(21), IpAddr::V4(link.host_addr()), move || engine_in(&ns));
        // Enough traffic for some of the ~5 % drops to hit: TCP resends
        // them (a retransmission timeout each), the engine sees only
        // delay, or at worst a heartbeat timeout and a reconnect.
        for _ in 0..4 {
            run.traffic(10, 80);
        }
        wait_for(|| link.dropped_packets().unwrap() > 0);
        // However it went, it ends connected, joined and flowing.
        if run.socket.state() != ConnectionState::Open {
            run.recovered();
        }
        run.traffic(5, 20);
        let report = run.finish();
        let resolved = report.pushes.ok + report.pushes.timeouts + report.pushes.errors;
        assert_eq!(resolved, 45, "{report:?}");
        assert!(report.pushes.ok >= 5, "{report:?}");
        eprintln!(
            "real loss: {} packets dropped, {report:?}",
            link.dropped_packets().unwrap_or_default()
        );
    }
    drop(link);
    assert!(!namespace_exists(&name), "the namespace {name} was left behind");
}

/// The guard holds on a panic too: a test that fails inside the link still
/// removes the namespace.
#[test]
fn engine_netsim_lossy_link_is_removed_when_a_test_panics() {
    let outcome = std::panic::catch_unwind(|| {
        let link = match LossyLink::create(5) {
            Ok(link) => link,
            Err(NetnsError::Unavailable(why)) => return Err(why),
            Err(e) => panic!("cannot make a lossy link: {e}"),
        };
        let name = link.namespace().to_owned();
        let _engine = engine_in(&name);
        std::panic::panic_any(name);
    });
    match outcome {
        Ok(Err(why)) => eprintln!("skipping the namespace clean-up test: {why}"),
        Ok(Ok(())) => unreachable!(),
        Err(payload) => {
            let name = payload.downcast::<String>().expect("the namespace name");
            wait_for(|| !namespace_exists(&name));
        }
    }
}
