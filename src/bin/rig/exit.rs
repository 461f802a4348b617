//! The exit codes of the client commands (a contract other tools rely on)
//! and the one-sentence failure they print.

use std::process::ExitCode;

/// The reply was `ok` (or the command finished normally).
pub(crate) const OK: u8 = 0;
/// The server answered with an error reply, or refused the join.
pub(crate) const REFUSED: u8 = 1;
/// `rig serve` or `rig proxy` could not run (a port in use, a signal
/// handler that cannot be installed, ...).
pub(crate) const FAILED: u8 = 1;
/// The command line is wrong.
pub(crate) const USAGE: u8 = 2;
/// Connection, TLS or authentication failure.
pub(crate) const CONNECTION: u8 = 3;
/// No reply in time.
pub(crate) const TIMEOUT: u8 = 4;

/// Why a client command stops early: an exit code, one clear sentence and a
/// hint. Secrets are redacted before a `Failure` is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl Failure {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), hint: None }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }

    #[must_use]
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Prints the failure on stderr and gives its exit code. The message
    /// goes through the command's redactor once more: a failure built from
    /// a library error or a server's answer may quote what the user sent.
    pub(crate) fn report(&self) -> ExitCode {
        eprintln!("rig: {}", without_os_error_numbers(&crate::logger::redact(&self.message)));
        if let Some(hint) = &self.hint {
            eprintln!("hint: {hint}");
        }
        ExitCode::from(self.code)
    }
}

/// Turns a command's outcome into the process exit code.
pub(crate) fn finish(result: Result<u8, Failure>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => failure.report(),
    }
}

/// `Address already in use (os error 98)` → `Address already in use`: the
/// system's words say it all; the number means nothing to a reader.
fn without_os_error_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some((before, after)) = rest.split_once(" (os error ") {
        out.push_str(before);
        rest = after.split_once(')').map_or("", |(_, tail)| tail);
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn os_error_numbers_are_dropped() {
        let text = "cannot listen on 127.0.0.1:1: Address already in use (os error 98); again";
        assert_eq!(
            super::without_os_error_numbers(text),
            "cannot listen on 127.0.0.1:1: Address already in use; again"
        );
        assert_eq!(super::without_os_error_numbers("plain"), "plain");
    }
}
