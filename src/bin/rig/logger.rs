//! A tiny stderr logger for the `log` facade, filtered by `RIG_LOG`
//! (`error`, `warn` (default), `info`, `debug`, `trace`).
//!
//! Every record goes through the command's [`Redactor`] before it is
//! written, whatever its level or the crate that emitted it. rig's own
//! records carry no secret already; this also covers the crates under it
//! (`rig diagnose` runs tungstenite's blocking client, whose trace record
//! `Request: "GET ..."` holds the URL query and every header).

use std::io::Write as _;
use std::sync::RwLock;

use log::{LevelFilter, Log, Metadata, Record};
use rig::redact::Redactor;

struct StderrLogger;

/// The secrets of the running command, known once its flags are checked;
/// until then the positional rules alone apply.
static REDACTOR: RwLock<Option<Redactor>> = RwLock::new(None);

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("?");
            let message = redact(&record.args().to_string());
            let _ = writeln!(std::io::stderr(), "[{} {name}] {message}", record.level());
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

/// Hides `redactor`'s secrets in every record from now on.
pub(crate) fn set_redactor(redactor: &Redactor) {
    // A poisoned lock only means a thread panicked while swapping it: the
    // value inside is still a whole `Option<Redactor>`.
    let mut slot = REDACTOR.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    *slot = Some(redactor.clone());
}

/// `text` with the command's secrets hidden (the positional rules alone
/// before [`set_redactor`]).
pub(crate) fn redact(text: &str) -> String {
    let slot = REDACTOR.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    match slot.as_ref() {
        Some(redactor) => redactor.apply(text),
        None => rig::redact::text(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_lose_known_and_positional_secrets() {
        let dump = r#"Request: "GET /socket/websocket?token=ab&vsn=2.0.0 HTTP/1.1\r\nHost: h\r\nx-api-key: k-1\r\n\r\n""#;
        assert!(!redact(dump).contains("k-1") && !redact(dump).contains("=ab&"));
        let mut redactor = Redactor::default();
        redactor.add("tok-long-1");
        set_redactor(&redactor);
        assert_eq!(redact("server said tok-long-1"), "server said ***");
    }
}
