//! Join a channel and print everything that happens: connection status,
//! channel states and messages. Start a server first:
//!
//! ```text
//! cargo run -- serve --token secret          # rig serve on 127.0.0.1:4000
//! cargo run --example listen -- ws://127.0.0.1:4000/socket room:lobby secret
//! ```
//!
//! Then make some traffic, e.g. with a second listener: every `room:*`
//! member sees the `shout` this example sends once joined. Stop the server
//! and start it again to watch the reconnect and the rejoin. Ctrl-C ends.

#![allow(clippy::print_stdout, reason = "an example prints what it receives")]

use std::error::Error;

use crossbeam_channel::select;
use rig::engine::{Engine, EngineConfig, SocketOptions};
use rig::protocol::Payload;

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:4000/socket".to_owned());
    let topic = args.next().unwrap_or_else(|| "room:lobby".to_owned());
    let token = args.next();

    let engine = Engine::start(EngineConfig::default())?;
    let mut options = SocketOptions::builder(&url);
    if let Some(token) = token {
        options = options.params([("token", token)]);
    }
    let socket = engine.socket(options.build()?)?;
    let status = socket.status()?;
    socket.connect()?;

    let channel = socket.channel(topic, Payload::json(r#"{"client":"rig-example"}"#))?;
    let messages = channel.subscribe_all()?;
    let shout = channel.clone();
    channel.join().then(move |outcome| {
        println!("join: {outcome:?}");
        // Ok only for an `ok` reply; `send`: the server answers a shout with a broadcast.
        if outcome.is_ok()
            && let Err(err) = shout.send("shout", Payload::json(r#"{"hello":"from rig"}"#))
        {
            println!("shout: {err}");
        }
    });

    loop {
        select! {
            recv(status) -> entry => println!("status: {}", entry?),
            recv(messages.receiver()) -> message => {
                let message = message?;
                println!("{} {}: {:?}", &*message.topic, &*message.event, message.payload);
            }
        }
    }
}
