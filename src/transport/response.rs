//! The server's answer to a successful upgrade.

use tungstenite::handshake::client::Response;
use tungstenite::http::{HeaderMap, header};

/// The server's answer to a successful upgrade (status 101).
///
/// # Examples
///
/// ```
/// use rig::transport::HandshakeResponse;
/// use tungstenite::http::Response;
///
/// let response = Response::builder()
///     .status(101)
///     .header("sec-websocket-protocol", "phoenix")
///     .header("server", "cowboy")
///     .body(None)?;
/// let response = HandshakeResponse::from(response);
/// assert_eq!(response.subprotocol(), Some("phoenix"));
/// # Ok::<(), tungstenite::http::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct HandshakeResponse {
    status: u16,
    subprotocol: Option<String>,
    headers: HeaderMap,
}

impl From<Response> for HandshakeResponse {
    fn from(response: Response) -> Self {
        let subprotocol = response
            .headers()
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let status = response.status().as_u16();
        Self { status, subprotocol, headers: response.into_parts().0.headers }
    }
}

impl HandshakeResponse {
    /// The HTTP status: 101 (Switching Protocols) for a real handshake.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::HandshakeResponse;
    /// let response = tungstenite::http::Response::builder().status(101).body(None)?;
    /// assert_eq!(HandshakeResponse::from(response).status(), 101);
    /// # Ok::<(), tungstenite::http::Error>(())
    /// ```
    #[must_use]
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The subprotocol the server selected, if any (always one we offered).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::HandshakeResponse;
    /// let response = tungstenite::http::Response::builder().status(101).body(None)?;
    /// assert_eq!(HandshakeResponse::from(response).subprotocol(), None);
    /// # Ok::<(), tungstenite::http::Error>(())
    /// ```
    #[must_use]
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// All response headers.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::HandshakeResponse;
    /// let response =
    ///     tungstenite::http::Response::builder().status(101).header("server", "cowboy").body(None)?;
    /// assert_eq!(HandshakeResponse::from(response).headers()["server"], "cowboy");
    /// # Ok::<(), tungstenite::http::Error>(())
    /// ```
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}
