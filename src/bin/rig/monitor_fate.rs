//! When the connection ends `rig monitor`: the engine retries what may
//! pass later (resets, 5xx, 408, 429, abnormal closes) and stops on what
//! will not (an upgrade answered 3xx/4xx, a rejected certificate, a close
//! with code 1000). A watch that would sit connected to nothing ends with
//! exit 3 and the reason instead.
//!
//! ```text
//! status:  Failed{e} ... Closed ----> state Failed ----------------> exit 3 (e, not retried)
//!          Closed{1000} ------------> state Idle, SETTLE later ----> exit 3 (closed for good)
//!          Closed{..} -> WaitingToReconnect / Connecting -> Open ---> watch goes on
//!          AuthFailed / GaveUp -----------------------------------> exit 3
//! ```

use std::time::Duration;

use rig::engine::{ConnectionError, ConnectionState, Status};

use crate::connect::{connection_failure, fatal_status};
use crate::exit::{CONNECTION, Failure};
use crate::target::Redactor;

/// How long after a close the state is read again when no reconnect was
/// reported: the engine schedules a reconnect in the same turn as it
/// reports the close, so this only covers thread scheduling.
pub(crate) const SETTLE: Duration = Duration::from_millis(500);

/// What the status stream said about the connection so far.
#[derive(Debug, Default)]
pub(crate) struct ConnectionFate {
    last_failure: Option<ConnectionError>,
    last_close: Option<(Option<u16>, String)>,
    /// A close was reported and no reconnect since: read the state again
    /// after [`SETTLE`].
    settling: bool,
}

impl ConnectionFate {
    /// Takes in a status entry and the socket's state read after it (the
    /// state may be ahead of the stream: `last_error` is the socket's);
    /// `Some` ends the watch.
    pub(crate) fn on_status(
        &mut self,
        entry: &Status,
        state: ConnectionState,
        last_error: Option<ConnectionError>,
        redactor: &Redactor,
    ) -> Option<Failure> {
        match entry {
            Status::AuthFailed { .. } | Status::GaveUp { .. } => {
                return fatal_status(entry, redactor);
            }
            Status::Failed { error } => self.last_failure = Some(error.clone()),
            Status::Closed { code, reason } => {
                self.last_close = Some((*code, reason.clone()));
                self.settling = true;
            }
            Status::Connecting { .. } | Status::WaitingToReconnect { .. } | Status::Open => {
                self.settling = false;
            }
            _ => {}
        }
        if self.last_failure.is_none() {
            self.last_failure = last_error;
        }
        self.stopped(state, redactor)
    }

    /// Whether a close waits for [`SETTLE`] to be judged.
    pub(crate) fn is_settling(&self) -> bool {
        self.settling
    }

    /// [`SETTLE`] passed since the last close: a socket still idle will
    /// not reconnect.
    pub(crate) fn settled(
        &mut self,
        state: ConnectionState,
        redactor: &Redactor,
    ) -> Option<Failure> {
        if !std::mem::take(&mut self.settling) {
            return None;
        }
        if state == ConnectionState::Idle {
            return Some(self.closed_for_good(redactor));
        }
        self.stopped(state, redactor)
    }

    /// The failure for a state the engine leaves only on `connect()`.
    fn stopped(&self, state: ConnectionState, redactor: &Redactor) -> Option<Failure> {
        match state {
            ConnectionState::Failed => Some(match &self.last_failure {
                Some(error) => {
                    let failure = connection_failure(error, redactor);
                    Failure { message: format!("{} (not retried)", failure.message), ..failure }
                }
                None => Failure::new(CONNECTION, "the connection failed and is not retried"),
            }),
            ConnectionState::AuthFailed => {
                fatal_status(&Status::AuthFailed { status: self.http_status() }, redactor)
            }
            _ => None,
        }
    }

    fn http_status(&self) -> u16 {
        self.last_failure.as_ref().and_then(ConnectionError::http_status).unwrap_or(403)
    }

    fn closed_for_good(&self, redactor: &Redactor) -> Failure {
        let (code, reason) = self.last_close.clone().unwrap_or_default();
        let how = match (code, reason.is_empty()) {
            (Some(code), true) => format!(" (code {code})"),
            (Some(code), false) => format!(" (code {code}: {reason})"),
            (None, _) => String::new(),
        };
        Failure::new(
            CONNECTION,
            redactor.apply(&format!(
                "the server closed the connection{how}; a normal close is not retried"
            )),
        )
        .hint("the server ended the session on purpose; run `rig diagnose <url>` to check it")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(code: u16) -> Status {
        Status::Closed { code: Some(code), reason: "bye".into() }
    }

    #[test]
    fn a_normal_close_without_a_reconnect_ends_after_settling() {
        let redactor = Redactor::default();
        let mut fate = ConnectionFate::default();
        assert!(fate.on_status(&closed(1000), ConnectionState::Idle, None, &redactor).is_none());
        assert!(fate.is_settling());
        let failure = fate.settled(ConnectionState::Idle, &redactor).unwrap();
        assert_eq!(failure.code, CONNECTION);
        assert!(failure.message.contains("(code 1000: bye); a normal close is not retried"));
    }

    #[test]
    fn a_close_followed_by_a_reconnect_goes_on() {
        let redactor = Redactor::default();
        let mut fate = ConnectionFate::default();
        assert!(fate.on_status(&closed(1011), ConnectionState::Idle, None, &redactor).is_none());
        let waiting = Status::Connecting { attempt: 1 };
        assert!(fate.on_status(&waiting, ConnectionState::Connecting, None, &redactor).is_none());
        assert!(!fate.is_settling());
        assert!(fate.settled(ConnectionState::Idle, &redactor).is_none());
        // Already reconnecting when the settle time came: goes on too.
        assert!(fate.on_status(&closed(1000), ConnectionState::Idle, None, &redactor).is_none());
        assert!(fate.settled(ConnectionState::WaitingToReconnect, &redactor).is_none());
    }

    #[test]
    fn a_failure_the_engine_stops_on_ends_the_watch() {
        let redactor = Redactor::default();
        let mut fate = ConnectionFate::default();
        let refused = rig::transport::Error::UpgradeRefused { status: 404, retry_after: None };
        let error = ConnectionError::from_transport(&refused);
        let failed = Status::Failed { error: error.clone() };
        assert!(fate.on_status(&failed, ConnectionState::Connecting, None, &redactor).is_none());
        let failure =
            fate.on_status(&closed(1000), ConnectionState::Failed, None, &redactor).unwrap();
        assert_eq!(failure.code, CONNECTION);
        assert!(failure.message.contains("404") && failure.message.ends_with("(not retried)"));
        // The state may be read before the stream reports the failure.
        let mut ahead = ConnectionFate::default();
        let connecting = Status::Connecting { attempt: 0 };
        let state = ConnectionState::Failed;
        let failure = ahead.on_status(&connecting, state, Some(error), &redactor).unwrap();
        assert!(failure.message.contains("404") && failure.message.ends_with("(not retried)"));
    }
}
