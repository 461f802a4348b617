//! The sans-IO session alone, driven by a mock clock.

use std::time::Duration;

use crate::protocol::{Frame, Message, ServerSerializer as _, V2Serializer};
use crate::server::session::{Effect, Session};
use crate::time::Clock;

fn msg(text: &str) -> Message {
    V2Serializer::default().decode_client(Frame::text(text.to_owned())).unwrap()
}

/// The effects as short strings: sent frames as V2 text, others by name.
fn drain(session: &mut Session) -> Vec<String> {
    let ser = V2Serializer::default();
    session
        .take_effects()
        .into_iter()
        .map(|e| match e {
            Effect::Send(m) => match ser.encode_server(&m).unwrap() {
                Frame::Text(t) => t.to_string(),
                Frame::Binary(_) => "binary".into(),
            },
            Effect::Broadcast(m) => {
                format!("broadcast {} {}", m.event, m.payload.as_json().unwrap())
            }
            Effect::Subscribe(t) => format!("subscribe {t}"),
            Effect::Unsubscribe(t) => format!("unsubscribe {t}"),
            Effect::PresenceTrack { topic, key, .. } => format!("track {topic} {key}"),
            Effect::PresenceUpdate { topic, .. } => format!("update {topic}"),
            Effect::PresenceUntrack { topic } => format!("untrack {topic}"),
            Effect::Close(reason) => format!("close {}", reason.code()),
        })
        .collect()
}

