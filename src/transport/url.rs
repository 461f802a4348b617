//! `ws://` and `wss://` URLs, and the blocking DNS lookup kept off the I/O
//! thread.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use super::Error;

/// The longest host name DNS allows (RFC 1035, without the trailing dot).
const MAX_HOST_LEN: usize = 253;

/// Why a string is not a usable WebSocket URL.
///
/// # Examples
///
/// ```
/// use rig::transport::{Error, UrlError, WsUrl};
///
/// let err = "ws://example.com:99999/".parse::<WsUrl>().unwrap_err();
/// assert!(matches!(err, Error::Url(UrlError::BadPort(p)) if p == "99999"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// No `scheme://` prefix at all.
    #[error("missing scheme (expected ws:// or wss://)")]
    MissingScheme,
    /// A scheme other than `ws` or `wss` (`http` is not upgraded for you).
    #[error("scheme must be ws or wss, got {0:?}")]
    BadScheme(String),
    /// The host is empty, too long, or has characters a host cannot have.
    #[error("invalid host {0:?}")]
    BadHost(String),
    /// The port is not a number in 1..=65535.
    #[error("invalid port {0:?}")]
    BadPort(String),
    /// `user:password@` in the URL: send credentials as params or headers.
    #[error("credentials in the url are not supported")]
    UserInfo,
    /// A `#fragment`: RFC 6455 forbids fragments in WebSocket URLs.
    #[error("websocket urls cannot have a fragment")]
    Fragment,
    /// Spaces or control characters in the path or query.
    #[error("invalid character in path or query")]
    BadPath,
}

/// `ws` or `wss`.
///
/// # Examples
///
/// ```
/// use rig::transport::Scheme;
///
/// assert_eq!(Scheme::Wss.default_port(), 443);
/// assert!(Scheme::Wss.is_secure());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain WebSocket over TCP.
    Ws,
    /// WebSocket over TLS.
    Wss,
}

impl Scheme {
    /// The port used when the URL names none: 80 or 443.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::transport::Scheme::Ws.default_port(), 80);
    /// ```
    #[must_use]
    pub const fn default_port(self) -> u16 {
        match self {
            Self::Ws => 80,
            Self::Wss => 443,
        }
    }

    /// Whether the connection uses TLS.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rig::transport::Scheme::Ws.is_secure());
    /// ```
    #[must_use]
    pub const fn is_secure(self) -> bool {
        matches!(self, Self::Wss)
    }

    /// `"ws"` or `"wss"`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::transport::Scheme::Wss.as_str(), "wss");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ws => "ws",
            Self::Wss => "wss",
        }
    }
}

/// The host part of a URL: a DNS name or an IP literal.
///
/// # Examples
///
/// ```
/// use rig::transport::{Host, WsUrl};
///
/// let url: WsUrl = "ws://[::1]:4000/socket".parse()?;
/// assert!(matches!(url.host(), Host::Ip(ip) if ip.is_loopback()));
/// assert_eq!(url.host().to_string(), "::1");
/// # Ok::<(), rig::transport::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// A DNS name, lowercased.
    Domain(String),
    /// An IPv4 or IPv6 literal (IPv6 was written in brackets in the URL).
    Ip(IpAddr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Domain(name) => f.write_str(name),
            Self::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// A validated `ws://` or `wss://` URL.
///
/// The path and query are kept verbatim (an empty path becomes `/`), so
/// whatever the caller percent-encoded reaches the server unchanged.
/// `Display` and `Debug` hide the values of secret query parameters
/// (see [`crate::redact`]); [`to_uri_string`](Self::to_uri_string) is the
/// URL as sent.
///
/// # Examples
///
/// ```
/// use rig::transport::{Scheme, WsUrl};
///
/// let url: WsUrl = "wss://Example.COM/socket/websocket?vsn=2.0.0".parse()?;
/// assert_eq!(url.scheme(), Scheme::Wss);
/// assert_eq!(url.host().to_string(), "example.com");
/// assert_eq!(url.port(), 443);
/// assert_eq!(url.path_and_query(), "/socket/websocket?vsn=2.0.0");
/// assert_eq!(url.to_string(), "wss://example.com/socket/websocket?vsn=2.0.0");
/// # Ok::<(), rig::transport::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct WsUrl {
    scheme: Scheme,
    host: Host,
    port: u16,
    path_and_query: String,
}

impl WsUrl {
    /// Parses and validates a URL; the same as `s.parse()`.
    ///
    /// # Errors
    ///
    /// [`Error::Url`] naming what is wrong: scheme, host, port, credentials,
    /// fragment or characters in the path.
    ///
    /// # Examples
    ///
    /// ```
    /// let url = rig::transport::WsUrl::parse("ws://127.0.0.1:4000")?;
    /// assert_eq!(url.path_and_query(), "/");
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Self, Error> {
        Ok(parse_url(s)?)
    }

