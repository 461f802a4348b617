//! TLS setup: trust roots and the connector a `wss://` connection uses.
//!
//! rustls with the ring provider is the backend. Roots come from
//! webpki-roots (Mozilla's list, bundled: the default), the platform store
//! (rustls-native-certs) and/or CA certificates in PEM. Build one
//! [`TlsConnector`] and share it: it is an `Arc` inside, and parsing roots
//! per connection would cost milliseconds.

use std::path::PathBuf;
use std::sync::Arc;

use pki_types::pem::PemObject;
use pki_types::{CertificateDer, ServerName};
use rustls::client::WebPkiServerVerifier;
use rustls::{ClientConfig, RootCertStore};

use super::rustls_stream::RustlsStream;
use super::tcp::Tcp;
use super::tls_handshake::{TlsHandshake, TlsProgress};
use super::tls_pinned::PinnedSelfSigned;
use super::{Error, Host};

/// Which trust roots a [`TlsConnector`] accepts, built into a connector.
///
/// # Examples
///
/// ```
/// use rig::transport::TlsConfig;
///
/// // Bundled Mozilla roots (the default):
/// let _public = TlsConfig::new().build()?;
/// // Only a private CA:
/// # let dir = std::env::temp_dir().join(format!("rig-doc-ca-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let ca_path = dir.join("ca.pem");
/// # let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()])?;
/// # std::fs::write(&ca_path, ca.cert.pem())?;
/// let _private = TlsConfig::new().webpki_roots(false).ca_file(&ca_path).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct TlsConfig {
    pub(super) webpki_roots: bool,
    pub(super) native_roots: bool,
    pub(super) ca_files: Vec<PathBuf>,
    pub(super) ca_pems: Vec<Vec<u8>>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsConfig {
    /// webpki-roots on, native roots off, no extra CA.
    ///
    /// # Examples
    ///
    /// ```
    /// let _connector = rig::transport::TlsConfig::new().build()?;
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self { webpki_roots: true, native_roots: false, ca_files: Vec::new(), ca_pems: Vec::new() }
    }

    /// Trusts the bundled Mozilla roots (webpki-roots). Default: on.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::transport::TlsConfig::new().webpki_roots(false).native_roots(true);
    /// // Fails only if the system has no readable CA store at all.
    /// let _maybe = config.build();
    /// ```
    #[must_use]
    pub fn webpki_roots(mut self, on: bool) -> Self {
        self.webpki_roots = on;
        self
    }

    /// Trusts the platform's roots (on Linux the system CA bundle, or
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR`). Default: off. Unparsable system
    /// certificates are skipped.
    ///
    /// # Examples
    ///
    /// ```
    /// let _connector = rig::transport::TlsConfig::new().native_roots(true).build()?;
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn native_roots(mut self, on: bool) -> Self {
        self.native_roots = on;
        self
    }

    /// Also trusts every CA certificate in this PEM file (read at
    /// [`build`](Self::build)). A server certificate exactly equal to one in
    /// the file is trusted too, even when it is marked as a CA (a self-signed
    /// `openssl req -x509` certificate); its name is still checked.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::transport::TlsConfig::new().ca_file("/nonexistent/rig/ca.pem");
    /// // The file is read by `build`:
    /// assert!(matches!(config.build(), Err(rig::transport::Error::TlsConfig(_))));
    /// ```
    #[must_use]
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_files.push(path.into());
        self
    }

    /// Also trusts every CA certificate in this PEM text.
    ///
    /// # Examples
    ///
    /// ```
    /// let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()])?;
    /// let _connector = rig::transport::TlsConfig::new().ca_pem(ca.cert.pem()).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pems.push(pem.into());
        self
    }

    /// Loads the roots and builds the connector.
    ///
    /// # Errors
    ///
    /// [`Error::TlsConfig`] when a CA file cannot be read or holds no
    /// certificate, a certificate is invalid, the platform store cannot be
    /// read at all, or no root is left to trust.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = rig::transport::TlsConfig::new().webpki_roots(false).build().unwrap_err();
    /// assert!(matches!(err, rig::transport::Error::TlsConfig(_)));
    /// ```
    pub fn build(&self) -> Result<TlsConnector, Error> {
        let mut roots = RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if self.native_roots {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() && !found.errors.is_empty() {
                let reasons: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
                return Err(Error::TlsConfig(format!(
                    "cannot load native roots: {}",
                    reasons.join("; ")
                )));
            }
            let (_added, _skipped) = roots.add_parsable_certificates(found.certs);
        }
        let extra = self.extra_cas()?;
        for cert in &extra {
            roots
                .add(cert.clone())
                .map_err(|e| Error::TlsConfig(format!("ca certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(Error::TlsConfig("no trust roots".to_owned()));
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::TlsConfig(e.to_string()))?;
        let config = if extra.is_empty() {
            builder.with_root_certificates(roots).with_no_client_auth()
        } else {
            // A CA file may hold the server's own self-signed certificate.
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| Error::TlsConfig(format!("cannot build the verifier: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedSelfSigned::new(webpki, extra)))
                .with_no_client_auth()
        };
        Ok(TlsConnector::rustls(Arc::new(config)))
    }

    /// The certificates from [`ca_file`](Self::ca_file) and
    /// [`ca_pem`](Self::ca_pem), in DER.
    pub(super) fn extra_cas(&self) -> Result<Vec<CertificateDer<'static>>, Error> {
        let mut certs = Vec::new();
        for path in &self.ca_files {
            let pem = std::fs::read(path)
                .map_err(|e| Error::TlsConfig(format!("ca file {}: {e}", path.display())))?;
            certs.extend(parse_pem(&pem, &path.display().to_string())?);
        }
        for pem in &self.ca_pems {
            certs.extend(parse_pem(pem, "ca pem")?);
        }
        Ok(certs)
    }
}

/// Every certificate in a PEM text; none at all is an error.
fn parse_pem(pem: &[u8], origin: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::TlsConfig(format!("{origin}: {e}")))?;
    if certs.is_empty() {
        return Err(Error::TlsConfig(format!("{origin}: no certificate found")));
    }
    Ok(certs)
}

/// How `wss://` connections do TLS; cheap to clone and share.
///
/// The backend is rustls ([`TlsConfig::build`], [`TlsConnector::rustls`])
/// or, with the `native-tls` cargo feature, the platform library
/// (`TlsConfig::build_native_tls`, `TlsConnector::native`); connections go
/// through the same states either way.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use rig::transport::TlsConnector;
///
/// let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
/// let config = rustls::ClientConfig::builder_with_provider(provider)
///     .with_safe_default_protocol_versions()?
///     .with_root_certificates(rustls::RootCertStore::empty())
///     .with_no_client_auth();
/// let _connector = TlsConnector::rustls(Arc::new(config));
/// # Ok::<(), rustls::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TlsConnector {
    backend: Backend,
}

#[derive(Clone, Debug)]
enum Backend {
    Rustls(Arc<ClientConfig>),
    #[cfg(feature = "native-tls")]
    Native(native_tls::TlsConnector),
}

impl TlsConnector {
    /// A connector using this rustls configuration as is (custom verifiers,
    /// client certificates, ALPN, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// # let connector = rig::transport::TlsConfig::new().build()?;
    /// let _shared = connector.clone();
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn rustls(config: Arc<ClientConfig>) -> Self {
        Self { backend: Backend::Rustls(config) }
    }

    /// A connector using the platform TLS library, configured as given.
    ///
    /// # Examples
    ///
    /// ```
    /// let native = native_tls::TlsConnector::new()?;
    /// let _connector = rig::transport::TlsConnector::native(native);
    /// # Ok::<(), native_tls::Error>(())
    /// ```
    #[cfg(feature = "native-tls")]
    #[must_use]
    pub fn native(connector: native_tls::TlsConnector) -> Self {
        Self { backend: Backend::Native(connector) }
    }

    /// Checks the server name now, so a bad name fails at `start`.
    pub(crate) fn prepare(&self, host: &Host) -> Result<TlsStart, Error> {
        match &self.backend {
            Backend::Rustls(config) => {
                let name = match host {
                    Host::Ip(ip) => ServerName::IpAddress((*ip).into()),
                    Host::Domain(name) => ServerName::try_from(name.clone())
                        .map_err(|_| Error::Url(super::UrlError::BadHost(name.clone())))?,
                };
                Ok(TlsStart::Rustls { config: Arc::clone(config), name })
            }
            #[cfg(feature = "native-tls")]
            Backend::Native(connector) => {
                Ok(TlsStart::Native { connector: connector.clone(), domain: host.to_string() })
            }
        }
    }
}

impl From<Arc<ClientConfig>> for TlsConnector {
    fn from(config: Arc<ClientConfig>) -> Self {
        Self::rustls(config)
    }
}

/// A TLS session waiting for its TCP connection.
#[derive(Debug)]
pub(crate) enum TlsStart {
    Rustls {
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    },
    #[cfg(feature = "native-tls")]
    Native {
        connector: native_tls::TlsConnector,
        domain: String,
    },
}

impl TlsStart {
    /// Starts the handshake over the connected socket.
    pub(crate) fn begin(self, tcp: Tcp) -> Result<TlsProgress, Error> {
        match self {
            Self::Rustls { config, name } => {
                let tls = RustlsStream::new(config, name, tcp)?;
                TlsHandshake::Rustls(Box::new(tls)).resume()
            }
            #[cfg(feature = "native-tls")]
            Self::Native { connector, domain } => {
                super::tls_native::settle(connector.connect(&domain, tcp))
            }
        }
    }
}
