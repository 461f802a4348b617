//! [`ConnectionError`]: a connection failure, typed and cheap to clone, and
//! its [`ErrorKind`].

use std::fmt;
use std::time::Duration;

use crate::transport::{self, CertificateError};

/// The kind of a [`ConnectionError`], small enough to sit in an atomic.
///
/// # Examples
///
/// ```
/// assert_eq!(rig::engine::ErrorKind::Certificate.as_str(), "certificate");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The host name did not resolve.
    Dns,
    /// TCP connect failed (refused, unreachable).
    Connect,
    /// A connect attempt took longer than the connect timeout.
    Timeout,
    /// The server's certificate is not valid.
    Certificate,
    /// Another TLS failure.
    Tls,
    /// HTTP 401/403 on the upgrade.
    Auth,
    /// HTTP 429 on the upgrade.
    RateLimited,
    /// Another non-101 answer to the upgrade.
    Upgrade,
    /// The peer closed or reset the connection.
    PeerClosed,
    /// A WebSocket protocol violation or limit.
    Protocol,
    /// A heartbeat went unanswered.
    HeartbeatTimeout,
    /// The socket's output queue overflowed.
    OutputFull,
    /// Anything else (I/O errors, bad URL or header).
    Other,
}

impl ErrorKind {
    const ALL: [Self; 13] = [
        Self::Dns,
        Self::Connect,
        Self::Timeout,
        Self::Certificate,
        Self::Tls,
        Self::Auth,
        Self::RateLimited,
        Self::Upgrade,
        Self::PeerClosed,
        Self::Protocol,
        Self::HeartbeatTimeout,
        Self::OutputFull,
        Self::Other,
    ];

    /// A short lowercase name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::engine::ErrorKind::HeartbeatTimeout.as_str(), "heartbeat timeout");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Certificate => "certificate",
            Self::Tls => "tls",
            Self::Auth => "auth",
            Self::RateLimited => "rate limited",
            Self::Upgrade => "upgrade",
            Self::PeerClosed => "peer closed",
            Self::Protocol => "protocol",
            Self::HeartbeatTimeout => "heartbeat timeout",
            Self::OutputFull => "output full",
            Self::Other => "other",
        }
    }

    pub(crate) fn to_u8(self) -> u8 {
        Self::ALL
            .iter()
            .position(|k| *k == self)
            .and_then(|i| u8::try_from(i + 1).ok())
            .unwrap_or(0)
    }

    pub(crate) fn from_u8(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }
}

/// A connection failure, typed and cheap to clone (it goes to every status
/// stream and into the health snapshot).
///
/// # Examples
///
/// ```
/// use rig::engine::{ConnectionError, ErrorKind};
/// let e = ConnectionError::from_transport(&rig::transport::Error::UpgradeRefused { status: 403, retry_after: None });
/// assert_eq!(e.kind(), ErrorKind::Auth);
/// assert_eq!(e.http_status(), Some(403));
/// assert_eq!(e.to_string(), "upgrade refused: http status 403");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionError {
    kind: ErrorKind,
    /// Boxed: a `Status::Failed` carries the error, and every slot of a
    /// status queue is as large as its largest entry (72 bytes inline, 16
    /// boxed).
    detail: Box<Detail>,
}

/// What a [`ConnectionError`] says beside its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Detail {
    message: String,
    http_status: Option<u16>,
    retry_after: Option<Duration>,
    certificate: Option<CertificateError>,
}

impl fmt::Debug for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionError")
            .field("kind", &self.kind)
            .field("message", &self.detail.message)
            .field("http_status", &self.detail.http_status)
            .field("retry_after", &self.detail.retry_after)
            .field("certificate", &self.detail.certificate)
            .finish()
    }
}

impl ConnectionError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            detail: Box::new(Detail {
                message: message.into(),
                http_status: None,
                retry_after: None,
                certificate: None,
            }),
        }
    }

    /// Classifies a transport error.
    ///
    /// # Examples
    ///
    /// See [`ConnectionError`].
    #[must_use]
    pub fn from_transport(error: &transport::Error) -> Self {
        use transport::Error as E;
        let mut e = Self::new(ErrorKind::Other, error.to_string());
        e.kind = match error {
            E::Dns { .. } => ErrorKind::Dns,
            E::ConnectRefused(_) | E::Connect { .. } => ErrorKind::Connect,
            E::Timeout(_) => ErrorKind::Timeout,
            E::Certificate(cert) => {
                e.detail.certificate = Some(cert.clone());
                ErrorKind::Certificate
            }
            E::Tls(_) | E::TlsConfig(_) | E::TlsRequired => ErrorKind::Tls,
            E::UpgradeRefused { status, retry_after } => {
                e.detail.http_status = Some(*status);
                e.detail.retry_after = *retry_after;
                match status {
                    401 | 403 => ErrorKind::Auth,
                    429 => ErrorKind::RateLimited,
                    _ => ErrorKind::Upgrade,
                }
            }
            E::PeerClosed { .. } | E::Closed => ErrorKind::PeerClosed,
            E::Io(io) if is_hang_up(io.kind()) => ErrorKind::PeerClosed,
            E::WebSocket(_) => ErrorKind::Protocol,
            _ => ErrorKind::Other,
        };
        e
    }

    /// What kind of failure.
    ///
    /// # Examples
    ///
    /// See [`ConnectionError`].
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status of a refused upgrade.
    ///
    /// # Examples
    ///
    /// See [`ConnectionError`].
    #[must_use]
    pub fn http_status(&self) -> Option<u16> {
        self.detail.http_status
    }

    /// The server's `Retry-After`, in seconds form, on a refused upgrade.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let e = rig::engine::ConnectionError::from_transport(&rig::transport::Error::UpgradeRefused {
    ///     status: 429,
    ///     retry_after: Some(Duration::from_secs(2)),
    /// });
    /// assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    /// ```
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.detail.retry_after
    }

    /// Why the server certificate was rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::transport::{CertificateError, Error};
    /// let e = rig::engine::ConnectionError::from_transport(&Error::Certificate(CertificateError::UnknownIssuer));
    /// assert_eq!(e.certificate(), Some(&CertificateError::UnknownIssuer));
    /// ```
    #[must_use]
    pub fn certificate(&self) -> Option<&CertificateError> {
        self.detail.certificate.as_ref()
    }
}

/// The I/O errors that mean the peer went away.
fn is_hang_up(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(kind, K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof)
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail.message)
    }
}

impl std::error::Error for ConnectionError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets_are_peer_closes() {
        let reset = transport::Error::Io(std::io::ErrorKind::ConnectionReset.into());
        assert_eq!(ConnectionError::from_transport(&reset).kind(), ErrorKind::PeerClosed);
        let other = transport::Error::Io(std::io::ErrorKind::PermissionDenied.into());
        assert_eq!(ConnectionError::from_transport(&other).kind(), ErrorKind::Other);
    }

    #[test]
    fn kinds_survive_the_atomic_round_trip() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_u8(kind.to_u8()), Some(kind));
        }
        assert_eq!(ErrorKind::from_u8(0), None);
    }
}
