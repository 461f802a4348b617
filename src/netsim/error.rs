//! The proxy's errors.

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Why the proxy could not start or take a command.
///
/// # Examples
///
/// ```
/// use std::net::{SocketAddr, TcpListener};
/// use rig::netsim::{Error, Proxy, ProxyConfig};
///
/// let taken = TcpListener::bind("127.0.0.1:0")?;
/// let addr = taken.local_addr()?;
/// let upstream: SocketAddr = "127.0.0.1:9".parse()?;
/// let err = Proxy::start(ProxyConfig::builder(upstream).listen(addr).build()).unwrap_err();
/// assert!(matches!(err, Error::Bind { .. }));
/// assert!(err.to_string().starts_with("cannot listen on 127.0.0.1:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The listening address cannot be bound (in use, not local, no
    /// permission). Fatal for this start; pick another address or port 0.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        reason: io::Error,
    },
    /// The poller, its waker or the proxy thread could not be created
    /// (usually out of descriptors or memory). Fatal for this start.
    Io(io::Error),
    /// The proxy thread is gone (it was shut down or it died), so the
    /// command was not carried out.
    Stopped,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bind { addr, reason } => write!(f, "cannot listen on {addr}: {reason}"),
            Self::Io(reason) => write!(f, "io: {reason}"),
            Self::Stopped => f.write_str("the proxy thread has stopped"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(reason: io::Error) -> Self {
        Self::Io(reason)
    }
}
