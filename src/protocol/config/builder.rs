//! [`SessionConfigBuilder`]: consuming setters with phoenix.js defaults.

use std::time::Duration;

use super::SessionConfig;
use crate::protocol::backoff::Backoff;
use crate::protocol::serializer::Serializer;
use crate::protocol::session::ConfigError;
use crate::protocol::url;

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
    pub(super) config: SessionConfig,
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

    /// The wire format (default [`V2Serializer`](crate::protocol::V2Serializer)).
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

    /// The wire format, already boxed (e.g. chosen at run time).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::{SessionConfig, Serializer, V2Serializer};
    /// let chosen: Box<dyn Serializer> = Box::new(V2Serializer::default());
    /// let b = SessionConfig::builder("ws://h/socket").boxed_serializer(chosen);
    /// # b.build()?;
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn boxed_serializer(mut self, serializer: Box<dyn Serializer>) -> Self {
        self.config.serializer = serializer;
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

    /// How long a connection must stay open to count as healthy when no
    /// heartbeat or join reply proved it sooner (default 5 s). The
    /// reconnect backoff starts over only on a healthy connection, so a
    /// server that accepts the upgrade and then breaks every connection is
    /// retried with growing delays, and each such cycle counts toward
    /// [`max_reconnect_attempts`](Self::max_reconnect_attempts).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = rig::protocol::SessionConfig::builder("ws://h/socket").healthy_after(Duration::from_secs(2));
    /// assert_eq!(b.build()?.healthy_after(), Duration::from_secs(2));
    /// # Ok::<(), rig::protocol::ConfigError>(())
    /// ```
    pub fn healthy_after(mut self, after: Duration) -> Self {
        self.config.healthy_after = after;
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
