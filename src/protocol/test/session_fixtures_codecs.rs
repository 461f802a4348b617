//! Transcript replays that need the V2 binary frames and the V1 serializer.
//!
//! GATED: the codecs come from `standin_codecs::{binary_codec, v1_codec}`,
//! which return the real serializers once they exist (binary: automatic;
//! V1: one line to switch) and test stand-ins until then.

use super::harness::{ENDPOINT, count, outcomes};
use super::replay::{Compare, Replay};
use super::standin_codecs::{binary_codec, v1_codec};
use crate::protocol::{
    AbandonReason, ChannelState, CloseReason, Event, Payload, RttKind, SessionConfigBuilder,
};

fn secret(b: SessionConfigBuilder) -> SessionConfigBuilder {
    b.params([("token", "secret")])
}

fn binary(bytes: &[u8]) -> Payload {
    Payload::binary(bytes.to_vec())
}

#[test]
fn binary_replays() {
    let (client, server) = binary_codec();
    let mut r = Replay::new("binary.jsonl", "A", ENDPOINT, server, Compare::Exact, |b| {
        secret(b).boxed_serializer(client)
    });
    r.connect(1);
    let ch = r.session().channel("room:bin", Payload::empty());
    r.act(2, |s, now| s.join(now, ch, None).unwrap());
    r.feed(3).unwrap();
    let push = |r: &mut Replay, i: u32| {
        let m = r.out_message(i);
        r.act(i, |s, now| s.push(now, ch, m.event, m.payload, None).unwrap())
    };
    let echo = push(&mut r, 4);
    r.feed(5).unwrap();
    push(&mut r, 7);
    r.feed_all(&[8, 9]);
    push(&mut r, 10);
    r.feed(11).unwrap();
    let empty = push(&mut r, 13);
    r.feed(14).unwrap();
    let text = push(&mut r, 16);
    let raw = push(&mut r, 17);
    r.feed_all(&[18, 19]);
    // A phx_join sent as a binary frame: binary join params.
    let binjoin = r.session().channel("room:binjoin", binary(&[]));
    r.act(21, |s, now| s.join(now, binjoin, None).unwrap());
    r.feed(22).unwrap();
    assert_eq!(r.h.state(binjoin), Some(ChannelState::Joined));
    r.close(23);

    let events = r.events();
    let response = |push| match &outcomes(&events, push)[..] {
        [Event::Reply { reply, .. }] => (reply.status.to_string(), reply.response.clone()),
        other => panic!("{other:?}"),
    };
    assert_eq!(response(echo), ("ok".into(), binary(&[0, 1, 2, 0xfa, 0xff])));
    assert_eq!(response(empty), ("ok".into(), binary(&[])));
    assert_eq!(response(raw), ("ok".into(), binary(b"raw")));
    assert_eq!(response(text).0, "error");
    let pushed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Message { message, .. } => {
                Some((message.event.to_string(), message.payload.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        pushed,
        [("bin_push".into(), binary(&[9, 8, 7])), ("bin_shout".into(), binary(b"**"))]
    );
}

/// The V1 recording was written by a client that put spaces in its JSON, so
/// frames are compared decoded. Rows where that client omitted `join_ref`
/// (the session always sends it, as phoenix.js does) are compared without it.
#[test]
fn v1_serializer_replays() {
    let (client, server) = v1_codec();
    let mut r = Replay::new("v1_serializer.jsonl", "A", ENDPOINT, server, Compare::Decoded, |b| {
        secret(b).boxed_serializer(client)
    });
    r.connect(2);
    r.act(3, |s, now| assert!(s.ping(now)));
    r.feed(4).unwrap();
    let ch = r.session().channel("room:v1", Payload::empty());
    r.act(5, |s, now| s.join(now, ch, None).unwrap());
    r.feed(6).unwrap();
    assert_eq!(r.h.state(ch), Some(ChannelState::Joined), "V1 replies carry no join_ref");
    let mut pushes = Vec::new();
    for i in [7, 8] {
        let m = r.out_message(i);
        pushes.push(r.act(i, |s, now| s.push(now, ch, m.event, m.payload, None).unwrap()));
    }
    // Exception, row 9: a push without join_ref; the session always sends it.
    r.skip(9);
    r.feed_all(&[10, 11, 12, 13]);
    let v1x = r.session().channel("room:v1x", Payload::empty());
    r.act_without_join_ref(14, |s, now| s.join(now, v1x, None).unwrap());
    let forbidden = r.session().channel("room:forbidden", Payload::empty());
    r.act_without_join_ref(15, |s, now| s.join(now, forbidden, None).unwrap());
    r.feed_all(&[16, 17]);
    r.act_without_join_ref(18, |s, now| s.push(now, ch, "boom", Payload::empty(), None).unwrap());
    // V1 phx_error has no join_ref, and ref = the join ref.
    r.feed(19).unwrap();
    // Exception, row 21: a V2 array on a V1 socket; the session writes V1.
    r.act_buffered(21, |_, _| ());
    r.server_close(22);

    let events = r.events();
    assert_eq!(count(&events, |e| matches!(e, Event::Rtt { kind: RttKind::Ping, .. })), 1);
    assert!(pushes.iter().all(|p| matches!(&outcomes(&events, *p)[..], [Event::Reply { .. }])));
    let messages = count(&events, |e| matches!(e, Event::Message { .. }));
    assert_eq!(messages, 2, "pushed and shout");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::ChannelError { channel, .. } if *channel == forbidden))
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::ChannelError { channel, .. } if *channel == ch))
    );
    assert_eq!(
        count(&events, |e| matches!(e, Event::ReconnectScheduled { .. })),
        1,
        "1011 reconnects"
    );

    // Connection B has no vsn at all (the server defaults to V1); the
    // session always sends vsn. Exception: B's upgrade row is not replayed.
    let (client, server) = v1_codec();
    let mut b = Replay::new("v1_serializer.jsonl", "B", ENDPOINT, server, Compare::Decoded, |b| {
        secret(b).boxed_serializer(client)
    });
    b.h.connect();
    assert!(b.session().wants_connect().unwrap().url().ends_with("?token=secret&vsn=1.0.0"));
    b.h.open();
    b.act(25, |s, now| assert!(s.ping(now)));
    b.feed(26).unwrap();
    b.close(27);
}

/// Row 3 sends a binary frame to a V1 socket, which the server kills with
/// 1011. The session's V1 serializer refuses to encode it instead: the join
/// is abandoned and the channel closes; nothing is sent. The server close is
/// fed anyway to check the session's handling.
#[test]
fn v1_binary_replays() {
    let (client, server) = v1_codec();
    let mut r = Replay::new("v1_binary.jsonl", "A", ENDPOINT, server, Compare::Decoded, |b| {
        secret(b).boxed_serializer(client)
    });
    r.connect(2);
    let ch = r.session().channel("room:x", binary(&[]));
    let join = r.act_buffered(3, |s, now| s.join(now, ch, None).unwrap());
    let events = r.events();
    assert!(matches!(
        &outcomes(&events, join)[..],
        [Event::PushAbandoned { reason: AbandonReason::Encode(_), .. }]
    ));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::ChannelClosed { reason: CloseReason::Unencodable(_), .. }))
    );
    r.server_close(4);
    assert_eq!(count(&r.events(), |e| matches!(e, Event::ReconnectScheduled { .. })), 1);
}
