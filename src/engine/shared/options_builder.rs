//! [`SocketOptionsBuilder`]: phoenix.js socket options as consuming setters.

use std::time::Duration;

use super::options::SocketOptions;
use crate::protocol::{Backoff, ConfigError, Serializer, SessionConfigBuilder};
use crate::transport::{TlsConnector, WebSocketConfig};

/// Builds [`SocketOptions`]; setters consume and return the builder.
///
/// # Examples
///
/// See [`SocketOptions`]. `Debug` hides the values of secret headers.
#[must_use]
pub struct SocketOptionsBuilder {
    pub(crate) session: SessionConfigBuilder,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) connect_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) tls: Option<TlsConnector>,
    pub(crate) websocket: Option<WebSocketConfig>,
    pub(crate) read_budget: usize,
    pub(crate) local_addr: Option<std::net::IpAddr>,
    pub(crate) retry_refused: bool,
    pub(crate) retry_certificate_errors: bool,
    pub(crate) outbox: Option<super::outbox::OutboxSource>,
}

impl SocketOptionsBuilder {
    /// Connect params (`?k=v&...` before `vsn`), e.g. a token.
    ///
    /// # Examples
    ///
    /// See [`SocketOptions`].
    pub fn params<K, V>(self, params: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.session(|s| s.params(params))
    }

    /// Connect params computed on every connect and reconnect (on the I/O
    /// thread: keep it quick; a panic in it is caught and sends no params).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket")
    ///     .params_fn(|| vec![("token".to_owned(), "fresh".to_owned())]);
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn params_fn(
        self,
        mut params: impl FnMut() -> Vec<(String, String)> + Send + 'static,
    ) -> Self {
        self.session(|s| {
            s.params_fn(move || super::guard::call_or("params", Vec::new, &mut params))
        })
    }

    /// An auth token, sent in the `base64url.bearer.phx.` subprotocol
    /// (offered after `phoenix`). A server that answers no subprotocol is
    /// accepted (RFC 6455; Phoenix 1.7, and 1.8 without `auth_token: true`,
    /// answer none), one that names a subprotocol not offered is not.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").auth_token("t0k3n");
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn auth_token(self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.session(|s| s.auth_token(token))
    }

    /// An auth token read on every connect and reconnect (on the I/O
    /// thread: keep it quick; a panic in it is caught and sends an empty
    /// token).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").auth_token_fn(|| "fresh".to_owned());
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn auth_token_fn(self, mut token: impl FnMut() -> String + Send + 'static) -> Self {
        self.session(|s| {
            s.auth_token_fn(move || super::guard::call_or("auth token", String::new, &mut token))
        })
    }

