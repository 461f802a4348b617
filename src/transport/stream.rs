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
    /// `wss://` with the platform library. It writes straight to the socket,
    /// so a blocked socket is the only pending output.
    #[cfg(feature = "native-tls")]
    Native(Box<native_tls::TlsStream<Tcp>>),
}

impl Stream {
    /// Whether written data waits for the socket to become writable.
    pub(crate) fn wants_write(&self) -> bool {
        match self {
            Self::Plain(tcp) => tcp.write_blocked(),
            Self::Rustls(tls) => tls.wants_write(),
            #[cfg(feature = "native-tls")]
            Self::Native(tls) => tls.get_ref().write_blocked(),
        }
    }

    /// The socket, for registration.
    pub(crate) fn tcp_mut(&mut self) -> &mut Tcp {
        match self {
            Self::Plain(tcp) => tcp,
            Self::Rustls(tls) => tls.tcp_mut(),
            #[cfg(feature = "native-tls")]
            Self::Native(tls) => tls.get_mut(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.read(buf),
            Self::Rustls(tls) => tls.read(buf),
            #[cfg(feature = "native-tls")]
            Self::Native(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.write(buf),
            Self::Rustls(tls) => tls.write(buf),
            #[cfg(feature = "native-tls")]
            Self::Native(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(tcp) => tcp.flush(),
            Self::Rustls(tls) => tls.flush(),
            #[cfg(feature = "native-tls")]
            Self::Native(tls) => tls.flush(),
        }
    }
}
