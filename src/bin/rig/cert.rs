//! `rig diagnose`'s view of the server certificate: who it names, who
//! signed it, when it expires, and whether the trust roots accept it.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

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

/// The trust roots: the bundled web roots plus `--tls-ca`.
pub(crate) fn roots(tls_ca: Option<&std::path::Path>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = tls_ca {
        let pem = std::fs::read(path).map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
            roots.add(cert).map_err(|e| format!("--tls-ca {}: {e}", path.display()))?;
        }
    }
    Ok(roots)
}

/// Checks the chain the server sent against `roots` for `host`.
pub(crate) fn verify(
    roots: RootCertStore,
    chain: &[CertificateDer<'static>],
    host: &str,
    now_unix_secs: u64,
) -> Result<(), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| format!("cannot build the verifier: {e}"))?;
    let (leaf, intermediates) = chain.split_first().ok_or("the server sent no certificate")?;
    let name = ServerName::try_from(host.to_owned()).map_err(|e| format!("bad host: {e}"))?;
    verifier
        .verify_server_cert(
            leaf,
            intermediates,
            &name,
            &[],
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(now_unix_secs)),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
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
        assert!(untrusted.unwrap_err().contains("UnknownIssuer"));
        let mut trusted = RootCertStore::empty();
        trusted.add(der.clone()).unwrap();
        assert_eq!(verify(trusted, &[der], "localhost", now), Ok(()));
    }
}
