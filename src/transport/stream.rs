//! The byte stream tungstenite runs over: plain TCP or TLS.

use std::io::{self, Read, Write};

use super::rustls_stream::RustlsStream;
use super::tcp::Tcp;

/// A connected, non-blocking byte stream. The TLS variant is boxed: a TLS
/// session is large and most of it is only touched when data moves.
#[derive(Debug)]
pub(crate) enum Stream {
    /// `ws://`.
    Plain(Tcp),
    /// `wss://` with rustls.
    Rustls(Box<RustlsStream>),
    // A `native-tls` variant slots in here: its stream would wrap `Tcp` too,
    // and report `wants_write` from `Tcp::write_blocked`.
}

impl Stream {
    /// Whether written data waits for the socket to become writable.
    pub(crate) fn wants_write(&self) -> bool {
        match self {
            Self::Plain(tcp) => tcp.write_blocked(),
            Self::Rustls(tls) => tls.wants_write(),
        }
    }

    /// The socket, for registration.
    pub(crate) fn tcp_mut(&mut self) -> &mut Tcp {
        match self {
            Self::Plain(tcp) => tcp,
            Self::Rustls(tls) => tls.tcp_mut(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.read(buf),
            Self::Rustls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.write(buf),
            Self::Rustls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(tcp) => tcp.flush(),
            Self::Rustls(tls) => tls.flush(),
        }
    }
}
