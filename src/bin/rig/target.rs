//! What the user points a client command at: the socket URL (as phoenix.js
//! takes it) and `k=v` parameters. Secrets in anything printed are hidden by
//! the library's [`Redactor`] (see `rig::redact`).

pub(crate) use rig::redact::Redactor;
use rig::transport::{UrlError, WsUrl};
use serde_json::Value;

use crate::exit::Failure;

/// A socket URL split into the endpoint the engine takes and the query
/// parameters it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SocketUrl {
    /// `ws://host:4000/socket`: no query, no trailing `/websocket`.
    pub(crate) endpoint: String,
    /// Query parameters of the URL, decoded, in order.
    pub(crate) params: Vec<(String, String)>,
}

/// Parses `ws://host:4000/socket`, `.../socket/websocket?vsn=2.0.0`,
/// `wss://...`, or `http(s)://` (taken as `ws(s)://`).
pub(crate) fn parse_url(url: &str) -> Result<SocketUrl, Failure> {
    let bad = |why: &str| {
        Failure::usage(format!("bad url {:?}: {why}", rig::redact::url(url)))
            .hint("give the socket URL as phoenix.js takes it, e.g. ws://localhost:4000/socket")
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return Err(bad("the scheme must be ws:// or wss://")),
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path.starts_with('/') {
        return Err(bad("no host"));
    }
    let mut path = path.trim_end_matches('/');
    if let Some(stripped) = path.strip_suffix("/websocket") {
        path = stripped;
    }
    let endpoint = format!("{scheme}://{path}");
    // The same check the engine makes when it connects, made now: a bad
    // host or port is the command line's fault, not the network's.
    if let Err(e) = WsUrl::parse(&format!("{endpoint}/websocket")) {
        return Err(bad(&url_problem(&e)));
    }
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        // The engine appends its own vsn.
        if key != "vsn" {
            params.push((percent_decode(key), percent_decode(value)));
        }
    }
    Ok(SocketUrl { endpoint, params })
}

/// What is wrong with a URL the transport refused, in words.
fn url_problem(error: &rig::transport::Error) -> String {
    match error {
        rig::transport::Error::Url(UrlError::BadPort(port)) => {
            format!("the port {port:?} is not a number from 1 to 65535")
        }
        rig::transport::Error::Url(UrlError::BadHost(host)) => {
            if host.is_empty() {
                "no host".to_owned()
            } else if host.starts_with('[') && !host.contains(']') {
                format!("the IPv6 address {host:?} has no closing ']'")
            } else if !host.is_ascii() {
                format!(
                    "the host {host:?} is not ASCII; write an internationalized name in its \
                     xn-- (punycode) form"
                )
            } else {
                format!("the host {host:?} is not a valid host name or IP address")
            }
        }
        rig::transport::Error::Url(UrlError::UserInfo) => {
            "user:password@ is not supported; send credentials with --token-env or --param"
                .to_owned()
        }
        other => other.to_string().trim_start_matches("bad url: ").to_owned(),
    }
}

/// Decodes `%XX` and `+` of a query component (invalid escapes stay as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits `k=v` (the value may be empty, the key may not).
pub(crate) fn split_pair<'a>(flag: &str, pair: &'a str) -> Result<(&'a str, &'a str), Failure> {
    match pair.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key, value)),
        _ => Err(Failure::usage(format!("bad {flag} {pair:?}: expected KEY=VALUE"))
            .hint(format!("e.g. {flag} user_id=42"))),
    }
}

/// A parameter value: JSON when it parses as JSON (number, boolean,
/// object, array, null, quoted string), the text itself otherwise.
pub(crate) fn param_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// The JSON object of `--join-param k=v` flags.
pub(crate) fn join_payload(pairs: &[String]) -> Result<String, Failure> {
    let mut object = serde_json::Map::new();
    for pair in pairs {
        let (key, value) = split_pair("--join-param", pair)?;
        object.insert(key.to_owned(), param_value(value));
    }
    Ok(Value::Object(object).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_taken_as_phoenix_js_takes_them() {
        let plain = parse_url("ws://localhost:4000/socket").unwrap();
        assert_eq!(plain.endpoint, "ws://localhost:4000/socket");
        assert!(plain.params.is_empty());
        let full = parse_url("wss://h/socket/websocket?vsn=2.0.0&token=a%20b").unwrap();
        assert_eq!(full.endpoint, "wss://h/socket");
        assert_eq!(full.params, vec![("token".to_owned(), "a b".to_owned())]);
        assert_eq!(parse_url("https://h/socket/").unwrap().endpoint, "wss://h/socket");
        assert_eq!(parse_url("ftp://h/x").unwrap_err().code, crate::exit::USAGE);
        assert!(parse_url("localhost:4000").is_err());
        assert!(parse_url("ws:///socket").is_err());
    }

    #[test]
    fn hosts_and_ports_the_engine_would_refuse_are_refused_now() {
        let problem = |url: &str| {
            let failure = parse_url(url).unwrap_err();
            assert_eq!(failure.code, crate::exit::USAGE, "{url}");
            failure.message
        };
        assert!(problem("ws://:4000/socket").ends_with(": no host"));
        assert!(problem("ws://h:99999/socket").contains("port \"99999\" is not a number from 1"));
        assert!(problem("ws://h:0/socket").contains("port \"0\" is not a number from 1"));
        assert!(problem("ws://[::1/socket").contains("has no closing ']'"));
        assert!(problem("ws://bücher.example/socket").contains("not ASCII"));
        assert!(problem("ws://a b/socket").contains("not a valid host name"));
        assert!(problem("ws://u:p@h/socket").contains("not supported"));
        assert_eq!(parse_url("ws://[::1]:4000/socket").unwrap().endpoint, "ws://[::1]:4000/socket");
    }

    #[test]
    fn values_that_parse_as_json_are_json() {
        assert_eq!(param_value("42"), serde_json::json!(42));
        assert_eq!(param_value("true"), serde_json::json!(true));
        assert_eq!(param_value(r#"{"a":1}"#), serde_json::json!({"a": 1}));
        assert_eq!(param_value("ann"), serde_json::json!("ann"));
        assert_eq!(param_value(""), serde_json::json!(""));
        let payload = join_payload(&["rate=10".into(), "user=ann".into()]).unwrap();
        assert_eq!(payload, r#"{"rate":10,"user":"ann"}"#);
        assert!(join_payload(&["=1".into()]).is_err());
        assert!(join_payload(&["novalue".into()]).is_err());
    }

    #[test]
    fn secrets_never_show() {
        let mut redactor = Redactor::default();
        redactor.add("s3cr et");
        redactor.add_param("api_key", "k-123");
        redactor.add_param("user_id", "42");
        let text = "ws://h/socket/websocket?token=s3cr%20et&api_key=k-123&user_id=42: s3cr et";
        assert_eq!(
            redactor.apply(text),
            "ws://h/socket/websocket?token=***&api_key=***&user_id=42: ***"
        );
        let bad = parse_url("ftp://ann:pw-1@h/s?jwt=j").unwrap_err();
        assert!(!bad.message.contains("pw-1") && !bad.message.contains("jwt=j"), "{}", bad.message);
    }
}
