//! OpenMetrics exposition for Prometheus: the engine's, each socket's, each
//! topic's and the embedded server's counters, rendered when scraped.
//!
//! A [`Metrics`] watches what it is given, weakly: an [`Engine`], its
//! [`Socket`]s (each under a name of your choosing, the `socket` label) and
//! [`Channel`]s (the `topic` label), and with the `server` feature a
//! [`ServerHandle`](crate::server::ServerHandle). Scraping reads the
//! lock-free counters the engine keeps anyway, so between scrapes metrics
//! cost nothing; [`Metrics::render`] writes OpenMetrics text,
//! [`Metrics::render_prometheus`] the older Prometheus text format, and
//! [`Metrics::serve`] answers `GET /metrics` with the one the scraper's
//! `Accept` header asks for, on a thread of its own (blocking I/O, no runtime).
//!
//! Label cardinality is bounded: at most [`Metrics::with_max_topics`]
//! topics (100 by default) get series of their own, the first ones watched;
//! the others are added up under `topic="_other"`. Every metric is listed in
//! the README's "Metrics" section.
//!
//! # Examples
//!
//! ```
//! use rig::engine::{Engine, SocketOptions};
//! use rig::metrics::Metrics;
//! # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
//!
//! let engine = Engine::start(Default::default())?;
//! let socket = engine.socket(SocketOptions::builder(server.url()).build()?)?;
//! let metrics = Metrics::new();
//! metrics.watch_engine(&engine);
//! metrics.watch_socket("main", &socket);
//!
//! let text = metrics.render();
//! assert!(text.contains("rig_socket_connect_attempts_total{socket=\"main\"} 0"));
//! assert!(text.ends_with("# EOF\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod collect;
mod error;
mod families;
mod http;
#[cfg(feature = "server")]
mod server;
mod sources;

use std::sync::Arc;

use parking_lot::Mutex;

pub use error::MetricsError;
pub use http::MetricsListener;

use crate::engine::{Channel, Engine, Socket};
use sources::{EngineSource, SocketSource, TopicSource};

/// Topics with series of their own unless [`Metrics::with_max_topics`] says
/// otherwise.
pub const DEFAULT_MAX_TOPICS: usize = 100;

/// The things a [`Metrics`] renders, held weakly (see the module docs).
/// Cheap to clone; clones share what they watch.
///
/// # Examples
///
/// ```
/// let metrics = rig::metrics::Metrics::new().with_max_topics(10);
/// assert!(metrics.render().ends_with("# EOF\n"));
/// ```
#[derive(Clone, Debug)]
pub struct Metrics {
    inner: Arc<Watched>,
}

