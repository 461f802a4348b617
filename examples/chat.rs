//! A chat room: two users on their own sockets join `room:lobby`; ann
//! says three things, bob's typed `on_decoded` callback prints them.
//!
//! ```text
//! cargo run --example chat                      # against the embedded server
//! cargo run --example chat -- ws://127.0.0.1:4000/socket
//! ```

#![allow(clippy::print_stdout, reason = "an example prints the conversation")]

mod common;

use std::error::Error;
use std::time::Duration;

use rig::{Engine, Payload, PayloadError, SocketOptions};
use serde::{Deserialize, Serialize};

/// What a `shout` carries, written by ann and read back by bob.
#[derive(Serialize, Deserialize, Debug)]
struct Line {
    user: String,
    text: String,
}

fn main() -> Result<(), Box<dyn Error>> {
    let peer = common::peer()?;
    let engine = Engine::start(Default::default())?;
    let (heard_tx, heard) = crossbeam_channel::unbounded();

    // bob listens: each shout decoded on a dispatcher worker.
    let bob = engine.socket(SocketOptions::builder(&peer.url).build()?)?;
    bob.connect()?;
    let bob_room = bob.channel("room:lobby", Payload::from(serde_json::json!({"user": "bob"})))?;
    bob_room.on_decoded("shout", move |line: Result<Line, PayloadError>| {
        let _ = heard_tx.send(line);
    })?;
    bob_room.join().wait()?;

    // ann talks: `send` is a push the server answers with a broadcast.
    let ann = engine.socket(SocketOptions::builder(&peer.url).build()?)?;
    ann.connect()?;
    let ann_room = ann.channel("room:lobby", Payload::from(serde_json::json!({"user": "ann"})))?;
    ann_room.join().wait()?;
    for text in ["hello", "anyone here?", "bye"] {
        ann_room
            .send("shout", Payload::from_serde(&Line { user: "ann".into(), text: text.into() })?)?;
    }

    for _ in 0..3 {
        let line = heard.recv_timeout(Duration::from_secs(5))??;
        println!("bob hears {}: {}", line.user, line.text);
    }
    Ok(())
}
