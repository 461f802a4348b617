//! Helpers: proxies in front of an echo upstream, deadline-bounded reads.

use std::io::{self, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use super::echo::Echo;
use crate::netsim::{DirectionFaults, Faults, Proxy, ProxyConfig, ProxyHandle};

/// How long any single expectation may take.
pub(crate) const WAIT: Duration = Duration::from_secs(10);
/// How long a "nothing arrives" check waits.
pub(crate) const QUIET: Duration = Duration::from_millis(300);

/// The wall clock, for lower bounds on delays (never upper bounds).
#[expect(clippy::disallowed_methods, reason = "the tests measure real forwarding delays")]
pub(crate) fn now() -> std::time::Instant {
    std::time::Instant::now()
}

/// An echo upstream and a proxy in front of it.
pub(crate) struct Rig {
    pub(crate) proxy: ProxyHandle,
    /// Kept alive for the proxy's lifetime (dropped after it).
    _echo: Echo,
}

pub(crate) fn echo_proxy(faults: Faults) -> Rig {
    echo_proxy_with(faults, |b| b)
}

pub(crate) fn echo_proxy_with(
    faults: Faults,
    tweak: impl FnOnce(crate::netsim::ProxyConfigBuilder) -> crate::netsim::ProxyConfigBuilder,
) -> Rig {
    let echo = Echo::start();
    let config = tweak(ProxyConfig::builder(echo.addr()).faults(faults).seed(7)).build();
    Rig { proxy: Proxy::start(config).unwrap(), _echo: echo }
}

pub(crate) fn both(faults: DirectionFaults) -> Faults {
    Faults::default().both(faults)
}

impl Rig {
    pub(crate) fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.proxy.local_addr()).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        stream
    }
}

/// A recognisable, non-repeating-ish byte pattern.
pub(crate) fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len).map(|i| u8::try_from((i * 31 + i / 251) % 251).unwrap() ^ salt).collect()
}

/// Writes `data` on a thread while reading the echo here; returns the echo.
pub(crate) fn echo_round_trip(stream: &TcpStream, data: &[u8]) -> Vec<u8> {
    let mut writer = stream.try_clone().unwrap();
    let out = data.to_vec();
    let sender = std::thread::spawn(move || writer.write_all(&out).unwrap());
    let mut got = vec![0u8; data.len()];
    (&*stream).read_exact(&mut got).unwrap();
    sender.join().unwrap();
    got
}

/// Whether anything arrives within `wait` (`false` on timeout).
pub(crate) fn arrives_within(stream: &TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut byte = [0u8; 1];
    let result = (&*stream).read(&mut byte);
    stream.set_read_timeout(Some(WAIT)).unwrap();
    match result {
        Ok(_) => true,
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => false,
        Err(e) => panic!("read failed: {e}"),
    }
}

/// Reads until the peer closes; the error if it ends in one.
pub(crate) fn read_to_end(stream: &TcpStream) -> (Vec<u8>, Option<io::Error>) {
    let mut all = Vec::new();
    match (&*stream).read_to_end(&mut all) {
        Ok(_) => (all, None),
        Err(e) => (all, Some(e)),
    }
}

/// Waits until the proxy thread has finished its current turn (a command
/// is answered between turns), so counters include every write whose bytes
/// the test has already seen.
pub(crate) fn settle(proxy: &ProxyHandle) {
    proxy.blackhole(false).unwrap();
}
