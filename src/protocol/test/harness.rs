//! A session on a mock clock with a scripted server (quinn's `Pair`,
//! ureq-proto's `Scenario`).
//!
//! The harness owns the session and the clock. It collects every frame the
//! session transmits and every event it reports; the test plays the server
//! by feeding text frames. Time only moves when the test says so: `step()`
//! jumps to the next timer, `advance()` walks through all timers due in a
//! span, in order. Nothing sleeps.

use std::sync::Arc;
use std::time::Duration;

use crate::protocol::{
    ChannelId, ChannelState, Event, Frame, Message, Payload, PushId, ServerSerializer, Session,
    SessionConfig, SessionConfigBuilder, V2Serializer,
};
use crate::time::{Clock, Instant};

pub(crate) const ENDPOINT: &str = "ws://127.0.0.1:4000/socket";

pub(crate) type Configure = Box<dyn FnOnce(SessionConfigBuilder) -> SessionConfigBuilder>;

/// A session, its mock clock, and what it sent and reported.
pub(crate) struct Harness {
    pub(crate) session: Session,
    pub(crate) clock: Clock,
    pub(crate) mock: Arc<quanta::Mock>,
    pub(crate) start: Instant,
    /// Frames sent since the last `take_sent`/`take_frames`.
    sent: Vec<Frame>,
    /// Every frame ever sent, decoded (for replying to it).
    pub(crate) history: Vec<Message>,
    /// Events since the last `take_events`.
    events: Vec<Event>,
    /// Every event ever reported.
    pub(crate) all_events: Vec<Event>,
}

impl Harness {
    pub(crate) fn new() -> Self {
        Self::with(|b| b)
    }

    pub(crate) fn with(
        configure: impl FnOnce(SessionConfigBuilder) -> SessionConfigBuilder,
    ) -> Self {
        let config = configure(SessionConfig::builder(ENDPOINT)).build().expect("valid config");
        Self::from_config(config)
    }

