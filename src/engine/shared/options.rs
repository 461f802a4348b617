//! [`SocketOptions`]: one Phoenix socket, the session settings plus what the
//! I/O thread needs (headers, timeouts, TLS, limits, failure policy).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use super::options_builder::SocketOptionsBuilder;
use crate::protocol::SessionConfig;
use crate::redact;
use crate::transport::{DEFAULT_READ_BUDGET, TlsConnector, WebSocketConfig};

/// One Phoenix socket: the [`SessionConfig`] (phoenix.js options) plus the
/// transport settings the I/O thread applies.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::engine::SocketOptions;
///
/// let options = SocketOptions::builder("ws://127.0.0.1:4000/socket")
///     .params([("token", "secret")])
///     .heartbeat_interval(Duration::from_secs(15))
///     .header("x-client", "rig")
///     .connect_timeout(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(options.session().endpoint(), "ws://127.0.0.1:4000/socket");
/// assert_eq!(options.connect_timeout(), Duration::from_secs(5));
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
///
/// `Debug` hides the values of secret headers (`authorization`, `cookie`,
/// `x-api-key`, ...: see [`crate::redact`]).
pub struct SocketOptions {
    pub(crate) session: SessionConfig,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) connect_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) tls: Option<TlsConnector>,
    pub(crate) websocket: Option<WebSocketConfig>,
    pub(crate) read_budget: usize,
    pub(crate) local_addr: Option<std::net::IpAddr>,
    pub(crate) retry_refused: bool,
    pub(crate) retry_certificate_errors: bool,
    /// The durable pushes' outbox, opened by `Engine::socket`.
    pub(crate) outbox: Option<super::outbox::OutboxSource>,
}

impl SocketOptions {
    /// A builder for a socket to `endpoint` (an absolute `ws://` or
    /// `wss://` URL such as `ws://127.0.0.1:4000/socket`; `/websocket` and
    /// `vsn` are appended). Every setting has the phoenix.js default.
    ///
    /// # Examples
    ///
    /// See [`SocketOptions`].
    pub fn builder(endpoint: impl Into<String>) -> SocketOptionsBuilder {
        SocketOptionsBuilder {
            session: SessionConfig::builder(endpoint),
            headers: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(3),
            tls: None,
            websocket: None,
            read_budget: DEFAULT_READ_BUDGET,
            local_addr: None,
            retry_refused: false,
            retry_certificate_errors: false,
            outbox: None,
        }
    }

    /// Options around a ready-made session config.
    ///
    /// # Examples
    ///
    /// ```
    /// let session = rig::protocol::SessionConfig::builder("ws://h/socket").build()?;
    /// let options = rig::engine::SocketOptions::from_session(session);
    /// assert_eq!(options.session().endpoint(), "ws://h/socket");
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn from_session(session: SessionConfig) -> Self {
        Self {
            session,
            headers: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(3),
            tls: None,
            websocket: None,
            read_budget: DEFAULT_READ_BUDGET,
            local_addr: None,
            retry_refused: false,
            retry_certificate_errors: false,
            outbox: None,
        }
    }

    /// The session settings.
    ///
    /// # Examples
    ///
    /// See [`SocketOptions`].
    #[must_use]
    pub fn session(&self) -> &SessionConfig {
        &self.session
    }

    /// The time one connect attempt (TCP, TLS and upgrade) may take (10 s).
    ///
    /// # Examples
    ///
    /// See [`SocketOptions`].
    #[must_use]
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    pub(crate) fn is_secure(&self) -> bool {
        self.session.endpoint().get(..4).is_some_and(|s| s.eq_ignore_ascii_case("wss:"))
    }
}

/// Headers as `Debug` may show them: secret values hidden.
fn shown_headers(headers: &[(String, String)]) -> Vec<(&str, Cow<'_, str>)> {
    headers.iter().map(|(name, value)| (name.as_str(), redact::header_value(name, value))).collect()
}

/// `Debug` for the options and their builder, which hold the same fields:
/// everything shown, secret header values hidden.
macro_rules! debug_options {
    ($type:ty, $name:literal) => {
        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct($name)
                    .field("session", &self.session)
                    .field("headers", &shown_headers(&self.headers))
                    .field("connect_timeout", &self.connect_timeout)
                    .field("close_timeout", &self.close_timeout)
                    .field("tls", &self.tls)
                    .field("websocket", &self.websocket)
                    .field("read_budget", &self.read_budget)
                    .field("local_addr", &self.local_addr)
                    .field("retry_refused", &self.retry_refused)
                    .field("retry_certificate_errors", &self.retry_certificate_errors)
                    .field("outbox", &self.outbox)
                    .finish()
            }
        }
    };
}

debug_options!(SocketOptions, "SocketOptions");
debug_options!(SocketOptionsBuilder, "SocketOptionsBuilder");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secret_headers_and_userinfo() {
        let builder = SocketOptions::builder("ws://ann:pw-1@h/socket")
            .header("authorization", "Bearer tok-1")
            .header("cookie", "sid=ck-1")
            .header("x-api-key", "key-1")
            .header("origin", "http://h");
        let shown = format!("{builder:?}");
        for secret in ["pw-1", "tok-1", "ck-1", "key-1"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("http://h"), "{shown}");
        let shown = format!("{:?}", builder.build().unwrap());
        for secret in ["pw-1", "tok-1", "ck-1", "key-1"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
