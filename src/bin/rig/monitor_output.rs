//! `rig monitor`'s stdout: a bounded queue of events and the writer thread
//! (`rig-out`) that alone formats and writes them (formatting there keeps
//! the watch loop's share of a burst small). A stalled reader of stdout
//! stalls only that thread: the watch loop goes on hearing signals, the
//! deadline and the connection status, and the overflow policy says what
//! a full queue does (wait, drop the new line, or drop the oldest).
//!
//! ```text
//! watch loop --offer(event)--> [ queue: QUEUE_LINES ] --> rig-out --format, write--> stdout
//!      |  full: block (wait for room) | drop-newest | drop-oldest
//!      '-- counts: accepted, dropped          written (whole lines only) --'
//! ```

use std::fs::File;
use std::io::{ErrorKind, Write as _};
use std::os::fd::AsFd as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use parking_lot::Mutex;
use rig::engine::Overflow;
use rig::protocol::Message;

use crate::event_line::Format;
use crate::exit::{self, Failure};
use crate::status_line::StatusWriter;

/// Lines the queue holds before the overflow policy applies.
const QUEUE_LINES: usize = 8192;

/// Bytes the writer gathers from the queue before it writes.
const BATCH_BYTES: usize = 64 * 1024;

/// The most one `write(2)` is given: `PIPE_BUF` on Linux, so a write to a
/// pipe lands whole or not at all and `written` counts exactly the lines
/// that reached stdout, even when the process exits during a blocked write.
const WRITE_CHUNK: usize = 4096;

/// What a full queue (or a full engine queue before it) does, from
/// `--overflow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OverflowPolicy {
    /// Lose nothing: wait for room; the engine stops reading the socket
    /// meanwhile, so the backpressure reaches the server.
    Block,
    /// Drop the line that does not fit.
    DropNewest,
    /// Drop the oldest queued line to make room.
    DropOldest,
}

impl OverflowPolicy {
    /// Parses `block`, `drop-newest` or `drop-oldest`.
    pub(crate) fn parse(text: &str) -> Result<Self, Failure> {
        match text {
            "block" => Ok(Self::Block),
            "drop-newest" => Ok(Self::DropNewest),
            "drop-oldest" => Ok(Self::DropOldest),
            other => Err(Failure::usage(format!("bad --overflow {other:?}"))
                .hint("use block (lossless, the default), drop-newest or drop-oldest")),
        }
    }

    /// The flag's spelling.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Block => "block",
            Self::DropNewest => "drop-newest",
            Self::DropOldest => "drop-oldest",
        }
    }

    /// The engine's policy for the subscription queues in front of ours.
    pub(crate) fn engine(self) -> Overflow {
        match self {
            Self::Block => Overflow::Block,
            Self::DropNewest => Overflow::DropNewest,
            Self::DropOldest => Overflow::DropOldest,
        }
    }
}

/// An event to print and when it arrived (since the Unix epoch).
#[derive(Debug)]
pub(crate) struct Stamped {
    pub(crate) at: Duration,
    pub(crate) message: Message,
}

/// What [`Output::offer`] did with an event.
#[derive(Debug)]
pub(crate) enum Offer {
    /// Queued (perhaps after dropping the oldest line).
    Queued,
    /// Dropped (drop-newest, queue full).
    Dropped,
    /// Block policy, queue full: offer it again once there is room.
    Full(Box<Stamped>),
}

/// The writer thread's side of what both threads share.
#[derive(Debug, Default)]
struct Progress {
    /// Whole lines written to stdout.
    written: AtomicU64,
    /// Set when the watch is over: write nothing more.
    stop: AtomicBool,
    /// Held by the writer around each write and its count, so the final
    /// count can be taken between two writes.
    writing: Mutex<()>,
}

/// The queue of event lines and its writer thread.
#[derive(Debug)]
pub(crate) struct Output {
    policy: OverflowPolicy,
    queue: Option<Sender<Stamped>>,
    /// The queue's own receiving end: drop-oldest takes the oldest line
    /// back through it.
    oldest: Receiver<Stamped>,
    /// Disconnected once the writer thread ended (stdout closed, or the
    /// queue closed and written out).
    done: Receiver<()>,
    progress: Arc<Progress>,
    /// Lines in the queue or written (net of lines taken back).
    accepted: u64,
    /// Lines dropped by the policy.
    dropped: u64,
}

