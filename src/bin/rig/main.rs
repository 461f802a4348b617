//! The `rig` command-line tool.
//!
//! Flags are parsed raw with argh (one file per subcommand), then turned into
//! the library's checked configuration; the library itself never links argh.

use std::io::Write as _;
use std::process::ExitCode;

use argh::FromArgs;

mod cert;
mod connect;
mod demo;
mod diagnose;
mod event_line;
mod exit;
mod flags;
mod insecure;
mod latency;
mod logger;
mod monitor;
mod monitor_fate;
mod monitor_output;
mod monitor_top;
mod monitor_watch;
mod probe;
mod probe_ws;
#[cfg(feature = "netsim")]
mod proxy;
mod proxy_control;
mod push;
mod ranges;
#[cfg(feature = "server")]
mod serve;
mod status_line;
mod target;
mod top;

/// rig: Phoenix Channels from the command line.
#[derive(FromArgs, Debug)]
struct Rig {
    #[argh(subcommand)]
    command: Command,
}

#[derive(FromArgs, Debug)]
#[argh(subcommand)]
enum Command {
    #[cfg(feature = "server")]
    Serve(serve::ServeArgs),
    #[cfg(feature = "netsim")]
    Proxy(proxy::ProxyArgs),
    Push(push::PushArgs),
    Monitor(monitor::MonitorArgs),
    Diagnose(diagnose::DiagnoseArgs),
    Demo(demo::DemoArgs),
}

/// Like `argh::from_env`, but a usage error exits with code 2 (the client
/// commands' contract), help with 0.
fn parse_args() -> Rig {
    let strings: Vec<String> = std::env::args().collect();
    let command = strings.first().map_or("rig", |c| c.rsplit('/').next().unwrap_or(c));
    // argh takes a lone `-` for a flag; it means "stdin" (`rig push ... -`).
    let args: Vec<&str> = strings
        .iter()
        .skip(1)
        .map(|a| if a == "-" { push::STDIN_ARG } else { a.as_str() })
        .collect();
    match Rig::from_args(&[command], &args) {
        Ok(rig) => rig,
        Err(early) => {
            if early.status.is_ok() {
                let mut stdout = std::io::stdout().lock();
                let _ = write!(stdout, "{}", early.output).and_then(|()| stdout.flush());
                std::process::exit(0);
            }
            eprintln!("{}", early.output.trim_end());
            if let Some(hint) = usage_hint(&early.output) {
                eprintln!("hint: {hint}");
            }
            eprintln!("Run {command} --help for more information.");
            std::process::exit(i32::from(exit::USAGE));
        }
    }
}

/// A hint for a usage error argh reports without one: client commands take
/// no `--token` (a token on the command line shows in `ps` and in shell
/// history); they read it from the environment.
fn usage_hint(output: &str) -> Option<&'static str> {
    let token_flag = output.lines().any(|line| {
        line.strip_prefix("Unrecognized argument: ")
            .is_some_and(|arg| arg == "--token" || arg.starts_with("--token="))
    });
    token_flag.then_some(
        "client commands read the token from the environment, never from a flag: \
         RIG_TOKEN=... rig ..., or --token-env VAR to name another variable",
    )
}

fn main() -> ExitCode {
    // argh has no version flag, and `rig --version` must not demand a subcommand.
    if std::env::args().nth(1).is_some_and(|a| a == "--version" || a == "-V") {
        let _ = writeln!(std::io::stdout(), "rig {}", rig::VERSION);
        return ExitCode::SUCCESS;
    }
    logger::init();
    let rig = parse_args();
    let result = match rig.command {
        Command::Push(args) => return push::main(args),
        Command::Monitor(args) => return monitor::main(args),
        Command::Diagnose(args) => return diagnose::main(args),
        Command::Demo(args) => return demo::main(args),
        #[cfg(feature = "server")]
        Command::Serve(args) => serve::run(args),
        #[cfg(feature = "netsim")]
        Command::Proxy(args) => proxy::run(args),
    };
    exit::finish(result.map(|()| exit::OK))
}
