//! `rig-bench --metrics ADDR`: the engine, the socket and the topic served
//! as OpenMetrics while the run lasts, to measure what exposing and
//! scraping them costs (the listener thread's CPU counts in the run's).

use rig::engine::{Channel, Engine, Socket};

use super::Failure;

/// The watched things and the listener (a no-op without `--metrics`).
#[derive(Debug, Default)]
pub(crate) struct Exposed {
    #[cfg(feature = "metrics")]
    served: Option<(rig::metrics::Metrics, rig::metrics::MetricsListener)>,
}

impl Exposed {
    /// Binds `addr` now: a bad address or a port in use is a usage error.
    pub(crate) fn bind(addr: Option<&str>) -> Result<Self, Failure> {
        let Some(addr) = addr else { return Ok(Self::default()) };
        #[cfg(feature = "metrics")]
        {
            let bad = |why: String| Failure(2, format!("--metrics {addr}: {why}"));
            let at = std::net::ToSocketAddrs::to_socket_addrs(addr)
                .map_err(|e| bad(e.to_string()))?
                .next()
                .ok_or_else(|| bad("it resolves to no address".into()))?;
            let metrics = rig::metrics::Metrics::new();
            let listener = metrics.serve(at).map_err(|e| bad(e.to_string()))?;
            Ok(Self { served: Some((metrics, listener)) })
        }
        #[cfg(not(feature = "metrics"))]
        Err(Failure(
            2,
            format!("--metrics {addr}: rig-bench was built without the metrics feature"),
        ))
    }

    pub(crate) fn engine(&self, engine: &Engine, socket: &Socket) {
        #[cfg(feature = "metrics")]
        if let Some((metrics, _)) = &self.served {
            metrics.watch_engine(engine);
            metrics.watch_socket("bench", socket);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (engine, socket);
    }

    pub(crate) fn channel(&self, channel: &Channel) {
        #[cfg(feature = "metrics")]
        if let Some((metrics, _)) = &self.served {
            metrics.watch_channel("bench", channel);
        }
        #[cfg(not(feature = "metrics"))]
        let _ = channel;
    }
}
