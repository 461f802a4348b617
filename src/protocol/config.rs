//! [`SessionConfig`] and its builder. Defaults are phoenix.js's.

use std::fmt;
use std::time::Duration;

use super::backoff::Backoff;
use super::serializer::{Serializer, V2Serializer};
use super::session::ConfigError;
use super::url;

/// Query parameters of the connect URL, in order.
type ParamsFn = Box<dyn FnMut() -> Vec<(String, String)> + Send>;
/// The auth token, read on every connect.
type TokenFn = Box<dyn FnMut() -> String + Send>;

/// The settings of one [`Session`](super::Session).
///
/// Build it with [`SessionConfig::builder`]; every setting has the phoenix.js
/// default unless set.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::protocol::SessionConfig;
///
/// let config = SessionConfig::builder("ws://127.0.0.1:4000/socket")
///     .params([("token", "secret")])
///     .heartbeat_interval(Duration::from_secs(15))
///     .build()?;
/// assert_eq!(config.timeout(), Duration::from_secs(10));
/// assert_eq!(config.heartbeat_timeout(), Duration::from_secs(15));
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
pub struct SessionConfig {
    pub(crate) endpoint: String,
    pub(crate) params: ParamsFn,
    pub(crate) auth_token: Option<TokenFn>,
    pub(crate) serializer: Box<dyn Serializer>,
    pub(crate) timeout: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) heartbeat_timeout: Option<Duration>,
    pub(crate) reconnect: Backoff,
    pub(crate) rejoin: Backoff,
    pub(crate) seed: u64,
    pub(crate) max_reconnect_attempts: Option<u32>,
    pub(crate) join_errors_fatal: bool,
}

impl SessionConfig {
    /// A builder for a session that connects to `endpoint`, an absolute
    /// `ws://` or `wss://` URL such as `ws://127.0.0.1:4000/socket` (the
    /// session appends `/websocket`).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::protocol::SessionConfig::builder("wss://example.org/socket").build()?;
    /// assert_eq!(config.endpoint(), "wss://example.org/socket");
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn builder(endpoint: impl Into<String>) -> SessionConfigBuilder {
        SessionConfigBuilder {
            config: Self {
                endpoint: endpoint.into(),
                params: Box::new(Vec::new),
                auth_token: None,
                serializer: Box::new(V2Serializer::default()),
                timeout: Duration::from_secs(10),
                heartbeat_interval: Duration::from_secs(30),
                heartbeat_timeout: None,
                reconnect: Backoff::reconnect(),
                rejoin: Backoff::rejoin(),
                seed: 0,
                max_reconnect_attempts: None,
                join_errors_fatal: false,
            },
        }
    }

    /// The endpoint, without a trailing `/`.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket/").build()?;
    /// assert_eq!(c.endpoint(), "ws://h/socket");
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The default push, join and leave timeout (10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket").build()?;
    /// assert_eq!(c.timeout().as_millis(), 10_000);
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The time from a heartbeat reply to the next heartbeat (30 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket").build()?;
    /// assert_eq!(c.heartbeat_interval().as_secs(), 30);
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn heartbeat_interval(&self) -> Duration {
        self.heartbeat_interval
    }

    /// How long a heartbeat may stay unanswered before the connection is
    /// declared dead (default: the heartbeat interval).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket")
    ///     .heartbeat_timeout(Duration::from_secs(5))
    ///     .build()?;
    /// assert_eq!(c.heartbeat_timeout(), Duration::from_secs(5));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn heartbeat_timeout(&self) -> Duration {
        self.heartbeat_timeout.unwrap_or(self.heartbeat_interval)
    }

    /// The socket reconnect schedule.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket").build()?;
    /// assert_eq!(c.reconnect_backoff(), &rig::protocol::Backoff::reconnect());
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn reconnect_backoff(&self) -> &Backoff {
        &self.reconnect
    }

    /// The channel rejoin schedule.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket").build()?;
    /// assert_eq!(c.rejoin_backoff(), &rig::protocol::Backoff::rejoin());
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn rejoin_backoff(&self) -> &Backoff {
        &self.rejoin
    }

    /// The jitter seed.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket").seed(9).build()?;
    /// assert_eq!(c.seed(), 9);
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many reconnects in a row are tried before giving up (`None` =
    /// forever, the default).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket").build()?;
    /// assert_eq!(c.max_reconnect_attempts(), None);
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn max_reconnect_attempts(&self) -> Option<u32> {
        self.max_reconnect_attempts
    }

    /// Whether a join `error` reply closes the channel instead of backing
    /// off and rejoining (default `false`, as phoenix.js).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket").join_errors_fatal(true).build()?;
    /// assert!(c.join_errors_fatal());
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn join_errors_fatal(&self) -> bool {
        self.join_errors_fatal
    }

    /// The serializer; its [`vsn`](Serializer::vsn) goes in the URL.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket").build()?;
    /// assert_eq!(c.serializer().vsn(), "2.0.0");
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn serializer(&self) -> &dyn Serializer {
        &*self.serializer
    }
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("endpoint", &self.endpoint)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "<fn>"))
            .field("serializer", &self.serializer)
            .field("timeout", &self.timeout)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("heartbeat_timeout", &self.heartbeat_timeout())
            .field("reconnect", &self.reconnect)
            .field("rejoin", &self.rejoin)
            .field("seed", &self.seed)
            .field("max_reconnect_attempts", &self.max_reconnect_attempts)
            .field("join_errors_fatal", &self.join_errors_fatal)
            .finish_non_exhaustive()
    }
}

