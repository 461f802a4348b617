//! `--consumer inline`: invoker mode. This thread runs the engine's I/O
//! loop ([`Engine::start_invoker`]) and an inline handler records each
//! event as it is read, with no hand-off to another thread.

use std::time::Duration;

use rig::engine::{Engine, EngineConfig, Invoker, SocketOptions, Status};
use rig::time::Clock;

use super::args::Load;
use super::consumer::on_message;
use super::{CONNECT_WAIT, Failure, Recorded, Setup, cpu_time};

/// Connects, joins `topic` and records until `done`, all on this thread;
/// the recording, the time from join to `done` and the CPU meanwhile.
pub(super) fn measure(
    config: EngineConfig,
    options: SocketOptions,
    topic: &str,
    load: Load,
    setup: &Setup,
) -> Result<(Recorded, Duration, Duration), Failure> {
    let fail = |e: rig::engine::EngineError| Failure(3, e.to_string());
    let (engine, mut invoker) = Engine::start_invoker(config).map_err(fail)?;
    let socket = engine.socket(options).map_err(|e| Failure(2, e.to_string()))?;
    let clock = Clock::real();
    let status = socket.status().map_err(fail)?;
    socket.connect().map_err(fail)?;
    let deadline = clock.now() + CONNECT_WAIT;
    let mut opened = None;
    invoker
        .run_until(|| {
            while let Ok(status) = status.try_recv() {
                opened = match status {
                    Status::Open => Some(Ok(())),
                    Status::Failed { error } => Some(Err(format!("connect: {error}"))),
                    Status::AuthFailed { status } => Some(Err(format!("refused: HTTP {status}"))),
                    _ => opened.take(),
                };
            }
            opened.is_some() || clock.now() >= deadline
        })
        .map_err(fail)?;
    opened
        .unwrap_or_else(|| Err(format!("connect: not open within {CONNECT_WAIT:?}")))
        .map_err(|e| Failure(3, e))?;
    let channel = socket.channel(topic, load.join_params(setup.pace)).map_err(fail)?;
    let (done_tx, done) = crossbeam_channel::bounded(1);
    let mut recorded = Some(Recorded::new());
    let handler_clock = clock.clone();
    channel
        .on_all_inline(move |message| {
            let Some(rec) = recorded.as_mut() else { return };
            if on_message(rec, message, load, &handler_clock) {
                let _ = done_tx.try_send(recorded.take());
            }
        })
        .map_err(fail)?;
    let cpu_before = cpu_time();
    let started = clock.now();
    let mut join = channel.join();
    let wait = clock.now() + load.done_wait();
    invoker.run_until(|| !done.is_empty() || clock.now() >= wait).map_err(fail)?;
    let cpu = cpu_time().saturating_sub(cpu_before);
    match join.try_outcome() {
        Some(Ok(_)) => {}
        other => return Err(Failure(3, format!("join {topic}: {other:?}"))),
    }
    let mut recorded =
        done.try_recv().ok().flatten().ok_or_else(|| {
            Failure(3, format!("no done on {topic} within {:?}", load.done_wait()))
        })?;
    let done_at = recorded.done_at.take().unwrap_or_else(|| clock.now());
    let elapsed = done_at.saturating_duration_since(started);
    shutdown(engine, invoker);
    Ok((recorded, elapsed, cpu))
}

/// Shuts the engine down, driving the loop until it has closed.
fn shutdown(engine: Engine, mut invoker: Invoker) {
    engine.shutdown();
    while invoker.poll(Duration::from_millis(10)).is_ok() {}
}
