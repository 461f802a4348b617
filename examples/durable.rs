//! Durable pushes that survive a kill: a first process stores three pushes
//! in an outbox file while the server is unreachable, then dies without
//! any cleanup (`abort`, as `kill -9` would). A second process opens the
//! same outbox, connects, and the stored pushes are sent and answered; the
//! server drops duplicates by the id each push carries.
//!
//! ```text
//! cargo run --example durable        # runs both processes itself
//! ```

#![allow(clippy::print_stdout, reason = "an example says what happens")]

mod common;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rig::{Engine, Payload, SocketOptions};

fn outbox_path() -> PathBuf {
    std::env::temp_dir().join(format!("rig-durable-example-{}.db", std::process::id()))
}

/// The first process: nobody listens at this URL, so the pushes wait on disk.
fn store_and_die(outbox: &Path) -> Result<(), Box<dyn Error>> {
    let engine = Engine::start(Default::default())?;
    let options = SocketOptions::builder("ws://127.0.0.1:9/socket").outbox(outbox).build()?;
    let socket = engine.socket(options)?;
    let inbox = socket.channel("inbox:example", Payload::empty())?;
    for n in 1..=3 {
        // Returns once the push is on disk.
        inbox.push_durable("note", Payload::from(serde_json::json!({ "n": n })))?;
    }
    println!("child: 3 pushes stored in {}, dying now", outbox.display());
    std::process::abort();
}

fn main() -> Result<(), Box<dyn Error>> {
    if let Some(path) = std::env::args().nth(1).filter(|a| a.starts_with("--child=")) {
        return store_and_die(Path::new(path.trim_start_matches("--child=")));
    }
    let outbox = outbox_path();
    let child = std::process::Command::new(std::env::current_exe()?)
        .arg(format!("--child={}", outbox.display()))
        .status()?;
    println!("child ended: {child}");

    let peer = common::peer()?;
    let engine = Engine::start(Default::default())?;
    let socket = engine.socket(SocketOptions::builder(&peer.url).outbox(&outbox).build()?)?;
    println!("stored after the crash: {}", socket.health().outbox_depth);
    let inbox = socket.channel("inbox:example", Payload::empty())?;
    socket.connect()?;
    inbox.join().wait()?;
    // The outbox sends the stored pushes by itself once the channel is
    // joined; watch its counter for a while.
    let every = crossbeam_channel::tick(Duration::from_millis(10));
    for _ in 0..500 {
        if socket.health().outbox_acked >= 3 {
            break;
        }
        let _ = every.recv();
    }
    let health = socket.health();
    println!("answered by the server: {}, left: {}", health.outbox_acked, health.outbox_depth);
    drop((inbox, socket, engine));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", outbox.display()));
    }
    if health.outbox_acked == 3 { Ok(()) } else { Err("not every stored push was answered".into()) }
}
