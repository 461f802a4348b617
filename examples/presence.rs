//! A presence list: three users join `presence:lobby`, each with a status;
//! one leaves. The list (metas decoded into a struct) is printed after
//! each sync.
//!
//! ```text
//! cargo run --example presence
//! ```

#![allow(clippy::print_stdout, reason = "an example prints the list")]

mod common;

use std::error::Error;
use std::time::Duration;

use rig::{Channel, Engine, Payload, Socket, SocketOptions};
use serde::Deserialize;

#[derive(Deserialize)]
struct Meta<'a> {
    status: &'a str,
}

fn join(socket: &Socket, user: &str, status: &str) -> Result<Channel, Box<dyn Error>> {
    let params = serde_json::json!({"user_id": user, "status": status});
    let channel = socket.channel("presence:lobby", Payload::from(params))?;
    channel.join().wait()?;
    Ok(channel)
}

fn main() -> Result<(), Box<dyn Error>> {
    let peer = common::peer()?;
    let engine = Engine::start(Default::default())?;
    let watcher = engine.socket(SocketOptions::builder(&peer.url).build()?)?;
    watcher.connect()?;
    let lobby = watcher.channel(
        "presence:lobby",
        Payload::from(serde_json::json!({"user_id": "watcher", "status": "watching"})),
    )?;
    let presence = lobby.presence()?;
    let (synced_tx, synced) = crossbeam_channel::unbounded();
    presence.on_sync(move || {
        let _ = synced_tx.send(());
    });
    presence.on_leave(|key, _left, _remaining| println!("  {key} left"));
    lobby.join().wait()?;

    let mut others: Vec<(Socket, Channel)> = [("ann", "away"), ("bob", "typing")]
        .into_iter()
        .map(|(user, status)| {
            let socket = engine.socket(SocketOptions::builder(&peer.url).build()?)?;
            socket.connect()?;
            let channel = join(&socket, user, status)?;
            Ok::<_, Box<dyn Error>>((socket, channel))
        })
        .collect::<Result<_, _>>()?;

    let print = || -> Result<(), Box<dyn Error>> {
        let mut list = presence.list();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        let mut line = Vec::new();
        for (key, entry) in &list {
            let metas: Vec<Meta<'_>> = entry.decode_metas()?;
            line.push(format!("{key} ({})", metas.first().map_or("?", |m| m.status)));
        }
        println!("online: {}", line.join(", "));
        Ok(())
    };
    // Wait until everyone is listed, then let bob go.
    while presence.list().len() < 3 {
        synced.recv_timeout(Duration::from_secs(5))?;
    }
    print()?;
    let (bob_socket, bob_channel) = others.pop().ok_or("bob")?;
    bob_channel.leave().wait()?;
    drop((bob_channel, bob_socket));
    while presence.list().len() > 2 {
        synced.recv_timeout(Duration::from_secs(5))?;
    }
    print()
}
