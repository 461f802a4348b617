//! The HTTP/1.1 upgrade request: parsed with `httparse`, answered by hand.
//!
//! Only `GET /socket/websocket` upgrades. The checks follow Phoenix's
//! WebSocket transport: an unsupported `vsn` or a bad token is a plain 403
//! with an empty body (connect_refused.jsonl); a GET that is not a WebSocket
//! upgrade is a 400; any other path is a 404.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// The largest request head accepted; a longer one is refused with 400.
pub(crate) const MAX_REQUEST_HEAD: usize = 8 * 1024;
const MAX_HEADERS: usize = 32;
const SOCKET_PATH: &str = "/socket/websocket";
const BEARER_PREFIX: &str = "base64url.bearer.phx.";

/// The `vsn` Phoenix assumes when a client sends none.
const DEFAULT_VSN: &str = "1.0.0";

/// An accepted upgrade.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Upgrade {
    /// The `vsn` asked for (`1.0.0` when absent), already checked by `supported`.
    pub(crate) vsn: String,
    pub(crate) accept_key: String,
    /// The subprotocol to answer with, when the client offered any.
    pub(crate) subprotocol: Option<String>,
}

/// Why a request is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Rejection {
    /// 400: malformed, too large, or not a WebSocket upgrade.
    BadRequest,
    /// 403: unsupported `vsn` or a token that does not match.
    Forbidden,
    /// 404: any path but the socket's.
    NotFound,
}

/// The outcome of reading the request head so far.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// More bytes are needed.
    Partial,
    /// Upgrade; the head was `head_len` bytes long (WebSocket data may follow).
    Upgrade { upgrade: Upgrade, head_len: usize },
    /// Answer with this refusal, then close.
    Reject(Rejection),
}

/// Parses the request head in `buf` and decides what to answer; `supported`
/// tells whether a serializer answers to a `vsn`.
pub(crate) fn parse_request(
    buf: &[u8],
    token: Option<&str>,
    supported: impl Fn(&str) -> bool,
) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() < MAX_REQUEST_HEAD => return Parsed::Partial,
        Ok(httparse::Status::Partial) | Err(_) => return Parsed::Reject(Rejection::BadRequest),
    };
    let target = req.path.unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != SOCKET_PATH {
        return Parsed::Reject(Rejection::NotFound);
    }
    // Phoenix's WebSocket transport answers any method but GET with 400.
    if req.method != Some("GET") {
        return Parsed::Reject(Rejection::BadRequest);
    }
    let header = |name: &str| {
        req.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .filter_map(|h| std::str::from_utf8(h.value).ok())
            .collect::<Vec<_>>()
    };
    let vsn = query_param(query, "vsn").unwrap_or_else(|| DEFAULT_VSN.to_owned());
    if !supported(&vsn) {
        return Parsed::Reject(Rejection::Forbidden);
    }
    let offered: Vec<String> = header("sec-websocket-protocol")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if let Some(expected) = token {
        let by_query = query_param(query, "token").is_some_and(|t| t == expected);
        let by_protocol = offered.iter().any(|p| bearer_matches(p, expected));
        if !by_query && !by_protocol {
            return Parsed::Reject(Rejection::Forbidden);
        }
    }
    let is_upgrade = header("upgrade").iter().any(|v| has_token(v, "websocket"))
        && header("connection").iter().any(|v| has_token(v, "upgrade"))
        && header("sec-websocket-version").iter().any(|v| v.trim() == "13");
    let Some(key) = header("sec-websocket-key").first().map(|k| k.trim().to_owned()) else {
        return Parsed::Reject(Rejection::BadRequest);
    };
    if !is_upgrade || key.is_empty() {
        return Parsed::Reject(Rejection::BadRequest);
    }
    // Answer `phoenix` when offered (as Phoenix does); a client that offered
    // only other protocols gets its first one back, because clients fail the
    // handshake when they offered protocols and none comes back.
    let subprotocol = if offered.iter().any(|p| p == "phoenix") {
        Some("phoenix".to_owned())
    } else {
        offered.first().cloned()
    };
    let accept_key = tungstenite::handshake::derive_accept_key(key.as_bytes());
    Parsed::Upgrade { upgrade: Upgrade { vsn, accept_key, subprotocol }, head_len }
}

/// Whether `requested` satisfies `~> offered` the way Phoenix matches serializer
/// versions: same major and minor, a patch at least the offered one.
pub(crate) fn vsn_matches(requested: &str, offered: &str) -> bool {
    fn parse(v: &str) -> Option<[u64; 3]> {
        let mut parts = v.split('.').map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                p.parse().ok()
            }
        });
        let version = [parts.next()??, parts.next()??, parts.next()??];
        parts.next().is_none().then_some(version)
    }
    match (parse(requested), parse(offered)) {
        (Some([a, b, c]), Some([x, y, z])) => a == x && b == y && c >= z,
        _ => false,
    }
}

