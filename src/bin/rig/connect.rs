//! Connecting and joining for the one-shot commands (`push`, `diagnose`):
//! the first connection failure ends the command instead of a retry loop.

use std::time::Duration;

use crossbeam_channel::{Receiver, select};
use rig::engine::{
    Channel, ConnectionError, Engine, EngineConfig, ErrorKind, PushError, PushResult, Socket,
    SocketOptions, Status,
};
use rig::protocol::{Payload, Reply};
use rig::transport::CertificateError;

use crate::exit::{CONNECTION, Failure, REFUSED, TIMEOUT};
use crate::target::Redactor;

/// Slack beyond the engine's own timeouts before the CLI stops waiting: the
/// engine resolves every push itself, this only guards against a hang.
const SLACK: Duration = Duration::from_secs(5);

/// A connected socket on its own engine.
#[derive(Debug)]
pub(crate) struct Connected {
    pub(crate) engine: Engine,
    pub(crate) socket: Socket,
    pub(crate) status: Receiver<Status>,
}

/// Starts an engine and a socket (not connected yet).
pub(crate) fn start(options: SocketOptions) -> Result<Connected, Failure> {
    let engine = Engine::start(EngineConfig::builder().build())
        .map_err(|e| Failure::new(CONNECTION, format!("cannot start the engine: {e}")))?;
    let socket =
        engine.socket(options).map_err(|e| Failure::usage(format!("bad socket settings: {e}")))?;
    let status = socket
        .status()
        .map_err(|e| Failure::new(CONNECTION, format!("cannot watch the socket: {e}")))?;
    Ok(Connected { engine, socket, status })
}

/// The failure for a status entry that ends a one-shot command before the
/// socket is usable, if it is one.
pub(crate) fn fatal_status(status: &Status, redactor: &Redactor) -> Option<Failure> {
    match status {
        Status::AuthFailed { status } => Some(
            Failure::new(
                CONNECTION,
                format!("authentication failed: the server refused the connection (HTTP {status})"),
            )
            .hint("check the token (--token-env VAR or RIG_TOKEN) and the --param values"),
        ),
        Status::Failed { error } => Some(connection_failure(error, redactor)),
        Status::GaveUp { attempts } => Some(
            Failure::new(CONNECTION, format!("gave up after {attempts} reconnects"))
                .hint("is the server up? raise --max-reconnects to keep trying"),
        ),
        Status::Closed { code, reason } => {
            let code = code.map_or_else(String::new, |c| format!(" {c}"));
            Some(
                Failure::new(
                    CONNECTION,
                    redactor.apply(&format!("the server closed the connection{code} {reason}")),
                )
                .hint("run `rig diagnose <url>` to see which step fails"),
            )
        }
        _ => None,
    }
}

/// One sentence and a hint for a connection error.
pub(crate) fn connection_failure(error: &ConnectionError, redactor: &Redactor) -> Failure {
    let message = redactor.apply(&format!("cannot connect: {error}"));
    let hint = match error.kind() {
        ErrorKind::Dns => "check the host name in the URL",
        ErrorKind::Connect => "is the server running, and is the port right?",
        ErrorKind::Timeout => {
            "the server did not answer in time; check the address or raise --timeout"
        }
        ErrorKind::Certificate => certificate_hint(error.certificate()),
        ErrorKind::Tls => "is it a TLS port? use ws:// for a plain one, wss:// for TLS",
        ErrorKind::Auth => "check the token (--token-env VAR or RIG_TOKEN) and the --param values",
        ErrorKind::RateLimited => "the server asks to retry later",
        ErrorKind::Upgrade => "check the socket path (phoenix.js style: ws://host:4000/socket)",
        _ => "run `rig diagnose <url>` to see which step fails",
    };
    Failure::new(CONNECTION, message).hint(hint)
}

/// What to do about a refused server certificate, by cause: only a
/// certificate from an unknown issuer (or a self-signed one) is fixed by
/// trusting it with `--tls-ca`.
pub(crate) fn certificate_hint(cause: Option<&CertificateError>) -> &'static str {
    match cause {
        Some(CertificateError::UnknownIssuer) => {
            "trust its CA with --tls-ca FILE (or skip verification with --insecure)"
        }
        Some(CertificateError::CaUsedAsEndEntity) => {
            "if it is the server's own self-signed certificate, give that file with --tls-ca FILE"
        }
        Some(CertificateError::Expired) => {
            "the server's certificate has expired: it must be renewed (or this machine's clock is wrong)"
        }
        Some(CertificateError::NotYetValid) => {
            "the certificate is not valid yet: check this machine's clock and time zone"
        }
        Some(CertificateError::NotValidForName) => {
            "the certificate names another host: connect with a name it lists (`rig diagnose` shows its subject)"
        }
        Some(CertificateError::Revoked) => {
            "the certificate was revoked: the server needs a new one"
        }
        _ => "run `rig diagnose <url>` to see the certificate and why it is refused",
    }
}

/// Waits for a push (or join) outcome, failing on the first connection
/// failure reported meanwhile.
pub(crate) fn wait_outcome(
    connected: &Connected,
    outcome: &Receiver<PushResult>,
    timeout: Duration,
    redactor: &Redactor,
) -> Result<PushResult, Failure> {
    let deadline = crossbeam_channel::after(timeout.saturating_add(timeout).saturating_add(SLACK));
    loop {
        select! {
            recv(outcome) -> result => {
                return Ok(result.unwrap_or(Err(PushError::EngineStopped)));
            }
            recv(connected.status) -> status => {
                let Ok(status) = status else { continue };
                if let Some(failure) = fatal_status(&status, redactor) {
                    return Err(failure);
                }
            }
            recv(deadline) -> _ => return Ok(Err(PushError::Timeout)),
        }
    }
}

/// Joins `topic`, turning every way it can fail into a [`Failure`].
pub(crate) fn join(
    connected: &Connected,
    topic: &str,
    params: Payload,
    timeout: Duration,
    redactor: &Redactor,
) -> Result<(Channel, Reply), Failure> {
    let channel = connected
        .socket
        .channel(topic, params)
        .map_err(|e| Failure::usage(format!("bad topic {topic:?}: {e}")))?;
    let join = channel.join();
    match wait_outcome(connected, join.receiver(), timeout, redactor)? {
        Ok(reply) => Ok((channel, reply)),
        Err(PushError::Reply(reply)) => Err(Failure::new(
            REFUSED,
            format!("join {topic} refused ({}): {}", reply.status, payload_text(&reply.response)),
        )
        .hint("check the topic and the --join-param values")),
        Err(PushError::Timeout) => {
            Err(Failure::new(TIMEOUT, format!("join {topic}: no reply in time"))
                .hint("raise --timeout, or check that the server routes this topic"))
        }
        Err(other) => Err(Failure::new(REFUSED, format!("join {topic} failed: {other}"))),
    }
}

/// A payload as JSON text (binary payloads as a base64 JSON string).
pub(crate) fn payload_text(payload: &Payload) -> String {
    match payload.as_json() {
        Some(json) => json.to_owned(),
        None => {
            use base64::Engine as _;
            let bytes: &[u8] = match payload {
                Payload::Binary(bytes) | Payload::BinaryReply { response: bytes, .. } => bytes,
                _ => &[],
            };
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            serde_json::Value::String(encoded).to_string()
        }
    }
}
