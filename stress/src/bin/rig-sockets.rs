//! `rig-sockets`: memory per idle joined socket on one engine, and how fast
//! they all rejoin after a server restart.
//!
//! ```text
//! rig-sockets [--sockets N] [--idle-secs S] [--no-restart] [--spread] [--json FILE]
//! ```
//!
//! The embedded server runs in a child process (this binary again, with
//! `--server-child`), so the figures are the client's alone. The client
//! raises its open-files limit, starts one engine and opens `N` sockets, each
//! with one joined channel (`room:idle-<i>`) and a `status()` receiver, the
//! shape of a monitoring tool watching many servers. Then it reports:
//!
//! - `rss_per_socket_bytes`: (VmRSS with every socket joined and settled −
//!   VmRSS of the bare engine) / N;
//! - `open_join_s`: from the first `connect` to the last join reply (and
//!   the CPU of the client and of the server child meanwhile, 100 = a core);
//! - `idle_cpu_pct` and `idle_wakeups`: CPU of the whole process and rig-io
//!   wake-ups over `--idle-secs` with nothing happening but heartbeats;
//! - `rejoin_ms` {p50, p99, max}: the server child restarts on the same port;
//!   per socket, the time from the restart until its channel is joined again
//!   (`server_restart_ms`: how long the server was away, its shutdown of
//!   every connection included).
//!
//! Exit codes: 0 ok, 1 a socket failed to join or rejoin, 2 usage or
//! environment (the open-files limit cannot hold N sockets: the numbers are
//! printed).

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::Duration;

use argh::FromArgs;
use rig::engine::{Channel, Engine, EngineConfig, Socket, SocketOptions, Status};
use rig::protocol::{ChannelState, Payload};
use rig::server::{Server, ServerConfig};
use rig::time::{Clock, Instant};

/// Descriptors kept for everything but the sockets (engine, std streams).
const SPARE_FDS: u64 = 64;
/// Longest wait for every socket to join, or to rejoin after the restart.
const SETTLE: Duration = Duration::from_secs(120);

/// Memory per idle joined socket and rejoin time after a server restart.
#[derive(FromArgs, Debug)]
struct Args {
    /// sockets on the engine (default 1000)
    #[argh(option, default = "1000")]
    sockets: u32,
    /// seconds of idling to measure CPU and wake-ups over (default 10)
    #[argh(option, default = "10")]
    idle_secs: u64,
    /// skip the server restart
    #[argh(switch)]
    no_restart: bool,
    /// connect each socket from its own loopback address (127.1.0.1,
    /// 127.1.0.2, ...): past ~28,000 sockets one source address runs out of
    /// ephemeral ports
    #[argh(switch)]
    spread: bool,
    /// also write the report to this file
    #[argh(option)]
    json: Option<String>,
    /// internal: run the server half (restarted on each `restart` line)
    #[argh(switch, hidden_help)]
    server_child: bool,
}

fn main() -> ExitCode {
    let args: Args = argh::from_env();
    if args.server_child {
        return server_child();
    }
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("rig-sockets: {e}");
            ExitCode::from(2)
        }
    }
}

/// The server half: prints `listening <addr>`, restarts on `restart`,
/// stops at the end of its input.
fn server_child() -> ExitCode {
    raise_nofile(u64::MAX);
    let start = |addr: SocketAddr| Server::start(ServerConfig::builder().addr(addr).build());
    let mut server = match start(SocketAddr::from(([127, 0, 0, 1], 0))) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("rig-sockets server: {e}");
            return ExitCode::from(2);
        }
    };
    let addr = server.local_addr();
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening {addr}");
    let _ = out.flush();
    for line in std::io::stdin().lock().lines() {
        if line.ok().as_deref().map(str::trim) != Some("restart") {
            break;
        }
        server.shutdown();
        let clock = Clock::real();
        let deadline = clock.now() + Duration::from_secs(10);
        server = loop {
            match start(addr) {
                Ok(server) => break server,
                Err(e) if clock.now() >= deadline => {
                    eprintln!("rig-sockets server: cannot restart on {addr}: {e}");
                    return ExitCode::from(2);
                }
                // The port is free again within a few milliseconds.
                Err(_) => std::thread::yield_now(),
            }
        };
        let _ = writeln!(out, "listening {addr}");
        let _ = out.flush();
    }
    server.shutdown();
    ExitCode::SUCCESS
}

