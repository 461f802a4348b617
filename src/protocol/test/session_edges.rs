//! Edge cases found in review: frames that arrive while the transport is
//! closing, state that must not outlive a connection or an attempt, and
//! bounds on what the session keeps.

use super::harness::{Scenario, outcomes};
use crate::protocol::{ChannelState, Event};

/// A join `ok` that arrives while the transport is closing (after
/// `disconnect`, the driver still reads until the close completes) must not
/// push the buffered pushes into the socket send buffer: they would go out
/// first on the next connection, with the old join_ref, before the rejoin,
/// and Phoenix would answer them `unmatched topic`. They wait for the next
/// join instead.
#[test]
fn join_ok_while_closing_keeps_pushes_for_the_next_join() {
    let (mut h, ids) = Scenario::new().connected().joining("room:a").build();
    let push = h.push(ids[0], "shout", r#"{"n":1}"#);
    let now = h.now();
    h.session.disconnect(now, 1000, "bye");
    h.reply("1", "ok", "{}");
    assert_eq!(h.state(ids[0]), Some(ChannelState::Joined));
    assert!(h.take_sent().is_empty(), "nothing is sent on a closing transport");
    h.close(Some(1000));
    assert_eq!(h.state(ids[0]), Some(ChannelState::Errored));
    assert_eq!(h.session.send_buffer_len(), 0, "no stale frame waits for the next connection");

    h.connect_open();
    assert_eq!(h.take_sent(), [r#"["2","2","room:a","phx_join",{}]"#], "the rejoin goes first");
    h.reply("2", "ok", "{}");
    assert_eq!(
        h.take_sent(),
        [r#"["2","3","room:a","shout",{"n":1}]"#],
        "then the push, new join_ref"
    );
    h.reply("3", "ok", "{}");
    assert!(matches!(outcomes(&h.take_events(), push).as_slice(), [Event::Reply { .. }]));
}
