//! `rig diagnose`'s view of the server certificate: who it names, who
//! signed it, when it expires, and whether the trust roots accept it.

use std::sync::Arc;

use rig::transport::CertificateError;
use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;

/// What the leaf certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertSummary {
    pub(crate) subject: String,
    pub(crate) issuer: String,
    /// RFC 3339 (UTC) end of validity.
    pub(crate) not_after: String,
}

/// Reads subject, issuer and expiry from a DER certificate.
pub(crate) fn summary(der: &CertificateDer<'_>) -> Result<CertSummary, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|e| format!("unreadable certificate: {e}"))?;
    let not_after = cert.validity().not_after.timestamp();
    let secs = u64::try_from(not_after).unwrap_or(0);
    Ok(CertSummary {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_after: crate::event_line::rfc3339(std::time::Duration::from_secs(secs))
            .replace(".000000", ""),
    })
}

/// The trust roots: the bundled web roots plus the certificates of
/// `--tls-ca` (also returned: a server certificate equal to one of them is
/// trusted even when marked as a CA, as the engine does).
pub(crate) fn roots(
    tls_ca: Option<&std::path::Path>,
) -> Result<(RootCertStore, Vec<CertificateDer<'static>>), String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut given = Vec::new();
    if let Some(path) = tls_ca {
        let pem = std::fs::read(path).map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
            roots.add(cert.clone()).map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
            given.push(cert);
        }
    }
    Ok((roots, given))
}

/// Why the chain was not trusted: a sentence, and the typed cause when the
/// certificate itself was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) text: String,
    pub(crate) cause: Option<CertificateError>,
}

impl From<String> for Refusal {
    fn from(text: String) -> Self {
        Self { text, cause: None }
    }
}

/// Checks the chain the server sent against `roots` for `host`; `given`
/// are the `--tls-ca` certificates, trusted as the server's own too.
pub(crate) fn verify(
    (roots, given): (RootCertStore, Vec<CertificateDer<'static>>),
    chain: &[CertificateDer<'static>],
    host: &str,
    now_unix_secs: u64,
) -> Result<(), Refusal> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| format!("cannot build the verifier: {e}"))?;
    let (leaf, intermediates) =
        chain.split_first().ok_or_else(|| "the server sent no certificate".to_owned())?;
    let name = ServerName::try_from(host.to_owned()).map_err(|e| format!("bad host: {e}"))?;
    let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now_unix_secs));
    let refused = match verifier.verify_server_cert(leaf, intermediates, &name, &[], now) {
        Ok(_) => return Ok(()),
        Err(rustls::Error::InvalidCertificate(cert)) => CertificateError::from(cert),
        Err(other) => return Err(Refusal::from(other.to_string())),
    };
    if refused == CertificateError::CaUsedAsEndEntity && given.contains(leaf) {
        // The server's own self-signed certificate, given with --tls-ca:
        // its dates were checked before its CA flag; its name is left.
        let parsed = ParsedCertificate::try_from(leaf).map_err(|e| e.to_string())?;
        return match rustls::client::verify_server_name(&parsed, &name) {
            Ok(()) => Ok(()),
            Err(rustls::Error::InvalidCertificate(cert)) => {
                let cause = CertificateError::from(cert);
                Err(Refusal { text: cause.to_string(), cause: Some(cause) })
            }
            Err(other) => Err(Refusal::from(other.to_string())),
        };
    }
    Err(Refusal { text: refused.to_string(), cause: Some(refused) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_read_and_refused_then_trusted() {
        let key = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let der = key.cert.der().clone();
        let s = summary(&der).unwrap();
        assert!(s.subject.contains("rcgen"), "{s:?}");
        assert!(s.not_after.ends_with('Z') && s.not_after.len() == 20, "{s:?}");
        let now = crate::event_line::unix_now().as_secs();
        let untrusted = verify(roots(None).unwrap(), std::slice::from_ref(&der), "localhost", now);
        assert_eq!(untrusted.unwrap_err().cause, Some(CertificateError::UnknownIssuer));
        let mut trusted = RootCertStore::empty();
        trusted.add(der.clone()).unwrap();
        assert_eq!(verify((trusted, Vec::new()), &[der], "localhost", now), Ok(()));
    }

    #[test]
    fn a_self_signed_ca_certificate_given_with_tls_ca_is_trusted_for_its_name() {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let der = params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap().der().clone();
        let now = crate::event_line::unix_now().as_secs();
        let as_root = |given: Vec<CertificateDer<'static>>| {
            let mut roots = RootCertStore::empty();
            roots.add(der.clone()).unwrap();
            (roots, given)
        };
        let chain = std::slice::from_ref(&der);
        let refused = verify(as_root(Vec::new()), chain, "localhost", now).unwrap_err();
        assert_eq!(refused.cause, Some(CertificateError::CaUsedAsEndEntity));
        assert_eq!(verify(as_root(vec![der.clone()]), chain, "localhost", now), Ok(()));
        let elsewhere = verify(as_root(vec![der.clone()]), chain, "other.example", now);
        assert_eq!(elsewhere.unwrap_err().cause, Some(CertificateError::NotValidForName));
    }
}
