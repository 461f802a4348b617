//! `rig-stress` flags (argh, raw) and the checked [`Config`] they become.
//!
//! Times on the command line are in ms except `--duration`, `--settle` and
//! `--ramp` (seconds), as in `rig proxy`. The `--role`, `--url` and
//! `--inject-loss` flags are internal (hidden from `--help`): the first two
//! run the client half inside a network namespace, the last drops every
//! N-th stream event before the checker to prove that a loss fails the run.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// rig-stress: N clients x M stream topics on one rig engine against the embedded
/// server, through the fault proxy (and a lossy network namespace with --loss), with
/// resets, stalls and server restarts on a seeded schedule. Checks per-join event order
/// (no loss, duplicate or reordering), acked pushes, recovery after each fault; prints
/// a summary on stderr and writes a JSON report with --json. Exit 0 when every
/// invariant held, 1 on any violation, 2 on a usage or environment error.
#[derive(argh::FromArgs, Debug)]
#[argh(
    note = "Report (--json FILE): config, seed, mode (in-process|child-process|namespace), proxy_used, interrupted, wall_s, faults {{resets, stalls, restarts, skipped}}, pushes {{sent, acked, lost, recorded, duplicates, requeued, outbox_left, error_replies, timeouts, failed, unresolved}}, events {{expected, delivered, lost, dropped, cut_by_fault, duplicated, reordered, stale, epochs}}, channels {{total, never_joined, unrecovered}}, reconnects, connections, heartbeat_timeouts, time_to_recover_us and latency_us {{count, p50, p90, p99, p999, max}}, server {{...}}, proxy {{...}}, netns_dropped_packets, resources {{peak_rss_kb, cpu_pct, clients_peak_rss_kb, clients_cpu_pct, engine_cpu_pct}}, violations [...], series {{per_second [{{t_s, delivered, latency_p50_us, latency_p99_us, reconnects, open_connections}}], faults [{{kind, at_s, until_s}}], latency_us and time_to_recover_us [{{le_us, count}}]}}. Lost means: an acknowledged push the server never recorded, or a stream event missing inside one join (a gap) that the engine did not count as a drop; events a fault cut are cut_by_fault, not lost.",
    error_code(1, "an invariant was violated (listed on stderr and in violations)"),
    error_code(
        2,
        "usage or environment error (bad flag; --loss without root, ip or nft; a --report file that cannot be written)"
    )
)]
pub(crate) struct Flags {
    /// number of client sockets (default 100, at most 100000; the run is
    /// refused up front when the open-files limit cannot hold them)
    #[argh(option, default = "100")]
    pub(crate) clients: u32,
    /// stream:* topics joined by each client (default 2)
    #[argh(option, default = "2")]
    pub(crate) topics: u32,
    /// stream events per second per topic per client (default 10)
    #[argh(option, default = "10")]
    pub(crate) rate: u32,
    /// pushes per second per client, on an inbox:* channel (default 1; 0 = none)
    #[argh(option, default = "1")]
    pub(crate) push_rate: u32,
    /// length of the faulty phase in seconds (default 60)
    #[argh(option, default = "60")]
    pub(crate) duration: u64,
    /// one-way latency added by the proxy in ms, both directions (default 0)
    #[argh(option, default = "0")]
    pub(crate) latency: u64,
    /// extra random delay per read in ms, 0..=jitter, both directions (default 0)
    #[argh(option, default = "0")]
    pub(crate) jitter: u64,
    /// percent of packets dropped on arrival at the clients (needs root, ip, nft;
    /// the clients then run in a network namespace) (default 0)
    #[argh(option, default = "0")]
    pub(crate) loss: u8,
    /// reset every proxied connection about every MS ms (default 0 = never; else at least 100)
    #[argh(option, default = "0")]
    pub(crate) reset_every: u64,
    /// stall every proxied connection about every MS ms (default 0 = never; else at least 100)
    #[argh(option, default = "0")]
    pub(crate) stall_every: u64,
    /// length of each stall in ms (default 500)
    #[argh(option, default = "500")]
    pub(crate) stall_for: u64,
    /// shut the server down and restart it on the same port about every MS ms
    /// (default 0 = never; else at least 100)
    #[argh(option, default = "0")]
    pub(crate) restart_server_every: u64,
    /// how long the server stays down at each restart, in ms (default 200)
    #[argh(option, default = "200")]
    pub(crate) restart_down: u64,
    /// seed of every random choice (default: from the clock; printed first)
    #[argh(option)]
    pub(crate) seed: Option<u64>,
    /// write the JSON report to this file
    #[argh(option)]
    pub(crate) json: Option<PathBuf>,
    /// write an HTML report to this file: per-second charts with the faults
    /// marked, latency and time-to-recover histograms, the summary and the
    /// command that reproduces the run (one file, viewable offline)
    #[argh(option)]
    pub(crate) report: Option<PathBuf>,
    /// serve OpenMetrics at http://ADDR/metrics during the run: the
    /// server's counters, and with the clients in this process their
    /// engine, the first 100 sockets and their topics
    #[argh(option)]
    pub(crate) metrics: Option<String>,
    /// keep each client's outbox in a SQLite file in this directory (one file and
    /// writer thread per client, so at most 256 clients) instead of in memory
    #[argh(option)]
    pub(crate) outbox_dir: Option<PathBuf>,
    /// seconds allowed for every channel to recover after the faulty phase (default 30)
    #[argh(option, default = "30")]
    pub(crate) settle: u64,
    /// seconds allowed for every channel to join at the start (default 60)
    #[argh(option, default = "60")]
    pub(crate) ramp: u64,
    /// internal: "clients" runs the client half (inside the namespace)
    #[argh(option, hidden_help)]
    pub(crate) role: Option<String>,
    /// internal: the server URL for --role clients
    #[argh(option, hidden_help)]
    pub(crate) url: Option<String>,
    /// internal: plan the layout as if the open-files limit were this (tests the child-process layout)
    #[argh(option, hidden_help)]
    pub(crate) fd_limit: Option<u64>,
    /// internal: drop every N-th stream event before the checker (proves a loss fails)
    #[argh(option, hidden_help, default = "0")]
    pub(crate) inject_loss: u64,
}

