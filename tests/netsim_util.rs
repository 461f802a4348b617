//! The world of an `engine_netsim*` test: the embedded server behind the
//! fault proxy, one engine socket through the proxy with a numbered
//! `stream:*` channel and an echoing `room:*` channel, and the checks every
//! test ends with.
//!
//! ```text
//!  engine socket ── ws(s)://127.0.0.1:P ──► netsim proxy (faults, seed) ──► embedded server
//!    stream:n  "event" {"seq":1,2,..} per join        ◄── numbered at 200/s
//!    room:a    "echo" {"n":k} → ok {"n":k}
//! ```
//!
//! Heartbeats, backoffs and timeouts are short (below), so a fault is
//! detected and healed in well under a second and a test takes 1–3 s.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crossbeam_channel::Receiver;
use rig::engine::{
    Channel, ChannelChange, Engine, ErrorKind, Socket, SocketOptions, SocketOptionsBuilder, Status,
};
use rig::netsim::{Faults, Proxy, ProxyConfig, ProxyHandle, ProxyStats};
use rig::protocol::{Backoff, ChannelState, Payload};
use rig::server::{Server, ServerConfig, ServerHandle, TlsConfig as ServerTls};

use crate::engine_fake::sockets_to;
use crate::engine_util::{WAIT, engine};
use crate::netsim_check::{PushLedger, PushTally, SharedStreamLog, StreamLog};

/// Heartbeat every 100 ms …
pub(crate) const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);
/// … and a connection is dead when one stays unanswered this long.
pub(crate) const HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(700);
/// Push and join timeout: long enough for every slow-link test.
pub(crate) const PUSH_TIMEOUT: Duration = Duration::from_secs(3);
/// Events per second on the `stream:*` channel.
const STREAM_RATE: u64 = 200;
/// The topics under test.
pub(crate) const STREAM: &str = "stream:n";
pub(crate) const ROOM: &str = "room:a";

/// How a [`Link`] is set up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setup {
    pub(crate) faults: Faults,
    pub(crate) seed: u64,
    pub(crate) tls: bool,
}

impl Setup {
    /// No faults at start, plain ws, the given proxy seed.
    pub(crate) fn seed(seed: u64) -> Self {
        Self { faults: Faults::default(), seed, tls: false }
    }

    pub(crate) fn faults(self, faults: Faults) -> Self {
        Self { faults, ..self }
    }

    pub(crate) fn tls(self) -> Self {
        Self { tls: true, ..self }
    }
}

/// Everything a test run holds; see the module docs.
pub(crate) struct Link {
    pub(crate) server: ServerHandle,
    pub(crate) proxy: ProxyHandle,
    pub(crate) engine: Engine,
    pub(crate) socket: Socket,
    status: Receiver<Status>,
    /// Every status read so far, in order.
    pub(crate) story: Vec<Status>,
    pub(crate) room: Channel,
    pub(crate) stream: Channel,
    pub(crate) events: SharedStreamLog,
    pub(crate) pushes: PushLedger,
}

/// What [`Link::finish`] found.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) pushes: PushTally,
    pub(crate) proxy: ProxyStats,
    pub(crate) joins: usize,
    pub(crate) events: u64,
}

impl Link {
    /// Starts the server, the proxy and the engine; connects, joins both
    /// channels and waits for the first stream events.
    pub(crate) fn start(setup: Setup) -> Self {
        Self::start_with(setup, IpAddr::V4(Ipv4Addr::LOCALHOST), engine)
    }

