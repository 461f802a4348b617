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

use std::io::{ErrorKind, Read as _};

use tungstenite::WebSocket;
use tungstenite::error::{CapacityError, ProtocolError, SubProtocolError};
use tungstenite::handshake::client::{Request, Response};
use tungstenite::handshake::derive_accept_key;
use tungstenite::handshake::machine::{HandshakeMachine, RoundResult, StageResult, TryParse};
use tungstenite::http::{StatusCode, header};
use tungstenite::protocol::{Role, WebSocketConfig};

use super::stream::Stream;

/// The largest response head read (tungstenite's own handshake limit).
const MAX_RESPONSE_HEAD: usize = 64 * 1024;
/// Bytes read from the socket per `read` call while waiting for the head.
const READ_CHUNK: usize = 4096;

/// An upgrade in progress: writing the request or reading the response.
///
/// The request, written by [`request_head`](super::request_head) (not by
/// tungstenite, which would log its secrets), goes out through tungstenite's
/// handshake machine; the response is read here. tungstenite's reader treats a response arriving
/// in many small reads as an attack (more than 64 reads averaging under
/// 128 bytes fail with `AttackAttempt`), and a slow or segmenting path can
/// deliver an honest 200-byte answer one byte per read. So the head is
/// gathered up to [`MAX_RESPONSE_HEAD`] and parsed once it is complete.
#[derive(Debug)]
pub(super) struct Upgrade {
    stage: Stage,
    check: ResponseCheck,
    limits: WebSocketConfig,
}

#[derive(Debug)]
enum Stage {
    /// Writing the request.
    Writing(HandshakeMachine<Stream>),
    /// Reading the response head into `head`.
    Reading { stream: Stream, head: Vec<u8> },
}

/// Where a resumed upgrade stands.
#[derive(Debug)]
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
        let (bytes, key) = super::request_head::encode(&request)?;
        let check = ResponseCheck { accept_key: derive_accept_key(key.as_bytes()), offered };
        let stage = Stage::Writing(HandshakeMachine::start_write(stream, bytes));
        Ok(Self { stage, check, limits })
    }

    /// Writes and reads as far as the socket allows.
    ///
    /// # Errors
    ///
    /// A tungstenite error, as its own client handshake reports them (a
    /// non-101 answer is [`tungstenite::Error::Http`] with the body read so
    /// far; a head over 64 KiB is a [`CapacityError::MessageTooLong`]).
    pub(super) fn resume(self) -> Result<UpgradeStep, tungstenite::Error> {
        let Self { stage, check, limits } = self;
        let mut machine = match stage {
            Stage::Writing(machine) => machine,
            Stage::Reading { stream, head } => return read_response(stream, head, check, limits),
        };
        loop {
            machine = match machine.single_round::<Response>()? {
                RoundResult::WouldBlock(machine) => {
                    let stage = Stage::Writing(machine);
                    return Ok(UpgradeStep::Pending(Self { stage, check, limits }));
                }
                RoundResult::Incomplete(machine) => machine,
                RoundResult::StageFinished(StageResult::DoneWriting(stream)) => {
                    return read_response(stream, Vec::new(), check, limits);
                }
                RoundResult::StageFinished(StageResult::DoneReading { stream, .. }) => {
                    // Only a machine started with `start_read` reads, and
                    // this one never is: read the response here all the same.
                    return read_response(stream, Vec::new(), check, limits);
                }
            };
        }
    }

    pub(super) fn stream(&self) -> &Stream {
        match &self.stage {
            Stage::Writing(machine) => machine.get_ref(),
            Stage::Reading { stream, .. } => stream,
        }
    }

    pub(super) fn stream_mut(&mut self) -> &mut Stream {
        match &mut self.stage {
            Stage::Writing(machine) => machine.get_mut(),
            Stage::Reading { stream, .. } => stream,
        }
    }
}

