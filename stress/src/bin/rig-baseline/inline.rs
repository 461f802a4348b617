//! `--mode inline`: one thread reads (blocking), decodes and records.

use rig::time::Clock;
use tungstenite::Message;

use crate::record::{Recorded, cpu_time};
use crate::{Outcome, Plan, wire};

pub(crate) fn run(plan: &Plan) -> Outcome {
    let mut ws = wire::connect(plan)?;
    ws.get_ref().set_read_timeout(Some(plan.done_wait)).map_err(|e| e.to_string())?;
    let clock = Clock::real();
    let mut recorded = Recorded::new();
    let cpu_before = cpu_time();
    let started = clock.now();
    wire::join(&mut ws, plan)?;
    while !recorded.done {
        match ws.read() {
            Ok(Message::Text(text)) => {
                if let Some(msg) = wire::decode(text.as_str()) {
                    recorded.on_message(&msg, plan.count);
                }
            }
            Ok(_) => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    recorded.elapsed = clock.now().saturating_duration_since(started);
    recorded.cpu = cpu_time().saturating_sub(cpu_before);
    Ok(recorded)
}
