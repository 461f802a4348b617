//! The session's counters.

#[cfg(doc)]
use super::Session;

/// Counters of one session (monotonic).
///
/// # Examples
///
/// ```
/// use rig::protocol::{Frame, Session, SessionConfig};
/// let (clock, _m) = rig::time::Clock::mock();
/// let mut s = Session::new(SessionConfig::builder("ws://h/socket").build()?, clock.now());
/// assert!(s.handle_frame(clock.now(), Frame::text("not json")).is_err());
/// assert_eq!(s.stats().decode_errors, 1);
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionStats {
    /// Frames queued for the transport.
    pub frames_sent: u64,
    /// Frames handed to [`Session::handle_frame`].
    pub frames_received: u64,
    /// Frames that did not decode (dropped).
    pub decode_errors: u64,
    /// Messages dropped because their join_ref is not the channel's current one.
    pub stale_dropped: u64,
    /// Messages for a topic no channel has (dropped).
    pub unroutable: u64,
    /// Replies whose ref matches no waiting push (late, duplicate or foreign).
    pub unmatched_replies: u64,
    /// Transports that opened.
    pub connections: u64,
    /// Heartbeats that went unanswered.
    pub heartbeat_timeouts: u64,
}
