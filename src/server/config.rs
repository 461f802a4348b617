//! [`ServerConfig`] and its builder.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::http::vsn_matches;
use super::push_log::PushLog;
use super::tls::TlsConfig;
use crate::protocol::{ServerSerializer, V1Serializer, V2Serializer};

/// The default largest message from a client: Bandit's `max_frame_size`
/// default, so a push real Phoenix takes is taken here too.
const DEFAULT_MAX_FRAME: usize = 8_000_000;
/// The default unsent bytes per client: room for a reply echoing the
/// largest message twice over.
const DEFAULT_MAX_OUTGOING: usize = 16 << 20;

/// How the embedded server listens and what it accepts.
///
/// Built with [`ServerConfig::builder`]; every setting has a default.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::server::ServerConfig;
///
/// let config = ServerConfig::builder().token("secret").idle_timeout(Duration::from_secs(5)).build();
/// assert_eq!(config.token(), Some("secret"));
/// assert_eq!(config.idle_timeout(), Duration::from_secs(5));
/// assert_eq!(config.addr().to_string(), "127.0.0.1:0");
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    addr: SocketAddr,
    token: Option<String>,
    tls: Option<TlsConfig>,
    idle_timeout: Duration,
    max_frame: usize,
    max_outgoing: usize,
    serializers: Vec<Arc<dyn ServerSerializer>>,
    push_log: Arc<PushLog>,
}

impl ServerConfig {
    /// A builder with the defaults: `127.0.0.1:0`, no token, no TLS, idle
    /// timeout 60 s, messages up to 8,000,000 bytes (as Phoenix on Bandit),
    /// 16 MiB of unsent data per client.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::server::ServerConfig::builder().build();
    /// assert!(config.token().is_none() && config.tls().is_none());
    /// ```
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder {
            config: Self {
                addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                token: None,
                tls: None,
                idle_timeout: Duration::from_secs(60),
                max_frame: DEFAULT_MAX_FRAME,
                max_outgoing: DEFAULT_MAX_OUTGOING,
                // Frame size is limited by the WebSocket layer (`max_frame`).
                serializers: vec![
                    Arc::new(V2Serializer::with_max_frame(usize::MAX)),
                    Arc::new(V1Serializer::with_max_frame(usize::MAX)),
                ],
                push_log: Arc::default(),
            },
        }
    }

    /// The address to listen on (port 0 picks a free port).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::server::ServerConfig::builder().addr(([127, 0, 0, 1], 4000).into()).build();
    /// assert_eq!(config.addr().port(), 4000);
    /// ```
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token clients must present, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::server::ServerConfig::builder().build().token(), None);
    /// ```
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The TLS identity, when the server speaks `wss://`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::server::ServerConfig::builder().build().tls().is_none());
    /// ```
    #[must_use]
    pub fn tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref()
    }

    /// How long a connection may stay silent before it is closed with 1002.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(rig::server::ServerConfig::builder().build().idle_timeout(), Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The largest WebSocket message accepted from a client, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::server::ServerConfig::builder().build().max_frame(), 8_000_000);
    /// ```
    #[must_use]
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// The serializer answering to a requested `vsn`, matched as Phoenix
    /// does (`~> 2.0.0`: same major and minor, any later patch).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::server::ServerConfig::builder().build();
    /// assert_eq!(config.serializer_for("2.0.0").map(|s| s.vsn()), Some("2.0.0"));
    /// assert!(config.serializer_for("3.0.0").is_none());
    /// ```
    #[must_use]
    pub fn serializer_for(&self, vsn: &str) -> Option<&Arc<dyn ServerSerializer>> {
        self.serializers.iter().find(|s| vsn_matches(vsn, s.vsn()))
    }

    /// How many bytes may wait unsent for one client before it is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::server::ServerConfig::builder().build().max_outgoing(), 16 << 20);
    /// ```
    #[must_use]
    pub fn max_outgoing(&self) -> usize {
        self.max_outgoing
    }

    /// Where the `inbox:*` channels record pushes: the log given to
    /// [`ServerConfigBuilder::push_log`], or one of this configuration's own.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::server::ServerConfig::builder().build();
    /// assert_eq!(config.push_log().recorded(), 0);
    /// ```
    #[must_use]
    pub fn push_log(&self) -> &Arc<PushLog> {
        &self.push_log
    }
}

