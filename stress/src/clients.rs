//! The client half: one rig [`Engine`] (one `rig-io` thread) with N
//! sockets, each joined to M `stream:*` topics and one push topic, every
//! stream event checked by its channel's [`Track`].
//!
//! ```text
//!   stress-push thread ──push/then──►  Engine (rig-io) ──► N sockets ──► proxy ──► server
//!   rig-dispatch-N: on("event") ──► Track per channel (epochs, gaps) + latency / recovery histograms
//! ```
//!
//! Handlers run with `Overflow::Block`: a slow checker pauses reading of
//! its socket instead of dropping, so any gap in an epoch is a real loss.
//! Engine drops are still read from health and reported as drops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use rig::engine::{Channel, Engine, EngineConfig, Overflow, Socket, SocketOptions};
use rig::outbox::{Limits, MemoryOutbox};
use rig::protocol::{Message, Payload};
use serde::{Deserialize, Serialize};

use crate::clock;
use crate::flags::Config;
use crate::hist::{Percentiles, histogram};
use crate::progress::Progress;
use crate::pushes::{AckedRanges, InboxPath, PushCounters, PushPath, PushReport, push_loop};
use crate::schedule::FaultKind;
use crate::series::{Bucket, Sample, Sampler, Window, buckets};
use crate::sys;
use crate::track::{Track, TrackCounts};

/// How often the waits below look again.
const POLL: Duration = Duration::from_millis(20);

/// State the handlers share.
#[derive(Debug)]
struct Shared {
    latency: Mutex<Histogram<u64>>,
    recovery: Mutex<Histogram<u64>>,
    /// This second's events, for the per-second series.
    window: Arc<Window>,
    /// Stream events seen by handlers (for `--inject-loss`).
    seen: AtomicU64,
    inject_loss: u64,
    injected: AtomicU64,
    bad_payloads: AtomicU64,
}

/// What the client half reports (sent from a `--role clients` child as JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ClientsReport {
    pub(crate) events: TrackCounts,
    pub(crate) channels: u64,
    pub(crate) never_joined: u64,
    pub(crate) unrecovered: u64,
    pub(crate) injected_drops: u64,
    pub(crate) bad_payloads: u64,
    pub(crate) engine_drops: u64,
    pub(crate) pushes: PushReport,
    /// The acknowledged pushes, for the host to look up in the push log.
    pub(crate) acked: Vec<AckedRanges>,
    pub(crate) connections: u64,
    pub(crate) reconnects: u64,
    pub(crate) heartbeat_timeouts: u64,
    pub(crate) pauses: u64,
    pub(crate) handler_panics: u64,
    pub(crate) leaves_unanswered: u64,
    pub(crate) latency_us: Percentiles,
    pub(crate) recovery_us: Percentiles,
    pub(crate) peak_rss_kb: u64,
    pub(crate) cpu_pct: f64,
    pub(crate) engine_cpu_pct: f64,
    /// One sample per second from the end of the ramp.
    pub(crate) series: Vec<Sample>,
    pub(crate) latency_buckets: Vec<Bucket>,
    pub(crate) recovery_buckets: Vec<Bucket>,
}

/// The engine, its sockets and channels, and the checkers.
#[derive(Debug)]
pub(crate) struct Clients {
    engine: Engine,
    sockets: Vec<Socket>,
    streams: Vec<Channel>,
    rooms: Arc<Vec<Channel>>,
    tracks: Vec<Arc<Mutex<Track>>>,
    shared: Arc<Shared>,
    path: Arc<dyn PushPath>,
    pushes: Arc<PushCounters>,
    push_rate: u32,
    pusher: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
    progress: Option<Progress>,
    sampler: Option<Sampler>,
    never_joined: u64,
    started: Instant,
    cpu_at_start: sys::CpuTime,
}

/// Sockets `--metrics` shows one by one.
const METRICS_SOCKETS: usize = 100;

