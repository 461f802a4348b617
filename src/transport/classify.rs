//! Turning rustls, tungstenite and socket errors into typed [`Error`]s.

use std::io;
use std::time::Duration;

use tungstenite::error::ProtocolError;

use super::{CertificateError, Error, State};

/// A socket-level error seen while in `during`.
pub(crate) fn io_error(e: io::Error, during: State) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
        if let Some(Ok(tls)) = e.into_inner().map(|inner| inner.downcast::<rustls::Error>()) {
            return tls_error(*tls);
        }
        return Error::Tls("tls error lost while unwrapping".into());
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => peer_closed(during),
        _ => Error::Io(e),
    }
}

/// A rustls error: certificate problems get their typed reason.
pub(crate) fn tls_error(e: rustls::Error) -> Error {
    use rustls::CertificateError as Rustls;
    let rustls::Error::InvalidCertificate(cert) = e else {
        return Error::Tls(Box::new(e));
    };
    Error::Certificate(match cert {
        Rustls::UnknownIssuer => CertificateError::UnknownIssuer,
        Rustls::NotValidForName | Rustls::NotValidForNameContext { .. } => {
            CertificateError::NotValidForName
        }
        Rustls::Expired | Rustls::ExpiredContext { .. } => CertificateError::Expired,
        Rustls::NotValidYet | Rustls::NotValidYetContext { .. } => CertificateError::NotYetValid,
        Rustls::Revoked => CertificateError::Revoked,
        other => CertificateError::Other(format!("{other:?}")),
    })
}

/// A tungstenite error seen while in `during`.
pub(crate) fn ws_error(e: tungstenite::Error, during: State) -> Error {
    match e {
        tungstenite::Error::Io(e) => io_error(e, during),
        tungstenite::Error::Http(response) => Error::UpgradeRefused {
            status: response.status().as_u16(),
            retry_after: retry_after(response.headers()),
        },
        tungstenite::Error::Protocol(
            ProtocolError::HandshakeIncomplete | ProtocolError::ResetWithoutClosingHandshake,
        ) => peer_closed(during),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => Error::Closed,
        other => Error::WebSocket(Box::new(other)),
    }
}

/// The peer went away without a close frame.
pub(crate) fn peer_closed(during: State) -> Error {
    Error::PeerClosed { during, code: None, reason: String::new() }
}

/// `Retry-After` in its delta-seconds form.
fn retry_after(headers: &tungstenite::http::HeaderMap) -> Option<Duration> {
    let value = headers.get(tungstenite::http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tungstenite::http::{HeaderMap, HeaderValue, Response};

    fn refused(status: u16, retry: Option<&str>) -> Error {
        let mut response = Response::builder().status(status).body(None).unwrap();
        if let Some(value) = retry {
            response.headers_mut().insert("retry-after", HeaderValue::from_str(value).unwrap());
        }
        ws_error(tungstenite::Error::Http(Box::new(response)), State::WsHandshaking)
    }

    #[test]
    fn upgrade_refusals_carry_status_and_retry_after() {
        assert!(matches!(
            refused(429, Some(" 30 ")),
            Error::UpgradeRefused { status: 429, retry_after: Some(d) } if d == Duration::from_secs(30)
        ));
        assert!(matches!(
            refused(503, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Error::UpgradeRefused { status: 503, retry_after: None }
        ));
        assert!(matches!(
            refused(403, None),
            Error::UpgradeRefused { status: 403, retry_after: None }
        ));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn certificate_reasons_are_typed() {
        let cert = |e| tls_error(rustls::Error::InvalidCertificate(e));
        use rustls::CertificateError as R;
        assert!(matches!(
            cert(R::UnknownIssuer),
            Error::Certificate(CertificateError::UnknownIssuer)
        ));
        assert!(matches!(cert(R::Expired), Error::Certificate(CertificateError::Expired)));
        assert!(matches!(cert(R::NotValidYet), Error::Certificate(CertificateError::NotYetValid)));
        assert!(matches!(cert(R::Revoked), Error::Certificate(CertificateError::Revoked)));
        assert!(matches!(
            cert(R::NotValidForName),
            Error::Certificate(CertificateError::NotValidForName)
        ));
        assert!(
            matches!(cert(R::BadSignature), Error::Certificate(CertificateError::Other(t)) if t == "BadSignature")
        );
        assert!(matches!(tls_error(rustls::Error::DecryptError), Error::Tls(_)));
    }

    #[test]
    fn tls_errors_survive_the_trip_through_io() {
        let wrapped = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let err = ws_error(tungstenite::Error::Io(wrapped), State::WsHandshaking);
        assert!(matches!(err, Error::Certificate(CertificateError::UnknownIssuer)));
    }

    #[test]
    fn eof_is_peer_closed_in_that_state() {
        let err = io_error(io::ErrorKind::UnexpectedEof.into(), State::TlsHandshaking);
        assert!(matches!(err, Error::PeerClosed { during: State::TlsHandshaking, code: None, .. }));
        let err = ws_error(
            tungstenite::Error::Protocol(ProtocolError::HandshakeIncomplete),
            State::WsHandshaking,
        );
        assert!(matches!(err, Error::PeerClosed { during: State::WsHandshaking, .. }));
    }

    #[test]
    fn errors_stay_small() {
        assert!(size_of::<Error>() <= 48, "{}", size_of::<Error>());
    }
}
