//! A small blocking HTTP listener for `GET /metrics`, on a thread of its
//! own: scrapes come every few seconds, one at a time, so one thread with
//! bounded reads and timeouts is all it takes (no async runtime).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Metrics, MetricsError};

/// The OpenMetrics text content type Prometheus asks for.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The Prometheus text format's, for everyone else.
const PROMETHEUS: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
/// The longest request head read; a scrape's is a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request or read the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A running `/metrics` listener ([`Metrics::serve`]); dropping it stops
/// the thread and closes the port.
///
/// # Examples
///
/// ```
/// let listener = rig::metrics::Metrics::new().serve("127.0.0.1:0".parse()?)?;
/// assert!(listener.local_addr().port() > 0);
/// drop(listener); // the port is closed
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MetricsListener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsListener {
    pub(crate) fn start(metrics: Metrics, addr: SocketAddr) -> Result<Self, MetricsError> {
        let listener =
            TcpListener::bind(addr).map_err(|source| MetricsError::Bind { addr, source })?;
        let local = listener.local_addr().map_err(|source| MetricsError::Bind { addr, source })?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("rig-metrics".into())
            .spawn(move || accept_loop(&listener, &metrics, &thread_stop))
            .map_err(MetricsError::Thread)?;
        Ok(Self { addr: local, stop, thread: Some(thread) })
    }

    /// The address it listens on (the port chosen when `:0` was asked for).
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = rig::metrics::Metrics::new().serve("127.0.0.1:0".parse()?)?;
    /// assert!(listener.local_addr().ip().is_loopback());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept with a connection of our own.
        let wake = match self.addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => {
                SocketAddr::from(([127, 0, 0, 1], a.port()))
            }
            SocketAddr::V6(a) if a.ip().is_unspecified() => {
                SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], a.port()))
            }
            other => other,
        };
        let woke = TcpStream::connect_timeout(&wake, Duration::from_secs(1)).is_ok();
        if let Some(thread) = self.thread.take() {
            // Without the wake-up the thread stays in accept: leave it be
            // rather than block the caller (it exits at the next request).
            if woke {
                let _ = thread.join();
            }
        }
    }
}

fn accept_loop(listener: &TcpListener, metrics: &Metrics, stop: &AtomicBool) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match conn {
            Ok(conn) => {
                if let Err(e) = answer(conn, metrics) {
                    log::debug!("metrics: a scrape failed: {e}");
                }
            }
            Err(e) => {
                log::warn!("metrics: accept failed: {e}");
                // EMFILE and the like: do not spin on the error. This
                // thread is an I/O driver of its own, not the sans-IO core
                // the lint guards, and a scrape can wait 100 ms.
                #[allow(
                    clippy::disallowed_methods,
                    reason = "a blocking listener thread backs off"
                )]
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Reads one request head and answers it; the connection closes after.
fn answer(mut conn: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
        if head.len() > MAX_HEAD {
            let too_large = "431 Request Header Fields Too Large";
            respond(&mut conn, too_large, "text/plain", "request head too large\n")?;
            // Closing with unread input would reset the connection before
            // the client reads the answer: read a bounded rest first.
            conn.shutdown(std::net::Shutdown::Write)?;
            let _ = std::io::copy(&mut (&conn).take(1 << 20), &mut std::io::sink());
            return Ok(());
        }
    }
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    match (method, path) {
        (b"GET", b"/metrics") if accepts_openmetrics(&head) => {
            respond(&mut conn, "200 OK", OPENMETRICS, &metrics.render())
        }
        (b"GET", b"/metrics") => {
            respond(&mut conn, "200 OK", PROMETHEUS, &metrics.render_prometheus())
        }
        (b"GET", _) => {
            respond(&mut conn, "404 Not Found", "text/plain", "metrics are at /metrics\n")
        }
        _ => respond(&mut conn, "405 Method Not Allowed", "text/plain", "only GET\n"),
    }
}

/// Whether the request's `Accept` header names OpenMetrics text (as
/// Prometheus's does, first); otherwise the older text format is served.
fn accepts_openmetrics(head: &[u8]) -> bool {
    String::from_utf8_lossy(head).lines().skip(1).any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("accept")
                && value.to_ascii_lowercase().contains("application/openmetrics-text")
        })
    })
}

fn respond(
    conn: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    conn.write_all(body.as_bytes())?;
    conn.flush()
}
