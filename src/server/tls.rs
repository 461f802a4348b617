//! Server TLS: the identity loaded from PEM, and a non-blocking stream over rustls.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use mio::net::TcpStream;
use pki_types::pem::PemObject as _;
use pki_types::{CertificateDer, PrivateKeyDer};

use super::error::Error;

/// A server certificate chain and private key, ready for rustls.
///
/// # Examples
///
/// ```
/// use rig::server::TlsConfig;
/// let err = TlsConfig::from_pem(b"not pem", b"not pem").unwrap_err();
/// assert!(err.to_string().starts_with("tls: "));
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    inner: Arc<rustls::ServerConfig>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig").finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Loads the certificate chain and key from PEM files.
    ///
    /// # Errors
    ///
    /// [`Error::ReadFile`] when a file cannot be read; [`Error::Tls`] when it
    /// holds no certificate / key or the pair is refused.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = rig::server::TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
    /// assert!(err.to_string().starts_with("cannot read /nonexistent/cert.pem"));
    /// ```
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self, Error> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|reason| Error::ReadFile { path: path.to_owned(), reason })
        };
        let cert_pem = read(cert.as_ref())?;
        let key_pem = read(key.as_ref())?;
        Self::from_pem(&cert_pem, &key_pem).map_err(|e| match e {
            Error::Tls(reason) => Error::Tls(format!(
                "{} with {}: {reason}",
                cert.as_ref().display(),
                key.as_ref().display()
            )),
            other => other,
        })
    }

    /// Builds the identity from PEM text: the certificate chain (leaf first)
    /// and a PKCS#8, PKCS#1 or SEC1 private key.
    ///
    /// # Errors
    ///
    /// [`Error::Tls`] when no certificate or key is found or rustls refuses them.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::server::TlsConfig::from_pem(b"", b"").is_err());
    /// ```
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, Error> {
        let certs = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Tls(format!("bad certificate PEM: {e}")))?;
        if certs.is_empty() {
            return Err(Error::Tls("no certificate found in the PEM data".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| Error::Tls(format!("no usable private key in the PEM data: {e}")))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| Error::Tls(e.to_string()))?;
        Ok(Self { inner: Arc::new(config) })
    }

    pub(crate) fn accept(&self, sock: TcpStream) -> io::Result<TlsStream> {
        let conn =
            rustls::ServerConnection::new(Arc::clone(&self.inner)).map_err(io::Error::other)?;
        Ok(TlsStream { conn, sock })
    }
}

/// rustls over a non-blocking socket. `read` and `write` never block: they
/// move TLS records as far as the socket allows and report `WouldBlock`.
pub(crate) struct TlsStream {
    conn: rustls::ServerConnection,
    sock: TcpStream,
}

impl fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream").field("sock", &self.sock).finish_non_exhaustive()
    }
}

impl TlsStream {
    pub(crate) fn socket(&mut self) -> &mut TcpStream {
        &mut self.sock
    }

    /// Whether encrypted bytes wait for the socket to become writable.
    pub(crate) fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Writes pending TLS records until done or the socket would block.
    fn write_records(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.sock)? == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
        Ok(())
    }

    fn write_records_ignoring_block(&mut self) -> io::Result<()> {
        match self.write_records() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            other => other,
        }
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Handshake records left over from a blocked write go out first.
        self.write_records_ignoring_block()?;
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            if self.conn.read_tls(&mut self.sock)? == 0 {
                return Ok(0);
            }
            if let Err(e) = self.conn.process_new_packets() {
                // Send the alert rustls queued, then give up on this peer.
                let _ = self.write_records();
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            // Handshake messages (and alerts) go out as soon as they exist.
            self.write_records_ignoring_block()?;
        }
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Keep at most one batch of records waiting: refuse more plaintext
        // until the socket has taken what is already encrypted.
        self.write_records()?;
        let n = self.conn.writer().write(buf)?;
        self.write_records_ignoring_block()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.conn.writer().flush()?;
        self.write_records()
    }
}
