//! The small public values a connection reports: its [`State`], the
//! [`Progress`] of one readiness call, and the [`Data`] frames it reads.

use std::fmt;

use tungstenite::{Bytes, Utf8Bytes};

use super::HandshakeResponse;

/// Where a [`Connection`](super::Connection) is in its life.
///
/// # Examples
///
/// ```
/// use rig::transport::State;
///
/// assert_eq!(State::TlsHandshaking.to_string(), "handshaking tls");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// The TCP connect is in flight.
    Connecting,
    /// TCP is up; the TLS handshake runs (`wss://` only).
    TlsHandshaking,
    /// The HTTP upgrade request is being written or its response read.
    WsHandshaking,
    /// Frames flow both ways.
    Open,
    /// A close frame was sent or received; waiting for the close handshake
    /// to finish. Frames the peer sent before its close are still read.
    Closing,
    /// Finished, by a close handshake or an error.
    Closed,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connecting => "connecting",
            Self::TlsHandshaking => "handshaking tls",
            Self::WsHandshaking => "handshaking websocket",
            Self::Open => "open",
            Self::Closing => "closing",
            Self::Closed => "closed",
        })
    }
}

/// What one [`Connection::handle_ready`](super::Connection::handle_ready)
/// call achieved, beside the frames it appended to `out`.
///
/// # Examples
///
/// ```
/// use rig::transport::Progress;
///
/// assert!(!Progress::Continue.is_opened());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Progress {
    /// Nothing to report: still connecting, or open and working.
    Continue,
    /// The WebSocket handshake just completed: the connection is open.
    /// Frames that arrived with the handshake are already in `out`.
    Opened(Box<HandshakeResponse>),
    /// The close handshake this side started has finished; the connection is
    /// [`State::Closed`]. (A close started by the peer ends with
    /// [`Error::PeerClosed`](super::Error::PeerClosed) instead.)
    Closed,
}

impl Progress {
    /// Whether this call opened the connection.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rig::transport::Progress::Closed.is_opened());
    /// ```
    #[must_use]
    pub fn is_opened(&self) -> bool {
        matches!(self, Self::Opened(_))
    }
}

/// One WebSocket message's payload, shared with tungstenite's buffers (no
/// copy). Control frames (ping, pong, close) are handled by the connection.
///
/// # Examples
///
/// ```
/// use rig::transport::Data;
///
/// let text = Data::from("hello");
/// assert_eq!(text.as_bytes(), b"hello");
/// assert!(text.is_text());
/// assert_eq!(Data::from(vec![1u8, 2, 3]).len(), 3);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    /// A text message (valid UTF-8).
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Data {
    /// The payload bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::transport::Data::from("x").as_bytes(), b"x");
    /// ```
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }

    /// The payload length in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::transport::Data::from("abc").len(), 3);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::transport::Data::from("").is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is a text message.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rig::transport::Data::from(vec![0u8]).is_text());
    /// ```
    #[must_use]
    pub fn is_text(&self) -> bool {
        matches!(self, Self::Text(_))
    }
}

impl From<&str> for Data {
    fn from(text: &str) -> Self {
        Self::Text(Utf8Bytes::from(text))
    }
}

impl From<String> for Data {
    fn from(text: String) -> Self {
        Self::Text(Utf8Bytes::from(text))
    }
}

impl From<Utf8Bytes> for Data {
    fn from(text: Utf8Bytes) -> Self {
        Self::Text(text)
    }
}

impl From<Bytes> for Data {
    fn from(bytes: Bytes) -> Self {
        Self::Binary(bytes)
    }
}

impl From<Vec<u8>> for Data {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(Bytes::from(bytes))
    }
}

impl From<Data> for tungstenite::Message {
    fn from(data: Data) -> Self {
        match data {
            Data::Text(text) => Self::Text(text),
            Data::Binary(bytes) => Self::Binary(bytes),
        }
    }
}
