//! Resets, blackholes, refusals and flapping, seen from the client.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use super::util::{QUIET, WAIT, arrives_within, echo_proxy, echo_round_trip, read_to_end, settle};
use crate::netsim::{Faults, Periodic, Proxy, ProxyConfig};

#[test]
fn reset_all_gives_the_client_econnreset() {
    let rig = echo_proxy(Faults::default());
    let stream = rig.connect();
    assert_eq!(echo_round_trip(&stream, b"hello"), b"hello");
    rig.proxy.reset_all().unwrap();
    let (rest, error) = read_to_end(&stream);
    assert!(rest.is_empty());
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
    let stats = rig.proxy.stats();
    assert_eq!((stats.resets, stats.open_connections), (1, 0));
    // The proxy itself goes on.
    let again = rig.connect();
    assert_eq!(echo_round_trip(&again, b"still here"), b"still here");
}

#[test]
fn a_blackhole_keeps_the_connection_open_and_forwards_nothing() {
    let rig = echo_proxy(Faults::default());
    let mut stream = rig.connect();
    assert_eq!(echo_round_trip(&stream, b"before"), b"before");
    rig.proxy.blackhole(true).unwrap();
    stream.write_all(b"into the void").unwrap();
    assert!(!arrives_within(&stream, QUIET), "a blackhole forwarded bytes");
    // Half-open, not closed: writes still succeed and the proxy holds the socket.
    stream.write_all(b" and more").unwrap();
    assert_eq!(rig.proxy.stats().open_connections, 1);
    rig.proxy.blackhole(false).unwrap();
    let mut got = vec![0u8; "into the void and more".len()];
    stream.read_exact(&mut got).unwrap();
    assert_eq!(got, b"into the void and more");
}

#[test]
fn a_blackholed_connection_stays_half_open_when_the_client_goes() {
    // The client leaves during the blackhole: its FIN is held like its bytes.
    let rig = echo_proxy(Faults::default());
    let stream = rig.connect();
    assert_eq!(echo_round_trip(&stream, b"x"), b"x");
    rig.proxy.blackhole(true).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(!arrives_within(&stream, QUIET));
    settle_on_blackhole(&rig.proxy);
    assert_eq!(rig.proxy.stats().open_connections, 1);
    rig.proxy.blackhole(false).unwrap();
    let (rest, error) = read_to_end(&stream);
    assert!(rest.is_empty() && error.is_none(), "{error:?}");
}

/// A barrier that keeps the blackhole on (the usual `settle` lifts it).
fn settle_on_blackhole(proxy: &crate::netsim::ProxyHandle) {
    proxy.blackhole(true).unwrap();
}

#[test]
fn refusing_closes_the_door_to_new_connections_only() {
    let rig = echo_proxy(Faults::default());
    let open = rig.connect();
    assert_eq!(echo_round_trip(&open, b"one"), b"one");
    rig.proxy.set_faults(Faults::default().refuse(true)).unwrap();
    let err = TcpStream::connect(rig.proxy.local_addr()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(echo_round_trip(&open, b"two"), b"two");
    rig.proxy.set_faults(Faults::default()).unwrap();
    let fresh = rig.connect();
    assert_eq!(echo_round_trip(&fresh, b"three"), b"three");
}

#[test]
fn flapping_resets_every_connection_again_and_again() {
    let rig = echo_proxy(Faults::default());
    let flap = Periodic { every: Duration::from_millis(50), jitter: Duration::from_millis(10) };
    for round in 0..3 {
        let stream = rig.connect();
        assert_eq!(echo_round_trip(&stream, b"hi"), b"hi");
        if round == 0 {
            rig.proxy.set_faults(Faults::default().reset_every(flap)).unwrap();
        }
        // Blocks until the next flap tick resets it.
        let (_, error) = read_to_end(&stream);
        assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
    }
    assert!(rig.proxy.stats().resets >= 3);
}

#[test]
fn an_unreachable_upstream_resets_the_client() {
    // A port nobody listens on: bind one, note it, close it.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let proxy = Proxy::start(ProxyConfig::builder(dead).build()).unwrap();
    let stream = TcpStream::connect(proxy.local_addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let (rest, error) = read_to_end(&stream);
    assert!(rest.is_empty());
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
    settle(&proxy);
    let stats = proxy.stats();
    assert_eq!((stats.connections, stats.upstream_failures, stats.open_connections), (1, 1, 0));
}

#[test]
fn an_upstream_reset_is_passed_on_to_the_client() {
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = Proxy::start(ProxyConfig::builder(upstream.local_addr().unwrap()).build()).unwrap();
    let mut stream = TcpStream::connect(proxy.local_addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(b"q").unwrap();
    let (server, _) = upstream.accept().unwrap();
    let mut byte = [0u8; 1];
    (&server).read_exact(&mut byte).unwrap();
    socket2::SockRef::from(&server).set_linger(Some(Duration::ZERO)).unwrap();
    drop(server);
    let (_, error) = read_to_end(&stream);
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::ConnectionReset));
    settle(&proxy);
    assert_eq!(proxy.stats().resets, 0, "not a reset the proxy chose");
}

#[test]
fn shutdown_stops_listening() {
    let rig = echo_proxy(Faults::default());
    let addr = rig.proxy.local_addr();
    rig.proxy.shutdown();
    let err = TcpStream::connect(addr).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn the_handle_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let rig = echo_proxy(Faults::default());
    assert_send_sync(&rig.proxy);
    std::thread::scope(|scope| {
        scope.spawn(|| rig.proxy.stall_for(Duration::from_millis(1)).unwrap());
        scope.spawn(|| rig.proxy.blackhole(false).unwrap());
    });
    assert_eq!(rig.proxy.stats().stalls, 2);
}
