//! The session: one Phoenix socket (one WebSocket) and its channels, as a
//! sans-IO state machine.
//!
//! A [`Session`] does no I/O, reads no clock and starts no thread. Every input
//! takes `now`; every output is polled. A driver (rig's I/O thread, a test
//! harness, a fuzzer) moves bytes and time in and out:
//!
//! ```text
//!  inputs                                   outputs
//!  connect / disconnect / channel /         poll_transmit() -> Frame   write to the WebSocket
//!  join / leave / push / remove / ping ──▶  poll_event()    -> Event   state changes, messages,
//!  handle_open / handle_close /             Session                    replies, CloseTransport
//!  handle_error / handle_frame        ──▶   poll_timeout()  -> Instant call handle_timeout then
//!  handle_timeout(now)                      wants_connect() -> URL     open a transport to it
//! ```
//!
//! Behaviour follows phoenix.js 1.8 (`socket.js`, `channel.js`, `push.js`)
//! except where real Phoenix, as recorded in the fixtures, says otherwise;
//! the differences are listed at the end.
//!
//! # Driving a session
//!
//! After every input, a driver:
//! 1. writes out every [`Session::poll_transmit`] frame (in order);
//! 2. handles every [`Session::poll_event`]: on [`Event::CloseTransport`] it
//!    closes the transport (after the frames of step 1) and later reports
//!    [`Session::handle_close`];
//! 3. opens a transport when [`Session::wants_connect`] asks for one it is
//!    not already opening ([`ConnectRequest::generation`] tells requests
//!    apart), then reports [`Session::handle_open`], or
//!    [`Session::handle_error`] if it fails;
//! 4. sleeps until [`Session::poll_timeout`] or the next I/O, and calls
//!    [`Session::handle_timeout`] when the deadline has passed.
//!
//! There is one transport at a time: between `CloseTransport` and
//! `handle_close` no new connect is asked for.
//!
//! # Socket states
//!
//! ```text
//!               connect()                       handle_open()
//!   ┌────────┐ ──────────▶ ┌────────────┐ ──────────────────────▶ ┌──────┐
//!   │ Closed │             │ Connecting │                         │ Open │
//!   └────────┘ ◀────────── └────────────┘ ◀─── reconnect timer    └──────┘
//!    ▲     ▲   handle_close / handle_error     (from Closed)          │  │
//!    │     │                                                          │  │
//!    │     └──────────── handle_close / handle_error ─────────────────┘  │
//!    │                                                                   │
//!    │  handle_close()   ┌─────────┐   disconnect() / heartbeat timeout  │
//!    └────────────────── │ Closing │ ◀───────────────────────────────────┘
//!                        └─────────┘   (Event::CloseTransport; disconnect()
//!                                       from Connecting too)
//! ```
//!
//! On entering `Closed` a reconnect is scheduled with backoff unless the
//! close was asked for (`disconnect`), had code 1000, or was a refused
//! upgrade; after a heartbeat timeout it always is. A `connect()` during
//! `Closing` connects as soon as the close completes.
//!
//! While `Open`, a heartbeat (`[null,ref,"phoenix","heartbeat",{}]`) goes out
//! one interval after the open or after the last heartbeat reply; if it is not
//! answered within the heartbeat timeout, joined channels error with
//! `heartbeat_timeout` and the transport is closed with 1000
//! `"heartbeat timeout"`, then a reconnect is scheduled.
//!
//! # Channel states
//!
//! ```text
//!              join()                      ok reply
//!   ┌────────┐ ───────▶ ┌─────────┐ ─────────────────────▶ ┌────────┐
//!   │ Closed │          │ Joining │                        │ Joined │
//!   └────────┘          └─────────┘ ◀──┐                   └────────┘
//!                         │    ▲       │ rejoin (timer, or      │
//!   error reply, timeout, │    │       │ the socket opened)     │ phx_error,
//!   phx_error, transport  ▼    │       │                        │ transport down
//!                       ┌─────────┐ ───┘                        │
//!                       │ Errored │ ◀───────────────────────────┘
//!                       └─────────┘
//!   leave(): Joining / Joined / Errored ──▶ Leaving ──(reply or timeout)──▶ Closed
//!   phx_close: any state ──▶ Closed.   Closed channels leave the session.
//! ```
//!
//! # Pushes
//!
//! Every [`PushId`] resolves exactly once: [`Event::Reply`],
//! [`Event::PushTimeout`] or [`Event::PushAbandoned`] (its channel closed or
//! was removed, or it was sent and its channel then errored:
//! [`AbandonReason::ChannelError`]). A push made before the join completes is buffered with its
//! timeout running and sent when the join succeeds; its timeout restarts
//! when it is sent, as in phoenix.js. A join resolves with the outcome of its
//! first attempt that has one; later automatic rejoins show up as
//! [`Event::ChannelState`] and [`Event::ChannelError`].
//!
//! # Bounds
//!
//! - The send buffer (frames made while the socket is not open) holds join
//!   attempts only, at most one per channel: a new attempt replaces the
//!   old one, and pushes wait in their channel until the join succeeds.
//! - A channel's push buffer and the pushes in flight have no count limit,
//!   but every push has a running timeout, so they hold at most what was
//!   pushed within one timeout. Callers that need a hard bound (the engine)
//!   bound their command queue.
//! - Unanswered [`Session::ping`]s are capped; the oldest is forgotten.
//! - Events and frames queue until the driver polls them; a driver drains
//!   both after every input, so they hold what one input produced.
//!
//! # Differences from phoenix.js
//!
//! - Replies are matched by ref and topic, whatever their join_ref: Phoenix
//!   stamps replies with the channel's *current* join_ref, or null for an
//!   unmatched topic (fixtures `join_variants`, `echo_reply_push`). Other
//!   messages with a stale join_ref are dropped and counted, as `isMember` does.
//! - Joining a topic another channel holds makes that channel `Leaving`
//!   without sending `phx_leave`: Phoenix closes the old join itself and sends
//!   `phx_close` for it (fixture `duplicate_join`), which closes it here.
//! - A push gets its ref when its frame is sent, so buffered pushes do not
//!   burn a ref first. Frames of a join attempt that failed before the
//!   socket opened are dropped from the send buffer instead of being sent.
//! - `leave()` while the socket is down closes the channel at once without
//!   queueing a `phx_leave` for a later connection.
//! - A second `connect()` during a teardown waits for
//!   [`Session::handle_close`] and then connects; there is one transport at
//!   a time.
//! - Pushes of a channel that closes are abandoned at once instead of timing
//!   out, and messages are not delivered to a channel that is leaving.
//! - Pushes already sent when their channel errors (`phx_error`, or the
//!   connection went down) are abandoned at once with
//!   [`AbandonReason::ChannelError`] and the cause; phoenix.js keeps their
//!   reply bindings until they time out, though the channel process that
//!   would reply is gone. Pushes not yet sent stay buffered for the rejoin
//!   in both.
//! - The reconnect backoff starts over when a connection proves healthy (a
//!   heartbeat or join reply, or [`SessionConfig::healthy_after`] open),
//!   not as soon as it opens (gRPC's connection backoff does the same): a
//!   server that completes the upgrade and then breaks every connection is
//!   retried with growing delays, and those cycles count toward
//!   `max_reconnect_attempts`.

