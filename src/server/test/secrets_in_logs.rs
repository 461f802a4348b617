//! The server's records (at trace: every message in and out) carry no
//! secret of the payloads. tungstenite's own trace of each message does
//! (see `crate::redact`): only rig's records are checked here.

use super::util::{connect, server};
use crate::redact::log_capture::capture_thread;

#[test]
fn message_traces_hide_secret_payload_members() {
    let server = server();
    let logged = capture_thread("rig-server", || {
        let mut c = connect(&server, "vsn=2.0.0");
        c.send(r#"["1","1","room:secrets-in-logs","phx_join",{"token":"join-tok-1"}]"#);
        c.expect(r#"["1","1","room:secrets-in-logs","phx_reply",{"response":{"joined":"room:secrets-in-logs"},"status":"ok"}]"#);
        c.send(r#"["1","2","room:secrets-in-logs","echo",{"password":"push-pw-1"}]"#);
        c.expect(r#"["1","2","room:secrets-in-logs","phx_reply",{"response":{"password":"push-pw-1"},"status":"ok"}]"#);
    });
    let ours: Vec<&str> = logged
        .lines()
        .filter(|line| line.split(' ').nth(1).is_some_and(|t| t.starts_with("rig")))
        .collect();
    let logged = ours.join("\n");
    assert!(logged.contains("\"phx_join\", {\"token\":"), "the records were captured: {logged}");
    for secret in ["join-tok-1", "push-pw-1"] {
        assert!(!logged.contains(secret), "{secret} in the log: {logged}");
    }
}
