//! Property tests: random sequences of commands, transport events, server
//! frames (replies with random refs and join_refs, errors, closes, garbage)
//! and time steps. The session never panics, and every push it hands out
//! resolves exactly once.

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;

use super::harness::Harness;
use crate::protocol::{
    Backoff, ChannelId, Event, Frame, Jitter, Payload, PushId, SocketState, TransportError,
};

const TOPICS: [&str; 3] = ["room:a", "room:b", "room:a"];

#[derive(Clone, Debug)]
enum Op {
    Connect,
    Disconnect,
    Open,
    Close(Option<u16>),
    Error(bool),
    NewChannel(usize),
    Join(usize, Option<u64>),
    Leave(usize, Option<u64>),
    Push(usize, Option<u64>),
    Remove(usize),
    Ping,
    Advance(u64),
    Step,
    /// Reply to the n-th most recent frame sent: status ok?, join_ref mode.
    Reply(usize, bool, u8),
    /// phx_error / phx_close / a message for a topic, join_ref mode.
    Server(usize, u8, u8),
    /// A frame with refs drawn from a small range.
    Random(u8, u8, usize, u8),
    Garbage(String),
}

fn op() -> impl Strategy<Value = Op> {
    let timeout = proptest::option::of(1u64..20_000);
    prop_oneof![
        3 => Just(Op::Connect),
        1 => Just(Op::Disconnect),
        3 => Just(Op::Open),
        2 => proptest::option::of(prop_oneof![Just(1000u16), Just(1001), Just(1006), Just(1011)]).prop_map(Op::Close),
        1 => any::<bool>().prop_map(Op::Error),
        3 => (0..TOPICS.len()).prop_map(Op::NewChannel),
        4 => (0usize..6, timeout.clone()).prop_map(|(c, t)| Op::Join(c, t)),
        2 => (0usize..6, timeout.clone()).prop_map(|(c, t)| Op::Leave(c, t)),
        5 => (0usize..6, timeout).prop_map(|(c, t)| Op::Push(c, t)),
        1 => (0usize..6).prop_map(Op::Remove),
        1 => Just(Op::Ping),
        4 => (0u64..40_000).prop_map(Op::Advance),
        3 => Just(Op::Step),
        6 => (0usize..4, any::<bool>(), 0u8..3).prop_map(|(n, ok, jr)| Op::Reply(n, ok, jr)),
        3 => (0..TOPICS.len(), 0u8..3, 0u8..3).prop_map(|(t, kind, jr)| Op::Server(t, kind, jr)),
        2 => (0u8..12, 0u8..12, 0..TOPICS.len(), 0u8..4).prop_map(|(a, b, t, e)| Op::Random(a, b, t, e)),
        1 => "[\\[\\]{}\",:a-z0-9 ]{0,24}".prop_map(Op::Garbage),
    ]
}

/// Drives a session through `ops` and checks the push ledger after each.
struct Run {
    h: Harness,
    channels: Vec<ChannelId>,
    issued: Vec<PushId>,
    resolved: HashMap<PushId, u32>,
    seen_events: usize,
}

impl Run {
    fn new(jitter: Jitter) -> Self {
        let h = Harness::with(move |b| {
            b.reconnect_backoff(Backoff::reconnect().jitter(jitter))
                .rejoin_backoff(Backoff::rejoin().jitter(jitter))
                .seed(7)
        });
        Self {
            h,
            channels: Vec::new(),
            issued: Vec::new(),
            resolved: HashMap::new(),
            seen_events: 0,
        }
    }

    fn channel(&self, n: usize) -> Option<ChannelId> {
        (!self.channels.is_empty()).then(|| self.channels[n % self.channels.len()])
    }

    fn issue(&mut self, push: Result<PushId, crate::protocol::SessionError>) {
        if let Ok(push) = push {
            assert!(!self.issued.contains(&push), "push id {push} handed out twice");
            self.issued.push(push);
        }
    }

    fn join_ref(&self, topic: &str, mode: u8) -> String {
        let current = self
            .channels
            .iter()
            .filter_map(|c| self.h.session.channel_info(*c))
            .find(|i| i.topic() == topic)
            .and_then(|i| i.join_ref().map(|r| r.to_string()));
        match (mode, current) {
            (0, Some(r)) => format!("\"{r}\""),
            (1, _) => "\"999\"".to_owned(),
            _ => "null".to_owned(),
        }
    }

