//! An idle engine, for measuring its resting cost: one socket, one joined
//! channel, the default heartbeat (30 s), then nothing for `SECONDS`.
//!
//! ```text
//! rig serve --addr 127.0.0.1:4000 &
//! cargo run --release --example idle -- ws://127.0.0.1:4000/socket 40 &
//! # once it prints `ready`: utime+stime (fields 14, 15) of /proc/PID/stat,
//! # 30 s apart, and VmRSS / VmHWM of /proc/PID/status
//! ```

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
    // Wait without sleeping the thread API: nothing ever arrives on `never`.
    let _ = crossbeam_channel::never::<()>().recv_timeout(Duration::from_secs(seconds));
    println!("heartbeat rtt: {:?}", socket.health());
    engine.shutdown();
}
