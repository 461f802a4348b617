//! `presence:*` across sockets: joins, updates, leaves and vanished clients.

use super::util::{connect, server};

/// The keys of a presence payload's `joins` and `leaves`.
fn diff_keys(text: &str) -> (Vec<String>, Vec<String>) {
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(value[3], "presence_diff", "{text}");
    let keys = |k: &str| value[4][k].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    (keys("joins"), keys("leaves"))
}

#[test]
fn a_client_that_vanishes_leaves_and_leave_diffs_reach_the_others() {
    let server = server();
    let mut alice = connect(&server, "vsn=2.0.0");
    alice.send(r#"["1","1","presence:room","phx_join",{"user_id":"alice","status":"online"}]"#);
    alice.expect(r#"["1","1","presence:room","phx_reply",{"response":{"joined":"presence:room"},"status":"ok"}]"#);
    assert_eq!(diff_keys(&alice.next_text()), (vec!["alice".to_owned()], vec![]));
    let state = alice.next_text();
    assert!(state.starts_with(
        r#"["1",null,"presence:room","presence_state",{"alice":{"metas":[{"phx_ref":"#
    ));

    let mut bob = connect(&server, "vsn=2.0.0");
    bob.send(r#"["7","7","presence:room","phx_join",{"user_id":"bob"}]"#);
    bob.next_text();
    assert_eq!(diff_keys(&bob.next_text()), (vec!["bob".to_owned()], vec![]));
    let state: serde_json::Value = serde_json::from_str(&bob.next_text()).unwrap();
    assert_eq!(state[4].as_object().unwrap().len(), 2, "{state}");
    assert_eq!(diff_keys(&alice.next_text()), (vec!["bob".to_owned()], vec![]));

    // Bob's process dies: no close frame, the TCP connection just goes.
    drop(bob);
    assert_eq!(diff_keys(&alice.next_text()), (vec![], vec!["bob".to_owned()]));

    // Alice's own channel crashes on an unknown event: her presence leaves too.
    let mut carol = connect(&server, "vsn=2.0.0");
    carol.send(r#"["1","1","presence:room","phx_join",{"user_id":"carol"}]"#);
    for _ in 0..3 {
        carol.next_text();
    }
    assert_eq!(diff_keys(&alice.next_text()), (vec!["carol".to_owned()], vec![]));
    alice.send(r#"["1","2","presence:room","nope",{}]"#);
    alice.expect(r#"["1","1","presence:room","phx_error",{}]"#);
    assert_eq!(diff_keys(&carol.next_text()), (vec![], vec!["alice".to_owned()]));
}
