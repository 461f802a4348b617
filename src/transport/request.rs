//! What a connection asks for: URL, headers, subprotocols, limits.

use tungstenite::handshake::client::{Request, generate_key};
use tungstenite::http::{HeaderName, HeaderValue, header};
use tungstenite::protocol::WebSocketConfig;

use super::{Error, WsUrl};

/// Headers the connection writes itself (subprotocols go through
/// [`ConnectRequest::subprotocol`]).
const RESERVED_HEADERS: [HeaderName; 6] = [
    header::HOST,
    header::CONNECTION,
    header::UPGRADE,
    header::SEC_WEBSOCKET_VERSION,
    header::SEC_WEBSOCKET_KEY,
    header::SEC_WEBSOCKET_PROTOCOL,
];

/// The default for [`ConnectRequest::read_budget`].
pub const DEFAULT_READ_BUDGET: usize = 1024;

/// The default size of a connection's read buffer: how many bytes one
/// `recv` may take, and the buffer's starting capacity. tungstenite's own
/// default (128 KiB) is zero-filled on the first read, so every socket,
/// even an idle one, keeps 128 KiB resident; 2 KiB holds ~30 typical
/// Phoenix events (one `recv` for all of them in a burst) and keeps an idle
/// socket small (10,000 idle sockets in about 16 KB each). A frame larger
/// than the buffer grows it to the frame's size (up to the frame limit)
/// while that frame is read. Raise it with
/// [`ConnectRequest::websocket_config`] for a few sockets with heavy
/// traffic (fewer `recv` calls per burst).
pub const DEFAULT_READ_BUFFER_SIZE: usize = 2 * 1024;

/// The default cap on queued outgoing bytes (see [`ConnectRequest::websocket_config`]).
pub const DEFAULT_MAX_QUEUED_BYTES: usize = 16 << 20;

/// Everything the WebSocket upgrade request carries, and the connection's
/// limits.
///
/// Defaults: no extra headers, no subprotocols, and tungstenite's
/// [`WebSocketConfig`] defaults (16 MiB frames, 64 MiB messages) except the
/// output queue, capped at [`DEFAULT_MAX_QUEUED_BYTES`] instead of unbounded,
/// and the read buffer, [`DEFAULT_READ_BUFFER_SIZE`] instead of 128 KiB.
///
/// `Debug` hides secrets: secret query values, the values of secret headers
/// (`authorization`, `cookie`, `x-api-key`, ...), the token subprotocol.
///
/// # Examples
///
/// ```
/// use rig::transport::{ConnectRequest, WsUrl};
///
/// let request = ConnectRequest::new(WsUrl::parse("wss://example.com/socket/websocket?vsn=2.0.0")?)
///     .header("user-agent", "rig")
///     .subprotocol("phoenix");
/// assert_eq!(request.url().port(), 443);
/// # Ok::<(), rig::transport::Error>(())
/// ```
#[derive(Clone)]
pub struct ConnectRequest {
    url: WsUrl,
    headers: Vec<(String, String)>,
    subprotocols: Vec<String>,
    websocket: WebSocketConfig,
    read_budget: usize,
    local_addr: Option<std::net::IpAddr>,
}

