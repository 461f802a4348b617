//! The local address a socket connects from
//! ([`SocketOptionsBuilder::local_addr`]).

use std::net::IpAddr;

use super::options::SocketOptions;
use super::options_builder::SocketOptionsBuilder;

impl SocketOptionsBuilder {
    /// Connects from this local address (any free port) instead of the one
    /// the system picks (default). One source address gives about 28,000
    /// ephemeral ports towards one server; an engine holding more sockets
    /// to one server spreads them over several addresses, e.g. over
    /// 127.0.0.0/8 on loopback. An address the host does not have fails
    /// each connect with [`ErrorKind::Connect`](crate::engine::ErrorKind).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::{IpAddr, Ipv4Addr};
    /// let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    /// let options = rig::engine::SocketOptions::builder("ws://127.0.0.1:4000/socket")
    ///     .local_addr(from)
    ///     .build()?;
    /// assert_eq!(options.local_addr(), Some(from));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn local_addr(mut self, ip: IpAddr) -> Self {
        self.local_addr = Some(ip);
        self
    }
}

impl SocketOptions {
    /// The local address the socket connects from, if one was chosen (see
    /// [`SocketOptionsBuilder::local_addr`]).
    ///
    /// # Examples
    ///
    /// See [`SocketOptionsBuilder::local_addr`].
    #[must_use]
    pub fn local_addr(&self) -> Option<IpAddr> {
        self.local_addr
    }
}