    pub(crate) fn from_config(config: SessionConfig) -> Self {
        let (clock, mock) = Clock::mock();
        // Start away from zero so that "now minus something" stays meaningful.
        mock.increment(Duration::from_secs(1));
        let start = clock.now();
        let session = Session::new(config, start);
        Self {
            session,
            clock,
            mock,
            start,
            sent: Vec::new(),
            history: Vec::new(),
            events: Vec::new(),
            all_events: Vec::new(),
        }
    }

    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Time since the harness started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.now().saturating_duration_since(self.start)
    }

    /// Drains the session's transmits and events into the harness.
    pub(crate) fn collect(&mut self) {
        while let Some(frame) = self.session.poll_transmit() {
            if let Ok(msg) = V2Serializer::default().decode_client(frame.clone()) {
                self.history.push(msg);
            }
            self.sent.push(frame);
        }
        while let Some(event) = self.session.poll_event() {
            self.events.push(event.clone());
            self.all_events.push(event);
        }
    }

    /// Frames sent since the last call, as text (binary as `<hex>`).
    pub(crate) fn take_sent(&mut self) -> Vec<String> {
        self.take_frames().iter().map(frame_text).collect()
    }

    /// Frames sent since the last call.
    pub(crate) fn take_frames(&mut self) -> Vec<Frame> {
        self.collect();
        std::mem::take(&mut self.sent)
    }

    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        self.collect();
        std::mem::take(&mut self.events)
    }

    /// Forgets what was sent and reported so far.
    pub(crate) fn clear(&mut self) {
        self.take_sent();
        self.take_events();
    }

    pub(crate) fn connect(&mut self) {
        let now = self.now();
        self.session.connect(now);
        self.collect();
    }

    /// `connect` and the driver's `handle_open`.
    pub(crate) fn connect_open(&mut self) {
        self.connect();
        self.open();
    }

    pub(crate) fn open(&mut self) {
        let now = self.now();
        self.session.handle_open(now);
        self.collect();
    }

    pub(crate) fn close(&mut self, code: Option<u16>) {
        let now = self.now();
        self.session.handle_close(now, code, "");
        self.collect();
    }

    /// Feeds a server text frame that must decode.
    pub(crate) fn server(&mut self, text: &str) {
        let now = self.now();
        self.session.handle_frame(now, Frame::text(text.to_owned())).expect("server frame decodes");
        self.collect();
    }

    /// Replies to the latest frame sent with `ref` = `r`, echoing its
    /// join_ref and topic as Phoenix does.
    pub(crate) fn reply(&mut self, r: &str, status: &str, response: &str) {
        let msg = self
            .history
            .iter()
            .rev()
            .find(|m| m.r#ref.as_ref().is_some_and(|x| x.as_str() == r))
            .unwrap_or_else(|| panic!("no frame with ref {r} was sent"))
            .clone();
        let join_ref =
            msg.join_ref.as_ref().map_or_else(|| "null".to_owned(), |j| format!("\"{j}\""));
        let text = format!(
            r#"[{join_ref},"{r}","{}","phx_reply",{{"response":{response},"status":"{status}"}}]"#,
            msg.topic
        );
        self.server(&text);
    }

    /// The ref of the latest frame sent.
    pub(crate) fn last_ref(&self) -> String {
        self.history
            .last()
            .and_then(|m| m.r#ref.as_ref())
            .map(|r| r.as_str().to_owned())
            .expect("a frame with a ref was sent")
    }

    pub(crate) fn channel(&mut self, topic: &str) -> ChannelId {
        self.session.channel(topic, Payload::empty())
    }

    pub(crate) fn join(&mut self, channel: ChannelId) -> PushId {
        let now = self.now();
        let push = self.session.join(now, channel, None).expect("join");
        self.collect();
        push
    }

    pub(crate) fn push(&mut self, channel: ChannelId, event: &str, json: &str) -> PushId {
        let now = self.now();
        let push = self.session.push(now, channel, event, Payload::json(json.to_owned()), None);
        self.collect();
        push.expect("push")
    }

    pub(crate) fn leave(&mut self, channel: ChannelId) -> PushId {
        let now = self.now();
        let push = self.session.leave(now, channel, None).expect("leave");
        self.collect();
        push
    }

    pub(crate) fn state(&self, channel: ChannelId) -> Option<ChannelState> {
        self.session.channel_info(channel).map(|i| i.state())
    }

    /// Jumps to the next timer and fires it. Returns false if none is armed.
    pub(crate) fn step(&mut self) -> bool {
        let Some(at) = self.session.poll_timeout() else { return false };
        self.set_time(at);
        let now = self.now();
        self.session.handle_timeout(now);
        self.collect();
        true
    }

    /// Moves time forward by `span`, firing every timer due on the way at
    /// its own deadline.
    pub(crate) fn advance(&mut self, span: Duration) {
        let target = self.now() + span;
        let mut steps = 0usize;
        while let Some(at) = self.session.poll_timeout().filter(|at| *at <= target) {
            steps += 1;
            assert!(steps < 100_000, "livelock: timers keep firing before {target:?}");
            self.set_time(at);
            let now = self.now();
            self.session.handle_timeout(now);
            self.collect();
        }
        self.set_time(target);
    }

    pub(crate) fn advance_ms(&mut self, ms: u64) {
        self.advance(Duration::from_millis(ms));
    }

    /// Advances to `since_start` after the harness started.
    pub(crate) fn advance_to(&mut self, since_start: Duration) {
        let target = self.start + since_start;
        let span = target.saturating_duration_since(self.now());
        self.advance(span);
    }

    /// Handles everything due now, without moving time; fails if the
    /// session is still busy after `max` rounds (livelock).
    pub(crate) fn drive_bounded(&mut self, max: usize) {
        for _ in 0..max {
            self.collect();
            let now = self.now();
            match self.session.poll_timeout() {
                Some(at) if at <= now => self.session.handle_timeout(now),
                _ => return,
            }
        }
        panic!("livelock: still busy after {max} rounds at {:?}", self.elapsed());
    }

    fn set_time(&mut self, at: Instant) {
        let now = self.now();
        if at > now {
            self.mock.increment(at.saturating_duration_since(now));
        }
    }
}

/// A frame as text; binary frames as `<hex>`.
pub(crate) fn frame_text(frame: &Frame) -> String {
    match frame {
        Frame::Text(text) => text.to_string(),
        Frame::Binary(bytes) => {
            format!("<{}>", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
        }
    }
}

/// Events of one kind, e.g. `only(&events, |e| matches!(e, Event::Open))`.
pub(crate) fn count(events: &[Event], pred: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| pred(e)).count()
}

/// The outcomes reported for `push` (a push resolves exactly once).
pub(crate) fn outcomes(events: &[Event], push: PushId) -> Vec<Event> {
    events
        .iter()
        .filter(|e| match e {
            Event::Reply { push: p, .. }
            | Event::PushTimeout { push: p, .. }
            | Event::PushAbandoned { push: p, .. } => *p == push,
            _ => false,
        })
        .cloned()
        .collect()
}

/// A harness put straight into a state (ureq-proto's `Scenario`).
pub(crate) struct Scenario {
    configure: Configure,
    connected: bool,
    channels: Vec<(String, Target)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Closed,
    Joining,
    Joined,
    Errored,
}

impl Scenario {
    pub(crate) fn new() -> Self {
        Self { configure: Box::new(|b| b), connected: false, channels: Vec::new() }
    }

    pub(crate) fn config(
        mut self,
        configure: impl FnOnce(SessionConfigBuilder) -> SessionConfigBuilder + 'static,
    ) -> Self {
        self.configure = Box::new(configure);
        self
    }

    /// The socket is open.
    pub(crate) fn connected(mut self) -> Self {
        self.connected = true;
        self
    }

    /// A registered channel that was never joined.
    pub(crate) fn channel(mut self, topic: &str) -> Self {
        self.channels.push((topic.to_owned(), Target::Closed));
        self
    }

    /// A channel whose join is in flight (needs `connected`).
    pub(crate) fn joining(mut self, topic: &str) -> Self {
        self.channels.push((topic.to_owned(), Target::Joining));
        self
    }

    /// A joined channel (needs `connected`).
    pub(crate) fn joined(mut self, topic: &str) -> Self {
        self.channels.push((topic.to_owned(), Target::Joined));
        self
    }

    /// A joined channel that then got `phx_error` (needs `connected`).
    pub(crate) fn errored(mut self, topic: &str) -> Self {
        self.channels.push((topic.to_owned(), Target::Errored));
        self
    }

    /// The harness, with sent frames and events cleared, and the channels in
    /// the order given.
    pub(crate) fn build(self) -> (Harness, Vec<ChannelId>) {
        let mut h = Harness::with(self.configure);
        if self.connected {
            h.connect_open();
        }
        let mut ids = Vec::new();
        for (topic, target) in self.channels {
            let ch = h.channel(&topic);
            ids.push(ch);
            if target == Target::Closed {
                continue;
            }
            assert!(self.connected, "Scenario: {topic} needs a connected socket");
            h.join(ch);
            let r = h.last_ref();
            if target == Target::Joining {
                continue;
            }
            h.reply(&r, "ok", "{}");
            if target == Target::Errored {
                h.server(&format!(r#"["{r}","{r}","{topic}","phx_error",{{}}]"#));
            }
        }
        h.clear();
        (h, ids)
    }
}

#[test]
fn scenario_puts_channels_in_the_asked_states() {
    let (h, ids) =
        Scenario::new().connected().channel("a").joining("b").joined("c").errored("d").build();
    let states: Vec<_> = ids.iter().map(|id| h.state(*id)).collect();
    use ChannelState::{Closed, Errored, Joined, Joining};
    assert_eq!(states, [Some(Closed), Some(Joining), Some(Joined), Some(Errored)]);
}

#[test]
fn drive_bounded_settles_and_step_jumps_to_the_next_timer() {
    let (mut h, _) = Scenario::new().connected().build();
    h.drive_bounded(10);
    assert!(h.step(), "the heartbeat timer is armed");
    assert_eq!(h.elapsed(), Duration::from_secs(30));
    assert_eq!(h.take_sent(), [r#"[null,"1","phoenix","heartbeat",{}]"#]);
}