impl std::fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<_> = self
            .headers
            .iter()
            .map(|(name, value)| (name, crate::redact::header_value(name, value)))
            .collect();
        let subprotocols: Vec<_> =
            self.subprotocols.iter().map(|p| crate::redact::subprotocol(p)).collect();
        f.debug_struct("ConnectRequest")
            .field("url", &self.url)
            .field("headers", &headers)
            .field("subprotocols", &subprotocols)
            .field("websocket", &self.websocket)
            .field("read_budget", &self.read_budget)
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl ConnectRequest {
    /// A request for `url` with the defaults above.
    ///
    /// # Examples
    ///
    /// ```
    /// let url = rig::transport::WsUrl::parse("ws://127.0.0.1:4000/socket/websocket")?;
    /// let request = rig::transport::ConnectRequest::new(url);
    /// assert_eq!(request.url().path_and_query(), "/socket/websocket");
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn new(url: WsUrl) -> Self {
        let websocket = WebSocketConfig::default()
            .max_write_buffer_size(DEFAULT_MAX_QUEUED_BYTES)
            .read_buffer_size(DEFAULT_READ_BUFFER_SIZE);
        Self {
            url,
            headers: Vec::new(),
            subprotocols: Vec::new(),
            websocket,
            read_budget: DEFAULT_READ_BUDGET,
            local_addr: None,
        }
    }

    /// Adds a header to the upgrade request (e.g. `origin`, `authorization`,
    /// `user-agent`); a repeated name sends the header twice. The WebSocket
    /// headers (`host`, `upgrade`, `connection`, `sec-websocket-*`) are set by
    /// the connection and must not be given.
    ///
    /// # Examples
    ///
    /// ```
    /// # let url = rig::transport::WsUrl::parse("ws://localhost")?;
    /// let _request = rig::transport::ConnectRequest::new(url).header("origin", "http://localhost");
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Offers a subprotocol (`Sec-WebSocket-Protocol`), in order of
    /// preference. Phoenix's token auth offers `phoenix` and
    /// `base64url.bearer.phx.<token>`. The server must pick one of them or none.
    ///
    /// # Examples
    ///
    /// ```
    /// # let url = rig::transport::WsUrl::parse("ws://localhost")?;
    /// let _request = rig::transport::ConnectRequest::new(url).subprotocol("phoenix");
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocols.push(protocol.into());
        self
    }

    /// Replaces the WebSocket limits: `max_frame_size` and `max_message_size`
    /// bound what the peer can make us buffer; `max_write_buffer_size` caps
    /// the output queue ([`SendError::Full`](super::SendError::Full) past it);
    /// `read_buffer_size` is the size of one socket read, allocated up front
    /// per connection ([`DEFAULT_READ_BUFFER_SIZE`] unless replaced here;
    /// tungstenite's own default is 128 KiB: keep it low when running
    /// thousands).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::transport::{ConnectRequest, WsUrl};
    /// use tungstenite::protocol::WebSocketConfig;
    ///
    /// let limits = WebSocketConfig::default()
    ///     .max_message_size(Some(1 << 20))
    ///     .max_frame_size(Some(1 << 20))
    ///     .max_write_buffer_size(4 << 20);
    /// let request = ConnectRequest::new(WsUrl::parse("ws://localhost")?).websocket_config(limits);
    /// assert_eq!(request.limits().max_message_size, Some(1 << 20));
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn websocket_config(mut self, config: WebSocketConfig) -> Self {
        self.websocket = config;
        self
    }

    /// The most messages one [`Connection::handle_ready`](super::Connection::handle_ready)
    /// call reads (at least 1; default [`DEFAULT_READ_BUDGET`]). When it
    /// runs out, [`Connection::wants_read`](super::Connection::wants_read)
    /// says to call again: the I/O thread serves its other connections in
    /// between.
    ///
    /// # Examples
    ///
    /// ```
    /// # let url = rig::transport::WsUrl::parse("ws://localhost")?;
    /// let request = rig::transport::ConnectRequest::new(url).read_budget(64);
    /// assert_eq!(request.read_budget_value(), 64);
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn read_budget(mut self, messages: usize) -> Self {
        self.read_budget = messages.max(1);
        self
    }

    /// The read budget in force.
    ///
    /// # Examples
    ///
    /// ```
    /// # let url = rig::transport::WsUrl::parse("ws://localhost")?;
    /// let request = rig::transport::ConnectRequest::new(url);
    /// assert_eq!(request.read_budget_value(), rig::transport::DEFAULT_READ_BUDGET);
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn read_budget_value(&self) -> usize {
        self.read_budget
    }

    /// Connects from this local address (any free port) instead of the one
    /// the system picks. Many sockets to one server run out of ephemeral
    /// ports (about 28,000 per source address); spreading them over
    /// 127.0.0.0/8 on loopback, or over the host's addresses, does not.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::{IpAddr, Ipv4Addr};
    /// # let url = rig::transport::WsUrl::parse("ws://127.0.0.1:4000/socket")?;
    /// let request = rig::transport::ConnectRequest::new(url).local_addr(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    /// assert_eq!(request.local_addr_value(), Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))));
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn local_addr(mut self, ip: std::net::IpAddr) -> Self {
        self.local_addr = Some(ip);
        self
    }

    /// The local address to connect from, if one was chosen.
    ///
    /// # Examples
    ///
    /// See [`local_addr`](Self::local_addr).
    #[must_use]
    pub fn local_addr_value(&self) -> Option<std::net::IpAddr> {
        self.local_addr
    }

    /// The URL to connect to.
    ///
    /// # Examples
    ///
    /// ```
    /// # let url = rig::transport::WsUrl::parse("ws://localhost")?;
    /// let request = rig::transport::ConnectRequest::new(url.clone());
    /// assert_eq!(request.url(), &url);
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn url(&self) -> &WsUrl {
        &self.url
    }

    /// The WebSocket limits in force.
    ///
    /// # Examples
    ///
    /// ```
    /// # let url = rig::transport::WsUrl::parse("ws://localhost")?;
    /// let request = rig::transport::ConnectRequest::new(url);
    /// assert_eq!(request.limits().max_write_buffer_size, rig::transport::DEFAULT_MAX_QUEUED_BYTES);
    /// # Ok::<(), rig::transport::Error>(())
    /// ```
    #[must_use]
    pub fn limits(&self) -> &WebSocketConfig {
        &self.websocket
    }

    /// The HTTP upgrade request tungstenite's client handshake writes.
    pub(crate) fn to_http(&self) -> Result<Request, Error> {
        let bad = |what: String| Error::BadRequest(what);
        let mut request = Request::builder()
            .method("GET")
            .uri(self.url.to_uri_string())
            .header(header::HOST, self.url.host_header())
            .header(header::CONNECTION, "Upgrade")
            .header(header::UPGRADE, "websocket")
            .header(header::SEC_WEBSOCKET_VERSION, "13")
            .header(header::SEC_WEBSOCKET_KEY, generate_key())
            .body(())
            .map_err(|e| bad(format!("url {}: {e}", self.url)))?;
        let headers = request.headers_mut();
        if !self.subprotocols.is_empty() {
            let offered = self.subprotocols.join(", ");
            let value = HeaderValue::from_str(&offered)
                .map_err(|_| bad(format!("invalid subprotocol in {offered:?}")))?;
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
        }
        for (name, value) in &self.headers {
            let header_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| bad(format!("invalid header name {name:?}")))?;
            if RESERVED_HEADERS.contains(&header_name) {
                return Err(bad(format!("header {name:?} is set by the connection")));
            }
            let header_value = HeaderValue::from_str(value)
                .map_err(|_| bad(format!("invalid value for header {name:?}")))?;
            headers.append(header_name, header_value);
        }
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> ConnectRequest {
        ConnectRequest::new(WsUrl::parse(url).unwrap())
    }

    #[test]
    fn upgrade_request_carries_url_headers_and_subprotocols() {
        let http = request("ws://[::1]:4000/socket/websocket?token=a%20b")
            .header("Origin", "http://localhost")
            .header("x-trace", "1")
            .header("x-trace", "2")
            .subprotocol("phoenix")
            .subprotocol("base64url.bearer.phx.abc")
            .to_http()
            .unwrap();
        assert_eq!(http.uri().path_and_query().unwrap().as_str(), "/socket/websocket?token=a%20b");
        let h = http.headers();
        assert_eq!(h["host"], "[::1]:4000");
        assert_eq!(h["origin"], "http://localhost");
        assert_eq!(h.get_all("x-trace").iter().count(), 2);
        assert_eq!(h["sec-websocket-protocol"], "phoenix, base64url.bearer.phx.abc");
        assert_eq!(h["sec-websocket-version"], "13");
        assert_eq!(h["sec-websocket-key"].len(), 24);
    }

    #[test]
    fn bad_or_reserved_headers_are_rejected() {
        let err = request("ws://h/").header("bad name", "x").to_http().unwrap_err();
        assert!(matches!(err, Error::BadRequest(m) if m.contains("bad name")));
        let err = request("ws://h/").header("x", "a\nb").to_http().unwrap_err();
        assert!(matches!(err, Error::BadRequest(_)));
        let err = request("ws://h/").header("Host", "evil").to_http().unwrap_err();
        assert!(matches!(err, Error::BadRequest(m) if m.contains("set by the connection")));
        let err = request("ws://h/").header("Sec-WebSocket-Protocol", "x").to_http().unwrap_err();
        assert!(matches!(err, Error::BadRequest(_)));
        let err = request("ws://h/").subprotocol("a\r\nb").to_http().unwrap_err();
        assert!(matches!(err, Error::BadRequest(_)));
    }

    #[test]
    fn output_queue_is_bounded_by_default() {
        assert_eq!(request("ws://h/").limits().max_write_buffer_size, DEFAULT_MAX_QUEUED_BYTES);
    }
}
