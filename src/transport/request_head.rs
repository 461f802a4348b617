//! The bytes of the upgrade request.
//!
//! Written here rather than by tungstenite's `generate_request`, which logs
//! the whole request at trace level (`Request: "GET /socket/websocket?token=..
//! authorization: Bearer ..`): the URL query and every header, tokens and
//! cookies included. The bytes are the ones it writes: the request line, the
//! five WebSocket headers with their usual capitalisation first (some servers
//! compare header names case-sensitively), then the others in order.

use tungstenite::error::ProtocolError;
use tungstenite::handshake::client::Request;
use tungstenite::http::{HeaderName, header};

/// The headers every upgrade request carries, in the order written.
const WEBSOCKET_HEADERS: [(HeaderName, &str); 5] = [
    (header::HOST, "Host"),
    (header::CONNECTION, "Connection"),
    (header::UPGRADE, "Upgrade"),
    (header::SEC_WEBSOCKET_VERSION, "Sec-WebSocket-Version"),
    (header::SEC_WEBSOCKET_KEY, "Sec-WebSocket-Key"),
];

/// The request head and its `Sec-WebSocket-Key`.
///
/// # Errors
///
/// [`ProtocolError::InvalidHeader`] when a WebSocket header is missing or
/// repeated ([`ConnectRequest`](super::ConnectRequest) requests carry each
/// once).
pub(super) fn encode(request: &Request) -> Result<(Vec<u8>, String), tungstenite::Error> {
    let invalid = |name: &HeaderName| {
        tungstenite::Error::Protocol(ProtocolError::InvalidHeader(name.clone().into()))
    };
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut head = format!("GET {path} HTTP/1.1\r\n").into_bytes();
    let headers = request.headers();
    for (name, written) in &WEBSOCKET_HEADERS {
        let mut values = headers.get_all(name).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(invalid(name));
        };
        push_header(&mut head, written, value.as_bytes());
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| invalid(&header::SEC_WEBSOCKET_KEY))?
        .to_owned();
    for (name, value) in headers {
        if WEBSOCKET_HEADERS.iter().any(|(websocket, _)| websocket == name) {
            continue;
        }
        let written = match *name {
            header::SEC_WEBSOCKET_PROTOCOL => "Sec-WebSocket-Protocol",
            header::ORIGIN => "Origin",
            _ => name.as_str(),
        };
        push_header(&mut head, written, value.as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    Ok((head, key))
}

fn push_header(head: &mut Vec<u8>, name: &str, value: &[u8]) {
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use tungstenite::handshake::client::generate_request;

    use super::*;
    use crate::transport::{ConnectRequest, WsUrl};

    #[test]
    fn the_bytes_are_the_ones_tungstenite_writes() {
        let request = ConnectRequest::new(
            WsUrl::parse("ws://h:4000/socket/websocket?token=t&vsn=2.0.0").unwrap(),
        )
        .header("Origin", "http://h")
        .header("authorization", "Bearer b")
        .header("x-trace", "1")
        .header("x-trace", "2")
        .subprotocol("phoenix")
        .to_http()
        .unwrap();
        let ours = encode(&request).unwrap();
        let theirs = generate_request(request).unwrap();
        let (ours_text, theirs_text) =
            (String::from_utf8(ours.0).unwrap(), String::from_utf8(theirs.0).unwrap());
        // The same lines; the first six in the same order (tungstenite then
        // writes the rest in the order its header map is left in after
        // removing those, we in the order given).
        let (mut ours_lines, mut theirs_lines): (Vec<_>, Vec<_>) =
            (ours_text.split("\r\n").collect(), theirs_text.split("\r\n").collect());
        assert_eq!(ours_lines[..6], theirs_lines[..6]);
        ours_lines.sort_unstable();
        theirs_lines.sort_unstable();
        assert_eq!(ours_lines, theirs_lines);
        assert!(ours_text.ends_with("x-trace: 1\r\nx-trace: 2\r\n\r\n"), "{ours_text}");
        assert_eq!(ours.1, theirs.1);
    }

    #[test]
    fn a_missing_websocket_header_is_an_error() {
        let request = Request::builder().uri("ws://h/").body(()).unwrap();
        assert!(matches!(encode(&request), Err(tungstenite::Error::Protocol(_))));
    }
}
