//! The connection's log records (ours and tungstenite's) carry no secret
//! of the upgrade request: query values, auth headers, the token
//! subprotocol.

use super::{Driver, echo, serve_ws};
use crate::redact::log_capture::capture;
use crate::transport::{ConnectRequest, Data, WsUrl};

#[test]
fn the_upgrade_request_is_never_logged_with_its_secrets() {
    let addr = serve_ws(echo);
    let logged = capture(|| {
        let url = format!("ws://{addr}/socket/websocket?token=tk-query-1&jwt=j9&vsn=2.0.0");
        let request = ConnectRequest::new(WsUrl::parse(&url).unwrap())
            .header("authorization", "Bearer tk-bearer-1")
            .header("cookie", "sid=ck-cookie-1")
            .header("x-api-key", "key-api-1")
            .subprotocol("phoenix")
            .subprotocol("base64url.bearer.phx.c2VjcmV0LXN1Yg");
        let mut d = Driver::start(addr, &request, None);
        d.open().unwrap();
        d.conn.send_text("hello").unwrap();
        d.conn.flush().unwrap();
        d.run_until(|d| !d.frames.is_empty()).unwrap();
        assert_eq!(d.frames, [Data::from("hello")]);
        log::trace!("request {request:?} to {}", request.url());
    });
    assert!(logged.contains("websocket open"), "the records were captured: {logged}");
    for secret in
        ["tk-query-1", "jwt=j9", "tk-bearer-1", "ck-cookie-1", "key-api-1", "c2VjcmV0LXN1Yg"]
    {
        assert!(!logged.contains(secret), "{secret} in the log: {logged}");
    }
}