fn has_token(value: &str, token: &str) -> bool {
    value.split(',').any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// `base64url.bearer.phx.<base64 of the token>`: phoenix.js uses the standard
/// alphabet without padding despite the name, so both alphabets are accepted.
fn bearer_matches(protocol: &str, expected: &str) -> bool {
    let Some(encoded) = protocol.strip_prefix(BEARER_PREFIX) else {
        return false;
    };
    let encoded = encoded.trim_end_matches('=');
    [STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .filter_map(|engine| engine.decode(encoded).ok())
        .any(|decoded| decoded == expected.as_bytes())
}

/// The first value of `name` in a query string, percent-decoded.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    // A form-encoded `+` is a space; `%2B` stays a plus (decoded after).
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// The `101 Switching Protocols` response.
pub(crate) fn switching_protocols(upgrade: &Upgrade) -> Vec<u8> {
    let mut out = String::with_capacity(160);
    out.push_str(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n",
    );
    out.push_str("sec-websocket-accept: ");
    out.push_str(&upgrade.accept_key);
    out.push_str("\r\n");
    if let Some(protocol) = &upgrade.subprotocol {
        out.push_str("sec-websocket-protocol: ");
        out.push_str(protocol);
        out.push_str("\r\n");
    }
    out.push_str("cache-control: max-age=0, private, must-revalidate\r\n\r\n");
    out.into_bytes()
}

/// A refusal with an empty body; the connection closes after it.
pub(crate) fn refusal(rejection: Rejection) -> Vec<u8> {
    let status = match rejection {
        Rejection::BadRequest => "400 Bad Request",
        Rejection::Forbidden => "403 Forbidden",
        Rejection::NotFound => "404 Not Found",
    };
    format!(
        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nvary: accept-encoding\r\n\
         cache-control: max-age=0, private, must-revalidate\r\nconnection: close\r\n\r\n"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, extra: &str) -> Vec<u8> {
        format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
             Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n{extra}\r\n"
        )
        .into_bytes()
    }

    fn supported(vsn: &str) -> bool {
        vsn_matches(vsn, "2.0.0") || vsn_matches(vsn, "1.0.0")
    }

    fn parse(target: &str, extra: &str, token: Option<&str>) -> Parsed {
        parse_request(&request(target, extra), token, supported)
    }

    #[test]
    fn upgrades_and_picks_the_serializer() {
        let Parsed::Upgrade { upgrade, head_len } = parse("/socket/websocket?vsn=2.0.0", "", None)
        else {
            panic!("expected an upgrade");
        };
        assert_eq!(upgrade.vsn, "2.0.0");
        assert_eq!(upgrade.accept_key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(upgrade.subprotocol, None);
        assert_eq!(head_len, request("/socket/websocket?vsn=2.0.0", "").len());
        let vsn = |t| match parse(t, "", None) {
            Parsed::Upgrade { upgrade, .. } => upgrade.vsn,
            other => panic!("expected an upgrade, got {other:?}"),
        };
        assert_eq!(vsn("/socket/websocket"), "1.0.0");
        assert_eq!(vsn("/socket/websocket?vsn=1.0.0"), "1.0.0");
        assert_eq!(vsn("/socket/websocket?vsn=2.0.7"), "2.0.7");
    }

    #[test]
    fn refuses_unknown_vsn_paths_and_plain_gets() {
        let forbidden = Parsed::Reject(Rejection::Forbidden);
        assert_eq!(parse("/socket/websocket?vsn=3.0.0", "", None), forbidden);
        assert_eq!(parse("/socket/websocket?vsn=2.1.0", "", None), forbidden);
        assert_eq!(parse("/socket/websocket?vsn=junk", "", None), forbidden);
        assert_eq!(parse("/other", "", None), Parsed::Reject(Rejection::NotFound));
        let plain = b"GET /socket/websocket HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(parse_request(plain, None, supported), Parsed::Reject(Rejection::BadRequest));
        assert_eq!(parse_request(b"GET /socket/web", None, supported), Parsed::Partial);
        assert_eq!(
            parse_request(b"\x00\x01garbage\r\n\r\n", None, supported),
            Parsed::Reject(Rejection::BadRequest)
        );
    }

    #[test]
    fn vsn_matching_follows_the_pessimistic_operator() {
        assert!(vsn_matches("2.0.0", "2.0.0"));
        assert!(vsn_matches("2.0.3", "2.0.0"));
        assert!(!vsn_matches("2.1.0", "2.0.0"));
        assert!(!vsn_matches("3.0.0", "2.0.0"));
        assert!(!vsn_matches("2.0", "2.0.0"));
        assert!(!vsn_matches("2.0.0.1", "2.0.0"));
        assert!(!vsn_matches("2.0.x", "2.0.0"));
        assert!(!vsn_matches("", "2.0.0"));
    }

    #[test]
    fn token_by_query_or_bearer_subprotocol() {
        let forbidden = Parsed::Reject(Rejection::Forbidden);
        let t = Some("secret");
        assert_eq!(parse("/socket/websocket?vsn=2.0.0", "", t), forbidden);
        assert_eq!(parse("/socket/websocket?vsn=2.0.0&token=wrong", "", t), forbidden);
        assert!(matches!(
            parse("/socket/websocket?token=secret&vsn=2.0.0", "", t),
            Parsed::Upgrade { .. }
        ));
        assert!(matches!(parse("/socket/websocket?token=se%63ret", "", t), Parsed::Upgrade { .. }));
        // btoa("secret") = "c2VjcmV0"
        let offered = "Sec-WebSocket-Protocol: phoenix, base64url.bearer.phx.c2VjcmV0\r\n";
        let Parsed::Upgrade { upgrade, .. } = parse("/socket/websocket?vsn=2.0.0", offered, t)
        else {
            panic!("expected an upgrade");
        };
        assert_eq!(upgrade.subprotocol.as_deref(), Some("phoenix"));
        let wrong = "Sec-WebSocket-Protocol: phoenix, base64url.bearer.phx.d3Jvbmc\r\n";
        assert_eq!(parse("/socket/websocket?vsn=2.0.0", wrong, t), forbidden);
    }

    #[test]
    fn responses_have_empty_bodies() {
        let text = String::from_utf8(refusal(Rejection::Forbidden)).unwrap();
        assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(text.contains("content-length: 0\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
    }
}
