//! Replays a real Phoenix transcript against a [`Session`]: the test performs
//! the client actions of the recording in order, on the recording's clock,
//! checks that the session transmits the recorded `out` frames, and feeds it
//! the recorded `in` frames.

use std::time::Duration;

use super::fixtures::{self, Row, Transcript};
use super::harness::Harness;
use crate::protocol::{
    DecodeError, Event, Frame, Message, Payload, ServerSerializer, Session, SessionConfig,
    SessionConfigBuilder, V2Serializer,
};
use crate::time::Instant;

/// One connection of one transcript, replayed.
pub(crate) struct Replay {
    pub(crate) h: Harness,
    transcript: Transcript,
    conn: &'static str,
    server: Box<dyn ServerSerializer>,
}

impl Replay {
    /// Replays connection `conn` of `file` with a V2 session configured by
    /// `configure` (the endpoint is the recording's).
    pub(crate) fn v2(
        file: &str,
        conn: &'static str,
        configure: impl FnOnce(SessionConfigBuilder) -> SessionConfigBuilder,
    ) -> Self {
        Self::new(
            file,
            conn,
            "ws://127.0.0.1:4000/socket",
            Box::new(V2Serializer::default()),
            configure,
        )
    }

    pub(crate) fn new(
        file: &str,
        conn: &'static str,
        endpoint: &str,
        server: Box<dyn ServerSerializer>,
        configure: impl FnOnce(SessionConfigBuilder) -> SessionConfigBuilder,
    ) -> Self {
        let config = configure(SessionConfig::builder(endpoint)).build().expect("valid config");
        Self { h: Harness::from_config(config), transcript: fixtures::load(file), conn, server }
    }

    pub(crate) fn row(&self, i: u32) -> &Row {
        let row = self.transcript.rows.iter().find(|r| r.i == i);
        let row = row.unwrap_or_else(|| panic!("{}: no row {i}", self.transcript.name));
        if let Some(conn) = &row.conn {
            assert_eq!(
                conn, self.conn,
                "{}: row {i} is on another connection",
                self.transcript.name
            );
        }
        row
    }

    fn at(&mut self, i: u32) {
        let t = self.row(i).t_ms;
        let since_start = Duration::from_micros((t * 1000.0).round() as u64);
        self.h.advance_to(since_start);
    }

    fn now(&self) -> Instant {
        self.h.now()
    }

    pub(crate) fn session(&mut self) -> &mut Session {
        &mut self.h.session
    }

    /// The `http` row: the session asks for exactly the recorded URL (or
    /// `url` when the recording's differs for a reason the test states),
    /// then the upgrade succeeds (101) or is refused.
    pub(crate) fn connect(&mut self, i: u32) {
        self.at(i);
        self.h.connect();
        let row = self.row(i).clone();
        let wanted = self.h.session.wants_connect().expect("connecting").url().to_owned();
        assert_eq!(Some(wanted), row.url, "{}: row {i}", self.transcript.name);
        match row.status {
            Some(101) => self.h.open(),
            Some(status) => {
                let now = self.now();
                self.h.session.handle_error(now, crate::protocol::TransportError::refused(status));
                self.h.collect();
            }
            None => panic!("row {i} has no status"),
        }
    }

    /// Performs a client action at row `i`'s time; the session must send
    /// exactly row `i`'s frame, and nothing before it.
    pub(crate) fn act<T>(&mut self, i: u32, action: impl FnOnce(&mut Session, Instant) -> T) -> T {
        self.at(i);
        let early = self.h.take_frames();
        assert!(early.is_empty(), "{}: sent before row {i}: {early:?}", self.transcript.name);
        let now = self.now();
        let out = action(&mut self.h.session, now);
        self.expect_out(i);
        out
    }

    /// Like `act`, for a recorded client that omitted `join_ref` where the
    /// session sends its join's ref: everything else must match.
    pub(crate) fn act_without_join_ref<T>(
        &mut self,
        i: u32,
        action: impl FnOnce(&mut Session, Instant) -> T,
    ) -> T {
        self.at(i);
        let now = self.now();
        let out = action(&mut self.h.session, now);
        self.expect_out_without_join_ref(i);
        out
    }

    /// Performs a client action the session must buffer (nothing sent now).
    pub(crate) fn act_buffered<T>(
        &mut self,
        i: u32,
        action: impl FnOnce(&mut Session, Instant) -> T,
    ) -> T {
        self.at(i);
        let now = self.now();
        let out = action(&mut self.h.session, now);
        let sent = self.h.take_frames();
        assert!(
            sent.is_empty(),
            "{}: row {i} should be buffered, sent {sent:?}",
            self.transcript.name
        );
        out
    }

