//! [`SessionConfig`] and its builder. Defaults are phoenix.js's.

use std::fmt;
use std::time::Duration;

use super::backoff::Backoff;
use super::serializer::{Serializer, V2Serializer};

mod builder;

pub use builder::SessionConfigBuilder;

/// Query parameters of the connect URL, in order.
pub(crate) type ParamsFn = Box<dyn FnMut() -> Vec<(String, String)> + Send>;
/// The auth token, read on every connect.
pub(crate) type TokenFn = Box<dyn FnMut() -> String + Send>;

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
    pub(crate) healthy_after: Duration,
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
                healthy_after: Duration::from_secs(5),
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
    /// forever, the default). A connection that opens but breaks before it
    /// proved healthy ([`healthy_after`](Self::healthy_after)) does not
    /// start the count over.
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

    /// How long a connection must stay open before it counts as healthy
    /// when no heartbeat or join reply proved it sooner (5 s). Only a
    /// healthy connection starts the reconnect backoff over; one that
    /// breaks before is a failed attempt (see
    /// [`max_reconnect_attempts`](Self::max_reconnect_attempts)).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = rig::protocol::SessionConfig::builder("ws://h/socket").build()?;
    /// assert_eq!(c.healthy_after().as_secs(), 5);
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    #[must_use]
    pub fn healthy_after(&self) -> Duration {
        self.healthy_after
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
            .field("endpoint", &crate::redact::url(&self.endpoint))
            .field("auth_token", &self.auth_token.as_ref().map(|_| "<fn>"))
            .field("serializer", &self.serializer)
            .field("timeout", &self.timeout)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("heartbeat_timeout", &self.heartbeat_timeout())
            .field("reconnect", &self.reconnect)
            .field("rejoin", &self.rejoin)
            .field("seed", &self.seed)
            .field("max_reconnect_attempts", &self.max_reconnect_attempts)
            .field("healthy_after", &self.healthy_after)
            .field("join_errors_fatal", &self.join_errors_fatal)
            .finish_non_exhaustive()
    }
}