/// The server child and its pipes.
struct ServerChild {
    child: Child,
    stdin: ChildStdin,
    lines: std::io::Lines<BufReader<ChildStdout>>,
}

impl ServerChild {
    fn spawn() -> Result<(Self, SocketAddr), String> {
        let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
        let mut child = Command::new(exe)
            .arg("--server-child")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the server child: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("server child without pipes".into());
        };
        let mut server = Self { child, stdin, lines: BufReader::new(stdout).lines() };
        let addr = server.listening()?;
        Ok((server, addr))
    }

    fn listening(&mut self) -> Result<SocketAddr, String> {
        let line = self.lines.next().and_then(Result::ok).unwrap_or_default();
        line.strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("server child said {line:?}"))
    }

    /// CPU the server child used so far.
    fn cpu(&self) -> Duration {
        cpu_of(&self.child.id().to_string())
    }

    fn restart(&mut self) -> Result<(), String> {
        writeln!(self.stdin, "restart").map_err(|e| format!("server child: {e}"))?;
        self.listening().map(drop)
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &Args) -> Result<bool, String> {
    let n = u64::from(args.sockets.max(1));
    let limit = raise_nofile(n + SPARE_FDS);
    if limit < n + SPARE_FDS {
        return Err(format!(
            "{n} sockets need {} open files; the limit is {limit} (the hard limit can only be \
             raised with CAP_SYS_RESOURCE)",
            n + SPARE_FDS
        ));
    }
    let (mut server, addr) = ServerChild::spawn()?;
    let url = format!("ws://{addr}/socket");
    let clock = Clock::real();
    let engine = Engine::start(EngineConfig::default()).map_err(|e| e.to_string())?;
    settle_allocator();
    let rss_before = vm_kb("VmRSS");

    let started = clock.now();
    let (cpu_open0, server_cpu_open0) = (cpu_time(), server.cpu());
    let mut sockets: Vec<(Socket, Channel, crossbeam_channel::Receiver<Status>)> =
        Vec::with_capacity(args.sockets as usize);
    let mut joins = Vec::with_capacity(args.sockets as usize);
    for i in 0..args.sockets {
        let mut options = SocketOptions::builder(url.as_str());
        if args.spread {
            options = options.local_addr(spread_addr(i));
        }
        let options = options.build().map_err(|e| e.to_string())?;
        let socket = engine.socket(options).map_err(|e| e.to_string())?;
        let status = socket.status().map_err(|e| e.to_string())?;
        socket.connect().map_err(|e| e.to_string())?;
        let channel = socket
            .channel(format!("room:idle-{i}"), Payload::json("{}"))
            .map_err(|e| e.to_string())?;
        joins.push(channel.join());
        sockets.push((socket, channel, status));
    }
    let mut failed = 0_u64;
    for join in joins {
        if join.wait().is_err() {
            failed += 1;
        }
    }
    let open_join = clock.now() - started;
    let open_cpu = pct(cpu_time().saturating_sub(cpu_open0), open_join);
    let open_server_cpu = pct(server.cpu().saturating_sub(server_cpu_open0), open_join);
    // What a monitoring tool does with its status receivers: reads them.
    for (_, _, status) in &sockets {
        while status.try_recv().is_ok() {}
    }
    settle_allocator();
    let rss_joined = vm_kb("VmRSS");
    let per_socket = rss_joined.saturating_sub(rss_before) * 1024 / n;

    let (cpu0, wakeups0) = (cpu_time(), engine.health().wakeups);
    let idle_from = clock.now();
    std::thread::park_timeout(Duration::from_secs(args.idle_secs));
    let idle_wall = clock.now() - idle_from;
    let idle_cpu = pct(cpu_time().saturating_sub(cpu0), idle_wall);
    let idle_wakeups = engine.health().wakeups - wakeups0;

    let mut restart_ms = 0.0;
    let mut rejoin_cpu = [0.0; 2];
    let rejoin = if args.no_restart {
        None
    } else {
        let from = clock.now();
        let (cpu0, server_cpu0) = (cpu_time(), server.cpu());
        server.restart()?;
        restart_ms = round3((clock.now() - from).as_secs_f64() * 1000.0);
        let times = rejoin_times(&clock, from, &sockets);
        let took = clock.now() - from;
        rejoin_cpu = [
            pct(cpu_time().saturating_sub(cpu0), took),
            pct(server.cpu().saturating_sub(server_cpu0), took),
        ];
        Some(times)
    };
    let rejoined = rejoin.as_ref().map_or(0, |r| r.len() as u64);
    let report = serde_json::json!({
        "sockets": n,
        "spread": args.spread,
        "join_failed": failed,
        "open_join_s": round3(open_join.as_secs_f64()),
        "open_join_cpu_pct": { "client": open_cpu, "server": open_server_cpu },
        "rss_engine_kb": rss_before,
        "rss_joined_kb": rss_joined,
        "rss_per_socket_bytes": per_socket,
        "vmhwm_kb": vm_kb("VmHWM"),
        "idle_secs": round3(idle_wall.as_secs_f64()),
        "idle_cpu_pct": idle_cpu,
        "idle_wakeups": idle_wakeups,
        "server_restart_ms": restart_ms,
        "rejoin_cpu_pct": { "client": rejoin_cpu[0], "server": rejoin_cpu[1] },
        "rejoined": rejoined,
        "rejoin_ms": rejoin.as_ref().map(|times| percentiles(times)),
    });
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{report}");
    let _ = out.flush();
    if let Some(path) = &args.json {
        std::fs::write(path, format!("{report}\n")).map_err(|e| format!("{path}: {e}"))?;
    }
    drop(sockets);
    engine.shutdown();
    Ok(failed == 0 && (args.no_restart || rejoined == n))
}