    /// The next frame the session sent (by a timer, or a flush) is row `i`'s.
    pub(crate) fn expect_out(&mut self, i: u32) {
        if self.h.elapsed() < Duration::from_micros((self.row(i).t_ms * 1000.0) as u64) {
            self.at(i);
        }
        let sent = self.h.take_frames();
        let want = self.row(i).frame().expect("out row has a frame");
        assert_eq!(
            sent.len(),
            1,
            "{}: row {i}: want one frame, sent {sent:?}",
            self.transcript.name
        );
        assert_eq!(sent[0], want, "{}: row {i}: not byte for byte", self.transcript.name);
    }

    /// Like `expect_out`, but the recorded client omitted `join_ref` where
    /// the session always sends its join's ref: everything else must match.
    fn expect_out_without_join_ref(&mut self, i: u32) {
        let sent = self.h.take_frames();
        let want = self.row(i).frame().expect("out row has a frame");
        assert_eq!(sent.len(), 1, "{}: row {i}: sent {sent:?}", self.transcript.name);
        let (mut got, want) = (self.decoded(sent[0].clone()), self.decoded(want));
        got.0 = None;
        assert_eq!(got, want, "{}: row {i}", self.transcript.name);
    }

    fn decoded(
        &self,
        frame: Frame,
    ) -> (Option<String>, Option<String>, String, String, serde_json::Value) {
        let m = self.server.decode_client(frame).expect("client frame decodes");
        let payload = match &m.payload {
            Payload::Json(text) => serde_json::from_str(text).expect("JSON payload"),
            other => serde_json::Value::String(format!("{other:?}")),
        };
        let r = |r: &Option<crate::protocol::Ref>| r.as_ref().map(|r| r.to_string());
        (r(&m.join_ref), r(&m.r#ref), m.topic.to_string(), m.event.to_string(), payload)
    }

    /// Row `i`'s client frame, decoded (to reuse its payload in an action).
    pub(crate) fn out_message(&self, i: u32) -> Message {
        let frame = self.row(i).frame().expect("out row has a frame");
        self.server.decode_client(frame).expect("out row decodes")
    }

    /// A channel with the topic and join payload of the `phx_join` in row `i`.
    pub(crate) fn channel_from(&mut self, i: u32) -> crate::protocol::ChannelId {
        let m = self.out_message(i);
        self.h.session.channel(m.topic, m.payload)
    }

    /// Feeds row `i`'s server frame at its time.
    pub(crate) fn feed(&mut self, i: u32) -> Result<(), DecodeError> {
        self.at(i);
        let frame = self.row(i).frame().expect("in row has a frame");
        let now = self.now();
        let out = self.h.session.handle_frame(now, frame);
        self.h.collect();
        out
    }

    /// Feeds rows that must decode.
    pub(crate) fn feed_all(&mut self, rows: &[u32]) {
        for i in rows {
            self.feed(*i).unwrap_or_else(|e| panic!("row {i}: {e}"));
        }
    }

    /// A recorded client frame the session cannot produce (the reason is the
    /// test's comment). Its ref, if it is the next one, is used up so the
    /// later refs still line up.
    pub(crate) fn skip(&mut self, i: u32) {
        self.at(i);
        let msg = self.out_message(i);
        if let Some(r) = msg.r#ref.filter(|r| !r.is_number())
            && r.to_u64().is_some()
            && self.h.session.burn_ref() != r
        {
            panic!("{}: row {i}: ref {r} is not the next ref", self.transcript.name);
        }
    }

    /// A client close row: `disconnect` with the recorded code, then the
    /// server's close reply. No reconnect follows.
    pub(crate) fn close(&mut self, i: u32) {
        self.at(i);
        let row = self.row(i).clone();
        let code = row.code.expect("close code");
        let now = self.now();
        self.h.session.disconnect(now, code, "");
        let events = self.h.take_events();
        assert!(events.contains(&Event::CloseTransport { code, reason: "".into() }), "{events:?}");
        self.h.session.handle_close(now, row.server_close_code, "");
        let events = self.h.take_events();
        assert_eq!(self.h.session.state(), crate::protocol::SocketState::Closed);
        assert!(
            !events.iter().any(|e| matches!(e, Event::ReconnectScheduled { .. })),
            "{events:?}"
        );
    }

    /// A server close row (`in`, opcode close).
    pub(crate) fn server_close(&mut self, i: u32) {
        self.at(i);
        let code = self.row(i).code;
        let now = self.now();
        self.h.session.handle_close(now, code, "");
        self.h.collect();
    }

    /// Every event so far.
    pub(crate) fn events(&mut self) -> Vec<Event> {
        self.h.collect();
        self.h.all_events.clone()
    }
}