/// The payload fields of a stream event.
#[derive(Deserialize)]
struct Tick {
    seq: u64,
    t: u64,
}

impl Clients {
    /// Starts the engine, connects every socket to `url` and joins every
    /// channel (without waiting: see [`Clients::ready`]).
    pub(crate) fn start(config: &Config, url: &str) -> Result<Self, String> {
        let engine = Engine::start(EngineConfig::builder().overflow(Overflow::Block).build())
            .map_err(|e| format!("cannot start the engine: {e}"))?;
        let shared = Arc::new(Shared {
            latency: Mutex::new(histogram()),
            recovery: Mutex::new(histogram()),
            window: Arc::default(),
            seen: AtomicU64::new(0),
            inject_loss: config.inject_loss,
            injected: AtomicU64::new(0),
            bad_payloads: AtomicU64::new(0),
        });
        let path: Arc<dyn PushPath> = Arc::new(InboxPath);
        // Enough events that no stream ends within a run, even a long one.
        let count = u64::from(config.rate) * (config.duration_s + 3600) * 2;
        let params = Payload::json(format!(r#"{{"rate":{},"count":{count}}}"#, config.rate));
        let mut clients = Self {
            engine,
            sockets: Vec::new(),
            streams: Vec::new(),
            rooms: Arc::new(Vec::new()),
            tracks: Vec::new(),
            shared,
            path,
            pushes: Arc::new(PushCounters::default()),
            push_rate: config.push_rate,
            pusher: None,
            progress: None,
            sampler: None,
            never_joined: 0,
            started: clock::now(),
            cpu_at_start: sys::cpu_time(),
        };
        let outbox_dir = match &config.outbox_dir {
            Some(dir) => {
                let run = dir.join(format!("run-{}", std::process::id()));
                std::fs::create_dir_all(&run)
                    .map_err(|e| format!("cannot create {}: {e}", run.display()))?;
                Some(run)
            }
            None => None,
        };
        let mut rooms = Vec::new();
        for client in 0..config.clients {
            let mut options =
                SocketOptions::builder(url).seed(config.seed ^ u64::from(client).rotate_left(32));
            options = match &outbox_dir {
                Some(dir) => options.outbox(dir.join(format!("stress-{client}.sqlite"))),
                None => options.outbox_with(Arc::new(MemoryOutbox::new(Limits::default()))),
            };
            let options =
                options.build().map_err(|e| format!("bad socket options for {url}: {e}"))?;
            let socket = clients.engine.socket(options).map_err(|e| e.to_string())?;
            for topic in 0..config.topics {
                let channel = socket
                    .channel(format!("stream:c{client}-t{topic}"), params.clone())
                    .map_err(|e| e.to_string())?;
                clients.watch(&channel)?;
                let _join = channel.join();
                clients.streams.push(channel);
            }
            if config.push_rate > 0 {
                let room = socket
                    .channel(clients.path.topic(client), Payload::empty())
                    .map_err(|e| e.to_string())?;
                let _join = room.join();
                rooms.push(room);
            }
            socket.connect().map_err(|e| e.to_string())?;
            clients.sockets.push(socket);
        }
        clients.rooms = Arc::new(rooms);
        Ok(clients)
    }

    /// Binds the checker of one stream channel.
    /// Shows the engine, the first [`METRICS_SOCKETS`] sockets and their
    /// topics in `metrics` (more would make thousands of series).
    pub(crate) fn watch_metrics(&self, metrics: &rig::metrics::Metrics) {
        metrics.watch_engine(&self.engine);
        for (i, socket) in self.sockets.iter().take(METRICS_SOCKETS).enumerate() {
            let name = format!("c{i}");
            metrics.watch_socket(&name, socket);
            let prefix = format!("stream:c{i}-");
            for channel in self.streams.iter().filter(|c| c.topic().starts_with(&prefix)) {
                metrics.watch_channel(&name, channel);
            }
        }
    }

    fn watch(&mut self, channel: &Channel) -> Result<(), String> {
        let track = Arc::new(Mutex::new(Track::default()));
        self.tracks.push(Arc::clone(&track));
        let shared = Arc::clone(&self.shared);
        let handler = move |message: &Message| on_event(&shared, &track, message);
        channel.on("event", handler).map(drop).map_err(|e| e.to_string())
    }

    /// Waits up to `timeout` for every stream channel to deliver an event,
    /// then starts the pushes. Returns how many channels never did.
    pub(crate) fn ready(&mut self, timeout: Duration) -> u64 {
        let deadline = clock::now() + timeout;
        let waiting = loop {
            let waiting = self.tracks.iter().filter(|t| !t.lock().has_epoch()).count();
            if waiting == 0 || clock::now() >= deadline {
                break waiting;
            }
            clock::sleep(POLL);
        };
        self.never_joined = u64::try_from(waiting).unwrap_or(u64::MAX);
        self.started = clock::now();
        self.cpu_at_start = sys::cpu_time();
        self.start_pushes();
        let window = Arc::clone(&self.shared.window);
        self.sampler = Some(Sampler::start(window, self.sockets.clone()));
        let pushes = Arc::clone(&self.pushes);
        self.progress = Some(Progress::start(self.tracks.clone(), self.sockets.clone(), pushes));
        self.never_joined
    }

    fn start_pushes(&mut self) {
        if self.push_rate == 0 || self.rooms.is_empty() {
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let (rooms, path, pushes) =
            (Arc::clone(&self.rooms), Arc::clone(&self.path), Arc::clone(&self.pushes));
        let rate = f64::from(self.push_rate) * rooms.len() as f64;
        let flag = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("stress-push".into())
            .spawn(move || push_loop(&rooms, &path, &pushes, rate, &flag));
        match spawned {
            Ok(handle) => self.pusher = Some((stop, handle)),
            Err(e) => log::error!("cannot start the push thread: {e}"),
        }
    }

    /// Marks a fault that just happened on every channel.
    pub(crate) fn fault(&self, kind: FaultKind) {
        let at = clock::now();
        for track in &self.tracks {
            track.lock().mark_fault(at, kind.kills_connections());
        }
    }

    /// Waits up to `timeout` for every channel to recover from the faults;
    /// returns how many have not.
    pub(crate) fn settle(&self, timeout: Duration) -> u64 {
        let deadline = clock::now() + timeout;
        loop {
            let pending = self.tracks.iter().filter(|t| t.lock().is_pending()).count();
            if pending == 0 || clock::now() >= deadline {
                return u64::try_from(pending).unwrap_or(u64::MAX);
            }
            clock::sleep(POLL);
        }
    }

    /// Stops pushing, waits for every push to resolve, leaves the streams
    /// (a leave reply comes after every event sent before it, so what was
    /// sent on a live connection has arrived), then reports.
    pub(crate) fn finish(mut self, push_timeout: Duration) -> ClientsReport {
        self.progress = None;
        let series = self.sampler.take().map(Sampler::finish).unwrap_or_default();
        if let Some((stop, handle)) = self.pusher.take() {
            stop.store(true, Ordering::Relaxed);
            if handle.join().is_err() {
                log::error!("the push thread panicked");
            }
        }
        let unrecovered = self.tracks.iter().filter(|t| t.lock().is_pending()).count();
        let deadline = clock::now() + push_timeout;
        while self.pushes.resolved() < self.pushes.report().sent && clock::now() < deadline {
            clock::sleep(POLL);
        }
        let leaves: Vec<_> = self.streams.iter().map(Channel::leave).collect();
        let deadline = clock::now() + push_timeout;
        let mut unanswered = 0;
        for mut leave in leaves {
            let left = deadline.saturating_duration_since(clock::now());
            if leave.wait_timeout(left).is_none() {
                unanswered += 1;
            }
        }
        self.drain_dispatch();
        let mut report = self.report(u64::try_from(unrecovered).unwrap_or(u64::MAX), unanswered);
        report.series = series;
        report
    }

    /// Waits (briefly) until the dispatcher queues are empty and the
    /// delivered count stops moving.
    fn drain_dispatch(&self) {
        let deadline = clock::now() + Duration::from_secs(5);
        let mut last = u64::MAX;
        while clock::now() < deadline {
            let delivered = self.tracks.iter().map(|t| t.lock().counts().delivered).sum();
            if self.engine.health().dispatch_queue == 0 && delivered == last {
                return;
            }
            last = delivered;
            clock::sleep(Duration::from_millis(100));
        }
    }

    fn report(&self, unrecovered: u64, leaves_unanswered: u64) -> ClientsReport {
        let mut events = TrackCounts::default();
        for track in &self.tracks {
            events.add(&track.lock().counts());
        }
        let engine = self.engine.health();
        // One lock at a time: a guard taken inside the struct expression
        // below would live to its end, and the mutex is not reentrant.
        let (latency_us, latency_buckets) = {
            let latency = self.shared.latency.lock();
            (Percentiles::of(&latency), buckets(&latency))
        };
        let (recovery_us, recovery_buckets) = {
            let recovery = self.shared.recovery.lock();
            (Percentiles::of(&recovery), buckets(&recovery))
        };
        let mut report = ClientsReport {
            events,
            channels: u64::try_from(self.tracks.len()).unwrap_or(u64::MAX),
            never_joined: self.never_joined,
            unrecovered,
            injected_drops: self.shared.injected.load(Ordering::Relaxed),
            bad_payloads: self.shared.bad_payloads.load(Ordering::Relaxed),
            engine_drops: engine.dispatch_dropped,
            pushes: self.pushes.report(),
            acked: self.pushes.acked(),
            handler_panics: engine.handler_panics,
            leaves_unanswered,
            latency_us,
            recovery_us,
            latency_buckets,
            recovery_buckets,
            peak_rss_kb: sys::peak_rss_kb(),
            ..ClientsReport::default()
        };
        for socket in &self.sockets {
            let health = socket.health();
            report.engine_drops += health.dropped;
            report.connections += health.connections;
            report.reconnects += health.reconnects;
            report.heartbeat_timeouts += health.heartbeat_timeouts;
            report.pauses += health.pauses;
            report.pushes.requeued += health.outbox_requeued;
            report.pushes.outbox_left += health.outbox_depth;
        }
        let wall = clock::now().saturating_duration_since(self.started);
        let cpu = sys::cpu_time();
        report.cpu_pct = sys::percent(cpu.process.saturating_sub(self.cpu_at_start.process), wall);
        report.engine_cpu_pct =
            sys::percent(cpu.engine.saturating_sub(self.cpu_at_start.engine), wall);
        report
    }
}

/// The handler of every stream event.
fn on_event(shared: &Shared, track: &Mutex<Track>, message: &Message) {
    let now = clock::now();
    let unix_us = clock::unix_us();
    let join_ref = message.join_ref.as_ref().and_then(rig::protocol::Ref::to_u64);
    let tick = message.payload.as_json().and_then(|json| serde_json::from_str::<Tick>(json).ok());
    let (Some(join_ref), Some(tick)) = (join_ref, tick) else {
        shared.bad_payloads.fetch_add(1, Ordering::Relaxed);
        return;
    };
    if shared.inject_loss > 0 {
        let seen = shared.seen.fetch_add(1, Ordering::Relaxed) + 1;
        if seen.is_multiple_of(shared.inject_loss) {
            shared.injected.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }
    let latency_us = unix_us.saturating_sub(tick.t).max(1);
    shared.latency.lock().saturating_record(latency_us);
    shared.window.record(latency_us);
    let recovered = track.lock().on_event(join_ref, tick.seq, now);
    if let Some(after) = recovered {
        shared.recovery.lock().saturating_record(clock::micros(after).max(1));
    }
}
