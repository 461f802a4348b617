//! `rig proxy`: a seeded TCP fault proxy in front of a server, until
//! SIGINT/SIGTERM. Scheduled faults come from the flags; on-demand ones
//! (reset, blackhole, stall, refuse) from lines on standard input
//! (`proxy_control`).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher as _;
use std::io::{BufRead as _, Write as _};
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::mpsc;

use argh::FromArgs;
use rig::netsim::{DirectionFaults, Faults, Periodic, Proxy, ProxyConfig, Stalls};

use crate::exit::{FAILED, Failure};
use crate::proxy_control::{Control, stats_line};
use crate::ranges::Range;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Forward TCP connections to an upstream server through simulated network
/// faults (per-direction flags apply to --direction, both by default; all
/// times in ms). While it runs, standard input takes one command per line:
/// reset | blackhole on|off | stall MS | refuse on|off | stats.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "proxy")]
pub(crate) struct ProxyArgs {
    /// address to listen on (default 127.0.0.1:0: a free port, printed)
    #[argh(option, default = "String::from(\"127.0.0.1:0\")")]
    listen: String,
    /// the server to forward to, HOST:PORT
    #[argh(option)]
    upstream: String,
    /// one-way delay added (in each --direction)
    #[argh(option, default = "0")]
    latency: u64,
    /// extra random delay per read, 0..=JITTER (in each --direction)
    #[argh(option, default = "0")]
    jitter: u64,
    /// rate cap in bytes per second (in each --direction; 0: none)
    #[argh(option, default = "0")]
    bandwidth: u64,
    /// write at most this many bytes at a time (0: no slicing)
    #[argh(option, default = "0")]
    slice: usize,
    /// with --slice: wait this long between pieces (default 0)
    #[argh(option, default = "0")]
    slice_gap: u64,
    /// which way the latency, jitter, bandwidth, slice and stall flags
    /// apply: both (default), upstream (client to server) or downstream
    #[argh(option, default = "String::from(\"both\")")]
    direction: String,
    /// start a stall about every this many ms (needs --stall-for)
    #[argh(option)]
    stall_every: Option<u64>,
    /// how long each stall lasts
    #[argh(option)]
    stall_for: Option<u64>,
    /// spread of the stall interval, either way (default a tenth of --stall-every)
    #[argh(option)]
    stall_jitter: Option<u64>,
    /// reset every open connection about every this many ms (flapping)
    #[argh(option)]
    reset_every: Option<u64>,
    /// spread of the reset interval, either way (default a tenth of --reset-every)
    #[argh(option)]
    reset_jitter: Option<u64>,
    /// refuse new connections from the start (lift with "refuse off")
    #[argh(switch)]
    refuse: bool,
    /// seed of every random choice (default: a random one, printed)
    #[argh(option)]
    seed: Option<u64>,
}

/// What the main thread waits for.
enum Event {
    Control(Control),
    Stop(i32),
}

/// Runs `rig proxy`: a bad flag is a usage error (exit 2), a proxy that
/// cannot start or run exits 1.
pub(crate) fn run(args: ProxyArgs) -> Result<(), Failure> {
    let listen = resolve("--listen", &args.listen).map_err(Failure::usage)?;
    let upstream = resolve("--upstream", &args.upstream).map_err(Failure::usage)?;
    let seed = args.seed.unwrap_or_else(|| RandomState::new().hash_one("rig proxy seed"));
    let faults = faults(&args).map_err(Failure::usage)?;
    proxy(listen, upstream, seed, faults).map_err(|message| Failure::new(FAILED, message))
}

