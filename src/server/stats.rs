//! Counters the server thread updates and any thread reads, lock-free.
//!
//! One [`Counters`] per server, shared by `Arc` between the server thread
//! (the only writer) and the [`ServerHandle`](super::ServerHandle) (readers).
//! With a single writer a counter bump is a relaxed load and store: no locked
//! read-modify-write, no contention, no allocation on the hot path.

use std::sync::atomic::{AtomicU64, Ordering};

use super::close::CloseReason;
use super::http::Rejection;

/// A snapshot of the server's counters, from [`ServerHandle::stats`].
///
/// Totals count since the start; the fields documented as "now" are gauges.
/// Each field is read on its own, so a snapshot taken while traffic flows may
/// be off by the events of one loop turn between fields; after
/// [`ServerHandle::shutdown_with_stats`] every field is final.
///
/// Frames are WebSocket data messages (text or binary), control frames
/// (ping, pong, close) excluded; bytes are their payload bytes (no WebSocket
/// framing, HTTP or TLS overhead).
///
/// [`ServerHandle::stats`]: super::ServerHandle::stats
/// [`ServerHandle::shutdown_with_stats`]: super::ServerHandle::shutdown_with_stats
///
/// # Examples
///
/// ```
/// use rig::server::{Server, ServerConfig};
///
/// let server = Server::start(ServerConfig::builder().build())?;
/// let stats = server.stats();
/// assert_eq!(stats.connections_accepted, 0);
/// assert_eq!(stats.refused() + stats.closed_by_server(), 0);
/// # Ok::<(), rig::server::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerStats {
    /// TCP connections accepted (and registered) since the start.
    pub connections_accepted: u64,
    /// Connections open now, in any phase (HTTP request, WebSocket, closing).
    pub connections_open: u64,
    /// WebSocket upgrades accepted (`101 Switching Protocols` sent).
    pub upgrades: u64,
    /// Upgrades refused with 400: a malformed or oversized request head, a
    /// method other than GET, or a request that is not a WebSocket upgrade.
    pub refused_bad_request: u64,
    /// Upgrades refused with 403: a wrong or missing token, or a `vsn` no
    /// serializer answers to.
    pub refused_forbidden: u64,
    /// Upgrades refused with 404: any path but `/socket/websocket`.
    pub refused_not_found: u64,
    /// Connections dropped because their HTTP request head did not arrive
    /// in time (10 s, or the idle timeout when shorter).
    pub handshake_timeouts: u64,
    /// WebSockets closed with 1011: a frame no serializer could decode, or a
    /// payload Phoenix could not have decoded.
    pub closed_malformed: u64,
    /// WebSockets closed with 1002 because the client sent nothing for the
    /// idle timeout.
    pub closed_idle: u64,
    /// WebSockets closed with 1009: a message over the frame size limit.
    pub closed_too_big: u64,
    /// WebSockets closed with 1007: a text frame that is not UTF-8.
    pub closed_bad_utf8: u64,
    /// WebSockets closed with 1002 for a WebSocket protocol violation (an
    /// unmasked frame, a reserved opcode or bit, a bad close code, ...).
    pub closed_protocol: u64,
    /// WebSockets closed with 1001 because the server shut down.
    pub closed_shutdown: u64,
    /// Connections dropped because they did not read what was sent to them
    /// (over the `max_outgoing` bytes waiting).
    pub dropped_slow: u64,
    /// WebSockets the client closed with a close frame.
    pub client_closes: u64,
    /// Connections that ended without a close handshake or an HTTP answer:
    /// end of stream or a reset mid-request or mid-WebSocket, a TLS failure,
    /// a write error.
    pub connections_lost: u64,
    /// WebSocket data messages received.
    pub frames_in: u64,
    /// Payload bytes of the messages in `frames_in`.
    pub bytes_in: u64,
    /// WebSocket data messages handed to the socket for sending.
    pub frames_out: u64,
    /// Payload bytes of the messages in `frames_out`.
    pub bytes_out: u64,
    /// Channels joined now, on all connections.
    pub channels_joined: u64,
    /// Joins answered `ok`.
    pub joins_ok: u64,
    /// Joins answered `error`: refused by the channel (e.g.
    /// `room:forbidden`, bad stream parameters) or for a topic no channel
    /// serves (`unmatched topic`).
    pub joins_refused: u64,
    /// Channels that crashed (`phx_error`): `boom`, or an event the channel
    /// has no handler for.
    pub channel_crashes: u64,
    /// Broadcasts sent (`shout`, `binary_shout`, presence diffs).
    pub broadcasts: u64,
    /// Messages the broadcasts fanned out: one per subscriber reached.
    pub broadcast_messages: u64,
    /// Heartbeats answered.
    pub heartbeats: u64,
    /// `stream:*` `event` messages handed to connections (`done` excluded):
    /// what a stream subscriber could have received, had no connection died.
    pub stream_events: u64,
}

impl ServerStats {
    /// Upgrades refused, all statuses together (400, 403 and 404).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut stats = rig::server::ServerStats::default();
    /// stats.refused_forbidden = 2;
    /// stats.refused_not_found = 1;
    /// assert_eq!(stats.refused(), 3);
    /// ```
    #[must_use]
    pub fn refused(&self) -> u64 {
        self.refused_bad_request + self.refused_forbidden + self.refused_not_found
    }

