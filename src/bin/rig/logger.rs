//! A tiny stderr logger for the `log` facade, filtered by `RIG_LOG`
//! (`error`, `warn` (default), `info`, `debug`, `trace`).

use std::io::Write as _;

use log::{LevelFilter, Log, Metadata, Record};

struct StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("?");
            let _ = writeln!(std::io::stderr(), "[{} {name}] {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs the logger with the level from `RIG_LOG`.
pub(crate) fn init() {
    let level = std::env::var("RIG_LOG")
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::Warn);
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