    /// [`Link::start`] with the proxy listening on `listen` and the engine
    /// made by `make_engine` (e.g. on a thread in another network
    /// namespace).
    pub(crate) fn start_with(
        setup: Setup,
        listen: IpAddr,
        make_engine: impl FnOnce() -> Engine,
    ) -> Self {
        let (server, tls) = if setup.tls { tls_server() } else { (plain_server(), None) };
        let proxy = Proxy::start(
            ProxyConfig::builder(server.local_addr())
                .listen(SocketAddr::new(listen, 0))
                .faults(setup.faults)
                .seed(setup.seed)
                .build(),
        )
        .unwrap();
        let proxy_addr = proxy.local_addr();
        let url = match tls {
            // The certificate names localhost; the proxy listens on
            // 127.0.0.1 only, so a ::1 answer from the resolver is refused
            // and the next address is tried.
            Some(_) => format!("wss://localhost:{}/socket", proxy_addr.port()),
            None => format!("ws://{proxy_addr}/socket"),
        };
        let engine = make_engine();
        let options = fast(SocketOptions::builder(&url), tls).build().unwrap();
        let socket = engine.socket(options).unwrap();
        let status = socket.status().unwrap();
        let room = socket.channel(ROOM, Payload::empty()).unwrap();
        let params = format!(r#"{{"rate":{STREAM_RATE},"count":1000000}}"#);
        let stream = socket.channel(STREAM, Payload::json(params)).unwrap();
        let events = SharedStreamLog::default();
        stream.on("event", events.handler()).unwrap();
        socket.connect().unwrap();
        let mut link = Self {
            server,
            proxy,
            engine,
            socket,
            status,
            story: Vec::new(),
            room,
            stream,
            events,
            pushes: PushLedger::default(),
        };
        let (room_join, stream_join) = (link.room.join(), link.stream.join());
        for mut join in [room_join, stream_join] {
            let outcome = join.wait_timeout(WAIT).expect("join resolves in time");
            assert!(outcome.expect("join answered").is_ok());
        }
        link.until(|s| *s == Status::Open);
        link.wait_stream(|log| log.latest_join_events() >= 5);
        link
    }

    /// Reads statuses until one matches (kept in [`Link::story`]).
    pub(crate) fn until(&mut self, want: impl Fn(&Status) -> bool) -> &[Status] {
        let from = self.story.len();
        let seen = crate::engine_util::until_status(&self.status, WAIT, want);
        self.story.extend(seen);
        &self.story[from..]
    }

    /// Statuses that come within `quiet` (nothing is waited for).
    pub(crate) fn drain_status(&mut self, quiet: Duration) -> Vec<Status> {
        let mut seen = Vec::new();
        while let Ok(s) = self.status.recv_timeout(quiet) {
            seen.push(s);
        }
        self.story.extend(seen.iter().cloned());
        seen
    }

    /// Every status that comes within `window` (the whole window is read).
    pub(crate) fn statuses_for(&mut self, window: Duration) -> Vec<Status> {
        let clock = rig::time::Clock::real();
        let deadline = clock.now() + window;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(clock.now());
            match self.status.recv_timeout(left) {
                Ok(s) => seen.push(s),
                Err(_) => break,
            }
        }
        self.story.extend(seen.iter().cloned());
        seen
    }

    /// Settles the pushes made so far (see [`PushLedger::settle`]).
    pub(crate) fn settle(&mut self) -> PushTally {
        self.pushes.settle(PUSH_TIMEOUT + WAIT)
    }

    /// Waits for the stream log to satisfy `done`; panics with the whole
    /// picture (log, health, proxy counters, recent statuses) after [`WAIT`].
    pub(crate) fn wait_stream(&mut self, done: impl Fn(&StreamLog) -> bool) {
        if let Err(log) = self.events.wait_until(WAIT, done) {
            self.drain_status(Duration::from_millis(10));
            let recent = &self.story[self.story.len().saturating_sub(12)..];
            panic!(
                "{log}\nhealth {:?}\nproxy {:?}\nserver {:?}\nrecent statuses {recent:#?}",
                self.socket.health(),
                self.proxy.stats(),
                self.server.stats()
            );
        }
    }

