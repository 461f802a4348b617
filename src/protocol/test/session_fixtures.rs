//! The real Phoenix transcripts (`../shared/fixtures/phoenix-1.7`) replayed
//! against the session: the V2 text scenarios. Presence, streams, idle
//! timeout and malformed frames are in `session_fixtures_more.rs`; binary and
//! V1 in `session_fixtures_codecs.rs`.
//!
//! Each test performs the recorded client actions in order and on the
//! recorded clock; the session must send the recorded `out` frames byte for
//! byte. Rows a well-behaved client never sends are listed as exceptions
//! (`r.skip`) with the reason; their refs are used up so later refs line up.
//!
//! | transcript | rows the session does not reproduce, and why |
//! |---|---|
//! | connect_heartbeat | 5: heartbeat with join_ref "9" and a payload |
//! | join_variants | 9: push to a never-joined topic (P07); 12: leave of a never-joined topic; 15: join with null refs |
//! | echo_reply_push | 13: push with a stale join_ref "999" |
//! | crash_rejoin | 7: push with the old join_ref while errored (buffered instead); 11: same bytes, sent after the join reply (P02) |
//! | duplicate_join | 8, 13: push and leave with the superseded join_ref |
//! | malformed | every client row (garbage by design); only the server side is replayed |
//! | presence | conn A's URL puts `user_id` after `vsn` (phoenix.js puts `vsn` last) |
//! | v1_serializer | 9: push without join_ref; 14, 15, 18 compared without join_ref; 21: V2 array on V1; conn B's URL has no `vsn` |
//! | v1_binary | 3: binary frame on V1 (the session's serializer refuses it) |

use std::time::Duration;

use super::harness::{count, outcomes};
use super::replay::Replay;
use crate::protocol::{
    AbandonReason, ChannelState, CloseReason, DecodeError, EncodeError, ErrorCause, Event, Frame,
    Message, Payload, RttKind, Serializer, SessionConfigBuilder, SocketState, TransportError,
    TransportReason, V2Serializer,
};

fn secret(b: SessionConfigBuilder) -> SessionConfigBuilder {
    b.params([("token", "secret")])
}

#[test]
fn connect_heartbeat_replays() {
    let mut r = Replay::v2("connect_heartbeat.jsonl", "A", secret);
    r.connect(1);
    r.act(2, |s, now| assert!(s.ping(now)));
    r.feed(3).unwrap();
    // Exception, row 5: a heartbeat with join_ref "9" and a payload. The
    // session's heartbeats are always [null,ref,"phoenix","heartbeat",{}].
    r.skip(5);
    r.feed(6).unwrap();
    r.close(8);
    let events = r.events();
    assert_eq!(count(&events, |e| matches!(e, Event::Rtt { kind: RttKind::Ping, .. })), 1);
    assert_eq!(r.session().stats().unmatched_replies, 1, "row 6 answers the skipped row 5");
}

#[derive(Debug)]
struct Vsn3;

impl Serializer for Vsn3 {
    fn vsn(&self) -> &'static str {
        "3.0.0"
    }
    fn encode(&self, msg: &Message) -> Result<Frame, EncodeError> {
        Serializer::encode(&V2Serializer::default(), msg)
    }
    fn decode(&self, frame: Frame) -> Result<Message, DecodeError> {
        Serializer::decode(&V2Serializer::default(), frame)
    }
}

#[test]
fn connect_refused_is_reported_and_not_retried() {
    type Configure = fn(SessionConfigBuilder) -> SessionConfigBuilder;
    let cases: [(&str, u32, Configure); 3] = [
        ("A", 1, |b| b.params([("token", "wrong")])),
        ("B", 2, |b| b),
        ("C", 3, |b| secret(b).serializer(Vsn3)),
    ];
    for (conn, row, configure) in cases {
        let mut r = Replay::v2("connect_refused.jsonl", conn, configure);
        r.connect(row);
        let events = r.events();
        let refused = Event::TransportError { error: TransportError::refused(403), established: 0 };
        assert!(events.contains(&refused), "{conn}: {events:?}");
        assert_eq!(r.session().state(), SocketState::Closed);
        assert_eq!(r.session().poll_timeout(), None, "{conn}: no reconnect after a refusal");
    }
}