impl Output {
    /// Starts the writer thread on stdout.
    pub(crate) fn start(
        policy: OverflowPolicy,
        format: Format,
        status: StatusWriter,
    ) -> Result<Self, Failure> {
        // A duplicate of fd 1 written with plain write(2): std's stdout
        // buffers by line, which would hide how many lines really went out.
        let stdout = std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| Failure::new(exit::CONNECTION, format!("cannot use stdout: {e}")))?;
        let (queue, lines) = crossbeam_channel::bounded(QUEUE_LINES);
        let (finished, done) = crossbeam_channel::bounded::<()>(0);
        let progress = Arc::new(Progress::default());
        let shared = Arc::clone(&progress);
        let oldest = lines.clone();
        std::thread::Builder::new()
            .name("rig-out".into())
            .spawn(move || {
                write_lines(&lines, format, File::from(stdout), &shared, &status);
                drop(finished);
            })
            .map_err(|e| Failure::new(exit::CONNECTION, format!("cannot start a thread: {e}")))?;
        Ok(Self { policy, queue: Some(queue), oldest, done, progress, accepted: 0, dropped: 0 })
    }

    /// Queues an event's line as the policy says, never waiting.
    pub(crate) fn offer(&mut self, line: Stamped) -> Offer {
        let Some(queue) = &self.queue else {
            self.dropped += 1;
            return Offer::Dropped;
        };
        let mut line = line;
        loop {
            match queue.try_send(line) {
                Ok(()) => {
                    self.accepted += 1;
                    return Offer::Queued;
                }
                // The writer is gone (stdout closed): the watch ends on `done`.
                Err(TrySendError::Disconnected(_)) => {
                    self.dropped += 1;
                    return Offer::Dropped;
                }
                Err(TrySendError::Full(back)) => match self.policy {
                    OverflowPolicy::Block => return Offer::Full(Box::new(back)),
                    OverflowPolicy::DropNewest => {
                        self.dropped += 1;
                        return Offer::Dropped;
                    }
                    OverflowPolicy::DropOldest => {
                        // The writer may have taken it first: then there is room.
                        if self.oldest.try_recv().is_ok() {
                            self.accepted -= 1;
                            self.dropped += 1;
                        }
                        line = back;
                    }
                },
            }
        }
    }

    /// The queue's sending end, to wait for room (`None` once closed).
    pub(crate) fn queue(&self) -> Option<&Sender<Stamped>> {
        self.queue.as_ref()
    }

    /// Disconnected once the writer thread ended.
    pub(crate) fn done(&self) -> &Receiver<()> {
        &self.done
    }

    /// Lines accepted so far (queued or written, net of lines taken back).
    pub(crate) fn accepted(&self) -> u64 {
        self.accepted
    }

    /// Lines dropped by the policy so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Whole lines written so far.
    pub(crate) fn written(&self) -> u64 {
        self.progress.written.load(Ordering::Acquire)
    }

    /// Closes the queue: the writer writes what is queued, then ends.
    pub(crate) fn close(&mut self) {
        self.queue = None;
    }

    /// Stops the writer where it is and gives the final counts: lines
    /// written, and lines dropped (by the policy, or still queued).
    pub(crate) fn stop(&self) -> (u64, u64) {
        self.progress.stop.store(true, Ordering::Release);
        // Between two writes the count is final. A writer blocked in a
        // write keeps the lock: that write is at most PIPE_BUF and lands
        // whole or not at all; its lines count as not written.
        let _between = self.progress.writing.try_lock_for(Duration::from_millis(50));
        let written = self.written();
        (written, self.dropped + self.accepted.saturating_sub(written))
    }
}

/// The writer thread: gathers queued events, formats and writes them,
/// counts whole lines.
fn write_lines(
    lines: &Receiver<Stamped>,
    format: Format,
    mut out: File,
    progress: &Progress,
    status: &StatusWriter,
) {
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    // The offset just past each line's newline, in `batch`.
    let mut ends = Vec::new();
    while let Ok(first) = lines.recv() {
        batch.clear();
        ends.clear();
        let mut next = Some(first);
        while let Some(Stamped { at, message }) = next {
            format.write(&mut batch, at, &message);
            batch.push(b'\n');
            ends.push(batch.len());
            next = if batch.len() < BATCH_BYTES { lines.try_recv().ok() } else { None };
        }
        if !status.above(|| write_counted(&mut out, &batch, &ends, progress)) {
            return;
        }
    }
}

/// Writes `batch` in chunks, counting each line once it is all out;
/// `false` when stdout is closed or the watch stopped.
fn write_counted(out: &mut File, batch: &[u8], ends: &[usize], progress: &Progress) -> bool {
    let mut at = 0;
    let mut counted = 0;
    while at < batch.len() {
        let _writing = progress.writing.lock();
        if progress.stop.load(Ordering::Acquire) {
            return false;
        }
        let chunk = batch.get(at..batch.len().min(at + WRITE_CHUNK)).unwrap_or_default();
        match out.write(chunk) {
            Ok(0) => return false,
            Ok(n) => {
                at += n;
                let complete = ends.partition_point(|&end| end <= at);
                let fresh = u64::try_from(complete - counted).unwrap_or(0);
                progress.written.fetch_add(fresh, Ordering::Release);
                counted = complete;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A closed stdout (EPIPE) ends the watch as a success.
            Err(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_and_map_to_the_engine() {
        assert_eq!(OverflowPolicy::parse("block").unwrap().engine(), Overflow::Block);
        assert_eq!(OverflowPolicy::parse("drop-newest").unwrap().engine(), Overflow::DropNewest);
        assert_eq!(OverflowPolicy::parse("drop-oldest").unwrap().engine(), Overflow::DropOldest);
        assert_eq!(OverflowPolicy::parse("nope").unwrap_err().code, exit::USAGE);
    }

    #[test]
    fn whole_lines_are_counted_across_chunks() {
        let path = std::env::temp_dir().join(format!("rig-out-{}", std::process::id()));
        let mut out = File::create(&path).unwrap();
        let line = "x".repeat(3000);
        let (mut batch, mut ends) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            batch.extend_from_slice(line.as_bytes());
            batch.push(b'\n');
            ends.push(batch.len());
        }
        let progress = Progress::default();
        assert!(write_counted(&mut out, &batch, &ends, &progress));
        assert_eq!(progress.written.load(Ordering::Acquire), 5);
        progress.stop.store(true, Ordering::Release);
        assert!(!write_counted(&mut out, &batch, &ends, &progress), "stopped");
        assert_eq!(progress.written.load(Ordering::Acquire), 5);
        drop(out);
        assert_eq!(std::fs::read(&path).unwrap().len(), 5 * 3001);
        std::fs::remove_file(&path).unwrap();
    }
}
