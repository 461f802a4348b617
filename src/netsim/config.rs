//! How a proxy is set up: where it listens, where it forwards, its faults.

use std::net::{Ipv4Addr, SocketAddr};

use super::faults::Faults;

/// Default per-direction buffer of each connection.
const DEFAULT_BUFFER_LIMIT: usize = 64 * 1024;

/// The settings of a [`Proxy`](super::Proxy), built with [`ProxyConfig::builder`].
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use rig::netsim::ProxyConfig;
///
/// let upstream: SocketAddr = "127.0.0.1:4000".parse()?;
/// let config = ProxyConfig::builder(upstream).seed(7).build();
/// assert_eq!(config.upstream(), upstream);
/// assert_eq!(config.listen().to_string(), "127.0.0.1:0");
/// assert_eq!(config.seed(), 7);
/// assert_eq!(config.buffer_limit(), 64 * 1024);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    listen: SocketAddr,
    upstream: SocketAddr,
    faults: Faults,
    seed: u64,
    buffer_limit: usize,
}

impl ProxyConfig {
    /// Settings for a proxy in front of `upstream`, with the defaults below.
    ///
    /// # Examples
    ///
    /// ```
    /// let upstream = "127.0.0.1:4000".parse()?;
    /// let config = rig::netsim::ProxyConfig::builder(upstream).build();
    /// assert_eq!(config.faults(), &rig::netsim::Faults::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(upstream: SocketAddr) -> ProxyConfigBuilder {
        ProxyConfigBuilder {
            config: Self {
                listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                upstream,
                faults: Faults::default(),
                seed: 0,
                buffer_limit: DEFAULT_BUFFER_LIMIT,
            },
        }
    }

    /// The address to listen on.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::netsim::ProxyConfig::builder("127.0.0.1:1".parse()?).build();
    /// assert!(config.listen().ip().is_loopback());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// The address every accepted connection is forwarded to.
    ///
    /// # Examples
    ///
    /// ```
    /// let up = "127.0.0.1:1".parse()?;
    /// assert_eq!(rig::netsim::ProxyConfig::builder(up).build().upstream(), up);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// The faults at start.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::netsim::{Faults, ProxyConfig};
    /// let faults = Faults::default().refuse(true);
    /// let config = ProxyConfig::builder("127.0.0.1:1".parse()?).faults(faults).build();
    /// assert!(config.faults().is_refusing());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The seed of every random choice (see [`Schedule`](super::Schedule)).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::netsim::ProxyConfig::builder("127.0.0.1:1".parse()?).build();
    /// assert_eq!(config.seed(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn seed(&self) -> u64 {
        self.seed
    }

    /// The most bytes held per connection and direction.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::netsim::ProxyConfig::builder("127.0.0.1:1".parse()?).buffer_limit(0).build();
    /// assert_eq!(config.buffer_limit(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn buffer_limit(&self) -> usize {
        self.buffer_limit
    }
}

/// Builds a [`ProxyConfig`]; every setting has a default.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::netsim::{DirectionFaults, Faults, ProxyConfig};
///
/// let config = ProxyConfig::builder("127.0.0.1:4000".parse()?)
///     .listen("127.0.0.1:0".parse()?)
///     .faults(Faults::default().both(DirectionFaults::default().latency(Duration::from_millis(5))))
///     .seed(42)
///     .buffer_limit(16 * 1024)
///     .build();
/// assert_eq!(config.buffer_limit(), 16 * 1024);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ProxyConfigBuilder {
    config: ProxyConfig,
}

impl ProxyConfigBuilder {
    /// Where to listen (default `127.0.0.1:0`: a free port, see
    /// [`ProxyHandle::local_addr`](super::ProxyHandle::local_addr)).
    ///
    /// # Examples
    ///
    /// ```
    /// let addr = "127.0.0.1:0".parse()?;
    /// let config = rig::netsim::ProxyConfig::builder("127.0.0.1:1".parse()?).listen(addr).build();
    /// assert_eq!(config.listen(), addr);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn listen(mut self, addr: SocketAddr) -> Self {
        self.config.listen = addr;
        self
    }

    /// The faults at start (default none); change them later with
    /// [`ProxyHandle::set_faults`](super::ProxyHandle::set_faults).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::netsim::{DirectionFaults, Faults, ProxyConfig};
    /// let faults = Faults::default().both(DirectionFaults::default().slice(1));
    /// let config = ProxyConfig::builder("127.0.0.1:1".parse()?).faults(faults).build();
    /// assert_eq!(config.faults(), &faults);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn faults(mut self, faults: Faults) -> Self {
        self.config.faults = faults;
        self
    }

    /// The seed of every random choice (default 0). Print it with the
    /// results so a run can be repeated.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::netsim::ProxyConfig::builder("127.0.0.1:1".parse()?).seed(99).build();
    /// assert_eq!(config.seed(), 99);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// The most bytes held per connection and direction (default 64 KiB,
    /// at least 1). When it is full the proxy stops reading from that
    /// source, so the sender feels TCP backpressure instead of the proxy
    /// growing.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::netsim::ProxyConfig::builder("127.0.0.1:1".parse()?)
    ///     .buffer_limit(4096)
    ///     .build();
    /// assert_eq!(config.buffer_limit(), 4096);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub const fn buffer_limit(mut self, bytes: usize) -> Self {
        self.config.buffer_limit = if bytes == 0 { 1 } else { bytes };
        self
    }

    /// The finished settings.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = rig::netsim::ProxyConfig::builder("127.0.0.1:1".parse()?).build();
    /// # let _ = config;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn build(self) -> ProxyConfig {
        self.config
    }
}
