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
    let rustls::Error::InvalidCertificate(cert) = e else {
        return Error::Tls(Box::new(e));
    };
    Error::Certificate(certificate_error(cert))
}

/// rustls's reason for refusing a certificate as ours.
pub(super) fn certificate_error(cert: rustls::CertificateError) -> CertificateError {
    use rustls::CertificateError as Rustls;
    match cert {
        Rustls::UnknownIssuer => CertificateError::UnknownIssuer,
        Rustls::NotValidForName | Rustls::NotValidForNameContext { .. } => {
            CertificateError::NotValidForName
        }
        Rustls::Expired | Rustls::ExpiredContext { .. } => CertificateError::Expired,
        Rustls::NotValidYet | Rustls::NotValidYetContext { .. } => CertificateError::NotYetValid,
        Rustls::Revoked => CertificateError::Revoked,
        Rustls::Other(other) if is_ca_used_as_end_entity(&other) => {
            CertificateError::CaUsedAsEndEntity
        }
        other => CertificateError::Other(certificate_words(&other)),
    }
}

/// Whether webpki refused a CA certificate as the server's own.
pub(super) fn is_ca_used_as_end_entity(other: &rustls::OtherError) -> bool {
    matches!(other.0.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity))
}

/// Why a certificate was refused, in words, for the reasons without their
/// own [`CertificateError`] variant.
fn certificate_words(error: &rustls::CertificateError) -> String {
    use rustls::CertificateError as Rustls;
    let known = match error {
        Rustls::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(webpki::Error::EndEntityUsedAsCa) => "an issuer in the chain is not a CA",
            Some(webpki::Error::PathLenConstraintViolated) => {
                "the chain is longer than an issuer allows"
            }
            Some(webpki::Error::NameConstraintViolation) => {
                "it names a host its issuer may not certify"
            }
            Some(webpki::Error::CertDistrusted) => "its key is explicitly distrusted",
            Some(other) => return camel_words(&format!("{other:?}")),
            None => return other.0.to_string(),
        },
        Rustls::BadEncoding => "it is malformed",
        Rustls::BadSignature => "its signature does not match its issuer's key",
        Rustls::UnsupportedSignatureAlgorithmContext { .. }
        | Rustls::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "it is signed with an algorithm rig does not support"
        }
        Rustls::InvalidPurpose | Rustls::InvalidPurposeContext { .. } => {
            "it is not meant for a TLS server (extended key usage)"
        }
        Rustls::UnhandledCriticalExtension => "it has a critical extension rig does not know",
        Rustls::UnknownRevocationStatus => "its revocation status is unknown",
        Rustls::ExpiredRevocationList | Rustls::ExpiredRevocationListContext { .. } => {
            "the revocation list has expired"
        }
        Rustls::InvalidOcspResponse => "the server's OCSP response is invalid",
        Rustls::ApplicationVerificationFailure => "the application's own check refused it",
        other => return camel_words(&format!("{other:?}")),
    };
    known.to_owned()
}

/// A TLS failure other than a refused certificate, in words (rustls's
/// own texts name enum variants: `received fatal alert: HandshakeFailure`).
pub(super) fn tls_words(error: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    let Some(tls) = error.downcast_ref::<rustls::Error>() else {
        return error.to_string();
    };
    let debug_words = |debug: &dyn std::fmt::Debug| camel_words(&format!("{debug:?}"));
    match tls {
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
            "the server's answer is not TLS".to_owned()
        }
        rustls::Error::InvalidMessage(what) => {
            format!("the server sent a malformed TLS message ({})", debug_words(what))
        }
        rustls::Error::AlertReceived(alert) => {
            format!("the server ended the handshake with a {:?} alert", debug_words(alert))
        }
        rustls::Error::PeerIncompatible(what) => {
            format!("the server and rig have no TLS setting in common ({})", debug_words(what))
        }
        rustls::Error::PeerMisbehaved(what) => {
            format!("the server broke the TLS protocol ({})", debug_words(what))
        }
        rustls::Error::NoCertificatesPresented => "the server sent no certificate".to_owned(),
        rustls::Error::DecryptError => "a TLS record could not be decrypted".to_owned(),
        rustls::Error::General(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `CaUsedAsEndEntity(..)` → `ca used as end entity`: a variant name with
/// no words written for it, readable still.
fn camel_words(debug: &str) -> String {
    let name = debug.split(['(', ' ', '{']).next().unwrap_or(debug);
    let mut words = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if c.is_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    words
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
            matches!(cert(R::BadSignature), Error::Certificate(CertificateError::Other(t)) if t == "its signature does not match its issuer's key")
        );
        assert!(matches!(tls_error(rustls::Error::DecryptError), Error::Tls(_)));
    }

    #[test]
    fn other_certificate_reasons_are_words() {
        let other = |e: webpki::Error| {
            let other = rustls::OtherError(std::sync::Arc::new(e));
            tls_error(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)))
                .to_string()
        };
        let ca = other(webpki::Error::CaUsedAsEndEntity);
        assert_eq!(
            ca,
            "tls: invalid peer certificate: a CA certificate (CA:TRUE) used as the server's own"
        );
        assert_eq!(
            other(webpki::Error::MalformedExtensions),
            "tls: invalid peer certificate: malformed extensions"
        );
        assert_eq!(camel_words("UnsupportedCertVersion"), "unsupported cert version");
        assert_eq!(camel_words("TrailingData(Certificate)"), "trailing data");
    }

    #[test]
    fn tls_failures_read_as_words() {
        let words = |e: rustls::Error| tls_error(e).to_string();
        assert_eq!(
            words(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)),
            "tls: the server's answer is not TLS"
        );
        assert_eq!(
            words(rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure)),
            "tls: the server ended the handshake with a \"handshake failure\" alert"
        );
        let other: Box<dyn std::error::Error + Send + Sync> = "plain words".into();
        assert_eq!(Error::Tls(other).to_string(), "tls: plain words");
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
