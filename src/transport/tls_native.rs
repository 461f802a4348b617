//! The native-tls backend (cargo feature `native-tls`): the platform TLS
//! library (OpenSSL on Linux) instead of rustls, behind the same
//! [`TlsConnector`] and the same connection states.
//!
//! OpenSSL writes straight to the socket, so the only pending output is a
//! blocked socket, which [`Tcp`] already tracks. Its errors are opaque
//! text; certificate problems are recognised by OpenSSL's verify messages.

use native_tls::{Certificate, HandshakeError, Protocol, TlsStream};

use super::stream::Stream;
use super::tcp::Tcp;
use super::tls_handshake::{TlsHandshake, TlsProgress};
use super::{CertificateError, Error, State, TlsConfig, TlsConnector};

impl TlsConfig {
    /// Builds a connector on the platform TLS library (TLS 1.2 or newer).
    ///
    /// The platform roots are trusted when [`native_roots`](Self::native_roots)
    /// or [`webpki_roots`](Self::webpki_roots) is on (the bundled list cannot
    /// be handed to the platform library, so its own store stands in), plus
    /// the CA files and PEM texts.
    ///
    /// # Errors
    ///
    /// [`Error::TlsConfig`] for an unreadable or invalid CA, no trust roots
    /// at all, or a platform library that refuses the configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()])?;
    /// let private = rig::transport::TlsConfig::new()
    ///     .webpki_roots(false)
    ///     .ca_pem(ca.cert.pem())
    ///     .build_native_tls()?;
    /// let _shared = private.clone();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build_native_tls(&self) -> Result<TlsConnector, Error> {
        let platform_roots = self.webpki_roots || self.native_roots;
        let extra = self.extra_cas()?;
        if !platform_roots && extra.is_empty() {
            return Err(Error::TlsConfig("no trust roots".to_owned()));
        }
        let mut builder = native_tls::TlsConnector::builder();
        builder.min_protocol_version(Some(Protocol::Tlsv12));
        builder.disable_built_in_roots(!platform_roots);
        for der in extra {
            let cert = Certificate::from_der(&der)
                .map_err(|e| Error::TlsConfig(format!("ca certificate: {e}")))?;
            builder.add_root_certificate(cert);
        }
        let connector = builder.build().map_err(|e| Error::TlsConfig(e.to_string()))?;
        Ok(TlsConnector::native(connector))
    }
}

/// The result of a native handshake step as the connection sees it.
pub(crate) fn settle(
    step: Result<TlsStream<Tcp>, HandshakeError<Tcp>>,
) -> Result<TlsProgress, Error> {
    match step {
        Ok(stream) => Ok(TlsProgress::Done(Stream::Native(Box::new(stream)))),
        Err(HandshakeError::WouldBlock(mid)) => {
            Ok(TlsProgress::Pending(TlsHandshake::Native(Box::new(mid))))
        }
        Err(HandshakeError::Failure(e)) => Err(classify(e)),
    }
}

/// OpenSSL's verify messages (`X509_verify_cert_error_string`), as
/// native-tls appends them in parentheses, mapped to typed reasons.
const VERIFY_REASONS: [(&str, CertificateError); 9] = [
    ("unable to get local issuer certificate", CertificateError::UnknownIssuer),
    ("unable to get issuer certificate", CertificateError::UnknownIssuer),
    ("self-signed certificate", CertificateError::UnknownIssuer),
    ("self signed certificate", CertificateError::UnknownIssuer),
    ("unable to verify the first certificate", CertificateError::UnknownIssuer),
    ("hostname mismatch", CertificateError::NotValidForName),
    ("ip address mismatch", CertificateError::NotValidForName),
    ("certificate has expired", CertificateError::Expired),
    ("certificate is not yet valid", CertificateError::NotYetValid),
];

fn classify(e: native_tls::Error) -> Error {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if let Some((_, reason)) = VERIFY_REASONS.iter().find(|(needle, _)| lower.contains(needle)) {
        return Error::Certificate(reason.clone());
    }
    if lower.contains("certificate revoked") {
        return Error::Certificate(CertificateError::Revoked);
    }
    if lower.contains("certificate verify failed") {
        return Error::Certificate(CertificateError::Other(text));
    }
    if lower.contains("unexpected eof") {
        return super::classify::peer_closed(State::TlsHandshaking);
    }
    Error::Tls(Box::new(e))
}