mod commands;
mod error;
mod event;
mod ids;
mod inbound;
mod ops;
mod queries;
mod send;
mod stats;
#[cfg(test)]
mod test_access;
mod timers;
mod transport;

use std::collections::{BTreeMap, VecDeque};

use foldhash::HashMap;

use bytestring::ByteString;

pub use error::{ConfigError, SessionError};
pub use event::{
    AbandonReason, CloseReason, ErrorCause, Event, RttKind, TransportError, TransportReason,
};
pub use ids::{ChannelId, PushId};
pub use stats::SessionStats;

use super::backoff::Retry;
use super::channel::Channel;
use super::config::SessionConfig;
use super::message::{Frame, Message};
use super::push::Pushes;
use super::socket::{AfterClose, ConnectRequest, Heartbeat, RefCounter, SocketState};
use crate::time::Instant;
use crate::timer::{TimerKey, TimerWheel};
use timers::Timer;

/// One Phoenix socket and its channels, without I/O.
///
/// # Examples
///
/// A whole life: connect, join, push, reply, all on a mock clock.
///
/// ```
/// use rig::protocol::{ChannelState, Event, Frame, Payload, Session, SessionConfig};
///
/// let (clock, _mock) = rig::time::Clock::mock();
/// let config = SessionConfig::builder("ws://127.0.0.1:4000/socket").params([("token", "secret")]).build()?;
/// let mut session = Session::new(config, clock.now());
///
/// session.connect(clock.now());
/// let url = session.wants_connect().expect("a transport is wanted").url().to_owned();
/// assert_eq!(url, "ws://127.0.0.1:4000/socket/websocket?token=secret&vsn=2.0.0");
/// session.handle_open(clock.now()); // the driver opened the WebSocket
///
/// let room = session.channel("room:lobby", Payload::json(r#"{"hello":"world"}"#));
/// session.join(clock.now(), room, None)?;
/// assert_eq!(session.poll_transmit(), Some(Frame::text(r#"["1","1","room:lobby","phx_join",{"hello":"world"}]"#)));
///
/// let reply = r#"["1","1","room:lobby","phx_reply",{"response":{},"status":"ok"}]"#;
/// session.handle_frame(clock.now(), Frame::text(reply))?;
/// assert_eq!(session.channel_info(room).map(|i| i.state()), Some(ChannelState::Joined));
///
/// let push = session.push(clock.now(), room, "shout", Payload::json(r#"{"a":1}"#), None)?;
/// assert_eq!(session.poll_transmit(), Some(Frame::text(r#"["1","2","room:lobby","shout",{"a":1}]"#)));
/// session.handle_frame(clock.now(), Frame::text(r#"["1","2","room:lobby","phx_reply",{"response":{},"status":"ok"}]"#))?;
/// let replied = std::iter::from_fn(|| session.poll_event())
///     .any(|e| matches!(e, Event::Reply { push: p, .. } if p == push));
/// assert!(replied);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Session {
    config: SessionConfig,
    state: SocketState,
    /// phoenix.js `closeWasClean`: set by `disconnect`, cleared by `connect`.
    clean_close: bool,
    after_close: AfterClose,
    connect_request: Option<ConnectRequest>,
    generation: u64,
    established: u64,
    refs: RefCounter,
    reconnect: Retry,
    reconnect_timer: Option<TimerKey>,
    /// When the open connection opened, until it proves healthy.
    unproven_since: Option<Instant>,
    heartbeat: Heartbeat,
    /// Messages made while the socket was not open (phoenix.js `sendBuffer`),
    /// with the push they belong to.
    send_buffer: VecDeque<(Message, Option<PushId>)>,
    /// Boxed: a B-tree leaf holds 11 entries, so an inline `Channel` cost
    /// 3 KiB for a session of one channel.
    channels: BTreeMap<ChannelId, Box<Channel>>,
    topics: HashMap<ByteString, Vec<ChannelId>>,
    next_channel: u64,
    pushes: Pushes,
    timers: TimerWheel<Timer>,
    transmits: VecDeque<Frame>,
    events: VecDeque<Event>,
    /// Events emitted since `events` last ran dry (see [`Self::poll_event`]).
    emitted: u32,
    stats: SessionStats,
}

