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
            eprintln!("{}\nRun {command} --help for more information.", early.output.trim_end());
            std::process::exit(i32::from(exit::USAGE));
        }
    }
}

fn main() -> ExitCode {
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
