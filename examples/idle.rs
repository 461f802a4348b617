//! An idle engine, for measuring its resting cost: one socket, one joined
//! channel, the default heartbeat (30 s), then nothing for `SECONDS`.
//!
//! ```text
//! rig serve --addr 127.0.0.1:4000 &
//! cargo run --release --example idle -- ws://127.0.0.1:4000/socket 40 &
//! # once it prints `ready`: utime+stime (fields 14, 15) of /proc/PID/stat,
//! # 30 s apart; it prints its own VmRSS / VmHWM (/proc/self/status) when
//! # ready and again at the end
//! ```
//!
//! Measured on the 2-vCPU VM (one dispatcher worker), release build, after
//! the join: 11.7 MB VmRSS with the old 65 536-slot command queue, 4.5 MB
//! with the 4 096-slot default.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a measurement tool: fails loudly, reports on stdout"
)]

use std::time::Duration;

use rig::engine::{Engine, SocketOptions, Status};
use rig::protocol::Payload;

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:4000/socket".to_owned());
    let seconds: u64 = args.next().map_or(40, |s| s.parse().expect("SECONDS is a number"));
    let engine = Engine::start(Default::default()).unwrap();
    let socket = engine.socket(SocketOptions::builder(url).build().unwrap()).unwrap();
    let status = socket.status().unwrap();
    socket.connect().unwrap();
    while status.recv_timeout(Duration::from_secs(10)).unwrap() != Status::Open {}
    let room = socket.channel("room:idle", Payload::empty()).unwrap();
    assert!(room.join().wait().unwrap().is_ok());
    println!("ready {}", std::process::id());
    println!("{}", memory());
    // Wait without sleeping the thread API: nothing ever arrives on `never`.
    let _ = crossbeam_channel::never::<()>().recv_timeout(Duration::from_secs(seconds));
    println!("heartbeat rtt: {:?}", socket.health());
    println!("{}", memory());
    engine.shutdown();
}

/// `VmRSS` and `VmHWM` of this process, from /proc/self/status (Linux).
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let fields: Vec<String> = status
        .lines()
        .filter(|l| l.starts_with("VmRSS:") || l.starts_with("VmHWM:"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    fields.join(", ")
}