/// At most this many events between two drains make a quiet round, after
/// which the event buffer is freed.
const QUIET_ROUND: u32 = 16;

impl Session {
    /// A closed session; nothing happens until [`connect`](Self::connect).
    ///
    /// `now` is the origin of the session's timer wheel.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Session, SessionConfig, SocketState};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// assert_eq!(s.state(), SocketState::Closed);
    /// assert_eq!(s.poll_timeout(), None);
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn new(config: SessionConfig, now: Instant) -> Self {
        let reconnect = Retry::new(config.seed);
        Self {
            config,
            state: SocketState::Closed,
            clean_close: true,
            after_close: AfterClose::Stay,
            connect_request: None,
            generation: 0,
            established: 0,
            refs: RefCounter::default(),
            reconnect,
            reconnect_timer: None,
            unproven_since: None,
            heartbeat: Heartbeat::default(),
            send_buffer: VecDeque::new(),
            channels: BTreeMap::new(),
            topics: HashMap::default(),
            next_channel: 0,
            pushes: Pushes::default(),
            timers: TimerWheel::new(now),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            emitted: 0,
            stats: SessionStats::default(),
        }
    }

    /// The next frame to write to the transport. Call after every input,
    /// until `None`. Frames are only handed out while a transport exists
    /// ([`SocketState::Open`] or [`SocketState::Closing`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Frame, Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// s.connect(clock.now());
    /// s.handle_open(clock.now());
    /// assert!(s.ping(clock.now()));
    /// assert_eq!(s.poll_transmit(), Some(Frame::text(r#"[null,"1","phoenix","heartbeat",{}]"#)));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn poll_transmit(&mut self) -> Option<Frame> {
        match self.state {
            SocketState::Open | SocketState::Closing => self.transmits.pop_front(),
            SocketState::Closed | SocketState::Connecting => None,
        }
    }

    /// The next event. Call after every input, until `None`.
    ///
    /// # Examples
    ///
    /// See [`Event`].
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if event.is_none() && self.emitted > 0 {
            // Drained after a quiet round (a heartbeat, a few messages): an
            // idle session keeps no buffer. After a busy one it keeps the
            // buffer for the next: a burst read of a thousand frames regrew
            // it from nothing every round (eight reallocations, moving every
            // event queued so far each time).
            if self.emitted <= QUIET_ROUND {
                self.events = VecDeque::new();
            }
            self.emitted = 0;
        }
        event
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, if
    /// any timer is armed. Ask again after every input.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::protocol::{Session, SessionConfig};
    /// let (clock, _m) = rig::time::Clock::mock();
    /// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
    /// s.connect(clock.now());
    /// s.handle_open(clock.now());
    /// assert_eq!(s.poll_timeout(), Some(clock.now() + Duration::from_secs(30)));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next_deadline()
    }

    /// The transport the driver must open, while the session is
    /// [`Connecting`](SocketState::Connecting) and the driver has not yet
    /// reported the outcome with [`handle_open`](Self::handle_open),
    /// [`handle_close`](Self::handle_close) or [`handle_error`](Self::handle_error).
    ///
    /// # Examples
    ///
    /// See [`ConnectRequest`].
    #[must_use]
    pub fn wants_connect(&self) -> Option<&ConnectRequest> {
        self.connect_request.as_ref()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("endpoint", &self.config.endpoint)
            .field("state", &self.state)
            .field("channels", &self.channels.len())
            .field("pushes", &self.pushes.len())
            .field("timers", &self.timers.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}
