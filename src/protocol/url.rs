//! The socket URL and the auth-token subprotocol, as phoenix.js builds them.
//!
//! `<endpoint>/websocket?<params>&vsn=<vsn>`: the params come first, in the
//! order given, and `vsn` last (phoenix.js `endPointURL`). Keys and values are
//! percent-encoded like JavaScript's `encodeURIComponent`.

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::session::ConfigError;

/// The prefix of the subprotocol that carries the auth token.
pub(crate) const AUTH_TOKEN_PREFIX: &str = "base64url.bearer.phx.";

/// Checks that `endpoint` is an absolute `ws://` or `wss://` URL without a
/// query or fragment, and returns it without a trailing `/`.
pub(crate) fn validate_endpoint(endpoint: &str) -> Result<String, ConfigError> {
    // The error is printed: the endpoint goes in without its secrets.
    let invalid =
        |reason| ConfigError::InvalidEndpoint { endpoint: crate::redact::url(endpoint), reason };
    let lower = endpoint.get(..6).unwrap_or(endpoint).to_ascii_lowercase();
    let rest = if lower.starts_with("wss://") {
        endpoint.get(6..)
    } else if lower.starts_with("ws://") {
        endpoint.get(5..)
    } else {
        return Err(invalid("must start with ws:// or wss:// (relative URLs are not supported)"));
    };
    let rest = rest.unwrap_or_default();
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(invalid("has no host"));
    }
    if endpoint.contains(['?', '#']) {
        return Err(invalid("must not have a query or fragment; use params instead"));
    }
    if endpoint.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("contains whitespace or control characters"));
    }
    Ok(endpoint.trim_end_matches('/').to_owned())
}

/// The URL a socket opens, as phoenix.js's `endPointURL` builds it:
/// `<endpoint>/websocket?k=v&...&vsn=<vsn>`, keys and values encoded like
/// `encodeURIComponent`. The endpoint is taken as given (no trailing `/`).
///
/// # Examples
///
/// ```
/// let params = [("token".to_owned(), "a b/c".to_owned())];
/// let url = rig::protocol::connect_url("ws://h:4000/socket", &params, "2.0.0");
/// assert_eq!(url, "ws://h:4000/socket/websocket?token=a%20b%2Fc&vsn=2.0.0");
/// ```
pub fn connect_url(endpoint: &str, params: &[(String, String)], vsn: &str) -> String {
    let mut url = String::with_capacity(endpoint.len() + 32);
    url.push_str(endpoint);
    url.push_str("/websocket?");
    for (key, value) in params {
        encode_component(&mut url, key);
        url.push('=');
        encode_component(&mut url, value);
        url.push('&');
    }
    url.push_str("vsn=");
    encode_component(&mut url, vsn);
    url
}

/// The subprotocol list for a connect: `["phoenix", "base64url.bearer.phx.<token>"]`
/// with the token in standard base64 without padding, or empty without a token.
pub(crate) fn protocols(token: Option<&str>) -> Vec<String> {
    match token {
        None => Vec::new(),
        Some(token) => {
            let encoded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(token);
            vec!["phoenix".to_owned(), format!("{AUTH_TOKEN_PREFIX}{encoded}")]
        }
    }
}

/// What `encodeURIComponent` escapes: everything but
/// `A-Z a-z 0-9 - _ . ! ~ * ' ( )`, as `%XX` of its UTF-8 bytes.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Appends `s` percent-encoded like `encodeURIComponent`.
fn encode_component(out: &mut String, s: &str) {
    out.extend(utf8_percent_encode(s, URI_COMPONENT));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_phoenix_js_url() {
        let base = validate_endpoint("ws://127.0.0.1:4000/socket").unwrap();
        let params = [("token".to_owned(), "secret".to_owned())];
        assert_eq!(
            connect_url(&base, &params, "2.0.0"),
            "ws://127.0.0.1:4000/socket/websocket?token=secret&vsn=2.0.0"
        );
        assert_eq!(
            connect_url("wss://example.org/chat", &[], "2.0.0"),
            "wss://example.org/chat/websocket?vsn=2.0.0"
        );
    }

    #[test]
    fn encodes_like_encode_uri_component() {
        let params = [("a b".to_owned(), "é&=/?~*".to_owned())];
        assert_eq!(
            connect_url("ws://h", &params, "1.0.0"),
            "ws://h/websocket?a%20b=%C3%A9%26%3D%2F%3F~*&vsn=1.0.0"
        );
    }

    #[test]
    fn rejects_relative_and_odd_endpoints() {
        for bad in [
            "/socket",
            "//example.org/chat",
            "http://h/socket",
            "ws://",
            "ws:///x",
            "ws://h/s?x=1",
            "ws://h/a b",
        ] {
            assert!(validate_endpoint(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(validate_endpoint("WSS://h/socket/").unwrap(), "WSS://h/socket");
    }

    #[test]
    fn token_goes_in_a_subprotocol_without_padding() {
        assert!(protocols(None).is_empty());
        // "ab" is "YWI=" in base64; the '=' is dropped.
        assert_eq!(protocols(Some("ab")), ["phoenix", "base64url.bearer.phx.YWI"]);
    }
}
