//! Errors of the embedded server.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Errors of the embedded server: all of them happen while starting it.
///
/// Once running, the server never fails as a whole: a misbehaving client
/// only loses its own connection.
///
/// # Examples
///
/// ```
/// use rig::server::{Server, ServerConfig};
///
/// let first = Server::start(ServerConfig::builder().build())?;
/// let taken = ServerConfig::builder().addr(first.local_addr()).build();
/// let err = Server::start(taken).unwrap_err();
/// assert!(err.to_string().starts_with("cannot listen on 127.0.0.1:"));
/// # Ok::<(), rig::server::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be bound (address in use, no permission,
    /// address not local). Pick another address or free the port.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        reason: std::io::Error,
    },
    /// A certificate or key file could not be read.
    #[error("cannot read {}: {reason}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        reason: std::io::Error,
    },
    /// The PEM data holds no usable certificate or private key, or rustls
    /// refused the pair (e.g. the key does not match the certificate).
    #[error("tls: {0}")]
    Tls(String),
    /// Another I/O error while starting (creating the poller, spawning the thread).
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