/// The most clients one run drives.
pub(crate) const MAX_CLIENTS: u32 = 100_000;

/// The shortest fault period (`--reset-every`, `--stall-every`,
/// `--restart-server-every`). A shorter one is refused rather than warned
/// about: every socket's first reconnect waits at least 10 ms and a restart
/// keeps the server down for `--restart-down` (200 ms), so faults that
/// close would kill each connection before it rejoined, and the run would
/// report "unrecovered" for a schedule no client could survive.
pub(crate) const MIN_FAULT_PERIOD_MS: u64 = 100;

/// The most clients with a SQLite outbox each (`--outbox-dir`).
pub(crate) const MAX_SQLITE_CLIENTS: u32 = 256;

/// A run's checked settings (the `config` object of the report).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Config {
    pub(crate) clients: u32,
    pub(crate) topics: u32,
    pub(crate) rate: u32,
    pub(crate) push_rate: u32,
    pub(crate) duration_s: u64,
    pub(crate) latency_ms: u64,
    pub(crate) jitter_ms: u64,
    pub(crate) loss_pct: u8,
    pub(crate) reset_every_ms: u64,
    pub(crate) stall_every_ms: u64,
    pub(crate) stall_for_ms: u64,
    pub(crate) restart_server_every_ms: u64,
    pub(crate) restart_down_ms: u64,
    pub(crate) seed: u64,
    pub(crate) settle_s: u64,
    pub(crate) ramp_s: u64,
    pub(crate) outbox_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) inject_loss: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Config {
    /// Checks `flags`; `clock_seed` is the seed when none was given.
    pub(crate) fn from_flags(flags: &Flags, clock_seed: u64) -> Result<Self, String> {
        if flags.clients == 0 || flags.clients > MAX_CLIENTS {
            return Err(format!("--clients must be 1..={MAX_CLIENTS}, got {}", flags.clients));
        }
        if flags.topics == 0 || flags.topics > 100 {
            return Err(format!("--topics must be 1..=100, got {}", flags.topics));
        }
        if flags.rate == 0 {
            return Err("--rate must be at least 1 event per second".into());
        }
        if flags.duration == 0 {
            return Err("--duration must be at least 1 second".into());
        }
        if flags.loss > 100 {
            return Err(format!("--loss is a percentage (0..=100), got {}", flags.loss));
        }
        if flags.outbox_dir.is_some() && flags.clients > MAX_SQLITE_CLIENTS {
            return Err(format!(
                "--outbox-dir opens one SQLite file and writer thread per client: at most \
                 {MAX_SQLITE_CLIENTS} clients, got {}",
                flags.clients
            ));
        }
        for (flag, period) in [
            ("--reset-every", flags.reset_every),
            ("--stall-every", flags.stall_every),
            ("--restart-server-every", flags.restart_server_every),
        ] {
            if period > 0 && period < MIN_FAULT_PERIOD_MS {
                return Err(format!(
                    "{flag} is in milliseconds and must be 0 (off) or at least \
                     {MIN_FAULT_PERIOD_MS}, got {period}: faults that close leave no time to \
                     reconnect and rejoin"
                ));
            }
        }
        if flags.stall_every > 0 && flags.stall_for == 0 {
            return Err("--stall-for must be at least 1 ms when --stall-every is set".into());
        }
        Ok(Self {
            clients: flags.clients,
            topics: flags.topics,
            rate: flags.rate,
            push_rate: flags.push_rate,
            duration_s: flags.duration,
            latency_ms: flags.latency,
            jitter_ms: flags.jitter,
            loss_pct: flags.loss,
            reset_every_ms: flags.reset_every,
            stall_every_ms: flags.stall_every,
            stall_for_ms: flags.stall_for,
            restart_server_every_ms: flags.restart_server_every,
            restart_down_ms: flags.restart_down,
            seed: flags.seed.unwrap_or(clock_seed),
            settle_s: flags.settle,
            ramp_s: flags.ramp,
            outbox_dir: flags.outbox_dir.clone(),
            inject_loss: flags.inject_loss,
        })
    }

    /// The faulty phase.
    pub(crate) fn duration(&self) -> Duration {
        Duration::from_secs(self.duration_s)
    }

    /// The flags that give the client half the same settings (for the
    /// `--role clients` child).
    pub(crate) fn client_args(&self, url: &str) -> Vec<String> {
        let mut args = vec!["--role".to_owned(), "clients".to_owned(), "--url".to_owned()];
        args.push(url.to_owned());
        for (flag, value) in [
            ("--clients", u64::from(self.clients)),
            ("--topics", u64::from(self.topics)),
            ("--rate", u64::from(self.rate)),
            ("--push-rate", u64::from(self.push_rate)),
            ("--duration", self.duration_s),
            ("--seed", self.seed),
            ("--settle", self.settle_s),
            ("--ramp", self.ramp_s),
            ("--inject-loss", self.inject_loss),
        ] {
            args.push(flag.to_owned());
            args.push(value.to_string());
        }
        if let Some(dir) = &self.outbox_dir {
            args.push("--outbox-dir".to_owned());
            args.push(dir.display().to_string());
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use argh::FromArgs as _;

    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let flags = Flags::from_args(&["rig-stress"], args).map_err(|e| e.output)?;
        Config::from_flags(&flags, 99)
    }

    #[test]
    fn defaults_and_the_clock_seed() {
        let config = parse(&[]).unwrap();
        assert_eq!((config.clients, config.topics, config.rate, config.seed), (100, 2, 10, 99));
        assert_eq!(parse(&["--seed", "5"]).unwrap().seed, 5);
    }

    #[test]
    fn bad_values_are_refused_with_the_flag_named() {
        assert!(parse(&["--clients", "0"]).unwrap_err().contains("--clients"));
        assert!(parse(&["--clients", "100001"]).unwrap_err().contains("--clients"));
        assert!(parse(&["--loss", "101"]).unwrap_err().contains("--loss"));
        assert!(parse(&["--rate", "0"]).unwrap_err().contains("--rate"));
        assert!(
            parse(&["--stall-every", "500", "--stall-for", "0"])
                .unwrap_err()
                .contains("--stall-for")
        );
        assert!(parse(&["--bogus"]).is_err());
        for flag in ["--reset-every", "--stall-every", "--restart-server-every"] {
            let err = parse(&[flag, "99"]).unwrap_err();
            assert!(err.contains(flag) && err.contains("at least 100"), "{err}");
            assert!(parse(&[flag, "100"]).is_ok(), "{flag} 100");
            assert!(parse(&[flag, "0"]).is_ok(), "{flag} 0 turns it off");
        }
        assert!(
            parse(&["--outbox-dir", "/tmp", "--clients", "257"])
                .unwrap_err()
                .contains("--outbox-dir")
        );
        assert!(parse(&["--outbox-dir", "/tmp", "--clients", "256"]).is_ok());
    }

    #[test]
    fn the_child_gets_the_same_client_settings() {
        let config = parse(&["--clients", "7", "--seed", "3", "--inject-loss", "2"]).unwrap();
        let args = config.client_args("ws://10.199.1.1:5/socket");
        let strs: Vec<&str> = args.iter().map(String::as_str).collect();
        let flags = Flags::from_args(&["rig-stress"], &strs).unwrap();
        assert_eq!(flags.role.as_deref(), Some("clients"));
        let child = Config::from_flags(&flags, 0).unwrap();
        assert_eq!((child.clients, child.seed, child.inject_loss), (7, 3, 2));
    }
}
