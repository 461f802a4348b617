//! A typed event stream: `stream:*` topics send `{"seq": n, "t": µs}`;
//! each message is decoded straight from the frame into a struct (no
//! `serde_json::Value` in between), gaps in `seq` are counted.
//!
//! ```text
//! cargo run --example typed_stream
//! ```

#![allow(clippy::print_stdout, reason = "an example prints what it counted")]

mod common;

use std::error::Error;
use std::time::Duration;

use rig::{Engine, Payload, SocketOptions};
use serde::Deserialize;

/// One stream event, as the server writes it.
#[derive(Deserialize, Debug)]
struct Tick {
    seq: u64,
    /// The server's wall clock when it sent the event, in µs.
    t: u64,
}

fn main() -> Result<(), Box<dyn Error>> {
    const COUNT: u64 = 5_000;
    let peer = common::peer()?;
    let engine = Engine::start(Default::default())?;
    let socket = engine.socket(SocketOptions::builder(&peer.url).build()?)?;
    socket.connect()?;
    let params = serde_json::json!({ "rate": 20_000, "count": COUNT });
    let stream = socket.channel("stream:typed", Payload::from(params))?;
    let events = stream.subscribe("event")?;
    stream.join().wait()?;

    let (mut next, mut gaps, mut first_t, mut last_t) = (1, 0, None, 0);
    while next <= COUNT {
        let message = events.recv_timeout(Duration::from_secs(5))?;
        let tick: Tick = message.decode()?;
        if tick.seq != next {
            gaps += 1;
        }
        next = tick.seq + 1;
        first_t.get_or_insert(tick.t);
        last_t = tick.t;
    }
    let span = last_t.saturating_sub(first_t.unwrap_or(last_t));
    println!("{COUNT} events over {:.1} ms of server time, {gaps} gaps", span as f64 / 1000.0);
    Ok(())
}
