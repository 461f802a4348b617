//! A progress line on stderr every 10 s while the run goes on, so a long
//! run shows its invariants as it goes (the report comes at the end).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;
use rig::engine::Socket;

use crate::clock;
use crate::pushes::PushCounters;
use crate::track::{Track, TrackCounts};

/// How often a line is printed.
const EVERY: Duration = Duration::from_secs(10);

/// The progress thread; stops when dropped.
#[derive(Debug)]
pub(crate) struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts printing about `tracks`, `sockets` and `pushes`.
    pub(crate) fn start(
        tracks: Vec<Arc<Mutex<Track>>>,
        sockets: Vec<Socket>,
        pushes: Arc<PushCounters>,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("stress-progress".into())
            .spawn(move || run(&tracks, &sockets, &pushes, &flag));
        let thread = spawned.map_err(|e| log::warn!("no progress lines: {e}")).ok();
        Self { stop, thread }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(tracks: &[Arc<Mutex<Track>>], sockets: &[Socket], pushes: &PushCounters, stop: &AtomicBool) {
    let start = clock::now();
    let mut next = start + EVERY;
    while !stop.load(Ordering::Relaxed) {
        if clock::now() < next {
            clock::sleep(Duration::from_millis(50));
            continue;
        }
        next += EVERY;
        let mut events = TrackCounts::default();
        let mut pending = 0;
        for track in tracks {
            let track = track.lock();
            events.add(&track.counts());
            pending += usize::from(track.is_pending());
        }
        let reconnects: u64 = sockets.iter().map(|s| s.health().reconnects).sum();
        let p = pushes.report();
        eprintln!(
            "rig-stress: +{}s delivered {} missing {} dup {} reordered {}, recovering {}, \
             reconnects {}, pushes sent {} acked {} timeouts {}",
            clock::now().saturating_duration_since(start).as_secs(),
            events.delivered,
            events.missing,
            events.duplicated,
            events.reordered,
            pending,
            reconnects,
            p.sent,
            p.acked,
            p.timeouts,
        );
    }
}
