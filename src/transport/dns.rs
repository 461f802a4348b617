//! DNS resolution, blocking and therefore kept off the I/O thread.

use std::net::{SocketAddr, ToSocketAddrs};

use super::{Error, Host, WsUrl};

/// Resolves the URL's host to socket addresses, in the resolver's order.
///
/// This blocks (it calls the system resolver): run it off the I/O thread and
/// hand the chosen address to [`Connection::start`](super::Connection::start).
/// IP literals resolve without a lookup.
///
/// # Errors
///
/// [`Error::Dns`] when the lookup fails or finds no address.
///
/// # Examples
///
/// ```
/// use rig::transport::{resolve, WsUrl};
///
/// let addrs = resolve(&WsUrl::parse("ws://127.0.0.1:4000/socket")?)?;
/// assert_eq!(addrs, vec!["127.0.0.1:4000".parse()?]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn resolve(url: &WsUrl) -> Result<Vec<SocketAddr>, Error> {
    let dns_error = |error| Error::Dns { host: url.host().to_string(), error };
    let addrs: Vec<SocketAddr> = match url.host() {
        Host::Ip(ip) => vec![SocketAddr::new(*ip, url.port())],
        Host::Domain(name) => {
            (name.as_str(), url.port()).to_socket_addrs().map_err(dns_error)?.collect()
        }
    };
    if addrs.is_empty() {
        return Err(dns_error(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the name resolved to no address",
        )));
    }
    Ok(addrs)
}
