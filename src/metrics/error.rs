//! Errors of the metrics listener.

use std::net::SocketAddr;

/// Why a `/metrics` listener could not start.
///
/// # Examples
///
/// ```
/// let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let addr = taken.local_addr()?;
/// let err = rig::metrics::Metrics::new().serve(addr).unwrap_err();
/// assert!(err.to_string().contains("cannot listen for metrics on"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("cannot listen for metrics on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        source: std::io::Error,
    },
    /// The listener thread could not be started.
    #[error("cannot start the metrics listener thread: {0}")]
    Thread(std::io::Error),
}