#[test]
fn slow_holds_its_channel_until_the_deadline_then_drains_in_order() {
    let (clock, mock) = Clock::mock();
    let mut s = Session::new();
    s.handle_message(clock.now(), msg(r#"["1","1","room:slow","phx_join",{}]"#));
    assert_eq!(drain(&mut s).len(), 2);
    s.handle_message(clock.now(), msg(r#"["1","2","room:slow","slow",{"x":1}]"#));
    s.handle_message(clock.now(), msg(r#"["1","3","room:slow","echo",{"after":"slow"}]"#));
    s.handle_message(clock.now(), msg(r#"["1","4","room:slow","boom",{}]"#));
    s.handle_message(clock.now(), msg(r#"[null,"5","phoenix","heartbeat",{}]"#));
    assert_eq!(
        drain(&mut s),
        [r#"[null,"5","phoenix","phx_reply",{"response":{},"status":"ok"}]"#]
    );
    assert_eq!(s.next_deadline(true), Some(clock.now() + Duration::from_secs(3)));
    mock.increment(Duration::from_millis(2999));
    s.handle_timeout(clock.now());
    assert!(drain(&mut s).is_empty());
    mock.increment(Duration::from_millis(1));
    s.handle_timeout(clock.now());
    assert_eq!(
        drain(&mut s),
        [
            r#"["1","2","room:slow","phx_reply",{"response":{"x":1},"status":"ok"}]"#,
            r#"["1","3","room:slow","phx_reply",{"response":{"after":"slow"},"status":"ok"}]"#,
            r#"["1","1","room:slow","phx_error",{}]"#,
            "unsubscribe room:slow",
        ]
    );
    assert_eq!(s.next_deadline(true), None);
}

#[test]
fn presence_join_replies_before_tracking_and_update_replies_before_its_diff() {
    let (clock, _mock) = Clock::mock();
    let mut s = Session::new();
    s.handle_message(
        clock.now(),
        msg(r#"["1","1","presence:p","phx_join",{"user_id":"al","s":1}]"#),
    );
    assert_eq!(
        drain(&mut s),
        [
            r#"["1","1","presence:p","phx_reply",{"response":{"joined":"presence:p"},"status":"ok"}]"#,
            "subscribe presence:p",
            "track presence:p al",
        ]
    );
    s.handle_message(clock.now(), msg(r#"["1","2","presence:p","update",{"s":2}]"#));
    assert_eq!(
        drain(&mut s),
        [
            r#"["1","2","presence:p","phx_reply",{"response":{},"status":"ok"}]"#,
            "update presence:p"
        ]
    );
    s.close_all();
    assert_eq!(drain(&mut s), ["unsubscribe presence:p", "untrack presence:p"]);
    s.handle_message(clock.now(), msg(r#"["2","3","presence:q","phx_join",{}]"#));
    assert_eq!(
        drain(&mut s),
        [
            r#"["2","3","presence:q","phx_reply",{"response":{"reason":"user_id required"},"status":"error"}]"#
        ]
    );
}

#[test]
fn leaves_follow_the_join_ref_rules() {
    let (clock, _mock) = Clock::mock();
    let mut s = Session::new();
    // Joined with a null join_ref: any leave matches it.
    s.handle_message(clock.now(), msg(r#"[null,"1","room:a","phx_join",{}]"#));
    drain(&mut s);
    s.handle_message(clock.now(), msg(r#"["7","2","room:a","phx_leave",{}]"#));
    assert_eq!(
        drain(&mut s),
        [
            r#"[null,"2","room:a","phx_reply",{"response":{},"status":"ok"}]"#,
            r#"[null,null,"room:a","phx_close",{}]"#,
            "unsubscribe room:a",
        ]
    );
    s.handle_message(clock.now(), msg(r#"["3","3","room:b","phx_join",{}]"#));
    drain(&mut s);
    s.handle_message(clock.now(), msg(r#"[null,"4","room:b","phx_leave",{}]"#));
    assert!(drain(&mut s).is_empty(), "a leave with another join_ref is stale");
}

#[test]
fn payloads_phoenix_could_not_decode_close_the_socket() {
    let (clock, _mock) = Clock::mock();
    let mut s = Session::new();
    s.handle_message(clock.now(), msg(r#"[null,"1","phoenix","heartbeat",{"n":1e999}]"#));
    assert_eq!(drain(&mut s), ["close 1011"]);
}

#[test]
fn stream_joins_reply_then_produce_on_demand() {
    let (clock, mock) = Clock::mock();
    let mut s = Session::new();
    s.handle_message(clock.now(), msg(r#"["1","1","stream:s","phx_join",{"rate":10,"count":2}]"#));
    drain(&mut s);
    assert!(s.has_due_stream(clock.now()));
    assert_eq!(s.produce_streams(clock.now(), 5, 10), 1);
    assert_eq!(drain(&mut s), [r#"["1",null,"stream:s","event",{"seq":1,"t":5}]"#]);
    assert!(!s.has_due_stream(clock.now()));
    assert_eq!(s.next_deadline(true), Some(clock.now() + Duration::from_millis(100)));
    assert_eq!(s.next_deadline(false), None);
    mock.increment(Duration::from_millis(100));
    assert_eq!(s.produce_streams(clock.now(), 6, 10), 2, "the last event and done");
    assert_eq!(
        drain(&mut s),
        [
            r#"["1",null,"stream:s","event",{"seq":2,"t":6}]"#,
            r#"["1",null,"stream:s","done",{"count":2,"server_elapsed_us":100000}]"#,
        ]
    );
}

#[test]
fn counts_heartbeats_joins_crashes_and_joined_channels() {
    let (clock, _mock) = Clock::mock();
    let mut s = Session::new();
    let now = clock.now();
    let counters = |s: &Session| {
        let st = s.stats().snapshot();
        (st.heartbeats, st.joins_ok, st.joins_refused, st.channel_crashes, st.channels_joined)
    };
    s.handle_message(now, msg(r#"[null,"1","phoenix","heartbeat",{}]"#));
    s.handle_message(now, msg(r#"["1","2","room:a","phx_join",{}]"#));
    s.handle_message(now, msg(r#"["3","3","room:b","phx_join",{}]"#));
    assert_eq!(counters(&s), (1, 2, 0, 0, 2));
    // A duplicate join replaces the channel: one more join, the same channels.
    s.handle_message(now, msg(r#"["4","4","room:a","phx_join",{}]"#));
    assert_eq!(counters(&s), (1, 3, 0, 0, 2));
    // Refused by the channel, and a topic no channel serves.
    s.handle_message(now, msg(r#"["5","5","room:forbidden","phx_join",{}]"#));
    s.handle_message(now, msg(r#"["6","6","nowhere:x","phx_join",{}]"#));
    assert_eq!(counters(&s), (1, 3, 2, 0, 2));
    // A crash and a leave each end a channel.
    s.handle_message(now, msg(r#"["4","7","room:a","boom",{}]"#));
    assert_eq!(counters(&s), (1, 3, 2, 1, 1));
    s.handle_message(now, msg(r#"["3","8","room:b","phx_leave",{}]"#));
    assert_eq!(counters(&s), (1, 3, 2, 1, 0));
    // Events that are not joins count nothing, even unmatched ones.
    s.handle_message(now, msg(r#"[null,"9","room:gone","echo",{}]"#));
    s.handle_message(now, msg(r#"["10","10","room:c","phx_join",{}]"#));
    s.close_all();
    assert_eq!(counters(&s), (1, 4, 2, 1, 0));
    drain(&mut s);
}
