//! Network-condition simulation: a seeded, repeatable TCP fault proxy for
//! loopback tests and the stress harness (feature "netsim").
//!
//! A [`Proxy`] listens on 127.0.0.1 (port 0 by default), forwards every
//! accepted connection to one upstream address, and on the way applies
//! [`Faults`]: per direction latency and jitter, a bandwidth cap, writes
//! sliced into tiny pieces (partial frames for the reader), recurring
//! stalls; per proxy resets on a flapping schedule and refusing new
//! connections; and, from the [`ProxyHandle`], resets, stalls and blackholes
//! on demand. Every random choice comes from one seed ([`Schedule`]), so a
//! failing run can be repeated.
//!
//! ```text
//!  client ──► accept ─► [Pipe upstream:   delay queue ─ stall/blackhole gate ─ token bucket ─ slicer] ─► upstream
//!  client ◄──────────── [Pipe downstream: delay queue ─ stall/blackhole gate ─ token bucket ─ slicer] ◄── upstream
//!                        one mio thread "rig-netsim" for every connection; commands via mpsc + Waker
//! ```
//!
//! In scope: TCP on real sockets, both directions, byte order and content
//! always kept (faults change timing and segmentation only, except resets,
//! which drop what is held), bounded buffers with TCP backpressure (a full
//! buffer stops reading from its source), counters ([`ProxyStats`]).
//! Out of scope for the proxy: packet loss (TCP below a userspace proxy
//! repairs every loss before it sees a byte); [`netns::LossyLink`] makes
//! real loss in a network namespace instead (root and nftables needed).
//! Also out: UDP, TLS termination, DNS (the caller resolves addresses).
//!
//! Time here is the real monotonic clock, read by the proxy thread alone:
//! the proxy delays real sockets. The fault logic itself (`Pipe`) takes the
//! time as an argument and is tested without sockets.
//!
//! # Examples
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::{TcpListener, TcpStream};
//! use std::time::Duration;
//! use rig::netsim::{DirectionFaults, Faults, Proxy, ProxyConfig};
//!
//! let upstream = TcpListener::bind("127.0.0.1:0")?;
//! let faults = Faults::default()
//!     .upstream(DirectionFaults::default().slice(1))
//!     .downstream(DirectionFaults::default().latency(Duration::from_millis(10)));
//! let proxy = Proxy::start(ProxyConfig::builder(upstream.local_addr()?).faults(faults).seed(1).build())?;
//!
//! let mut client = TcpStream::connect(proxy.local_addr())?;
//! client.write_all(b"hello")?;
//! let (mut server, _) = upstream.accept()?;
//! let mut got = [0; 5];
//! server.read_exact(&mut got)?; // arrived one byte per write, intact
//! assert_eq!(&got, b"hello");
//! assert_eq!(proxy.stats().connections, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod accept;
mod bucket;
mod config;
mod conn;
mod control;
mod error;
mod event_loop;
mod faults;
mod handle;

pub mod netns;
mod pipe;
mod rng;
mod schedule;
mod stats;

#[cfg(test)]
mod test;

pub use config::{ProxyConfig, ProxyConfigBuilder};
pub use error::Error;
pub use faults::{Direction, DirectionFaults, Faults, Periodic, Stalls};
pub use handle::{Proxy, ProxyHandle};
pub use rng::SimRng;
pub use schedule::{Delays, Schedule, StallWindows, Ticks};
pub use stats::ProxyStats;
