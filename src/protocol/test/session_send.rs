//! `Session::send`: a message without a reply is sent at once with a fresh
//! ref and nothing tracked (no timer, no event, no buffer), and refused
//! while the channel is not joined.

use super::harness::Scenario;
use crate::protocol::{ChannelState, Payload, SessionError};

#[test]
fn a_send_goes_out_at_once_and_leaves_nothing_to_resolve() {
    let (mut h, ids) = Scenario::new().connected().joined("room:a").build();
    h.clear();
    let before = h.session.poll_timeout();
    h.session.send(ids[0], "shout", Payload::json(r#"{"s":1}"#)).unwrap();
    let sent = h.take_sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].ends_with(r#","room:a","shout",{"s":1}]"#), "{sent:?}");
    let r = h.last_ref();
    assert_eq!(h.session.poll_timeout(), before, "no timer armed");
    // A reply that comes anyway resolves nothing.
    h.reply(&r, "ok", "{}");
    assert!(h.take_events().is_empty());
    assert_eq!(h.session.stats().unmatched_replies, 1);
}

#[test]
fn a_send_is_refused_not_buffered_while_the_channel_is_not_joined() {
    let (mut h, ids) = Scenario::new().connected().joined("t").channel("never").build();
    assert!(matches!(
        h.session.send(ids[1], "e", Payload::empty()),
        Err(SessionError::NotJoined { .. })
    ));
    h.server(r#"["1","1","t","phx_error",{}]"#);
    assert_eq!(h.state(ids[0]), Some(ChannelState::Errored));
    h.clear();
    assert!(matches!(
        h.session.send(ids[0], "e", Payload::empty()),
        Err(SessionError::Unavailable { .. })
    ));
    h.advance_ms(1000);
    let rejoin = h.take_sent();
    assert!(rejoin.iter().all(|f| f.contains("phx_join")), "nothing buffered: {rejoin:?}");
}