/// Builds a [`ServerConfig`]; each setter consumes and returns the builder.
///
/// # Examples
///
/// ```
/// let config = rig::server::ServerConfig::builder().max_frame(64 * 1024).build();
/// assert_eq!(config.max_frame(), 64 * 1024);
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ServerConfigBuilder {
    config: ServerConfig,
}

impl ServerConfigBuilder {
    /// The address to listen on. Default `127.0.0.1:0` (a free port).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rig::server::ServerConfig::builder().addr("127.0.0.1:0".parse().unwrap());
    /// assert_eq!(b.build().addr().port(), 0);
    /// ```
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.config.addr = addr;
        self
    }

    /// Require this token: as the `token` query parameter or the
    /// `base64url.bearer.phx.<base64>` subprotocol. Default: none required.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::server::ServerConfig::builder().token("t0k").build();
    /// assert_eq!(config.token(), Some("t0k"));
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.config.token = Some(token.into());
        self
    }

    /// Serve `wss://` with this identity. Default: plain `ws://`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use rig::server::{ServerConfig, TlsConfig};
    /// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
    /// let config = ServerConfig::builder().tls(tls).build();
    /// assert!(config.tls().is_some());
    /// # Ok::<(), rig::server::Error>(())
    /// ```
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.config.tls = Some(tls);
        self
    }

    /// Close connections that sent nothing for this long, with code 1002 (as
    /// Bandit does). Default 60 s.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = rig::server::ServerConfig::builder().idle_timeout(Duration::from_secs(2)).build();
    /// assert_eq!(config.idle_timeout(), Duration::from_secs(2));
    /// ```
    pub fn idle_timeout(mut self, idle_timeout: Duration) -> Self {
        self.config.idle_timeout = idle_timeout;
        self
    }

    /// The largest WebSocket message accepted from a client; a larger one
    /// closes that connection with 1009. Default 8,000,000 bytes, Bandit's
    /// `max_frame_size` default (what real Phoenix accepts).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::server::ServerConfig::builder().max_frame(4096).build();
    /// assert_eq!(config.max_frame(), 4096);
    /// ```
    pub fn max_frame(mut self, max_frame: usize) -> Self {
        self.config.max_frame = max_frame.max(1);
        self
    }

    /// How many bytes may wait unsent for one client (one that does not read)
    /// before the server drops it. Default 16 MiB: twice the default
    /// message limit, so the reply echoing the largest message fits.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::server::ServerConfig::builder().max_outgoing(1 << 20).build();
    /// assert_eq!(config.max_outgoing(), 1 << 20);
    /// ```
    pub fn max_outgoing(mut self, max_outgoing: usize) -> Self {
        self.config.max_outgoing = max_outgoing.max(1);
        self
    }

    /// Also answer clients asking for `serializer.vsn()` (replacing any
    /// serializer with the same `vsn`). Default: V2 and V1, as Phoenix; a `vsn` no
    /// serializer answers to is refused with 403, as Phoenix does.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rig::protocol::V2Serializer;
    /// let config = rig::server::ServerConfig::builder()
    ///     .serializer(Arc::new(V2Serializer::with_max_frame(4096)))
    ///     .build();
    /// assert!(config.serializer_for("2.0.0").is_some());
    /// ```
    pub fn serializer(mut self, serializer: Arc<dyn ServerSerializer>) -> Self {
        self.config.serializers.retain(|s| s.vsn() != serializer.vsn());
        self.config.serializers.push(serializer);
        self
    }

    /// Record `inbox:*` pushes in this log. Give the same `Arc` to the next
    /// server to keep the deduplication across a server restart in one
    /// process. Default: a log of the configuration's own (clones of the
    /// configuration share it).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rig::server::{PushLog, ServerConfig};
    /// let log = Arc::new(PushLog::new());
    /// let config = ServerConfig::builder().push_log(Arc::clone(&log)).build();
    /// assert!(Arc::ptr_eq(config.push_log(), &log));
    /// ```
    pub fn push_log(mut self, push_log: Arc<PushLog>) -> Self {
        self.config.push_log = push_log;
        self
    }

    /// The finished configuration.
    ///
    /// # Examples
    ///
    /// ```
    /// let _config = rig::server::ServerConfig::builder().build();
    /// ```
    #[must_use]
    pub fn build(self) -> ServerConfig {
        self.config
    }
}
