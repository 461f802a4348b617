//! Why the server closes a WebSocket, and the close code each reason sends.
//!
//! Two reasons share 1002 (an idle timeout, as Bandit sends it, and a
//! protocol violation), so the event loop passes reasons, not codes: the
//! counters tell them apart.

/// Why the server sends a close frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// A frame the serializer cannot decode, or a payload Phoenix could not
    /// have decoded: Phoenix's socket process crashes (1011).
    Malformed,
    /// Nothing received for the idle timeout (1002, as Bandit).
    Idle,
    /// A message over the frame size limit (1009).
    TooBig,
    /// A text frame that is not UTF-8 (1007).
    BadUtf8,
    /// Any other WebSocket protocol violation (1002).
    Protocol,
    /// The server is shutting down (1001).
    Shutdown,
}

impl CloseReason {
    /// The close code sent for this reason.
    pub(crate) fn code(self) -> u16 {
        match self {
            Self::Malformed => 1011,
            Self::Idle | Self::Protocol => 1002,
            Self::TooBig => 1009,
            Self::BadUtf8 => 1007,
            Self::Shutdown => 1001,
        }
    }
}
