//! Listening sockets for the embedded server and the fault proxy, with a
//! backlog fit for connection storms. Shared below both (neither imports the
//! other).

use std::io;
use std::net::SocketAddr;

use mio::net::TcpListener;
use socket2::{Domain, Socket, Type};

/// Pending connections the kernel queues for `accept` (capped by
/// `net.core.somaxconn`). mio's and std's `bind` use 128: a storm of
/// reconnecting clients overflows that, and every dropped SYN costs its
/// client a 1 s retransmission, which would swamp the faults we simulate.
const BACKLOG: i32 = 4096;

/// A non-blocking listener on `addr` with `SO_REUSEADDR` (so a restarted
/// server, or a proxy that stopped refusing, can listen on its port at once).
pub(crate) fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from_std(socket.into()))
}
