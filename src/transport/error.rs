//! The transport's errors: one [`Error`] for connecting and running a
//! connection, and [`SendError`] for a frame that could not be queued.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::Data;
use super::State;
use super::url::UrlError;

/// Anything that can go wrong while resolving, connecting, handshaking or
/// running a WebSocket connection.
///
/// Every error returned by a [`Connection`](super::Connection) is fatal for
/// that connection: it is [`State::Closed`] afterwards and the driver should
/// drop it (and may reconnect, see [`Error::is_retryable`]).
///
/// # Examples
///
/// ```
/// use rig::transport::{Error, WsUrl};
///
/// let err = "http://example.com/socket".parse::<WsUrl>().unwrap_err();
/// assert!(matches!(err, Error::Url(_)));
/// assert_eq!(err.to_string(), "bad url: scheme must be ws or wss, got \"http\"");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a valid `ws://` or `wss://` URL. Fix the URL; retrying
    /// cannot help.
    #[error("bad url: {0}")]
    Url(UrlError),
    /// The upgrade request could not be built: an invalid header name or
    /// value, a header the connection sets itself, or an invalid subprotocol.
    /// Fix the request; retrying cannot help.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The TLS configuration could not be built: an unreadable or invalid CA
    /// file, no trust roots at all, or no usable protocol version.
    #[error("tls config: {0}")]
    TlsConfig(String),
    /// `wss://` was asked for but no TLS connector was given.
    #[error("wss url but no tls connector given")]
    TlsRequired,
    /// The host name could not be resolved, or resolved to no address.
    /// Usually transient (network down) or a typo in the host.
    #[error("dns: cannot resolve {host:?}: {}", io_words(.error))]
    Dns {
        /// The host that was looked up.
        host: String,
        /// The resolver's error.
        error: io::Error,
    },
    /// The peer refused the TCP connection (nothing listens on that port).
    /// Retry later with backoff.
    #[error("connect: {0} refused the connection")]
    ConnectRefused(SocketAddr),
    /// The TCP connection could not be made for another reason (unreachable
    /// network or host, ...).
    #[error("connect: {addr}: {}", io_words(.error))]
    Connect {
        /// The address we tried.
        addr: SocketAddr,
        /// The socket error.
        error: io::Error,
    },
    /// A deadline passed. The transport never reads a clock: the driver
    /// applies its deadlines (connect, close) and reports them with this
    /// variant, naming the state that took too long.
    #[error("timed out while {0}")]
    Timeout(State),
    /// The server's certificate was rejected. Retrying will not help unless
    /// the server or the trust roots change.
    #[error("tls: invalid peer certificate: {0}")]
    Certificate(CertificateError),
    /// Any other TLS failure: an alert from the peer, a protocol violation,
    /// no common cipher suite. It holds the TLS backend's error (a
    /// [`rustls::Error`] with the rustls backend; downcast to inspect it).
    #[error("tls: {}", super::classify::tls_words(.0.as_ref()))]
    Tls(Box<dyn std::error::Error + Send + Sync>),
    /// The server answered the WebSocket upgrade with another status than
    /// 101. A 403 means the server refused the credentials (do not retry
    /// blindly); a 429 or 503 usually carries `Retry-After`.
    #[error("upgrade refused: http status {status}{}", fmt_retry_after(*.retry_after))]
    UpgradeRefused {
        /// The HTTP status code.
        status: u16,
        /// The `Retry-After` header when it holds a number of seconds (the
        /// HTTP-date form is not parsed: it needs a wall clock).
        retry_after: Option<Duration>,
    },
    /// The peer broke the WebSocket protocol: a malformed handshake response
    /// (or bytes that are not HTTP at all), a bad accept key, a subprotocol we
    /// did not offer, a malformed or masked frame, invalid UTF-8 in a text
    /// frame, or a frame or message over the configured size limits.
    #[error("websocket: {0}")]
    WebSocket(Box<tungstenite::Error>),
    /// The peer closed the connection. `code` and `reason` come from its close
    /// frame; `code` is `None` when the TCP or TLS connection ended without
    /// one (in any state, including the handshakes).
    #[error("peer closed the connection while {during}{}", fmt_close(*.code, .reason))]
    PeerClosed {
        /// The state the connection was in when the peer closed it.
        during: State,
        /// The close code from the peer's close frame.
        code: Option<u16>,
        /// The reason from the peer's close frame (empty without one).
        reason: String,
    },
    /// The connection is closed; nothing more can be done with it.
    #[error("connection is closed")]
    Closed,
    /// Any other I/O error on the socket (reset, broken pipe, ...).
    #[error("io: {}", io_words(.0))]
    Io(io::Error),
}

// The messages above repeat their cause, so no variant chains it through
// `source()` as well (a report printing the chain would say it twice).