/// Builds a [`SessionConfig`]; setters consume and return the builder.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::protocol::{Backoff, Jitter, SessionConfig};
///
/// let config = SessionConfig::builder("ws://127.0.0.1:4000/socket")
///     .auth_token("s3cr3t")
///     .timeout(Duration::from_secs(5))
///     .reconnect_backoff(Backoff::reconnect().jitter(Jitter::Full))
///     .seed(42)
///     .max_reconnect_attempts(Some(20))
///     .build()?;
/// assert_eq!(config.max_reconnect_attempts(), Some(20));
/// # Ok::<(), rig::protocol::ConfigError>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct SessionConfigBuilder {
    config: SessionConfig,
}

impl SessionConfigBuilder {
    /// Fixed connect params, sent as `?k=v&...` before `vsn`.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").params([("token", "secret")]);
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn params<K, V>(self, params: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let params: Vec<(String, String)> =
            params.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        self.params_fn(move || params.clone())
    }

    /// Connect params computed on every connect and reconnect (phoenix.js
    /// `params` as a function), e.g. to refresh a token.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut n = 0;
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").params_fn(move || {
    ///     n += 1;
    ///     vec![("attempt".to_owned(), n.to_string())]
    /// });
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn params_fn(
        mut self,
        params: impl FnMut() -> Vec<(String, String)> + Send + 'static,
    ) -> Self {
        self.config.params = Box::new(params);
        self
    }

    /// A fixed auth token, sent as the subprotocol
    /// `base64url.bearer.phx.<base64>` next to `phoenix`.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").auth_token("t0k3n");
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn auth_token(self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.auth_token_fn(move || token.clone())
    }

    /// An auth token read on every connect and reconnect.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").auth_token_fn(|| "fresh".to_owned());
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn auth_token_fn(mut self, token: impl FnMut() -> String + Send + 'static) -> Self {
        self.config.auth_token = Some(Box::new(token));
        self
    }

    /// The wire format (default [`V2Serializer`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{SessionConfig, V2Serializer};
    /// let b = SessionConfig::builder("ws://h/socket").serializer(V2Serializer::with_max_frame(1 << 20));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn serializer(mut self, serializer: impl Serializer + 'static) -> Self {
        self.config.serializer = Box::new(serializer);
        self
    }

    /// The default push, join and leave timeout (default 10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").timeout(std::time::Duration::from_secs(3));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// The heartbeat interval (default 30 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").heartbeat_interval(std::time::Duration::from_secs(10));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.config.heartbeat_interval = interval;
        self
    }

    /// The heartbeat timeout (default: the heartbeat interval).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").heartbeat_timeout(std::time::Duration::from_secs(5));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.config.heartbeat_timeout = Some(timeout);
        self
    }

    /// The socket reconnect schedule (default [`Backoff::reconnect`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Backoff, SessionConfig};
    /// let b = SessionConfig::builder("ws://h/socket").reconnect_backoff(Backoff::constant(std::time::Duration::from_secs(1)));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn reconnect_backoff(mut self, backoff: Backoff) -> Self {
        self.config.reconnect = backoff;
        self
    }

    /// The channel rejoin schedule (default [`Backoff::rejoin`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{Backoff, Jitter, SessionConfig};
    /// let b = SessionConfig::builder("ws://h/socket").rejoin_backoff(Backoff::rejoin().jitter(Jitter::Decorrelated));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn rejoin_backoff(mut self, backoff: Backoff) -> Self {
        self.config.rejoin = backoff;
        self
    }

    /// The seed of the jitter generator (default 0). Give every session its
    /// own seed, or sessions with jitter still retry in step.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").seed(0x5eed);
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// Gives up after this many reconnect attempts in a row (`None`, the
    /// default, retries forever).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").max_reconnect_attempts(Some(5));
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn max_reconnect_attempts(mut self, attempts: Option<u32>) -> Self {
        self.config.max_reconnect_attempts = attempts;
        self
    }

    /// Closes a channel on a join `error` reply instead of rejoining with
    /// backoff (default `false`, as phoenix.js).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").join_errors_fatal(true);
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn join_errors_fatal(mut self, fatal: bool) -> Self {
        self.config.join_errors_fatal = fatal;
        self
    }

    /// Checks the settings and returns the config.
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidEndpoint`] when the endpoint is not an absolute
    /// `ws://` or `wss://` URL without query or fragment.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::protocol::SessionConfig::builder("/socket").build().is_err());
    /// ```
    pub fn build(mut self) -> Result<SessionConfig, ConfigError> {
        self.config.endpoint = url::validate_endpoint(&self.config.endpoint)?;
        Ok(self.config)
    }
}