    /// `ws` or `wss`.
    ///
    /// # Examples
    ///
    /// ```
    /// let url = rig::transport::WsUrl::parse("ws://localhost")?;
    /// assert!(!url.scheme().is_secure());
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host: used for DNS, the `Host` header and TLS server name (SNI).
    ///
    /// # Examples
    ///
    /// ```
    /// let url = rig::transport::WsUrl::parse("ws://localhost")?;
    /// assert_eq!(url.host().to_string(), "localhost");
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port, explicit or the scheme's default.
    ///
    /// # Examples
    ///
    /// ```
    /// let url = rig::transport::WsUrl::parse("wss://localhost")?;
    /// assert_eq!(url.port(), 443);
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The path and query, verbatim, always starting with `/`.
    ///
    /// # Examples
    ///
    /// ```
    /// let url = rig::transport::WsUrl::parse("ws://h?token=a%20b")?;
    /// assert_eq!(url.path_and_query(), "/?token=a%20b");
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    /// The `Host` header value: the host (IPv6 in brackets) with `:port`
    /// unless the port is the scheme's default.
    ///
    /// # Examples
    ///
    /// ```
    /// let url = rig::transport::WsUrl::parse("ws://[::1]:4000/socket")?;
    /// assert_eq!(url.host_header(), "[::1]:4000");
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn host_header(&self) -> String {
        let host = match &self.host {
            Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
            host => host.to_string(),
        };
        if self.port == self.scheme.default_port() { host } else { format!("{host}:{}", self.port) }
    }
}

impl FromStr for WsUrl {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl WsUrl {
    /// The URL as sent, secrets included (`Display` hides them).
    ///
    /// # Examples
    ///
    /// ```
    /// let url = rig::transport::WsUrl::parse("ws://h:4000/socket/websocket?token=abc")?;
    /// assert_eq!(url.to_uri_string(), "ws://h:4000/socket/websocket?token=abc");
    /// assert_eq!(url.to_string(), "ws://h:4000/socket/websocket?token=***");
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn to_uri_string(&self) -> String {
        format!("{}://{}{}", self.scheme.as_str(), self.host_header(), self.path_and_query)
    }
}

impl fmt::Display for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::redact::url(&self.to_uri_string()))
    }
}

impl fmt::Debug for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsUrl")
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path_and_query", &crate::redact::url(&self.path_and_query))
            .finish()
    }
}

fn parse_url(s: &str) -> Result<WsUrl, UrlError> {
    let (scheme, rest) = s.split_once("://").ok_or(UrlError::MissingScheme)?;
    let scheme = if scheme.eq_ignore_ascii_case("ws") {
        Scheme::Ws
    } else if scheme.eq_ignore_ascii_case("wss") {
        Scheme::Wss
    } else {
        return Err(UrlError::BadScheme(scheme.to_owned()));
    };
    if rest.contains('#') {
        return Err(UrlError::Fragment);
    }
    let path_start = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(path_start);
    if authority.contains('@') {
        return Err(UrlError::UserInfo);
    }
    if path_and_query.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(UrlError::BadPath);
    }
    let path_and_query = if path_and_query.starts_with('/') {
        path_and_query.to_owned()
    } else {
        format!("/{path_and_query}")
    };
    let (host, port) = split_host_port(authority)?;
    let port = match port {
        None => scheme.default_port(),
        Some(text) => parse_port(text)?,
    };
    Ok(WsUrl { scheme, host, port, path_and_query })
}

/// Splits `host[:port]` or `[v6][:port]`; the port is returned as text.
fn split_host_port(authority: &str) -> Result<(Host, Option<&str>), UrlError> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (literal, after) =
            bracketed.split_once(']').ok_or_else(|| UrlError::BadHost(authority.to_owned()))?;
        let ip: Ipv6Addr = literal.parse().map_err(|_| UrlError::BadHost(literal.to_owned()))?;
        let port = match after {
            "" => None,
            _ => Some(
                after.strip_prefix(':').ok_or_else(|| UrlError::BadHost(authority.to_owned()))?,
            ),
        };
        return Ok((Host::Ip(IpAddr::V6(ip)), port));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    Ok((parse_host(host)?, port))
}

fn parse_host(host: &str) -> Result<Host, UrlError> {
    if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
        return Ok(Host::Ip(IpAddr::V4(ip)));
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.is_empty() || name.len() > MAX_HOST_LEN || !name.split('.').all(valid_label) {
        return Err(UrlError::BadHost(host.to_owned()));
    }
    Ok(Host::Domain(name.to_ascii_lowercase()))
}

fn parse_port(text: &str) -> Result<u16, UrlError> {
    let bad = || UrlError::BadPort(text.to_owned());
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(bad()),
        Ok(port) => Ok(port),
    }
}
