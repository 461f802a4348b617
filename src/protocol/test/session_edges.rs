//! Edge cases found in review: frames that arrive while the transport is
//! closing, state that must not outlive a connection or an attempt, and
//! bounds on what the session keeps.

use super::harness::{Scenario, outcomes};
use crate::protocol::socket::MAX_PINGS;
use crate::protocol::{ChannelState, Event, Payload};

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

/// After a join timeout the channel has no join_ref (phoenix.js
/// `joinPush.reset()`), so a message stamped with the timed-out attempt's
/// join_ref is stale and dropped.
#[test]
fn a_timed_out_join_attempt_leaves_no_join_ref_behind() {
    let (mut h, ids) = Scenario::new().connected().joining("t").build();
    h.advance_ms(10_000);
    let info = h.session.channel_info(ids[0]).expect("registered");
    assert_eq!(info.join_ref(), None);
    h.clear();
    h.server(r#"["1",null,"t","shout",{}]"#);
    assert!(h.take_events().is_empty(), "the old attempt's message is not delivered");
    assert_eq!(h.session.stats().stale_dropped, 1);
}

/// phoenix.js resets every channel's rejoin backoff when the socket opens:
/// after a close (not an error) and a reconnect, the next rejoin waits the
/// first step (1 s) again, not where the backoff was before.
#[test]
fn socket_open_resets_the_rejoin_backoff() {
    let (mut h, ids) = Scenario::new().connected().errored("t").build();
    // Walk the backoff on: rejoins that fail (1 s, 2 s, 5 s).
    for wait in [1_000, 2_000, 5_000] {
        h.advance_ms(wait);
        let r = h.last_ref();
        h.reply(&r, "error", "{}");
    }
    assert_eq!(h.state(ids[0]), Some(ChannelState::Errored));
    h.close(Some(1006));
    h.step();
    h.open();
    let r = h.last_ref();
    h.reply(&r, "error", "{}");
    h.clear();
    h.advance_ms(999);
    assert!(h.take_sent().is_empty());
    h.advance_ms(1);
    let sent = h.take_sent();
    assert!(sent.iter().any(|f| f.contains("phx_join")), "rejoin after 1 s: {sent:?}");
}

/// Frames the driver did not take before the transport closed belong to
/// that transport: none of them goes out on the next connection.
#[test]
fn frames_not_taken_before_a_close_are_not_sent_later() {
    let (mut h, ids) = Scenario::new().connected().joined("t").build();
    let now = h.now();
    let push = h.session.push(now, ids[0], "e", Payload::empty(), None);
    assert!(push.is_ok());
    // No collect: the frame is still queued when the transport goes.
    h.session.handle_close(now, Some(1006), "");
    h.clear();
    h.step();
    h.open();
    let sent = h.take_sent();
    assert!(sent.iter().all(|f| !f.contains(r#""e""#)), "{sent:?}");
}

/// Pings waiting for a reply are bounded: the oldest is forgotten.
#[test]
fn unanswered_pings_are_bounded() {
    let (mut h, _) = Scenario::new().connected().build();
    let now = h.now();
    for _ in 0..=MAX_PINGS {
        assert!(h.session.ping(now));
    }
    h.collect();
    let refs: Vec<String> =
        h.history.iter().filter_map(|m| m.r#ref.clone()).map(|r| r.to_string()).collect();
    assert_eq!(refs.len(), MAX_PINGS + 1);
    h.clear();
    h.server(&format!(
        r#"[null,"{}","phoenix","phx_reply",{{"status":"ok","response":{{}}}}]"#,
        refs[0]
    ));
    assert!(h.take_events().is_empty(), "the oldest ping was forgotten");
    h.server(&format!(
        r#"[null,"{}","phoenix","phx_reply",{{"status":"ok","response":{{}}}}]"#,
        refs[1]
    ));
    assert!(matches!(h.take_events().as_slice(), [Event::Rtt { .. }]));
}

/// A reply resolves a push only on the push's topic: a ref echoed on
/// another topic is counted as unmatched and the push keeps waiting.
#[test]
fn a_reply_on_another_topic_does_not_resolve_a_push() {
    let (mut h, ids) = Scenario::new().connected().joined("a").joined("b").build();
    let push = h.push(ids[0], "e", "{}");
    let r = h.last_ref();
    h.server(&format!(r#"["2","{r}","b","phx_reply",{{"status":"ok","response":{{}}}}]"#));
    assert!(h.session.is_push_pending(push));
    assert_eq!(h.session.stats().unmatched_replies, 1);
    h.reply(&r, "ok", "{}");
    assert!(!h.session.is_push_pending(push));
}

/// The heartbeat ref only counts as a heartbeat reply on topic `phoenix`.
#[test]
fn a_heartbeat_ref_on_another_topic_is_not_a_heartbeat_reply() {
    let (mut h, _) = Scenario::new().connected().joined("a").build();
    h.advance_ms(30_000);
    let r = h.last_ref();
    h.clear();
    h.server(&format!(r#"["1","{r}","a","phx_reply",{{"status":"ok","response":{{}}}}]"#));
    assert!(h.take_events().is_empty(), "no RTT from a foreign topic");
    h.advance_ms(30_000);
    assert_eq!(h.session.stats().heartbeat_timeouts, 1, "the heartbeat is still unanswered");
}

/// Thousands of channels joined before the socket opens, a burst of
/// buffered pushes that all time out, and every channel removed: each step
/// is linear (the send buffer, a channel's push buffer and its pushes are
/// found without scanning everything), and the books balance.
#[test]
fn many_channels_and_buffered_pushes_stay_consistent() {
    let n = 10_000;
    let mut h = super::harness::Harness::new();
    let now = h.now();
    let ids: Vec<_> =
        (0..n).map(|i| h.session.channel(format!("room:{i}"), Payload::empty())).collect();
    for id in &ids {
        assert!(h.session.join(now, *id, None).is_ok());
    }
    assert_eq!(h.session.send_buffer_len(), n);
    h.session.check_send_buffer_marks();
    h.connect_open();
    let joins = h.take_sent();
    assert_eq!(joins.len(), n);
    assert_eq!(
        joins.last().map(String::as_str),
        Some(r#"["10000","10000","room:9999","phx_join",{}]"#)
    );

    // Joins time out (the server is slow); pushes buffered meanwhile too.
    let now = h.now();
    let pushes: Vec<_> = (0..n)
        .filter_map(|_| h.session.push(now, ids[0], "e", Payload::empty(), None).ok())
        .collect();
    assert_eq!(h.session.channel_info(ids[0]).map(|i| i.buffered()), Some(n));
    h.advance_ms(10_000);
    assert_eq!(h.session.channel_info(ids[0]).map(|i| i.buffered()), Some(0));
    let timed_out: Vec<_> = h
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::PushTimeout { push, .. } if push >= pushes[0] => Some(push),
            _ => None,
        })
        .collect();
    assert_eq!(timed_out, pushes, "each buffered push timed out once, in order");

    for id in &ids {
        assert!(h.session.remove(*id));
    }
    h.session.check_timer_owners();
    assert_eq!(h.session.refs_waiting(), n, "only the discarded leaves still wait");
    h.advance_ms(10_000);
    assert_eq!(h.session.refs_waiting(), 0);
    assert_eq!(h.session.timer_count(), 1, "only the heartbeat");
}

/// The mock clock starts at zero: a session born there goes through
/// connects, heartbeat timeouts, jittered backoff and push timeouts without
/// any time arithmetic going below zero.
#[test]
fn a_session_born_at_time_zero_never_underflows() {
    use crate::protocol::{Backoff, Frame, Jitter, Session, SessionConfig};
    let (clock, mock) = crate::time::Clock::mock();
    let config = SessionConfig::builder("ws://h/socket")
        .reconnect_backoff(Backoff::reconnect().jitter(Jitter::Decorrelated))
        .rejoin_backoff(Backoff::rejoin().jitter(Jitter::Full))
        .heartbeat_interval(std::time::Duration::from_millis(1))
        .timeout(std::time::Duration::ZERO)
        .build()
        .expect("valid config");
    let mut s = Session::new(config, clock.now());
    let ch = s.channel("t", Payload::empty());
    assert!(s.join(clock.now(), ch, Some(std::time::Duration::ZERO)).is_ok());
    s.connect(clock.now());
    s.handle_open(clock.now());
    let reply = Frame::text(r#"["1","1","t","phx_reply",{"status":"ok","response":{}}]"#);
    assert!(s.handle_frame(clock.now(), reply).is_ok());
    for _ in 0..200 {
        s.handle_timeout(clock.now());
        while s.poll_transmit().is_some() {}
        while s.poll_event().is_some() {}
        match s.state() {
            crate::protocol::SocketState::Connecting => s.handle_open(clock.now()),
            crate::protocol::SocketState::Closing => s.handle_close(clock.now(), None, ""),
            _ => {}
        }
        let _ = s.push(clock.now(), ch, "e", Payload::empty(), None);
        let next = s.poll_timeout().map(|at| at.saturating_duration_since(clock.now()));
        mock.increment(next.unwrap_or_default().max(std::time::Duration::from_millis(1)));
        s.check_timer_owners();
    }
    assert!(s.stats().heartbeat_timeouts > 0);
    assert!(s.stats().connections > 1);
}

/// The event queue: an idle session holds no buffer; a busy one keeps its
/// buffer from one round to the next (a burst does not regrow it each
/// read), and frees it after the first quiet round.
#[test]
fn the_event_buffer_outlives_busy_rounds_and_goes_after_a_quiet_one() {
    use crate::protocol::{Frame, Session, SessionConfig};
    let (clock, _mock) = crate::time::Clock::mock();
    let config = SessionConfig::builder("ws://h/socket").build().expect("valid config");
    let mut s = Session::new(config, clock.now());
    let ch = s.channel("t", Payload::empty());
    assert!(s.join(clock.now(), ch, None).is_ok());
    s.connect(clock.now());
    s.handle_open(clock.now());
    let reply = Frame::text(r#"["1","1","t","phx_reply",{"status":"ok","response":{}}]"#);
    assert!(s.handle_frame(clock.now(), reply).is_ok());
    while s.poll_event().is_some() {}
    assert_eq!(s.event_capacity(), 0, "joined and drained: quiet, no buffer");
    let event = Frame::text(r#"["1",null,"t","e",{}]"#);
    for round in 0..3 {
        for _ in 0..100 {
            assert!(s.handle_frame(clock.now(), event.clone()).is_ok());
        }
        assert_eq!(std::iter::from_fn(|| s.poll_event()).count(), 100);
        assert!(s.poll_event().is_none(), "a second look changes nothing");
        assert!(s.event_capacity() >= 100, "round {round}: the busy buffer stays");
    }
    assert!(s.handle_frame(clock.now(), event).is_ok());
    assert_eq!(std::iter::from_fn(|| s.poll_event()).count(), 1);
    assert_eq!(s.event_capacity(), 0, "a quiet round frees it");
}
