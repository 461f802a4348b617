//! Trusting a self-signed server certificate given as a CA.
//!
//! `openssl req -x509` (OpenSSL 3) marks the certificate it makes `CA:TRUE`,
//! and webpki refuses a CA certificate as a server's own certificate
//! (`CaUsedAsEndEntity`), even when that very certificate is a trusted root.
//! A user who hands such a file to [`TlsConfig::ca_file`](super::TlsConfig::ca_file)
//! means "trust this server", so [`PinnedSelfSigned`] accepts a server
//! certificate byte for byte equal to one of the given ones, after the
//! normal verification failed for exactly that reason, and still checks
//! the server name. Validity dates were already checked: webpki checks them
//! before the basic constraints. The handshake signatures are verified as
//! usual, so the server must hold the certificate's key.

use std::sync::Arc;

use pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::server::ParsedCertificate;

/// The webpki verifier, plus the exact certificates given as CAs.
#[derive(Debug)]
pub(super) struct PinnedSelfSigned {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl PinnedSelfSigned {
    pub(super) fn new(
        webpki: Arc<WebPkiServerVerifier>,
        pinned: Vec<CertificateDer<'static>>,
    ) -> Self {
        Self { webpki, pinned }
    }

    fn is_pinned(&self, end_entity: &CertificateDer<'_>) -> bool {
        self.pinned.iter().any(|pinned| pinned.as_ref() == end_entity.as_ref())
    }
}

/// Whether rustls refused the certificate because it is a CA certificate
/// (the one reason [`PinnedSelfSigned`] may overrule).
fn is_ca_used_as_end_entity(error: &rustls::Error) -> bool {
    matches!(
        error,
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))
            if super::classify::is_ca_used_as_end_entity(other)
    )
}

impl ServerCertVerifier for PinnedSelfSigned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(e) if is_ca_used_as_end_entity(&e) && self.is_pinned(end_entity) => {
                let parsed = ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            outcome => outcome,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.webpki.root_hint_subjects()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    use rustls::RootCertStore;

    use super::*;

    /// A self-signed certificate for `localhost` marked `CA:TRUE`, as
    /// `openssl req -x509` makes it.
    fn self_signed_ca() -> CertificateDer<'static> {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.self_signed(&KeyPair::generate().unwrap()).unwrap().der().clone()
    }

    fn verifier(roots: &[CertificateDer<'static>], pinned: bool) -> PinnedSelfSigned {
        let mut store = RootCertStore::empty();
        for root in roots {
            store.add(root.clone()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let webpki =
            WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider).build().unwrap();
        PinnedSelfSigned::new(webpki, if pinned { roots.to_vec() } else { Vec::new() })
    }

    fn verify(verifier: &PinnedSelfSigned, cert: &CertificateDer<'_>, host: &str) -> bool {
        let name = ServerName::try_from(host.to_owned()).unwrap();
        // rcgen's certificates are valid from 1975 to 4096.
        let now = UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000));
        verifier.verify_server_cert(cert, &[], &name, &[], now).is_ok()
    }

    #[test]
    fn a_self_signed_ca_certificate_given_as_ca_is_trusted_for_its_name_only() {
        let cert = self_signed_ca();
        let webpki_alone = verifier(std::slice::from_ref(&cert), false);
        let name = ServerName::try_from("localhost").unwrap();
        let now = UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000));
        let refused = webpki_alone.verify_server_cert(&cert, &[], &name, &[], now).unwrap_err();
        assert!(is_ca_used_as_end_entity(&refused), "{refused:?}");
        let pinned = verifier(std::slice::from_ref(&cert), true);
        assert!(verify(&pinned, &cert, "localhost"));
        assert!(!verify(&pinned, &cert, "other.example"), "the name is still checked");
    }

    #[test]
    fn another_ca_certificate_is_not_trusted_by_the_pin() {
        let pinned = verifier(&[self_signed_ca()], true);
        assert!(!verify(&pinned, &self_signed_ca(), "localhost"));
    }
}
