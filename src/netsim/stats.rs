//! Counters the proxy thread updates and any thread reads.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a proxy's counters, from [`ProxyHandle::stats`].
///
/// [`ProxyHandle::stats`]: super::ProxyHandle::stats
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use rig::netsim::{Proxy, ProxyConfig};
///
/// let upstream: SocketAddr = "127.0.0.1:9".parse()?;
/// let proxy = Proxy::start(ProxyConfig::builder(upstream).build())?;
/// let stats = proxy.stats();
/// assert_eq!(stats.connections, 0);
/// assert_eq!(stats.bytes_upstream + stats.bytes_downstream, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyStats {
    /// Connections accepted since the start.
    pub connections: u64,
    /// Connections open now.
    pub open_connections: u64,
    /// Bytes written to the upstream server (client to server).
    pub bytes_upstream: u64,
    /// Bytes written to clients (server to client).
    pub bytes_downstream: u64,
    /// Connections the proxy reset on purpose ([`reset_all`] or flapping).
    ///
    /// [`reset_all`]: super::ProxyHandle::reset_all
    pub resets: u64,
    /// Stalls begun ([`stall_for`] or scheduled ones, counted per direction).
    ///
    /// [`stall_for`]: super::ProxyHandle::stall_for
    pub stalls: u64,
    /// Accepted connections whose upstream connect failed (the client was
    /// reset).
    pub upstream_failures: u64,
    /// Bytes held in the proxy's buffers now, all connections together.
    pub buffered_bytes: u64,
}

/// The live counters behind [`ProxyStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) connections: AtomicU64,
    pub(crate) open_connections: AtomicU64,
    pub(crate) bytes_upstream: AtomicU64,
    pub(crate) bytes_downstream: AtomicU64,
    pub(crate) resets: AtomicU64,
    pub(crate) stalls: AtomicU64,
    pub(crate) upstream_failures: AtomicU64,
    pub(crate) buffered_bytes: AtomicU64,
}

impl Counters {
    /// Adds `n` to a counter (the proxy thread is the only writer).
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Subtracts `n` from a gauge.
    pub(crate) fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ProxyStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ProxyStats {
            connections: get(&self.connections),
            open_connections: get(&self.open_connections),
            bytes_upstream: get(&self.bytes_upstream),
            bytes_downstream: get(&self.bytes_downstream),
            resets: get(&self.resets),
            stalls: get(&self.stalls),
            upstream_failures: get(&self.upstream_failures),
            buffered_bytes: get(&self.buffered_bytes),
        }
    }
}
