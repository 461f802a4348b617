//! Many connections on one proxy thread, and bounded buffers under a client
//! that does not read.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{Shutdown, TcpListener};
use std::time::Duration;

use super::util::{WAIT, both, echo_proxy, settle};
use crate::netsim::{DirectionFaults, Proxy, ProxyConfig};

#[test]
fn a_thousand_connections_through_one_proxy() {
    // Each connection costs 4 descriptors in this process: client, the
    // proxy's two sockets, the echo's socket.
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    assert!(limit >= 4200, "open files limit too low: {limit}");
    let rig = echo_proxy(both(DirectionFaults::default().latency(Duration::from_millis(5))));
    // Back to back, faster than the proxy accepts: the listen backlog holds them.
    let mut clients: Vec<_> = (0..1000).map(|_| rig.connect()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.write_all(format!("client {i:04}\n").as_bytes()).unwrap();
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let mut got = [0u8; 12];
        c.read_exact(&mut got).unwrap();
        assert_eq!(got, format!("client {i:04}\n").as_bytes());
    }
    settle(&rig.proxy);
    let stats = rig.proxy.stats();
    assert_eq!(stats.connections, 1000);
    assert_eq!(stats.open_connections, 1000);
    assert_eq!(stats.bytes_upstream, 12_000);
    assert_eq!(stats.bytes_downstream, 12_000);
    drop(clients);
}

/// The byte at `offset` of the source's endless stream.
fn stream_byte(offset: u64) -> u8 {
    u8::try_from(offset % 251).unwrap()
}

#[test]
fn a_client_that_does_not_read_gets_backpressure_not_proxy_memory() {
    const LIMIT: usize = 32 * 1024;
    // Far beyond every socket buffer on the path: reaching it means the
    // proxy never stopped reading.
    const RUNAWAY: u64 = 512 << 20;
    let source = TcpListener::bind("127.0.0.1:0").unwrap();
    let config = ProxyConfig::builder(source.local_addr().unwrap()).buffer_limit(LIMIT).build();
    let proxy = Proxy::start(config).unwrap();
    let client = std::net::TcpStream::connect(proxy.local_addr()).unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    let (mut upstream, _) = source.accept().unwrap();

    // The upstream writes until a write blocks for 300 ms: the path is full.
    upstream.set_write_timeout(Some(Duration::from_millis(300))).unwrap();
    let chunk: Vec<u8> = (0..65_536u64).map(stream_byte).collect();
    let mut written = 0u64;
    loop {
        let start = usize::try_from(written % 251).unwrap();
        let piece = &chunk[start..];
        match upstream.write(&piece[..piece.len().min(chunk.len() - 251)]) {
            Ok(n) => written += u64::try_from(n).unwrap(),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => panic!("upstream write: {e}"),
        }
        assert!(written < RUNAWAY, "the proxy kept reading from a source it could not forward");
    }
    settle(&proxy);
    let stats = proxy.stats();
    assert!(stats.buffered_bytes <= u64::try_from(LIMIT).unwrap(), "{stats:?}");
    assert_eq!(stats.open_connections, 1);

    // Nothing was lost: the client now reads every byte, in order.
    upstream.shutdown(Shutdown::Write).unwrap();
    let mut read = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = (&client).read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        for (i, byte) in buf[..n].iter().enumerate() {
            assert_eq!(*byte, stream_byte(read + u64::try_from(i).unwrap()));
        }
        read += u64::try_from(n).unwrap();
    }
    assert_eq!(read, written);
    drop(upstream);
}