fn proxy(
    listen: SocketAddr,
    upstream: SocketAddr,
    seed: u64,
    faults: Faults,
) -> Result<(), String> {
    raise_open_files_limit();
    // Register the signals before announcing the address, so a signal sent
    // right after the line is seen always stops the proxy cleanly.
    let mut signals = Signals::new([SIGINT, SIGTERM])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let config = ProxyConfig::builder(upstream).listen(listen).faults(faults).seed(seed).build();
    let proxy = Proxy::start(config).map_err(|e| e.to_string())?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "proxying {} -> {upstream} seed={seed}", proxy.local_addr())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))?;
    drop(stdout);
    let (events, inbox) = mpsc::channel();
    let stop = events.clone();
    std::thread::Builder::new()
        .name("rig-proxy-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _ = stop.send(Event::Stop(signal));
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    // Standard input may be closed or /dev/null: the proxy then just runs.
    std::thread::Builder::new()
        .name("rig-proxy-stdin".into())
        .spawn(move || read_controls(&events))
        .map_err(|e| format!("cannot start the stdin thread: {e}"))?;
    let mut current = faults;
    for event in inbox {
        let control = match event {
            Event::Stop(signal) => {
                log::info!("signal {signal}: shutting down");
                break;
            }
            Event::Control(control) => control,
        };
        match control.apply(&proxy, &mut current) {
            Ok(line) => {
                let mut stdout = std::io::stdout().lock();
                if writeln!(stdout, "{line}").and_then(|()| stdout.flush()).is_err() {
                    log::warn!("cannot write to stdout");
                }
            }
            Err(e) => return Err(format!("the proxy stopped: {e}")),
        }
    }
    log::info!("{}", stats_line(&proxy.stats()));
    proxy.shutdown();
    Ok(())
}

