//! Starting the server on its own thread, and the handle that stops it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use mio::{Interest, Poll, Waker};

use super::config::ServerConfig;
use super::error::Error;
use super::event_loop::{Hub, LISTENER, WAKER};
use super::pacer::Pacer;
use super::push_log::PushLog;
use super::stats::{Counters, ServerStats};

/// The embedded Phoenix-compatible server.
///
/// # Examples
///
/// ```
/// use rig::server::{Server, ServerConfig};
///
/// let server = Server::start(ServerConfig::builder().build())?;
/// assert!(server.url().starts_with("ws://127.0.0.1:"));
/// assert!(server.url().ends_with("/socket"));
/// server.shutdown();
/// # Ok::<(), rig::server::Error>(())
/// ```
#[derive(Debug)]
pub struct Server {
    _private: (),
}

impl Server {
    /// Binds the listening socket and starts serving on a new thread (`rig-server`).
    ///
    /// # Errors
    ///
    /// [`Error::Bind`] when the address cannot be bound (e.g. the port is in
    /// use); [`Error::Io`] when the poller or the thread cannot be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok::<(), rig::server::Error>(())
    /// ```
    pub fn start(config: ServerConfig) -> Result<ServerHandle, Error> {
        let addr = config.addr();
        // mio sets SO_REUSEADDR, so a restart on the same port works at once.
        let mut listener =
            crate::listener::bind(addr).map_err(|reason| Error::Bind { addr, reason })?;
        let local_addr = listener.local_addr()?;
        let poll = Poll::new()?;
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let pacer = Pacer::new(poll.registry())?;
        let shutdown = Arc::new(AtomicBool::new(false));
        let scheme = if config.tls().is_some() { "wss" } else { "ws" };
        let host = match local_addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => format!("127.0.0.1:{}", a.port()),
            SocketAddr::V6(a) if a.ip().is_unspecified() => format!("[::1]:{}", a.port()),
            other => other.to_string(),
        };
        let url = format!("{scheme}://{host}/socket");
        let stats = Arc::new(Counters::default());
        let push_log = Arc::clone(config.push_log());
        let hub =
            Hub::new(poll, pacer, listener, config, Arc::clone(&shutdown), Arc::clone(&stats));
        let thread =
            std::thread::Builder::new().name("rig-server".into()).spawn(move || hub.run())?;
        log::info!("listening on {url}");
        Ok(ServerHandle { local_addr, url, waker, shutdown, stats, thread: Some(thread), push_log })
    }
}

/// A running server. Dropping it shuts the server down.
///
/// # Examples
///
/// ```
/// let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
/// let addr = server.local_addr();
/// drop(server); // stops the server and closes every socket
/// // The same port can be bound again at once.
/// let again = rig::server::Server::start(rig::server::ServerConfig::builder().addr(addr).build())?;
/// assert_eq!(again.local_addr(), addr);
/// # Ok::<(), rig::server::Error>(())
/// ```
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    url: String,
    waker: Arc<Waker>,
    shutdown: Arc<AtomicBool>,
    stats: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
    push_log: Arc<PushLog>,
}

impl ServerHandle {
    /// The address the server listens on (the real port when 0 was asked for).
    ///
    /// # Examples
    ///
    /// ```
    /// let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// assert!(server.local_addr().ip().is_loopback());
    /// # Ok::<(), rig::server::Error>(())
    /// ```
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The socket URL clients connect to: `ws://HOST:PORT/socket` (`wss://`
    /// with TLS). Clients append `/websocket?vsn=2.0.0`, as phoenix.js does.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// assert_eq!(server.url(), format!("ws://{}/socket", server.local_addr()));
    /// # Ok::<(), rig::server::Error>(())
    /// ```
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops the server: open WebSockets get a 1001 close, every socket is
    /// closed, and the server thread is joined.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// server.shutdown();
    /// # Ok::<(), rig::server::Error>(())
    /// ```
    pub fn shutdown(mut self) {
        self.stop();
    }

    /// The server's counters now: connections, refusals, closes by reason,
    /// frames and bytes, channels, broadcasts, heartbeats.
    ///
    /// Lock-free: each counter is one relaxed atomic load, and the server
    /// thread never waits for a reader. See [`ServerStats`] for what each
    /// field counts.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::TcpStream;
    /// use std::io::{Read as _, Write as _};
    /// use rig::server::{Server, ServerConfig};
    ///
    /// let server = Server::start(ServerConfig::builder().build())?;
    /// let mut tcp = TcpStream::connect(server.local_addr())?;
    /// tcp.write_all(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")?;
    /// let mut response = String::new();
    /// tcp.read_to_string(&mut response)?;
    /// assert!(response.starts_with("HTTP/1.1 404"));
    /// // Counted before the answer went out.
    /// assert_eq!(server.stats().refused_not_found, 1);
    /// assert_eq!(server.stats().connections_accepted, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> ServerStats {
        self.stats.snapshot()
    }

    /// Reads the live counters, for `rig::metrics`: the reader holds the
    /// counters only, never the server.
    #[cfg(feature = "metrics")]
    pub(crate) fn stats_reader(&self) -> impl Fn() -> ServerStats + Send + Sync + 'static {
        let stats = Arc::clone(&self.stats);
        move || stats.snapshot()
    }

    /// Stops the server like [`ServerHandle::shutdown`] and returns the final
    /// counters, the 1001 closes of the shutdown included (every gauge is
    /// back to zero).
    ///
    /// # Examples
    ///
    /// ```
    /// let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// let stats = server.shutdown_with_stats();
    /// assert_eq!(stats.connections_open, 0);
    /// assert_eq!(stats.closed_shutdown, 0); // nobody was connected
    /// # Ok::<(), rig::server::Error>(())
    /// ```
    #[must_use]
    pub fn shutdown_with_stats(mut self) -> ServerStats {
        self.stop();
        self.stats.snapshot()
    }

    /// The log of the pushes this server's `inbox:*` channels received (the
    /// configured [`PushLog`], or the server's own).
    ///
    /// # Examples
    ///
    /// ```
    /// let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// assert_eq!(server.push_log().recorded(), 0);
    /// # Ok::<(), rig::server::Error>(())
    /// ```
    #[must_use]
    pub fn push_log(&self) -> &Arc<PushLog> {
        &self.push_log
    }

    fn stop(&mut self) {
        let Some(thread) = self.thread.take() else { return };
        self.shutdown.store(true, Ordering::Release);
        if let Err(e) = self.waker.wake() {
            log::error!("cannot wake the server thread: {e}");
        }
        if thread.join().is_err() {
            log::error!("the server thread panicked");
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