/// The raw client never rejoins a refused join, so the session runs with
/// fatal join errors (else its rejoins would add frames to the recording).
#[test]
fn join_variants_replays() {
    let mut r = Replay::v2("join_variants.jsonl", "A", |b| secret(b).join_errors_fatal(true));
    r.connect(1);
    let lobby = r.channel_from(2);
    r.act(2, |s, now| s.join(now, lobby, None).unwrap());
    r.feed(3).unwrap();
    let forbidden = r.session().channel("room:forbidden", Payload::empty());
    let forbidden_join = r.act(4, |s, now| s.join(now, forbidden, None).unwrap());
    r.feed(5).unwrap();
    let nope = r.session().channel("nope:1", Payload::empty());
    let nope_join = r.act(6, |s, now| s.join(now, nope, None).unwrap());
    // Row 7 is the unmatched-topic reply with a NULL join_ref: it still
    // resolves the join (matched by ref and topic).
    r.feed(7).unwrap();
    // Exception, row 9: an event on a topic never joined; the session refuses
    // pushes before join (P07).
    r.skip(9);
    r.feed(10).unwrap();
    // Exception, row 12: phx_leave for a topic never joined, with join_ref =
    // ref; a session's leave carries its own join's ref.
    r.skip(12);
    r.feed(13).unwrap();
    // Exception, row 15: a join with null join_ref and null ref.
    r.skip(15);
    r.feed(16).unwrap();
    r.act(18, |s, now| s.leave(now, lobby, None).unwrap());
    r.feed_all(&[19, 20]);
    r.close(21);

    let events = r.events();
    let reply_status = |push| match &outcomes(&events, push)[..] {
        [Event::Reply { reply, .. }] => {
            (reply.status.to_string(), reply.response.as_json().map(str::to_owned))
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reply_status(forbidden_join),
        ("error".into(), Some(r#"{"reason":"unauthorized"}"#.into()))
    );
    assert_eq!(
        reply_status(nope_join),
        ("error".into(), Some(r#"{"reason":"unmatched topic"}"#.into()))
    );
    for (ch, reason) in [
        (forbidden, CloseReason::JoinRejected),
        (nope, CloseReason::JoinRejected),
        (lobby, CloseReason::Left),
    ] {
        assert!(events.contains(&Event::ChannelClosed { channel: ch, reason }));
    }
    let stats = r.session().stats();
    assert_eq!((stats.unmatched_replies, stats.unroutable), (3, 1), "rows 10, 13, 16; row 20");
}

#[test]
fn echo_reply_push_replays() {
    let mut r = Replay::v2("echo_reply_push.jsonl", "A", secret);
    r.connect(1);
    let ch = r.session().channel("room:echo", Payload::empty());
    r.act(2, |s, now| s.join(now, ch, None).unwrap());
    r.feed(3).unwrap();
    let mut pushes = Vec::new();
    for i in [4, 5, 6, 7, 8, 10, 11] {
        let m = r.out_message(i);
        pushes.push(r.act(i, |s, now| s.push(now, ch, m.event, m.payload, None).unwrap()));
    }
    // Exception, row 13: a push with a stale join_ref ("999"); the session
    // always sends its channel's join_ref.
    r.skip(13);
    r.feed_all(&[14, 15, 16, 17, 18, 19, 20, 21]);
    r.close(22);

    let events = r.events();
    let status = |push| match &outcomes(&events, push)[..] {
        [Event::Reply { reply, .. }] => {
            Some((reply.status.to_string(), reply.response.as_json().unwrap().to_owned()))
        }
        // No reply: abandoned when the connection closed (row 22).
        [Event::PushAbandoned { reason: AbandonReason::ChannelError(_), .. }] => None,
        other => panic!("{other:?}"),
    };
    let [echo, echo_error, noreply, push_me, shout, string, list] = pushes[..] else { panic!() };
    assert_eq!(
        status(echo).unwrap().1,
        r#"{"n":1,"nested":{"l":[1,2.5,null,true]},"s":"héllo ☃"}"#
    );
    assert_eq!(status(echo_error), Some(("error".into(), r#"{"why":"x"}"#.into())));
    assert_eq!(status(noreply), None, "noreply: still pending");
    assert_eq!(status(push_me), Some(("ok".into(), "{}".into())));
    assert_eq!(status(shout), None, "shout: broadcast only, no reply");
    assert_eq!(status(string).unwrap().1, r#""just a string""#);
    assert_eq!(status(list).unwrap().1, "[1,2,3]");
    let messages: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message { message, .. } => {
                Some((message.event.to_string(), message.join_ref.is_some()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(messages, [("pushed".to_owned(), true), ("shout".to_owned(), false)]);
    // The pushed event arrived before the reply to the push that caused it.
    let pos = |f: &dyn Fn(&Event) -> bool| events.iter().position(f).unwrap();
    assert!(
        pos(&|e| matches!(e, Event::Message { .. }))
            < pos(&|e| matches!(e, Event::Reply { push, .. } if *push == push_me))
    );
    // noreply was still waiting when the connection closed (row 22): it
    // ended then, and its timeout never fires.
    let lost =
        AbandonReason::ChannelError(ErrorCause::Transport(TransportReason::ConnectionClosed));
    let want = Event::PushAbandoned { push: noreply, channel: ch, reason: lost };
    assert_eq!(outcomes(&events, noreply), [want]);
    r.h.advance(Duration::from_secs(10));
    assert_eq!(outcomes(&r.events(), noreply).len(), 1, "resolved exactly once");
}

/// Run twice: with the default timeout both replies arrive; with a 1 s
/// timeout on `slow`, it times out and its late reply is ignored (as the
/// phoenix.js run in js_client_scenarios.json shows).
#[test]
fn slow_push_replays() {
    for slow_timeout in [None, Some(Duration::from_secs(1))] {
        let mut r = Replay::v2("slow_push.jsonl", "A", secret);
        r.connect(1);
        let ch = r.session().channel("room:slow", Payload::empty());
        r.act(2, |s, now| s.join(now, ch, None).unwrap());
        r.feed(3).unwrap();
        let slow = r.act(5, |s, now| {
            s.push(now, ch, "slow", Payload::json(r#"{"x":1}"#), slow_timeout).unwrap()
        });
        let echo = r.act(6, |s, now| {
            s.push(now, ch, "echo", Payload::json(r#"{"after":"slow"}"#), None).unwrap()
        });
        r.act(8, |s, now| assert!(s.ping(now)));
        r.feed_all(&[9, 10, 11]);
        r.close(12);
        let events = r.events();
        let rtt = events.iter().find_map(|e| match e {
            Event::Rtt { rtt, kind: RttKind::Ping } => Some(*rtt),
            _ => None,
        });
        assert_eq!(
            rtt,
            Some(Duration::from_micros(300)),
            "the heartbeat is answered during the slow call"
        );
        assert!(matches!(outcomes(&events, echo)[..], [Event::Reply { .. }]));
        match slow_timeout {
            None => assert!(matches!(outcomes(&events, slow)[..], [Event::Reply { .. }])),
            Some(_) => {
                assert_eq!(
                    outcomes(&events, slow),
                    [Event::PushTimeout { push: slow, channel: ch }]
                );
                assert_eq!(r.session().stats().unmatched_replies, 1);
            }
        }
    }
}

#[test]
fn crash_rejoin_replays() {
    let mut r = Replay::v2("crash_rejoin.jsonl", "A", secret);
    r.connect(1);
    let ch = r.session().channel("room:crash", Payload::empty());
    r.act(2, |s, now| s.join(now, ch, None).unwrap());
    r.feed(3).unwrap();
    let boom = r.act(4, |s, now| s.push(now, ch, "boom", Payload::empty(), None).unwrap());
    r.feed(5).unwrap();
    assert_eq!(r.h.state(ch), Some(ChannelState::Errored));
    // Exception, row 7: a push on the errored channel with the old
    // join_ref; the session buffers pushes until the rejoin succeeds (P02).
    r.skip(7);
    r.feed(8).unwrap();
    // Row 10: the rejoin timer (1 s after the phx_error) sends the new join.
    r.expect_out(10);
    // Row 11 is sent before the join reply by the raw client; the session
    // buffers it and sends the same frame right after the ok (row 12).
    let back = r.act_buffered(11, |s, now| {
        s.push(now, ch, "echo", Payload::json(r#"{"back":true}"#), None).unwrap()
    });
    r.feed(12).unwrap();
    r.expect_out(11);
    r.feed(13).unwrap();
    r.act(15, |s, now| s.push(now, ch, "no_such_event", Payload::empty(), None).unwrap());
    r.feed(16).unwrap();
    assert_eq!(r.h.state(ch), Some(ChannelState::Errored));
    r.close(17);

    let events = r.events();
    let server_errors = count(&events, |e| {
        matches!(e, Event::ChannelError { cause: ErrorCause::Server { .. }, .. })
    });
    assert_eq!(server_errors, 2);
    // boom gets no reply: it ends at once with the server's crash as cause.
    assert!(
        matches!(
            &outcomes(&events, boom)[..],
            [Event::PushAbandoned {
                reason: AbandonReason::ChannelError(ErrorCause::Server { .. }),
                ..
            }]
        ),
        "{:?}",
        outcomes(&events, boom)
    );
    assert!(matches!(&outcomes(&events, back)[..], [Event::Reply { reply, .. }] if reply.is_ok()));
}

#[test]
fn close_replays() {
    let mut r = Replay::v2("close.jsonl", "A", secret);
    r.connect(1);
    let first = r.session().channel("room:close", Payload::empty());
    r.act(2, |s, now| s.join(now, first, None).unwrap());
    r.feed(3).unwrap();
    let stop = r.act(4, |s, now| s.push(now, first, "close", Payload::empty(), None).unwrap());
    r.feed(5).unwrap();
    let second = r.session().channel("room:close", Payload::empty());
    r.act(7, |s, now| s.join(now, second, None).unwrap());
    r.feed(8).unwrap();
    let stop_reply = r.act(9, |s, now| {
        s.push(now, second, "close_reply", Payload::json(r#"{"bye":1}"#), None).unwrap()
    });
    r.feed_all(&[10, 11]);
    let third = r.session().channel("room:close", Payload::empty());
    r.act(13, |s, now| s.join(now, third, None).unwrap());
    r.feed(14).unwrap();
    r.act(15, |s, now| s.leave(now, third, None).unwrap());
    r.feed_all(&[16, 17]);
    r.close(19);

    let events = r.events();
    let closed = |ch, reason| events.contains(&Event::ChannelClosed { channel: ch, reason });
    assert!(
        closed(first, CloseReason::Closed)
            && closed(second, CloseReason::Closed)
            && closed(third, CloseReason::Left)
    );
    let abandoned =
        Event::PushAbandoned { push: stop, channel: first, reason: AbandonReason::ChannelClosed };
    assert_eq!(outcomes(&events, stop), [abandoned], "stop without reply: abandoned at phx_close");
    assert!(
        matches!(&outcomes(&events, stop_reply)[..], [Event::Reply { reply, .. }] if reply.is_ok())
    );
    assert_eq!(r.session().channels().count(), 0);
}

#[test]
fn duplicate_join_replays() {
    let mut r = Replay::v2("duplicate_join.jsonl", "A", secret);
    r.connect(1);
    let old = r.session().channel("room:dup", Payload::empty());
    r.act(2, |s, now| s.join(now, old, None).unwrap());
    r.feed(3).unwrap();
    // C08 as real Phoenix does it: the second join goes out alone and the
    // server closes the old join (row 6).
    let new = r.session().channel("room:dup", Payload::empty());
    r.act(4, |s, now| s.join(now, new, None).unwrap());
    assert_eq!(r.h.state(old), Some(ChannelState::Leaving));
    r.feed_all(&[5, 6]);
    assert_eq!((r.h.state(old), r.h.state(new)), (None, Some(ChannelState::Joined)));
    // Exception, row 8: a push with the old channel's join_ref; that channel
    // is closed, and the session does not push on closed channels.
    r.skip(8);
    let via_new = r.act(9, |s, now| {
        s.push(now, new, "echo", Payload::json(r#"{"via":"new"}"#), None).unwrap()
    });
    r.feed_all(&[10, 11]);
    // Exception, row 13: phx_leave with the old join_ref (closed channel).
    r.skip(13);
    r.act(14, |s, now| s.leave(now, new, None).unwrap());
    r.feed_all(&[15, 16]);
    r.close(17);

    let events = r.events();
    assert!(
        events.contains(&Event::ChannelClosed { channel: old, reason: CloseReason::Superseded })
    );
    assert!(events.contains(&Event::ChannelClosed { channel: new, reason: CloseReason::Left }));
    assert!(
        matches!(&outcomes(&events, via_new)[..], [Event::Reply { reply, .. }] if reply.response.as_json() == Some(r#"{"via":"new"}"#))
    );
}
