//! The byte stream under a connection: a plain socket or TLS over it.

use std::io::{self, Read, Write};

use mio::net::TcpStream;

use super::tls::TlsStream;

/// A non-blocking byte stream to one client.
#[derive(Debug)]
pub(crate) enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

impl Transport {
    pub(crate) fn socket(&mut self) -> &mut TcpStream {
        match self {
            Self::Plain(sock) => sock,
            Self::Tls(tls) => tls.socket(),
        }
    }

    /// Whether bytes below the WebSocket layer wait for writability.
    pub(crate) fn wants_write(&self) -> bool {
        match self {
            Self::Plain(_) => false,
            Self::Tls(tls) => tls.wants_write(),
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(sock) => sock.read(buf),
            Self::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(sock) => sock.write(buf),
            Self::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(sock) => sock.flush(),
            Self::Tls(tls) => tls.flush(),
        }
    }
}
