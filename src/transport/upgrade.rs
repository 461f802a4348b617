//! The client side of the WebSocket upgrade, resumable on a non-blocking
//! stream: tungstenite's handshake machine (request writing, response
//! parsing, bounded buffers) with our own check of the response.
//!
//! We check what tungstenite's `ClientHandshake` checks (status 101,
//! `Upgrade`, `Connection`, `Sec-WebSocket-Accept`), with one difference,
//! the subprotocol: RFC 6455 section 4.1 fails the connection only when the
//! server names a subprotocol the client did not offer. An answer without
//! `Sec-WebSocket-Protocol` means the server selected none, and tungstenite
//! fails that too. Real Phoenix answers none whenever its socket is not
//! configured with `auth_token: true` (1.7 never reads the token header;
//! 1.8 adds `phoenix` to the answer only with that option;
//! `Phoenix.Socket.Transport.check_subprotocols/2` is a no-op for `nil`
//! subprotocols), so a client that sends its token there must still connect
//! and let the server's own connect decide (403 or not).
//!
//! Browsers and the `ws` package (phoenix.js's transports) are stricter:
//! they fail a handshake that offered subprotocols and got none back
//! ("Server sent no subprotocol"). rig follows the RFC here, on purpose.

use tungstenite::WebSocket;
use tungstenite::error::{ProtocolError, SubProtocolError};
use tungstenite::handshake::client::{Request, Response, generate_request};
use tungstenite::handshake::derive_accept_key;
use tungstenite::handshake::machine::{HandshakeMachine, RoundResult, StageResult};
use tungstenite::http::{StatusCode, header};
use tungstenite::protocol::{Role, WebSocketConfig};

use super::stream::Stream;

/// An upgrade in progress: writing the request or reading the response.
#[derive(Debug)]
pub(super) struct Upgrade {
    machine: HandshakeMachine<Stream>,
    check: ResponseCheck,
    limits: WebSocketConfig,
}

/// Where a resumed upgrade stands.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "a return value moved once per readiness event of a handshake, never stored"
)]
pub(super) enum UpgradeStep {
    /// The socket would block: resume on the next readiness event.
    Pending(Upgrade),
    /// Upgraded.
    Done(WebSocket<Stream>, Response),
}

impl Upgrade {
    /// Starts writing `request` (it must carry a `Sec-WebSocket-Key`, as
    /// [`ConnectRequest`](super::ConnectRequest) requests do).
    pub(super) fn start(
        stream: Stream,
        request: Request,
        limits: WebSocketConfig,
    ) -> Result<Self, tungstenite::Error> {
        let offered = offered_subprotocols(&request);
        let (bytes, key) = generate_request(request)?;
        let check = ResponseCheck { accept_key: derive_accept_key(key.as_bytes()), offered };
        Ok(Self { machine: HandshakeMachine::start_write(stream, bytes), check, limits })
    }

    /// Writes and reads as far as the socket allows.
    ///
    /// # Errors
    ///
    /// A tungstenite error, as its own client handshake reports them (a
    /// non-101 answer is [`tungstenite::Error::Http`] with the body read so far).
    pub(super) fn resume(self) -> Result<UpgradeStep, tungstenite::Error> {
        let Self { mut machine, check, limits } = self;
        loop {
            machine = match machine.single_round::<Response>()? {
                RoundResult::WouldBlock(machine) => {
                    return Ok(UpgradeStep::Pending(Self { machine, check, limits }));
                }
                RoundResult::Incomplete(machine) => machine,
                RoundResult::StageFinished(StageResult::DoneWriting(stream)) => {
                    HandshakeMachine::start_read(stream)
                }
                RoundResult::StageFinished(StageResult::DoneReading { result, stream, tail }) => {
                    let response = match check.verify(result) {
                        Ok(response) => response,
                        Err(tungstenite::Error::Http(mut refused)) => {
                            *refused.body_mut() = Some(tail);
                            return Err(tungstenite::Error::Http(refused));
                        }
                        Err(e) => return Err(e),
                    };
                    let ws =
                        WebSocket::from_partially_read(stream, tail, Role::Client, Some(limits));
                    return Ok(UpgradeStep::Done(ws, response));
                }
            };
        }
    }

    pub(super) fn stream(&self) -> &Stream {
        self.machine.get_ref()
    }

    pub(super) fn stream_mut(&mut self) -> &mut Stream {
        self.machine.get_mut()
    }
}

