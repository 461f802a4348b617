//! The `rig` command-line tool.
//!
//! Flags are parsed raw with argh (one file per subcommand), then turned into
//! the library's checked configuration; the library itself never links argh.

use std::process::ExitCode;

use argh::FromArgs;

mod logger;
#[cfg(feature = "server")]
mod serve;

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
}

fn main() -> ExitCode {
    logger::init();
    let rig: Rig = argh::from_env();
    let result = match rig.command {
        #[cfg(feature = "server")]
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rig: {message}");
            ExitCode::FAILURE
        }
    }
}
