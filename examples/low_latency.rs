//! A latency-critical consumer: invoker mode (the I/O loop runs on this
//! thread, no hand-off to another one), an inline handler that runs on the
//! message in place, and a spinning idle strategy that trades a core for
//! wake-up latency. Prints the end-to-end latency percentiles of a paced
//! stream (one frame per event, as real Phoenix writes them).
//!
//! ```text
//! cargo run --release --example low_latency
//! ```

#![allow(clippy::print_stdout, reason = "an example prints its figures")]

mod common;

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use rig::{Engine, EngineConfig, IdleStrategy, Payload, SocketOptions};
use serde::Deserialize;

#[derive(Deserialize)]
struct Tick {
    t: u64,
}

/// The wall clock, as the server stamps `t` (the example measures against
/// another process's clock; a library would use rig::time).
#[allow(clippy::disallowed_methods, reason = "latency against the server's wall clock")]
fn unix_micros() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(now.as_micros()).unwrap_or(u64::MAX)
}

fn main() -> Result<(), Box<dyn Error>> {
    const COUNT: u64 = 5_000;
    let peer = common::peer()?;
    // Spin, then yield, then park: a core's worth of CPU while busy, none
    // while idle for long.
    let idle = IdleStrategy::Backoff { spins: 1000, yields: 100 };
    let (engine, mut invoker) = Engine::start_invoker(EngineConfig::builder().idle(idle).build())?;
    let socket = engine.socket(SocketOptions::builder(&peer.url).build()?)?;
    socket.connect()?;
    let params = serde_json::json!({ "rate": 5_000, "count": COUNT, "pace": "frame" });
    let stream = socket.channel("stream:latency", Payload::from(params))?;

    let latencies = Arc::new(Mutex::new(Histogram::<u64>::new(3)?));
    let seen = Arc::new(AtomicU64::new(0));
    let (into, counted) = (Arc::clone(&latencies), Arc::clone(&seen));
    // Runs on this thread, inside `run_until`: must not block.
    stream.on_inline("event", move |message| {
        if let Ok(tick) = message.decode::<Tick>() {
            let _ = into.lock().record(unix_micros().saturating_sub(tick.t));
        }
        counted.fetch_add(1, Ordering::Relaxed);
    })?;
    let mut join = stream.join();
    let mut joined = None;
    invoker.run_until(|| {
        joined = joined.take().or_else(|| join.try_outcome());
        joined.is_some()
    })?;
    joined.ok_or("no join outcome")??;
    invoker.run_until(|| seen.load(Ordering::Relaxed) >= COUNT)?;

    let h = latencies.lock();
    let us = |q: f64| Duration::from_micros(h.value_at_quantile(q));
    println!("{} events: p50 {:?} p99 {:?} max {:?}", h.len(), us(0.5), us(0.99), us(1.0));
    Ok(())
}