impl From<UrlError> for Error {
    fn from(e: UrlError) -> Self {
        Self::Url(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl Error {
    /// Whether reconnecting later may succeed. False for errors that need a
    /// human: a bad URL, a rejected certificate, a refused upgrade other than
    /// 408/429/5xx (a 403 means bad credentials; 408 and 429 say "try again").
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::transport::Error;
    ///
    /// let forbidden = Error::UpgradeRefused { status: 403, retry_after: None };
    /// let busy = Error::UpgradeRefused { status: 429, retry_after: None };
    /// let slow = Error::UpgradeRefused { status: 408, retry_after: None };
    /// assert!(!forbidden.is_retryable());
    /// assert!(busy.is_retryable());
    /// assert!(slow.is_retryable());
    /// ```
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Url(_)
            | Self::BadRequest(_)
            | Self::TlsConfig(_)
            | Self::TlsRequired
            | Self::Certificate(_)
            | Self::Closed => false,
            Self::UpgradeRefused { status, .. } => matches!(status, 408 | 429 | 500..),
            _ => true,
        }
    }
}

/// A socket error in words: the common kinds said plainly, the others in
/// the system's words without the OS error number.
fn io_words(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionReset => "the peer reset the connection".to_owned(),
        io::ErrorKind::ConnectionAborted => "the connection was aborted".to_owned(),
        io::ErrorKind::BrokenPipe => "the peer closed the connection".to_owned(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "no answer in time".to_owned(),
        _ => {
            let text = error.to_string();
            match text.split_once(" (os error ") {
                Some((words, _)) => words.to_owned(),
                None => text,
            }
        }
    }
}

fn fmt_retry_after(retry_after: Option<Duration>) -> String {
    retry_after.map(|d| format!(", retry after {}s", d.as_secs())).unwrap_or_default()
}

fn fmt_close(code: Option<u16>, reason: &str) -> String {
    match code {
        Some(code) if reason.is_empty() => format!(" (code {code})"),
        Some(code) => format!(" (code {code}: {reason})"),
        None => " (no close frame)".to_owned(),
    }
}

/// Why the server's certificate was rejected.
///
/// # Examples
///
/// ```
/// use rig::transport::CertificateError;
///
/// assert_eq!(CertificateError::UnknownIssuer.to_string(), "unknown issuer");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The chain does not lead to a trusted root: a self-signed or private-CA
    /// certificate. Add the CA with [`TlsConfig::ca_file`](super::TlsConfig::ca_file).
    #[error("unknown issuer")]
    UnknownIssuer,
    /// The certificate is valid, but not for the host in the URL.
    #[error("not valid for the server name")]
    NotValidForName,
    /// The certificate's validity period has ended.
    #[error("expired")]
    Expired,
    /// The certificate's validity period has not started (or the local clock
    /// is wrong).
    #[error("not valid yet")]
    NotYetValid,
    /// The certificate was revoked.
    #[error("revoked")]
    Revoked,
    /// A CA certificate (`CA:TRUE`) stands as the server's own certificate:
    /// usually a self-signed one made by `openssl req -x509`. Give that very
    /// certificate to [`TlsConfig::ca_file`](super::TlsConfig::ca_file) to
    /// trust it, or have the server use a certificate without `CA:TRUE`.
    #[error("a CA certificate (CA:TRUE) used as the server's own")]
    CaUsedAsEndEntity,
    /// Another reason, in the TLS backend's words.
    #[error("{0}")]
    Other(String),
}

/// Why rustls refused a certificate, as a [`CertificateError`] (the
/// reasons without their own variant become [`CertificateError::Other`],
/// in words).
///
/// # Examples
///
/// ```
/// use rig::transport::CertificateError;
///
/// let ours = CertificateError::from(rustls::CertificateError::UnknownIssuer);
/// assert_eq!(ours, CertificateError::UnknownIssuer);
/// let other = CertificateError::from(rustls::CertificateError::BadEncoding);
/// assert_eq!(other.to_string(), "it is malformed");
/// ```
impl From<rustls::CertificateError> for CertificateError {
    fn from(cert: rustls::CertificateError) -> Self {
        super::classify::certificate_error(cert)
    }
}

/// A frame that could not be queued for sending; the frame is handed back.
///
/// # Examples
///
/// ```
/// use rig::transport::{Data, SendError};
///
/// let err = SendError::NotOpen(Data::Text("hi".into()));
/// assert_eq!(err.into_data(), Some(Data::Text("hi".into())));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The output queue is at its limit
    /// ([`WebSocketConfig::max_write_buffer_size`](tungstenite::protocol::WebSocketConfig)).
    /// Wait for the socket to drain (the connection's interest is writable)
    /// and try again, or drop the frame and count it.
    #[error("output queue full")]
    Full(Data),
    /// The connection is not open (still handshaking, closing or closed).
    #[error("connection is not open")]
    NotOpen(Data),
    /// The connection failed while writing; it is closed now. The frame may
    /// or may not have been queued before the failure.
    #[error("send failed: {0}")]
    Failed(Box<Error>),
}

impl SendError {
    /// The frame handed back, if the error has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::transport::{Error, SendError};
    ///
    /// assert!(SendError::Failed(Box::new(Error::Closed)).into_data().is_none());
    /// ```
    #[must_use]
    pub fn into_data(self) -> Option<Data> {
        match self {
            Self::Full(data) | Self::NotOpen(data) => Some(data),
            Self::Failed(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_errors_read_as_words_without_os_error_numbers() {
        let reset = Error::Io(io::Error::from_raw_os_error(104));
        assert_eq!(reset.to_string(), "io: the peer reset the connection");
        let timed_out = Error::Io(io::Error::from_raw_os_error(11));
        assert_eq!(timed_out.to_string(), "io: no answer in time");
        let unreachable = Error::Connect {
            addr: SocketAddr::from(([10, 0, 0, 1], 4000)),
            error: io::Error::from_raw_os_error(113),
        };
        let text = unreachable.to_string();
        assert!(text.starts_with("connect: 10.0.0.1:4000: "), "{text}");
        assert!(!text.contains("os error"), "{text}");
        assert_eq!(Error::Io(io::Error::other("odd")).to_string(), "io: odd");
    }
}