/// Parses standard input line by line into controls; bad lines are
/// reported on stderr and skipped.
fn read_controls(events: &mpsc::Sender<Event>) {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { return };
        match Control::parse(&line) {
            Ok(Some(control)) => {
                if events.send(Event::Control(control)).is_err() {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => log::error!("{e}"),
        }
    }
}

/// The checked fault set from the raw flags.
fn faults(args: &ProxyArgs) -> Result<Faults, String> {
    // Every time flag is in ms, at most a day: longer would only look like
    // a proxy that forwards nothing.
    let ms = |flag: &str, value: u64| Range::ms(0).millis(flag, value).map_err(|f| f.message);
    let mut direction = DirectionFaults::default()
        .latency(ms("--latency", args.latency)?)
        .jitter(ms("--jitter", args.jitter)?)
        .bandwidth(args.bandwidth)
        .slice(args.slice)
        .slice_gap(ms("--slice-gap", args.slice_gap)?);
    match (args.stall_every, args.stall_for) {
        (Some(every), Some(length)) if every > 0 && length > 0 => {
            let jitter = args.stall_jitter.unwrap_or(every / 10);
            let every = Periodic {
                every: ms("--stall-every", every)?,
                jitter: ms("--stall-jitter", jitter)?,
            };
            direction = direction.stalls(Stalls { every, length: ms("--stall-for", length)? });
        }
        (None, None) => {}
        _ => return Err("--stall-every and --stall-for go together, both above 0".into()),
    }
    let mut faults = match args.direction.as_str() {
        "both" => Faults::default().both(direction),
        "upstream" | "up" => Faults::default().upstream(direction),
        "downstream" | "down" => Faults::default().downstream(direction),
        other => return Err(format!("--direction {other:?}: both, upstream or downstream")),
    }
    .refuse(args.refuse);
    match args.reset_every {
        Some(0) => return Err("--reset-every must be above 0".into()),
        Some(every) => {
            let jitter = args.reset_jitter.unwrap_or(every / 10);
            faults = faults.reset_every(Periodic {
                every: ms("--reset-every", every)?,
                jitter: ms("--reset-jitter", jitter)?,
            });
        }
        None => {}
    }
    Ok(faults)
}

fn resolve(flag: &str, addr: &str) -> Result<SocketAddr, String> {
    addr.to_socket_addrs()
        .map_err(|e| format!("bad {flag} {addr:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("bad {flag} {addr:?}: it resolves to no address"))
}

/// Each connection takes two descriptors: raise the soft limit to the hard one.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => log::debug!("open files limit: {limit}"),
        Err(e) => log::warn!("cannot raise the open files limit: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use argh::FromArgs as _;
    use rig::netsim::{DirectionFaults, Faults, Periodic, Stalls};

    use super::{ProxyArgs, faults};

    fn parse(flags: &[&str]) -> Result<Faults, String> {
        let args = ProxyArgs::from_args(&["rig", "proxy"], flags).map_err(|e| e.output)?;
        faults(&args)
    }

    #[test]
    fn flags_become_the_same_faults_both_ways() {
        let ms = Duration::from_millis;
        let got = parse(&[
            "--upstream",
            "127.0.0.1:4000",
            "--latency",
            "50",
            "--jitter",
            "5",
            "--bandwidth",
            "1000",
            "--slice",
            "3",
            "--stall-every",
            "1000",
            "--stall-for",
            "100",
            "--reset-every",
            "3000",
            "--reset-jitter",
            "0",
        ])
        .unwrap();
        let stalls =
            Stalls { every: Periodic { every: ms(1000), jitter: ms(100) }, length: ms(100) };
        let direction = DirectionFaults::default()
            .latency(ms(50))
            .jitter(ms(5))
            .bandwidth(1000)
            .slice(3)
            .stalls(stalls);
        let want = Faults::default().both(direction).reset_every(Periodic::every(ms(3000)));
        assert_eq!(got, want);
    }

    #[test]
    fn direction_slice_gap_and_refuse() {
        let ms = Duration::from_millis;
        let sliced = DirectionFaults::default().slice(1).slice_gap(ms(2));
        let flags = ["--upstream", "h:1", "--slice", "1", "--slice-gap", "2"];
        let up = parse(&[&flags[..], &["--direction", "upstream"]].concat()).unwrap();
        assert_eq!(up, Faults::default().upstream(sliced));
        let down = parse(&[&flags[..], &["--direction", "down", "--refuse"]].concat()).unwrap();
        assert_eq!(down, Faults::default().downstream(sliced).refuse(true));
        assert_eq!(parse(&flags).unwrap(), Faults::default().both(sliced));
        assert!(parse(&[&flags[..], &["--direction", "sideways"]].concat()).is_err());
    }

    #[test]
    fn no_fault_flags_mean_no_faults() {
        assert_eq!(parse(&["--upstream", "127.0.0.1:4000"]).unwrap(), Faults::default());
    }

    #[test]
    fn half_a_stall_or_a_zero_period_is_refused() {
        assert!(parse(&["--upstream", "h:1", "--stall-every", "10"]).is_err());
        assert!(parse(&["--upstream", "h:1", "--stall-for", "10"]).is_err());
        assert!(parse(&["--upstream", "h:1", "--stall-every", "0", "--stall-for", "1"]).is_err());
        assert!(parse(&["--upstream", "h:1", "--reset-every", "0"]).is_err());
        assert!(parse(&["--latency", "1"]).is_err(), "--upstream is required");
    }

    #[test]
    fn times_beyond_a_day_are_refused_with_the_range() {
        for flag in ["--latency", "--jitter", "--slice-gap", "--reset-every"] {
            let refused = parse(&["--upstream", "h:1", flag, "86400001"]).unwrap_err();
            assert_eq!(
                refused,
                format!("{flag} 86400001 is out of range: it must be 0 to 86400000 ms")
            );
        }
        let huge =
            ["--upstream", "h:1", "--stall-every", "18446744073709551615", "--stall-for", "1"];
        assert!(parse(&huge).unwrap_err().contains("--stall-every 18446744073709551615"));
        let jitter = ["--upstream", "h:1", "--reset-every", "9", "--reset-jitter", "86400001"];
        assert!(parse(&jitter).unwrap_err().starts_with("--reset-jitter 86400001 is out of range"));
        assert!(parse(&["--upstream", "h:1", "--latency", "86400000"]).is_ok());
    }
}