    /// Makes `count` echo pushes (settled in [`Link::finish`]).
    pub(crate) fn push_echoes(&mut self, count: u64) {
        for _ in 0..count {
            let n = self.pushes.next_number();
            let push = self.room.push("echo", Payload::json(format!(r#"{{"n":{n}}}"#)));
            self.pushes.add(n, push);
        }
    }

    /// Traffic both ways: `pushes` echoes, and `events` more stream events
    /// in the current join.
    pub(crate) fn traffic(&mut self, pushes: u64, events: u64) {
        self.push_echoes(pushes);
        let (joins, have) = self.events.with(|log| (log.joins.len(), log.latest_join_events()));
        self.wait_stream(|log| {
            log.joins.len() > joins || log.latest_join_events() >= have + events
        });
    }

    /// After a broken connection: waits for the socket to open again, both
    /// channels to rejoin and the stream to flow again. Returns the
    /// statuses from the failure to the last rejoin.
    ///
    /// "Flow again" is counted from when the rejoin is read, not by join
    /// refs: on loopback the rejoin and its first events can come before
    /// this call, so a count of joins taken here could already include the
    /// new one. Events counted after the rejoin status can only come from a
    /// connection that opened after the failure.
    pub(crate) fn recovered(&mut self) -> Vec<Status> {
        let from = self.story.len();
        self.until(|s| *s == Status::Open);
        let mut rejoined: Vec<String> = Vec::new();
        while rejoined.len() < 2 {
            let topic = match self.until(joined).last() {
                Some(Status::Channel { channel, .. }) => channel.topic().to_owned(),
                _ => unreachable!(),
            };
            if !rejoined.contains(&topic) {
                rejoined.push(topic);
            }
        }
        let events = self.events.with(|log| log.events);
        self.wait_stream(|log| log.events >= events + 5);
        self.story[from..].to_vec()
    }

    /// Settles every push, shuts the engine and the proxy down and checks
    /// that no socket is left: the engine's to the proxy, the proxy's to
    /// the server. Panics on any broken invariant.
    pub(crate) fn finish(mut self) -> Report {
        // The faults are over: the socket and both channels stand.
        assert_eq!(self.socket.state(), rig::engine::ConnectionState::Open);
        assert_eq!(self.room.state(), ChannelState::Joined);
        assert_eq!(self.stream.state(), ChannelState::Joined);
        let pushes = self.pushes.settle(PUSH_TIMEOUT + WAIT);
        let (joins, events, violations) =
            self.events.with(|log| (log.joins.len(), log.events, log.violations.clone()));
        assert!(violations.is_empty(), "stream invariants broken: {violations:?}");
        let proxy_port = self.proxy.local_addr().port();
        let server_port = self.server.local_addr().port();
        let Self { server, proxy, engine, socket, room, stream, .. } = self;
        drop((room, stream, socket));
        engine.shutdown();
        assert_eq!(sockets_to(proxy_port), 0, "engine sockets left to the proxy");
        // The proxy sees the engine's close and closes its upstream side.
        wait_for(|| proxy.stats().open_connections == 0);
        let stats = proxy.stats();
        proxy.shutdown();
        assert_eq!(sockets_to(server_port), 0, "proxy sockets left to the server");
        drop(server);
        Report { pushes, proxy: stats, joins, events }
    }
}

/// A status saying a channel reached `joined`.
pub(crate) fn joined(s: &Status) -> bool {
    matches!(
        s,
        Status::Channel { change: ChannelChange::State { to: ChannelState::Joined, .. }, .. }
    )
}

/// A status saying the connection failed with `kind`.
pub(crate) fn failed_with(kind: ErrorKind) -> impl Fn(&Status) -> bool {
    move |s| matches!(s, Status::Failed { error } if error.kind() == kind)
}

/// Asserts the steps of a reconnect appear in `story`, in order: the
/// failure (`kind`), both channels errored, a wait, a reconnect attempt,
/// open, both channels joined again.
pub(crate) fn assert_reconnect_story(story: &[Status], kind: ErrorKind) {
    let position = |what: &str, from: usize, want: &dyn Fn(&Status) -> bool| {
        story[from..]
            .iter()
            .position(want)
            .map(|i| i + from)
            .unwrap_or_else(|| panic!("no {what} after step {from} in {story:#?}"))
    };
    let failed = position("failure", 0, &failed_with(kind));
    for topic in [STREAM, ROOM] {
        position(
            "channel error",
            0,
            &|s| matches!(s, Status::Channel { channel, change: ChannelChange::Error(_) } if channel.topic() == topic),
        );
    }
    let waiting = position("backoff", failed, &|s| matches!(s, Status::WaitingToReconnect { .. }));
    let attempt = position(
        "reconnect",
        waiting,
        &|s| matches!(s, Status::Connecting { attempt } if *attempt >= 1),
    );
    let open = position("open", attempt, &|s| *s == Status::Open);
    for topic in [STREAM, ROOM] {
        position("rejoin", open, &|s| {
            joined(s) && matches!(s, Status::Channel { channel, .. } if channel.topic() == topic)
        });
    }
}

/// Short heartbeats, backoffs and timeouts, so faults show and heal fast.
fn fast(
    options: SocketOptionsBuilder,
    tls: Option<rig::transport::TlsConnector>,
) -> SocketOptionsBuilder {
    let options = options
        .heartbeat_interval(HEARTBEAT_INTERVAL)
        .heartbeat_timeout(HEARTBEAT_TIMEOUT)
        .timeout(PUSH_TIMEOUT)
        .connect_timeout(Duration::from_millis(500))
        .reconnect_backoff(Backoff::constant(Duration::from_millis(50)))
        .rejoin_backoff(Backoff::constant(Duration::from_millis(50)));
    match tls {
        Some(tls) => options.tls(tls),
        None => options,
    }
}

fn plain_server() -> ServerHandle {
    Server::start(ServerConfig::builder().build()).unwrap()
}

/// A wss server with a fresh self-signed certificate for localhost, and a
/// connector that trusts only it.
fn tls_server() -> (ServerHandle, Option<rig::transport::TlsConnector>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = certified.cert.pem();
    let key_pem = certified.signing_key.serialize_pem();
    let tls = ServerTls::from_pem(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
    let server = Server::start(ServerConfig::builder().tls(tls).build()).unwrap();
    let connector =
        rig::transport::TlsConfig::new().webpki_roots(false).ca_pem(cert_pem).build().unwrap();
    (server, Some(connector))
}

/// Polls `done` every 10 ms until it holds; panics after [`WAIT`].
pub(crate) fn wait_for(done: impl Fn() -> bool) {
    let clock = rig::time::Clock::real();
    let deadline = clock.now() + WAIT;
    while !done() {
        assert!(clock.now() < deadline, "condition not met within {WAIT:?}");
        // A timed wait on a channel nobody sends on: a sleep that needs
        // no exemption from the no-sleep lint.
        let _ = crossbeam_channel::never::<()>().recv_timeout(Duration::from_millis(10));
    }
}