    fn apply(&mut self, op: Op) {
        let now = self.h.now();
        let target = match op {
            Op::Join(c, _) | Op::Leave(c, _) | Op::Push(c, _) | Op::Remove(c) => self.channel(c),
            _ => None,
        };
        let s = &mut self.h.session;
        match op {
            Op::Connect => s.connect(now),
            Op::Disconnect => s.disconnect(now, 1000, "bye"),
            Op::Open => s.handle_open(now),
            Op::Close(code) => s.handle_close(now, code, ""),
            Op::Error(refused) => {
                let error = if refused {
                    TransportError::refused(403)
                } else {
                    TransportError::failed("x")
                };
                s.handle_error(now, error);
            }
            Op::NewChannel(t) => self.channels.push(s.channel(TOPICS[t], Payload::empty())),
            Op::Join(_, t) | Op::Leave(_, t) | Op::Push(_, t) => {
                let Some(ch) = target else { return };
                let timeout = t.map(Duration::from_millis);
                let out = match op {
                    Op::Join(..) => s.join(now, ch, timeout),
                    Op::Leave(..) => s.leave(now, ch, timeout),
                    _ => s.push(now, ch, "event", Payload::json(r#"{"n":1}"#), timeout),
                };
                self.issue(out);
            }
            Op::Remove(_) => {
                if let Some(ch) = target {
                    s.remove(ch);
                }
            }
            Op::Ping => {
                s.ping(now);
            }
            Op::Advance(ms) => self.h.advance_ms(ms),
            Op::Step => {
                self.h.step();
            }
            Op::Reply(n, ok, mode) => {
                self.h.collect();
                let Some(m) = self.h.history.iter().rev().nth(n).cloned() else { return };
                let Some(r) = m.r#ref else { return };
                let jr = match mode {
                    0 => m.join_ref.map_or_else(|| "null".to_owned(), |j| format!("\"{j}\"")),
                    1 => "\"999\"".to_owned(),
                    _ => "null".to_owned(),
                };
                let status = if ok { "ok" } else { "error" };
                let text = format!(
                    r#"[{jr},"{r}","{}","phx_reply",{{"response":{{}},"status":"{status}"}}]"#,
                    m.topic
                );
                let _ = self.h.session.handle_frame(now, Frame::text(text));
            }
            Op::Server(t, kind, mode) => {
                let topic = TOPICS[t];
                let jr = self.join_ref(topic, mode);
                let event = ["phx_error", "phx_close", "shout"][usize::from(kind)];
                let text = format!(r#"[{jr},{jr},"{topic}","{event}",{{}}]"#);
                let _ = self.h.session.handle_frame(now, Frame::text(text));
            }
            Op::Random(a, b, t, e) => {
                let event = ["phx_reply", "phx_error", "phx_close", "x"][usize::from(e)];
                let payload = if e == 0 { r#"{"status":"ok","response":[]}"# } else { "[1]" };
                let text = format!(r#"["{a}","{b}","{}","{event}",{payload}]"#, TOPICS[t]);
                let _ = s.handle_frame(now, Frame::text(text));
            }
            Op::Garbage(text) => {
                let _ = s.handle_frame(now, Frame::text(text));
            }
        }
        self.check();
    }

    /// Every resolution is of an issued push, at most once, and a push is
    /// pending exactly while it is unresolved.
    fn check(&mut self) {
        self.h.collect();
        for e in &self.h.all_events[self.seen_events..] {
            let push = match e {
                Event::Reply { push, .. }
                | Event::PushTimeout { push, .. }
                | Event::PushAbandoned { push, .. } => *push,
                _ => continue,
            };
            assert!(self.issued.contains(&push), "{push} resolved but never handed out: {e:?}");
            let n = self.resolved.entry(push).or_default();
            *n += 1;
            assert_eq!(*n, 1, "{push} resolved twice: {e:?}");
        }
        self.seen_events = self.h.all_events.len();
        for push in &self.issued {
            let resolved = self.resolved.contains_key(push);
            assert_eq!(self.h.session.is_push_pending(*push), !resolved, "{push}");
        }
        if !matches!(self.h.session.state(), SocketState::Open | SocketState::Closing) {
            assert!(self.h.session.poll_transmit().is_none());
        }
    }

    /// Removing every channel abandons whatever is left: all pushes resolved.
    fn finish(mut self) {
        let left: Vec<ChannelId> = self.h.session.channels().collect();
        for ch in left {
            self.h.session.remove(ch);
        }
        self.check();
        for push in &self.issued {
            assert_eq!(self.resolved.get(push), Some(&1), "{push} never resolved");
        }
        self.h.drive_bounded(1000);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_push_resolves_exactly_once(ops in proptest::collection::vec(op(), 1..80)) {
        let mut run = Run::new(Jitter::None);
        for op in ops {
            run.apply(op);
        }
        run.finish();
    }

    #[test]
    fn every_push_resolves_exactly_once_with_jitter(
        ops in proptest::collection::vec(op(), 1..60),
        decorrelated in any::<bool>(),
    ) {
        let jitter = if decorrelated { Jitter::Decorrelated } else { Jitter::Full };
        let mut run = Run::new(jitter);
        for op in ops {
            run.apply(op);
        }
        run.finish();
    }
}

/// Left alone with a joined channel and the server gone silent, the session
/// keeps its timers bounded: heartbeat timeout, reconnects, no pile-up.
#[test]
fn a_silent_server_does_not_pile_up_timers() {
    let mut run = Run::new(Jitter::None);
    run.apply(Op::NewChannel(0));
    run.apply(Op::Connect);
    run.apply(Op::Open);
    run.apply(Op::Join(0, None));
    for _ in 0..200 {
        run.apply(Op::Push(0, None));
        run.apply(Op::Advance(5_000));
        assert!(run.h.session.timer_count() < 10, "{} timers", run.h.session.timer_count());
        if run.h.session.state() == SocketState::Connecting {
            run.apply(Op::Open);
        }
        if run.h.session.state() == SocketState::Closing {
            run.apply(Op::Close(Some(1000)));
        }
    }
    run.finish();
}
