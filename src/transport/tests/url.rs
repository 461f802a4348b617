//! URL parsing and resolution.

use crate::transport::{Error, Host, Scheme, UrlError, WsUrl, resolve};
fn err(s: &str) -> UrlError {
    match WsUrl::parse(s) {
        Err(Error::Url(e)) => e,
        other => panic!("{s}: expected a url error, got {other:?}"),
    }
}

#[test]
fn defaults_ports_and_path() {
    let url = WsUrl::parse("ws://example.com").unwrap();
    assert_eq!((url.port(), url.path_and_query()), (80, "/"));
    let url = WsUrl::parse("WSS://example.com:8443").unwrap();
    assert_eq!((url.scheme(), url.port()), (Scheme::Wss, 8443));
    assert_eq!(url.host_header(), "example.com:8443");
    assert_eq!(WsUrl::parse("ws://h:80/").unwrap().host_header(), "h");
}

#[test]
fn path_and_query_kept_verbatim() {
    let url = WsUrl::parse("ws://h/socket/websocket?token=a%2Fb&vsn=2.0.0").unwrap();
    assert_eq!(url.path_and_query(), "/socket/websocket?token=a%2Fb&vsn=2.0.0");
    assert_eq!(WsUrl::parse("ws://h?x=1").unwrap().path_and_query(), "/?x=1");
}

#[test]
fn ip_literals() {
    let url = WsUrl::parse("ws://[2001:db8::1]:4000/s").unwrap();
    assert_eq!(url.host(), &Host::Ip("2001:db8::1".parse().unwrap()));
    assert_eq!(url.port(), 4000);
    assert_eq!(url.to_string(), "ws://[2001:db8::1]:4000/s");
    let url = WsUrl::parse("wss://[::1]").unwrap();
    assert_eq!((url.port(), url.host_header()), (443, "[::1]".to_owned()));
    let url = WsUrl::parse("ws://10.0.0.1:1/").unwrap();
    assert_eq!(url.host(), &Host::Ip("10.0.0.1".parse().unwrap()));
}

#[test]
fn rejects_bad_urls() {
    assert_eq!(err("example.com"), UrlError::MissingScheme);
    assert_eq!(err("https://example.com"), UrlError::BadScheme("https".into()));
    assert_eq!(err("ws://"), UrlError::BadHost(String::new()));
    assert_eq!(err("ws://exa mple.com"), UrlError::BadHost("exa mple.com".into()));
    assert_eq!(err("ws://h/a b"), UrlError::BadPath);
    assert_eq!(err("ws://bad..host/"), UrlError::BadHost("bad..host".into()));
    assert_eq!(err("ws://-x.com/"), UrlError::BadHost("-x.com".into()));
    assert_eq!(err("ws://[::1/"), UrlError::BadHost("[::1".into()));
    assert_eq!(err("ws://[nope]/"), UrlError::BadHost("nope".into()));
    assert_eq!(err("ws://[::1]x/"), UrlError::BadHost("[::1]x".into()));
    assert_eq!(err("ws://h:0/"), UrlError::BadPort("0".into()));
    assert_eq!(err("ws://h:65536/"), UrlError::BadPort("65536".into()));
    assert_eq!(err("ws://h:/"), UrlError::BadPort(String::new()));
    assert_eq!(err("ws://h:+1/"), UrlError::BadPort("+1".into()));
    assert_eq!(err("ws://u:p@h/"), UrlError::UserInfo);
    assert_eq!(err("ws://h/#frag"), UrlError::Fragment);
    assert_eq!(err("ws://h/a\tb"), UrlError::BadPath);
    assert_eq!(
        err(&format!("ws://{}.com/", "a".repeat(64))),
        UrlError::BadHost(format!("{}.com", "a".repeat(64)))
    );
}

#[test]
fn trailing_dot_and_case_are_normalised() {
    let url = WsUrl::parse("ws://LocalHost./").unwrap();
    assert_eq!(url.host(), &Host::Domain("localhost".into()));
}

#[test]
fn resolves_literals_and_localhost() {
    let url = WsUrl::parse("ws://[::1]:9/").unwrap();
    assert_eq!(resolve(&url).unwrap(), vec!["[::1]:9".parse().unwrap()]);
    let url = WsUrl::parse("ws://localhost:9/").unwrap();
    let addrs = resolve(&url).unwrap();
    assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 9), "{addrs:?}");
}

#[test]
fn display_and_debug_hide_secret_query_values() {
    let url =
        WsUrl::parse("ws://h/socket/websocket?token=ab&jwt=j-1&user_id=42&vsn=2.0.0").unwrap();
    assert_eq!(url.to_string(), "ws://h/socket/websocket?token=***&jwt=***&user_id=42&vsn=2.0.0");
    assert_eq!(
        url.to_uri_string(),
        "ws://h/socket/websocket?token=ab&jwt=j-1&user_id=42&vsn=2.0.0"
    );
    let debug = format!("{url:?}");
    assert!(!debug.contains("j-1") && !debug.contains("=ab"), "{debug}");
    let request = crate::transport::ConnectRequest::new(url)
        .header("Authorization", "Bearer tok-1")
        .header("cookie", "sid=ck-1")
        .header("x-api-key", "key-1")
        .header("user-agent", "rig")
        .subprotocol("base64url.bearer.phx.c2VjcmV0");
    let debug = format!("{request:?}");
    for secret in ["j-1", "=ab", "tok-1", "ck-1", "key-1", "c2VjcmV0"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
    assert!(debug.contains("rig"), "{debug}");
    // The request on the wire keeps them all.
    let http = request.to_http().unwrap();
    assert_eq!(http.uri().query(), Some("token=ab&jwt=j-1&user_id=42&vsn=2.0.0"));
}

#[test]
fn userinfo_never_shows_in_errors() {
    let err = WsUrl::parse("ws://ann:pw-1@h/socket").unwrap_err();
    assert!(!format!("{err} {err:?}").contains("pw-1"));
    let err =
        crate::protocol::SessionConfig::builder("wss://ann:pw-1@h/socket?x=1").build().unwrap_err();
    assert!(!format!("{err} {err:?}").contains("pw-1"), "{err}");
}
