//! What a failure means for the session: the next address, a retry with
//! backoff (Retry-After honoured), an auth refusal (no retry unless the
//! options say so), or a stop (certificate, bad URL: retrying cannot help).

use super::link::Link;
use super::slot::SocketSlot;
use super::thread::Ctx;
use crate::engine::shared::failure::{ConnectionError, ErrorKind};
use crate::engine::shared::status::{ConnectionState, Status};
use crate::protocol::{CLOSE_NORMAL, TransportError};
use crate::transport;

impl SocketSlot {
    /// The connection failed in state `during`.
    pub(crate) fn link_failed(
        &mut self,
        ctx: &mut Ctx<'_>,
        error: transport::Error,
        during: transport::State,
    ) {
        use transport::State;
        match (&self.link, during) {
            (Link::Connecting { .. }, _) => {
                let tcp_failed = during == State::Connecting
                    && matches!(
                        error,
                        transport::Error::ConnectRefused(_) | transport::Error::Connect { .. }
                    );
                let next = match &mut self.link {
                    Link::Connecting { rest, .. } if tcp_failed => rest.first().copied(),
                    _ => None,
                };
                if next.is_some() {
                    // Try the next address within the same attempt.
                    let Link::Connecting { generation, request, rest, .. } =
                        std::mem::replace(&mut self.link, Link::Idle)
                    else {
                        return;
                    };
                    self.start_tcp(ctx, generation, request, rest);
                    return;
                }
                self.connect_failed(ctx, &error);
            }
            (Link::Closing { code, .. }, _) => {
                let code = Some(*code);
                self.replace_link(ctx, Link::Idle);
                self.session.handle_close(ctx.now, code, "");
            }
            (Link::Open { .. }, _) => {
                self.replace_link(ctx, Link::Idle);
                match error {
                    transport::Error::PeerClosed { code, reason, .. } => {
                        if code.is_none() {
                            let e = ConnectionError::new(ErrorKind::PeerClosed, error_text(code));
                            self.counters.set_error(&e);
                        }
                        self.session.handle_close(ctx.now, code, reason);
                    }
                    other => {
                        let e = ConnectionError::from_transport(&other);
                        self.fail(ctx, e, true);
                    }
                }
            }
            (Link::Idle | Link::Waiting { .. } | Link::Resolving { .. }, _) => {}
        }
    }

    /// A connect attempt failed: decide what the session hears.
    pub(crate) fn connect_failed(&mut self, ctx: &mut Ctx<'_>, error: &transport::Error) {
        let typed = ConnectionError::from_transport(error);
        let retry = match typed.kind() {
            ErrorKind::Auth => self.options.retry_refused,
            ErrorKind::Certificate => self.options.retry_certificate_errors,
            ErrorKind::RateLimited => {
                if let Some(after) = typed.retry_after() {
                    self.not_before = ctx.now.checked_add(after);
                }
                true
            }
            _ => error.is_retryable(),
        };
        self.fail(ctx, typed, retry);
    }

    /// Reports a failure to the session: retried with backoff, refused
    /// (auth: the session stays closed), or stopped for good.
    pub(crate) fn fail(&mut self, ctx: &mut Ctx<'_>, error: ConnectionError, retry: bool) {
        log::warn!("socket {}: {error}", self.key.0);
        self.counters.set_error(&error);
        if error.kind() == ErrorKind::Auth {
            crate::engine::shared::health::add(&self.counters.auth_failures, 1);
        }
        self.replace_link(ctx, Link::Idle);
        if !retry && error.kind() == ErrorKind::Auth {
            let status = error.http_status().unwrap_or(403);
            self.session.handle_error(ctx.now, TransportError::refused(status));
        } else if retry {
            let reason = error.to_string();
            self.pending_error = Some(error);
            self.session.handle_error(ctx.now, TransportError::failed(reason));
        } else {
            // Retrying cannot help (certificate, bad URL or header): tell
            // the user once and stop until they call connect().
            self.sticky = Some(ConnectionState::Failed);
            self.status(Status::Failed { error });
            self.session.disconnect(ctx.now, CLOSE_NORMAL, "");
        }
    }
}

fn error_text(code: Option<u16>) -> String {
    match code {
        Some(code) => format!("peer closed the connection (code {code})"),
        None => "peer closed the connection without a close frame".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_close_text_names_the_code() {
        assert_eq!(error_text(Some(1011)), "peer closed the connection (code 1011)");
        assert!(error_text(None).contains("without a close frame"));
    }
}