/// The subprotocols a request offers, in order.
fn offered_subprotocols(request: &Request) -> Vec<String> {
    request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

/// What a server's answer must satisfy.
#[derive(Debug)]
struct ResponseCheck {
    accept_key: String,
    offered: Vec<String>,
}

impl ResponseCheck {
    /// RFC 6455 section 4.1, client steps 1-4 and 6 (5, extensions: none are
    /// offered, and tungstenite does not check them either).
    fn verify(&self, response: Response) -> Result<Response, tungstenite::Error> {
        let fail = |e| Err(tungstenite::Error::Protocol(e));
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Err(tungstenite::Error::Http(Box::new(response)));
        }
        let headers = response.headers();
        let is = |name, want: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case(want))
        };
        if !is(header::UPGRADE, "websocket") {
            return fail(ProtocolError::MissingUpgradeWebSocketHeader);
        }
        if !is(header::CONNECTION, "upgrade") {
            return fail(ProtocolError::MissingConnectionUpgradeHeader);
        }
        if headers.get(header::SEC_WEBSOCKET_ACCEPT).is_none_or(|v| v != self.accept_key.as_str()) {
            return fail(ProtocolError::SecWebSocketAcceptKeyMismatch);
        }
        if let Some(selected) = headers.get(header::SEC_WEBSOCKET_PROTOCOL) {
            let unsolicited = if self.offered.is_empty() {
                SubProtocolError::ServerSentSubProtocolNoneRequested
            } else {
                SubProtocolError::InvalidSubProtocol
            };
            let selected = selected.to_str().map(str::trim).unwrap_or_default();
            if !self.offered.iter().any(|p| p == selected) {
                return fail(ProtocolError::SecWebSocketSubProtocolError(unsolicited));
            }
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(offered: &[&str]) -> ResponseCheck {
        let offered = offered.iter().map(|p| (*p).to_owned()).collect();
        ResponseCheck { accept_key: derive_accept_key(b"key"), offered }
    }

    fn answer(status: u16, protocol: Option<&str>) -> Response {
        let mut response = tungstenite::http::Response::builder()
            .status(status)
            .header("upgrade", "WebSocket")
            .header("connection", "Upgrade")
            .header("sec-websocket-accept", derive_accept_key(b"key"))
            .body(None)
            .unwrap();
        if let Some(protocol) = protocol {
            response.headers_mut().insert("sec-websocket-protocol", protocol.parse().unwrap());
        }
        response
    }

    fn subprotocol_error(result: Result<Response, tungstenite::Error>) -> SubProtocolError {
        match result {
            Err(tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(e))) => e,
            other => panic!("expected a subprotocol error, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_subprotocol_is_none_selected_even_when_some_were_offered() {
        assert!(check(&["phoenix", "base64url.bearer.phx.dA"]).verify(answer(101, None)).is_ok());
        assert!(check(&[]).verify(answer(101, None)).is_ok());
    }

    #[test]
    fn a_selected_subprotocol_must_be_one_offered() {
        let ok = check(&["phoenix", "x"]).verify(answer(101, Some("phoenix"))).unwrap();
        assert_eq!(ok.headers()["sec-websocket-protocol"], "phoenix");
        assert_eq!(
            subprotocol_error(check(&["phoenix"]).verify(answer(101, Some("mqtt")))),
            SubProtocolError::InvalidSubProtocol
        );
        assert_eq!(
            subprotocol_error(check(&[]).verify(answer(101, Some("phoenix")))),
            SubProtocolError::ServerSentSubProtocolNoneRequested
        );
    }

    #[test]
    fn the_other_rfc_checks_still_hold() {
        let refused = check(&[]).verify(answer(403, None));
        assert!(matches!(refused, Err(tungstenite::Error::Http(r)) if r.status() == 403));
        let mut bad_key = answer(101, None);
        bad_key.headers_mut().insert("sec-websocket-accept", "nope".parse().unwrap());
        assert!(matches!(
            check(&[]).verify(bad_key),
            Err(tungstenite::Error::Protocol(ProtocolError::SecWebSocketAcceptKeyMismatch))
        ));
        let mut no_upgrade = answer(101, None);
        no_upgrade.headers_mut().remove("upgrade");
        assert!(matches!(
            check(&[]).verify(no_upgrade),
            Err(tungstenite::Error::Protocol(ProtocolError::MissingUpgradeWebSocketHeader))
        ));
        let mut keep_alive = answer(101, None);
        keep_alive.headers_mut().insert("connection", "keep-alive".parse().unwrap());
        assert!(matches!(
            check(&[]).verify(keep_alive),
            Err(tungstenite::Error::Protocol(ProtocolError::MissingConnectionUpgradeHeader))
        ));
    }
}
