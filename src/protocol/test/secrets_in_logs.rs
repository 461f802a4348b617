//! The session's log records carry no secret at any level: connect URL
//! (userinfo, secret params of any length), token, join params, replies.

use super::harness::Harness;
use crate::protocol::{Payload, SessionConfig};
use crate::redact::log_capture::capture;

#[test]
fn connect_params_userinfo_and_payload_secrets_never_reach_the_log() {
    let logged = capture(|| {
        let config = SessionConfig::builder("ws://ann:pw-user-1@127.0.0.1:4000/socket")
            .params([("token", "tk-param-1"), ("access_code", "c9"), ("user_id", "42")])
            .auth_token("at-token-1")
            .build()
            .unwrap();
        let mut h = Harness::from_config(config);
        h.connect();
        h.open();
        let ch = h.session.channel("room:a", Payload::json(r#"{"password":"pw-join-1"}"#));
        let now = h.now();
        h.session.join(now, ch, None).unwrap();
        h.collect();
        let r = h.last_ref();
        h.reply(&r, "ok", r#"{"session":"srv-sess-1"}"#);
    });
    for expected in ["connecting to", "socket open", "send ", "recv ", "user_id=42"] {
        assert!(logged.contains(expected), "{expected:?} was logged: {logged}");
    }
    for secret in
        ["pw-user-1", "tk-param-1", "access_code=c9", "at-token-1", "pw-join-1", "srv-sess-1"]
    {
        assert!(!logged.contains(secret), "{secret} in the log: {logged}");
    }
}