#[derive(Debug, Default)]
struct Watched {
    max_topics: usize,
    engine: Mutex<Option<EngineSource>>,
    sockets: Mutex<Vec<SocketSource>>,
    topics: Mutex<Vec<TopicSource>>,
    #[cfg(feature = "server")]
    server: Mutex<Option<collect::ServerSource>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Watches nothing yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let text = rig::metrics::Metrics::new().render();
    /// assert_eq!(text, "# EOF\n");
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self { inner: Arc::new(Watched { max_topics: DEFAULT_MAX_TOPICS, ..Watched::default() }) }
    }

    /// At most `max` topics get series of their own; the rest are summed
    /// under `topic="_other"`. Call before watching anything (it starts a
    /// new, empty set).
    ///
    /// # Examples
    ///
    /// ```
    /// let metrics = rig::metrics::Metrics::new().with_max_topics(0);
    /// assert!(metrics.render().ends_with("# EOF\n"));
    /// ```
    #[must_use]
    pub fn with_max_topics(self, max: usize) -> Self {
        Self { inner: Arc::new(Watched { max_topics: max, ..Watched::default() }) }
    }

    /// Watches an engine's own counters (`rig_engine_*`), in place of the
    /// engine watched before (the families carry no engine label).
    ///
    /// # Examples
    ///
    /// ```
    /// let engine = rig::engine::Engine::start(Default::default())?;
    /// let metrics = rig::metrics::Metrics::new();
    /// metrics.watch_engine(&engine);
    /// assert!(metrics.render().contains("rig_engine_io_thread_alive 1"));
    /// # Ok::<(), rig::engine::EngineError>(())
    /// ```
    pub fn watch_engine(&self, engine: &Engine) {
        *self.inner.engine.lock() = Some(EngineSource::new(engine));
    }

    /// Watches a socket under `name` (the `socket` label; several sockets
    /// may share a name, their series then repeat the label).
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// let engine = rig::engine::Engine::start(Default::default())?;
    /// let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// let metrics = rig::metrics::Metrics::new();
    /// metrics.watch_socket("feed", &socket);
    /// assert!(metrics.render().contains("rig_socket_state{socket=\"feed\",state=\"idle\"} 1"));
    /// drop(socket);
    /// assert!(!metrics.render().contains("feed"), "a socket that is gone drops out");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn watch_socket(&self, name: &str, socket: &Socket) {
        let mut sockets = self.inner.sockets.lock();
        sockets.retain(|s| s.view().is_some());
        sockets.push(SocketSource::new(name.to_owned(), socket));
    }

    /// Watches a channel's topic (`rig_topic_*`, labelled with `socket`,
    /// the name its socket is watched under, and `topic`).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::Payload;
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// let engine = rig::engine::Engine::start(Default::default())?;
    /// let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// let room = socket.channel("room:a", Payload::json("{}"))?;
    /// let metrics = rig::metrics::Metrics::new();
    /// metrics.watch_channel("feed", &room);
    /// let text = metrics.render();
    /// assert!(text.contains("rig_topic_received_total{socket=\"feed\",topic=\"room:a\"} 0"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn watch_channel(&self, socket_name: &str, channel: &Channel) {
        let mut topics = self.inner.topics.lock();
        topics.retain(|t| t.counts().is_some());
        topics.push(TopicSource::new(socket_name.to_owned(), channel));
    }

    /// Watches the embedded server's counters (`rig_server_*`), in place of
    /// the server watched before (a restarted server is a new handle).
    ///
    /// # Examples
    ///
    /// ```
    /// let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// let metrics = rig::metrics::Metrics::new();
    /// metrics.watch_server(&server);
    /// assert!(metrics.render().contains("rig_server_connections_accepted_total 0"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "server")]
    pub fn watch_server(&self, server: &crate::server::ServerHandle) {
        *self.inner.server.lock() = Some(collect::ServerSource::new(server));
    }

    /// The current values as OpenMetrics text (`# EOF` last), as
    /// `GET /metrics` answers a scraper that accepts OpenMetrics.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::metrics::Metrics::new().render(), "# EOF\n");
    /// ```
    #[must_use]
    pub fn render(&self) -> String {
        collect::render(&self.inner, collect::Format::OpenMetrics)
    }

    /// The current values in the Prometheus text format 0.0.4, as
    /// `GET /metrics` answers a client that does not ask for OpenMetrics
    /// (`curl`, `promtool check metrics`).
    ///
    /// # Examples
    ///
    /// ```
    /// let engine = rig::engine::Engine::start(Default::default())?;
    /// let metrics = rig::metrics::Metrics::new();
    /// metrics.watch_engine(&engine);
    /// let text = metrics.render_prometheus();
    /// assert!(text.contains("# HELP rig_engine_wakeups_total "));
    /// assert!(!text.contains("# EOF"));
    /// # Ok::<(), rig::engine::EngineError>(())
    /// ```
    #[must_use]
    pub fn render_prometheus(&self) -> String {
        collect::render(&self.inner, collect::Format::Prometheus)
    }

    /// Serves `GET /metrics` on `addr` from a thread of its own until the
    /// returned listener is dropped. Binding happens here, so a port in use
    /// is an error now, not later.
    ///
    /// # Errors
    ///
    /// [`MetricsError::Bind`] when the address cannot be bound;
    /// [`MetricsError::Thread`] when the thread cannot start.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{Read as _, Write as _};
    /// let metrics = rig::metrics::Metrics::new();
    /// let listener = metrics.serve("127.0.0.1:0".parse()?)?;
    /// let mut conn = std::net::TcpStream::connect(listener.local_addr())?;
    /// conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")?;
    /// let mut answer = String::new();
    /// conn.read_to_string(&mut answer)?;
    /// assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"));
    /// assert!(answer.contains("Content-Type: text/plain; version=0.0.4"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn serve(&self, addr: std::net::SocketAddr) -> Result<MetricsListener, MetricsError> {
        MetricsListener::start(self.clone(), addr)
    }
}