    /// Connections the server ended for cause: every `closed_*` reason but
    /// shutdown, slow readers and handshake timeouts.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut stats = rig::server::ServerStats::default();
    /// stats.closed_idle = 2;
    /// stats.closed_shutdown = 5; // not for cause
    /// stats.dropped_slow = 1;
    /// assert_eq!(stats.closed_by_server(), 3);
    /// ```
    #[must_use]
    pub fn closed_by_server(&self) -> u64 {
        self.closed_malformed
            + self.closed_idle
            + self.closed_too_big
            + self.closed_bad_utf8
            + self.closed_protocol
            + self.dropped_slow
            + self.handshake_timeouts
    }
}

/// The live counters behind [`ServerStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) connections_accepted: AtomicU64,
    pub(crate) connections_open: AtomicU64,
    pub(crate) upgrades: AtomicU64,
    pub(crate) refused_bad_request: AtomicU64,
    pub(crate) refused_forbidden: AtomicU64,
    pub(crate) refused_not_found: AtomicU64,
    pub(crate) handshake_timeouts: AtomicU64,
    pub(crate) closed_malformed: AtomicU64,
    pub(crate) closed_idle: AtomicU64,
    pub(crate) closed_too_big: AtomicU64,
    pub(crate) closed_bad_utf8: AtomicU64,
    pub(crate) closed_protocol: AtomicU64,
    pub(crate) closed_shutdown: AtomicU64,
    pub(crate) dropped_slow: AtomicU64,
    pub(crate) client_closes: AtomicU64,
    pub(crate) connections_lost: AtomicU64,
    pub(crate) frames_in: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) frames_out: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) channels_joined: AtomicU64,
    pub(crate) joins_ok: AtomicU64,
    pub(crate) joins_refused: AtomicU64,
    pub(crate) channel_crashes: AtomicU64,
    pub(crate) broadcasts: AtomicU64,
    pub(crate) broadcast_messages: AtomicU64,
    pub(crate) heartbeats: AtomicU64,
    pub(crate) stream_events: AtomicU64,
}

/// Adds `n` to a counter. Only the server thread writes, so a relaxed load
/// and store cannot lose an update and costs no locked instruction.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

/// Adds one to a counter (see [`add`]).
pub(crate) fn bump(counter: &AtomicU64) {
    add(counter, 1);
}

/// Takes one from a gauge, never below zero (see [`add`]).
pub(crate) fn drop_one(gauge: &AtomicU64) {
    gauge.store(gauge.load(Ordering::Relaxed).saturating_sub(1), Ordering::Relaxed);
}

/// `usize` to `u64` for byte counts (lossless on every supported target).
pub(crate) fn len64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

impl Counters {
    /// Counts an upgrade refusal by its status.
    pub(crate) fn refused(&self, rejection: Rejection) {
        bump(match rejection {
            Rejection::BadRequest => &self.refused_bad_request,
            Rejection::Forbidden => &self.refused_forbidden,
            Rejection::NotFound => &self.refused_not_found,
        });
    }

    /// Counts a close frame the server sent, by its reason.
    pub(crate) fn closed(&self, reason: CloseReason) {
        bump(match reason {
            CloseReason::Malformed => &self.closed_malformed,
            CloseReason::Idle => &self.closed_idle,
            CloseReason::TooBig => &self.closed_too_big,
            CloseReason::BadUtf8 => &self.closed_bad_utf8,
            CloseReason::Protocol => &self.closed_protocol,
            CloseReason::Shutdown => &self.closed_shutdown,
        });
    }

    /// Counts one data message received.
    pub(crate) fn frame_in(&self, len: usize) {
        bump(&self.frames_in);
        add(&self.bytes_in, len64(len));
    }

    /// Counts one data message handed to the socket.
    pub(crate) fn frame_out(&self, len: usize) {
        bump(&self.frames_out);
        add(&self.bytes_out, len64(len));
    }

    /// The current values.
    pub(crate) fn snapshot(&self) -> ServerStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ServerStats {
            connections_accepted: get(&self.connections_accepted),
            connections_open: get(&self.connections_open),
            upgrades: get(&self.upgrades),
            refused_bad_request: get(&self.refused_bad_request),
            refused_forbidden: get(&self.refused_forbidden),
            refused_not_found: get(&self.refused_not_found),
            handshake_timeouts: get(&self.handshake_timeouts),
            closed_malformed: get(&self.closed_malformed),
            closed_idle: get(&self.closed_idle),
            closed_too_big: get(&self.closed_too_big),
            closed_bad_utf8: get(&self.closed_bad_utf8),
            closed_protocol: get(&self.closed_protocol),
            closed_shutdown: get(&self.closed_shutdown),
            dropped_slow: get(&self.dropped_slow),
            client_closes: get(&self.client_closes),
            connections_lost: get(&self.connections_lost),
            frames_in: get(&self.frames_in),
            bytes_in: get(&self.bytes_in),
            frames_out: get(&self.frames_out),
            bytes_out: get(&self.bytes_out),
            channels_joined: get(&self.channels_joined),
            joins_ok: get(&self.joins_ok),
            joins_refused: get(&self.joins_refused),
            channel_crashes: get(&self.channel_crashes),
            broadcasts: get(&self.broadcasts),
            broadcast_messages: get(&self.broadcast_messages),
            heartbeats: get(&self.heartbeats),
            stream_events: get(&self.stream_events),
        }
    }
}
