//! The non-blocking TCP socket under every connection, and its connect step.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};

use mio::net::TcpStream;

use super::Error;

/// A non-blocking TCP stream that remembers whether its last write hit
/// `WouldBlock`, so the connection knows when to ask for `WRITABLE`.
#[derive(Debug)]
pub(crate) struct Tcp {
    stream: TcpStream,
    addr: SocketAddr,
    write_blocked: bool,
    /// The last read took less than it asked for: the kernel's queue was
    /// empty then, so the next read of this turn would only say
    /// `WouldBlock`. It says so without the system call (one `recv` per
    /// event saved at paced rates). Only in turns the driver vouches for
    /// (see [`Connection::trust_short_reads`](super::Connection::trust_short_reads)):
    /// with mio's edge-triggered readiness, data or a hang-up arriving
    /// after that read raise a new event.
    drained: bool,
    /// Whether a short read may set `drained` in this turn.
    trust_short: bool,
}

impl Tcp {
    /// Starts a non-blocking connect to `addr`; completion is learnt later
    /// with [`Tcp::poll_connected`].
    pub(crate) fn connect(addr: SocketAddr, local: Option<IpAddr>) -> Result<Self, Error> {
        let stream = match local {
            None => TcpStream::connect(addr),
            Some(ip) => connect_from(addr, ip),
        };
        let stream = stream.map_err(|e| connect_error(addr, e))?;
        Ok(Self { stream, addr, write_blocked: false, drained: false, trust_short: false })
    }

    /// Whether the connect finished. `Ok(false)`: still in progress (a
    /// spurious or early event); wait for the next one.
    pub(crate) fn poll_connected(&mut self) -> Result<bool, Error> {
        // mio's contract for a non-blocking connect: a pending socket error
        // means it failed; otherwise a peer address means it succeeded.
        if let Some(e) = self.stream.take_error().map_err(|e| connect_error(self.addr, e))? {
            return Err(connect_error(self.addr, e));
        }
        match self.stream.peer_addr() {
            Ok(_) => {
                // Frames are small and latency matters more than packet count.
                self.stream.set_nodelay(true).map_err(|e| connect_error(self.addr, e))?;
                Ok(true)
            }
            Err(e)
                if e.kind() == io::ErrorKind::NotConnected
                    || e.kind() == io::ErrorKind::WouldBlock =>
            {
                Ok(false)
            }
            Err(e) => Err(connect_error(self.addr, e)),
        }
    }

    /// Whether the last write attempt could not write everything.
    /// A readiness turn starts: reads go to the socket again; a short read
    /// ends the turn's reading only if `trust_short`.
    pub(crate) fn rearm_reads(&mut self, trust_short: bool) {
        self.drained = false;
        self.trust_short = trust_short;
    }

    pub(crate) fn write_blocked(&self) -> bool {
        self.write_blocked
    }

    /// The socket, for (re)registration with a mio `Registry`.
    pub(crate) fn source(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}

/// A non-blocking connect from `ip` (any free port) to `addr`.
fn connect_from(addr: SocketAddr, ip: IpAddr) -> io::Result<TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::new(ip, 0).into())?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        // Under way, as with any non-blocking connect.
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(std::net::TcpStream::from(socket)))
}

fn connect_error(addr: SocketAddr, error: io::Error) -> Error {
    if error.kind() == io::ErrorKind::ConnectionRefused {
        Error::ConnectRefused(addr)
    } else {
        Error::Connect { addr, error }
    }
}

impl Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if std::mem::take(&mut self.drained) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        loop {
            match self.stream.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(n) => {
                    self.drained = self.trust_short && n > 0 && n < buf.len();
                    return Ok(n);
                }
                other => return other,
            }
        }
    }
}

impl Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.stream.write(buf) {
                Ok(n) => {
                    self.write_blocked = n < buf.len();
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.write_blocked = e.kind() == io::ErrorKind::WouldBlock;
                    return Err(e);
                }
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, TcpListener};

    use super::*;

    #[test]
    fn connects_from_the_chosen_local_address() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        let _tcp = Tcp::connect(listener.local_addr().unwrap(), Some(from)).unwrap();
        let (_stream, peer) = listener.accept().unwrap();
        assert_eq!(peer.ip(), from);
    }

    #[test]
    fn a_local_address_the_host_does_not_have_is_a_connect_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // TEST-NET-1: never assigned to this host.
        let from = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let err = Tcp::connect(addr, Some(from)).err().unwrap();
        assert!(matches!(err, Error::Connect { addr: a, .. } if a == addr), "{err:?}");
    }
}