    /// The push, join and leave timeout (default 10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").timeout(std::time::Duration::from_secs(3));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn timeout(self, timeout: Duration) -> Self {
        self.session(|s| s.timeout(timeout))
    }

    /// The heartbeat interval (default 30 s).
    ///
    /// # Examples
    ///
    /// See [`SocketOptions`].
    pub fn heartbeat_interval(self, interval: Duration) -> Self {
        self.session(|s| s.heartbeat_interval(interval))
    }

    /// How long a heartbeat may go unanswered (default: the interval).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").heartbeat_timeout(std::time::Duration::from_secs(5));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn heartbeat_timeout(self, timeout: Duration) -> Self {
        self.session(|s| s.heartbeat_timeout(timeout))
    }

    /// The reconnect schedule (default: phoenix.js's, 10 ms … 5 s).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Backoff, Jitter};
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").reconnect_backoff(Backoff::reconnect().jitter(Jitter::Full));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn reconnect_backoff(self, backoff: Backoff) -> Self {
        self.session(|s| s.reconnect_backoff(backoff))
    }

    /// The channel rejoin schedule (default: phoenix.js's, 1 s … 10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::Backoff;
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").rejoin_backoff(Backoff::constant(std::time::Duration::from_millis(100)));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn rejoin_backoff(self, backoff: Backoff) -> Self {
        self.session(|s| s.rejoin_backoff(backoff))
    }

    /// The jitter seed (give every socket its own).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").seed(7);
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn seed(self, seed: u64) -> Self {
        self.session(|s| s.seed(seed))
    }

    /// Gives up after this many failed reconnects in a row (default: never).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").max_reconnect_attempts(Some(5));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn max_reconnect_attempts(self, attempts: Option<u32>) -> Self {
        self.session(|s| s.max_reconnect_attempts(attempts))
    }

    /// How long a connection must stay open to count as healthy when no
    /// heartbeat or join reply proved it sooner (default 5 s); only then
    /// does the reconnect backoff start over, so a server that breaks every
    /// connection after the upgrade counts toward `max_reconnect_attempts`.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").healthy_after(std::time::Duration::from_secs(2));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn healthy_after(self, after: Duration) -> Self {
        self.session(|s| s.healthy_after(after))
    }

    /// Closes a channel on a join `error` reply instead of rejoining.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").join_errors_fatal(true);
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn join_errors_fatal(self, fatal: bool) -> Self {
        self.session(|s| s.join_errors_fatal(fatal))
    }

    /// The wire format (default V2 JSON).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").serializer(rig::protocol::V1Serializer::default());
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn serializer(self, serializer: impl Serializer + 'static) -> Self {
        self.session(|s| s.serializer(serializer))
    }

    /// Any other session setting, on the underlying [`SessionConfigBuilder`].
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").session(|s| s.seed(1));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn session(mut self, f: impl FnOnce(SessionConfigBuilder) -> SessionConfigBuilder) -> Self {
        self.session = f(self.session);
        self
    }

    /// An extra header on the upgrade request (e.g. `Origin`, a cookie).
    ///
    /// # Examples
    ///
    /// See [`SocketOptions`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The time one connect attempt may take, DNS to upgrade (default 10 s).
    ///
    /// # Examples
    ///
    /// See [`SocketOptions`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a close handshake may take before the socket is dropped
    /// (default 3 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").close_timeout(std::time::Duration::from_secs(1));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// The TLS connector for `wss://` (default: the engine's).
    ///
    /// # Examples
    ///
    /// ```
    /// let tls = rig::transport::TlsConfig::new().build()?;
    /// let b = rig::engine::SocketOptions::builder("wss://example.org/socket").tls(tls);
    /// # b.build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tls(mut self, tls: TlsConnector) -> Self {
        self.tls = Some(tls);
        self
    }

    /// WebSocket limits (message and frame sizes, output queue cap).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::transport::WebSocketConfig;
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket")
    ///     .websocket(WebSocketConfig::default().max_message_size(Some(1 << 20)));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn websocket(mut self, config: WebSocketConfig) -> Self {
        self.websocket = Some(config);
        self
    }

    /// Most WebSocket messages read from this socket per readiness turn, so
    /// one busy socket does not starve the others (default 1 024).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").read_budget(64);
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn read_budget(mut self, messages: usize) -> Self {
        self.read_budget = messages.max(1);
        self
    }

    /// Whether a refused upgrade (HTTP 401/403: bad credentials) is retried
    /// with backoff like any failure (default `false`: reported as
    /// [`Status::AuthFailed`](crate::engine::Status::AuthFailed), then the socket
    /// waits for [`Socket::connect`](crate::engine::Socket::connect)).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("ws://h/socket").retry_refused(true);
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn retry_refused(mut self, retry: bool) -> Self {
        self.retry_refused = retry;
        self
    }

    /// Whether an invalid server certificate is retried with backoff
    /// (default `false`: reported once as [`Status::Failed`](crate::engine::Status::Failed),
    /// then the socket stops).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::engine::SocketOptions::builder("wss://h/socket").retry_certificate_errors(true);
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn retry_certificate_errors(mut self, retry: bool) -> Self {
        self.retry_certificate_errors = retry;
        self
    }

    /// Checks the endpoint and returns the options.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidEndpoint`] for anything but an absolute `ws://`
    /// or `wss://` URL without query or fragment.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::engine::SocketOptions::builder("http://h/socket").build().is_err());
    /// ```
    pub fn build(self) -> Result<SocketOptions, ConfigError> {
        Ok(SocketOptions {
            session: self.session.build()?,
            headers: self.headers,
            connect_timeout: self.connect_timeout,
            close_timeout: self.close_timeout,
            tls: self.tls,
            websocket: self.websocket,
            read_budget: self.read_budget,
            local_addr: self.local_addr,
            retry_refused: self.retry_refused,
            retry_certificate_errors: self.retry_certificate_errors,
            outbox: self.outbox,
        })
    }

    /// Gives the socket a persistent outbox in the SQLite file at `path`
    /// (created if missing; default [`Limits`](crate::outbox::Limits)) for
    /// [`Channel::push_durable`](crate::engine::Channel::push_durable). The file is
    /// opened by [`Engine::socket`](crate::engine::Engine::socket), which fails with
    /// [`EngineError::Outbox`](crate::engine::EngineError::Outbox) if it is corrupt
    /// or used by another process. One file per socket. Default: none.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("rig-opt-outbox-{}.db", std::process::id()));
    /// let options = rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").outbox(&path).build()?;
    /// # let _ = options;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[cfg(feature = "outbox")]
    pub fn outbox(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.outbox = Some(super::outbox::OutboxSource::Path(path.into()));
        self
    }

    /// Gives the socket this outbox (any [`Outbox`](crate::outbox::Outbox):
    /// a [`MemoryOutbox`](crate::outbox::MemoryOutbox), a
    /// [`SqliteOutbox`](crate::outbox::SqliteOutbox) with its own limits, a
    /// store of your own). Use one store per socket. Default: none.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rig::outbox::{Limits, MemoryOutbox};
    /// let store = Arc::new(MemoryOutbox::new(Limits::default().max_entries(100)));
    /// let options = rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").outbox_with(store).build()?;
    /// # let _ = options;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn outbox_with(mut self, store: std::sync::Arc<dyn crate::outbox::Outbox>) -> Self {
        self.outbox = Some(super::outbox::OutboxSource::Store(store));
        self
    }
}
