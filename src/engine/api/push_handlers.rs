//! The per-status callbacks of a push ([`Push::on_ok`](crate::engine::Push::on_ok),
//! `on_error`, `on_timeout`): phoenix.js `push.receive(status, callback)`.

use crate::engine::shared::push_result::{PushError, PushResult};
use crate::protocol::Reply;

/// A callback given the reply.
pub(crate) type ReplyCallback = Box<dyn FnOnce(Reply) + Send>;
/// A callback given nothing (the timeout).
pub(crate) type TimeoutCallback = Box<dyn FnOnce() + Send>;

/// The callbacks a push holds until it resolves; each runs at most once,
/// on a dispatcher worker.
#[derive(Default)]
pub(crate) struct OutcomeHandlers {
    pub(crate) ok: Option<ReplyCallback>,
    pub(crate) error: Option<ReplyCallback>,
    pub(crate) timeout: Option<TimeoutCallback>,
}

impl std::fmt::Debug for OutcomeHandlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutcomeHandlers")
            .field("ok", &self.ok.is_some())
            .field("error", &self.error.is_some())
            .field("timeout", &self.timeout.is_some())
            .finish()
    }
}

impl OutcomeHandlers {
    /// Runs the callback for `outcome`'s status, if one was given. An
    /// outcome with no phoenix.js status (the channel or engine went away)
    /// runs none: [`Push::then`](crate::engine::Push::then) sees every outcome.
    pub(crate) fn run(self, outcome: PushResult) {
        match outcome {
            Ok(reply) => {
                if let Some(callback) = self.ok {
                    callback(reply);
                }
            }
            Err(PushError::Reply(reply)) => {
                if let Some(callback) = self.error {
                    callback(*reply);
                }
            }
            Err(PushError::Timeout) => {
                if let Some(callback) = self.timeout {
                    callback();
                }
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::protocol::Payload;

    fn recording() -> (OutcomeHandlers, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (ok, error, timeout) = (Arc::clone(&seen), Arc::clone(&seen), Arc::clone(&seen));
        let handlers = OutcomeHandlers {
            ok: Some(Box::new(move |r| ok.lock().unwrap().push(format!("ok {}", r.status)))),
            error: Some(Box::new(move |r| {
                error.lock().unwrap().push(format!("error {}", r.status))
            })),
            timeout: Some(Box::new(move || timeout.lock().unwrap().push("timeout".into()))),
        };
        (handlers, seen)
    }

    #[test]
    fn each_status_runs_its_own_callback_only() {
        let cases: [(PushResult, &[&str]); 4] = [
            (Ok(Reply::new("ok", Payload::empty())), &["ok ok"]),
            (
                Err(PushError::Reply(Box::new(Reply::new("error", Payload::empty())))),
                &["error error"],
            ),
            (Err(PushError::Timeout), &["timeout"]),
            (Err(PushError::ChannelGone), &[]),
        ];
        for (outcome, want) in cases {
            let (handlers, seen) = recording();
            handlers.run(outcome);
            assert_eq!(*seen.lock().unwrap(), want);
        }
    }
}