/// Per socket, ms from `from` until its channel left `Joined` and came back.
fn rejoin_times(
    clock: &Clock,
    from: Instant,
    sockets: &[(Socket, Channel, crossbeam_channel::Receiver<Status>)],
) -> Vec<f64> {
    let mut left = vec![false; sockets.len()];
    let mut times = vec![None; sockets.len()];
    let deadline = from + SETTLE;
    let mut pending = sockets.len();
    while pending > 0 && clock.now() < deadline {
        for (i, (_, channel, _)) in sockets.iter().enumerate() {
            if times[i].is_some() {
                continue;
            }
            let joined = channel.state() == ChannelState::Joined;
            if !joined {
                left[i] = true;
            } else if left[i] {
                times[i] = Some((clock.now() - from).as_secs_f64() * 1000.0);
                pending -= 1;
            }
        }
        // A pass over every channel's state, then a pause: rejoin times are
        // accurate to a few ms, and the watcher leaves the CPU to the engine.
        std::thread::park_timeout(Duration::from_millis(2));
    }
    times.into_iter().flatten().collect()
}

/// The `i`th loopback source address: 127.1.0.1, 127.1.0.2, ... 250 per
/// third octet, then the second octet grows (millions of addresses).
fn spread_addr(i: u32) -> std::net::IpAddr {
    let octet = |n: u32| u8::try_from(n).unwrap_or(u8::MAX);
    let (low, rest) = (i % 250, i / 250);
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(
        127,
        octet(1 + rest / 250),
        octet(rest % 250),
        octet(1 + low),
    ))
}

fn percentiles(times: &[f64]) -> serde_json::Value {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted.get(i).copied().map_or(0.0, round3)
    };
    serde_json::json!({ "p50": at(0.5), "p99": at(0.99), "max": at(1.0) })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn pct(used: Duration, wall: Duration) -> f64 {
    if wall.is_zero() { 0.0 } else { round3(used.as_secs_f64() / wall.as_secs_f64() * 100.0) }
}

/// A field of /proc/self/status in kB.
fn vm_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User + system CPU of the whole process.
fn cpu_time() -> Duration {
    cpu_of("self")
}

/// User + system CPU of process `pid` (`self` for this one).
fn cpu_of(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after `)`.
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// Gives rig-io a moment to finish what the last calls started, so RSS
/// is read in a quiet state.
fn settle_allocator() {
    std::thread::park_timeout(Duration::from_secs(2));
}

/// Raises the open-files soft limit to the hard one; returns the soft limit.
fn raise_nofile(want: u64) -> u64 {
    let (soft, hard) = rlimit::Resource::NOFILE.get().unwrap_or((1024, 1024));
    if soft >= want {
        return soft;
    }
    let _ = rlimit::Resource::NOFILE.set(hard, hard);
    rlimit::Resource::NOFILE.get().map_or(soft, |(soft, _)| soft)
}
