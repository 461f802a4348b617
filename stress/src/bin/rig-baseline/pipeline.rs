//! `--mode naive` and `--mode batch`: a mio thread reads with non-blocking
//! tungstenite and decodes; a consumer thread (this one) records. The
//! hand-off is a crossbeam bounded channel: one message per send (naive)
//! or one `Vec` per read turn (batch). A turn ends when the socket is
//! drained or after [`TURN`] messages, and the batch channel holds
//! `queue / TURN` turns, so both modes buffer at most about `queue`
//! messages (a burst never runs the socket dry: without the cap one turn
//! held the whole burst). A full channel blocks the reader (backpressure to
//! the server), as rig-bench's `Overflow::Block` does.

use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Duration;

use crossbeam_channel::Receiver;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use rig::time::Clock;
use tungstenite::{Message, WebSocket};

use crate::record::{Recorded, cpu_time};
use crate::wire::{self, Msg};
use crate::{Mode, Outcome, Plan};

const SOCKET: Token = Token(0);
/// The most messages one read turn takes before it hands them over (the
/// embedded server's read batch, too).
const TURN: usize = 256;

pub(crate) fn run(plan: &Plan) -> Outcome {
    let mut ws = wire::connect(plan)?;
    let clock = Clock::real();
    let cpu_before = cpu_time();
    let started = clock.now();
    wire::join(&mut ws, plan)?;
    ws.get_ref().set_nonblocking(true).map_err(|e| e.to_string())?;
    let wait = plan.done_wait;
    let mut recorded = Recorded::new();
    let count = plan.count;
    let (reader, consumed) = if plan.mode == Mode::Batch {
        let (tx, rx) = crossbeam_channel::bounded::<Vec<Msg>>(plan.queue.div_ceil(TURN));
        let mut turn = Vec::new();
        let reader = spawn_reader(ws, wait, move |item| match item {
            Some(msg) => {
                turn.push(msg);
                true
            }
            None if turn.is_empty() => true,
            None => tx.send(std::mem::take(&mut turn)).is_ok(),
        })?;
        (reader, consume(&rx, wait, |batch| batch.iter().all(|m| record(&mut recorded, m, count))))
    } else {
        let (tx, rx) = crossbeam_channel::bounded::<Msg>(plan.queue);
        let reader = spawn_reader(ws, wait, move |item| match item {
            Some(msg) => tx.send(msg).is_ok(),
            None => true,
        })?;
        (reader, consume(&rx, wait, |msg| record(&mut recorded, &msg, count)))
    };
    recorded.elapsed = clock.now().saturating_duration_since(started);
    recorded.cpu = cpu_time().saturating_sub(cpu_before);
    let read = reader.join().map_err(|_| "the reader thread panicked".to_owned())?;
    consumed?;
    read?;
    Ok(recorded)
}

/// Records one message; false once `done` was consumed.
fn record(recorded: &mut Recorded, msg: &Msg, count: u64) -> bool {
    recorded.on_message(msg, count);
    !recorded.done
}

/// Receives until `each` returns false (`done`), the channel closes or `wait` passes.
fn consume<T>(
    rx: &Receiver<T>,
    wait: Duration,
    mut each: impl FnMut(T) -> bool,
) -> Result<(), String> {
    loop {
        match rx.recv_timeout(wait) {
            Ok(item) => {
                if !each(item) {
                    return Ok(());
                }
            }
            Err(e) => return Err(format!("no done within {wait:?}: {e}")),
        }
    }
}

/// Starts the reader: every decoded message goes to `sink(Some(msg))`, the
/// end of each read turn is `sink(None)`; it stops after `done` or when
/// `sink` returns false (the consumer is gone).
fn spawn_reader(
    mut ws: WebSocket<TcpStream>,
    wait: Duration,
    mut sink: impl FnMut(Option<Msg>) -> bool + Send + 'static,
) -> Result<std::thread::JoinHandle<Result<(), String>>, String> {
    let mut poll = Poll::new().map_err(|e| e.to_string())?;
    let fd = ws.get_ref().as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), SOCKET, Interest::READABLE)
        .map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("baseline-io".into())
        .spawn(move || {
            let mut events = Events::with_capacity(8);
            loop {
                match poll.poll(&mut events, Some(wait)) {
                    Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                        return Err(format!("poll: {e}"));
                    }
                    _ => {}
                }
                if events.is_empty() {
                    return Err(format!("nothing read within {wait:?}"));
                }
                let mut finished = false;
                let mut taken = 0;
                loop {
                    if taken == TURN {
                        // The turn is full: hand it over and go on reading.
                        if !sink(None) {
                            return Ok(());
                        }
                        taken = 0;
                    }
                    match ws.read() {
                        Ok(Message::Text(text)) => {
                            let Some(msg) = wire::decode(text.as_str()) else { continue };
                            finished |= msg.event == "done";
                            taken += 1;
                            if !sink(Some(msg)) {
                                return Ok(());
                            }
                        }
                        Ok(_) => {}
                        Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                            break;
                        }
                        Err(e) => return Err(format!("read: {e}")),
                    }
                }
                if !sink(None) || finished {
                    return Ok(());
                }
            }
        })
        .map_err(|e| e.to_string())
}
