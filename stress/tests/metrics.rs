//! `rig-stress --metrics ADDR`: the run's server and clients scraped while
//! it runs; a port in use is refused with exit 2 before anything starts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking"
)]

mod util;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The exposition at `addr`, if it answers.
fn scrape(addr: SocketAddr) -> Option<String> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n").ok()?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).ok()?;
    answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned())
}

fn value(text: &str, series: &str) -> Option<f64> {
    let prefix = format!("{series} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.parse().ok())
}

#[test]
fn a_run_serves_its_server_and_clients_counters() {
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let args = ["--clients", "3", "--topics", "1", "--rate", "50", "--duration", "4"];
    let mut child = Command::new(env!("CARGO_BIN_EXE_rig-stress"))
        .args(args)
        .args(["--seed", "7", "--metrics", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = None;
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + util::LIMIT;
    let every = crossbeam_channel::tick(Duration::from_millis(200));
    while clock.now() < deadline {
        let _ = every.recv();
        let Some(text) = scrape(addr) else { continue };
        let events = value(&text, "rig_server_stream_events_total").unwrap_or(0.0);
        let delivered =
            value(&text, "rig_topic_delivered_total{socket=\"c0\",topic=\"stream:c0-t0\"}");
        if events > 0.0 && delivered.is_some_and(|d| d > 0.0) {
            seen = Some(text);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = seen.expect("the run's counters moved while it ran");
    assert_eq!(value(&text, "rig_engine_io_thread_alive"), Some(1.0), "{text}");
    assert_eq!(value(&text, "rig_socket_state{socket=\"c2\",state=\"open\"}"), Some(1.0), "{text}");
}

#[test]
fn a_metrics_port_in_use_exits_2_before_the_run() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = util::stress(&["--clients", "1", "--duration", "1", "--metrics", &addr]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--metrics") && !stderr.contains("seed="), "{stderr}");
}