/// Reads until the response head is complete or the socket would block;
/// bytes after the head are the first WebSocket frames.
fn read_response(
    mut stream: Stream,
    mut head: Vec<u8>,
    check: ResponseCheck,
    limits: WebSocketConfig,
) -> Result<UpgradeStep, tungstenite::Error> {
    let mut chunk = [0_u8; READ_CHUNK];
    loop {
        let read = match stream.read(&mut chunk) {
            Ok(0) => return Err(tungstenite::Error::Protocol(ProtocolError::HandshakeIncomplete)),
            Ok(read) => read,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let stage = Stage::Reading { stream, head };
                return Ok(UpgradeStep::Pending(Upgrade { stage, check, limits }));
            }
            Err(e) => return Err(tungstenite::Error::Io(e)),
        };
        let before = head.len();
        head.extend_from_slice(chunk.get(..read).unwrap_or_default());
        // Parse only once the blank line may have arrived: a head trickling
        // in one byte per read is not parsed once per byte.
        let from = before.saturating_sub(3);
        let has_end = head.get(from..).is_some_and(|new| new.windows(4).any(|w| w == b"\r\n\r\n"));
        if has_end && let Some((size, response)) = Response::try_parse(&head)? {
            let tail = read_buffer_start(head.get(size..).unwrap_or_default(), &limits);
            return finish(stream, response, tail, &check, limits);
        }
        if head.len() > MAX_RESPONSE_HEAD {
            return Err(tungstenite::Error::Capacity(CapacityError::MessageTooLong {
                size: head.len(),
                max_size: MAX_RESPONSE_HEAD,
            }));
        }
    }
}

/// The bytes after the response head, in the buffer tungstenite will read
/// into: it keeps the capacity its first buffer had as the size of every
/// later one, so an exactly sized tail would make each read take about one
/// frame (one `recv` per message). It starts at the configured read
/// buffer's capacity instead.
fn read_buffer_start(rest: &[u8], limits: &WebSocketConfig) -> Vec<u8> {
    let mut tail = Vec::with_capacity(limits.read_buffer_size.max(rest.len()));
    tail.extend_from_slice(rest);
    tail
}

/// Checks the parsed response; the WebSocket, or the refusal with its body.
fn finish(
    stream: Stream,
    response: Response,
    tail: Vec<u8>,
    check: &ResponseCheck,
    limits: WebSocketConfig,
) -> Result<UpgradeStep, tungstenite::Error> {
    let response = match check.verify(response) {
        Ok(response) => response,
        Err(tungstenite::Error::Http(mut refused)) => {
            *refused.body_mut() = Some(tail);
            return Err(tungstenite::Error::Http(refused));
        }
        Err(e) => return Err(e),
    };
    let ws = WebSocket::from_partially_read(stream, tail, Role::Client, Some(limits));
    Ok(UpgradeStep::Done(ws, response))
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

    /// Reads from a byte string at most a segment per call, counting the
    /// calls; writes go nowhere.
    struct CountedReads {
        input: std::io::Cursor<Vec<u8>>,
        reads: usize,
    }

    impl std::io::Read for CountedReads {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.reads += 1;
            let segment = buf.len().min(4096);
            self.input.read(buf.get_mut(..segment).unwrap_or_default())
        }
    }

    impl std::io::Write for CountedReads {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn frames_after_the_upgrade_are_read_many_per_call() {
        // 40,000 small server frames (280 KB, more than one read buffer)
        // after a response head that ended at a frame boundary (an empty
        // tail). The frames are kept, as the engine's zero-copy messages
        // are, so tungstenite cannot reuse its buffer and must allocate new
        // ones, sized after the first.
        const FRAMES: usize = 40_000;
        let input = b"\x81\x05hello".repeat(FRAMES);
        let limits = WebSocketConfig::default();
        let stream = CountedReads { input: std::io::Cursor::new(input), reads: 0 };
        let tail = read_buffer_start(&[], &limits);
        let mut ws = WebSocket::from_partially_read(stream, tail, Role::Client, Some(limits));
        let kept: Vec<_> = (0..FRAMES).map(|_| ws.read().unwrap()).collect();
        assert!(kept.iter().all(|m| m.to_text().unwrap() == "hello"));
        // About one read per 4 KiB segment (~70); an exactly sized tail
        // took one read per frame once the first buffer was used up.
        let reads = ws.get_ref().reads;
        assert!(reads < 200, "{reads} reads for {FRAMES} frames");
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
