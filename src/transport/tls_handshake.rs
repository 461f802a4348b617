//! The TLS handshake state, whichever backend runs it.

use super::classify::io_error;
use super::rustls_stream::RustlsStream;
use super::stream::Stream;
use super::tcp::Tcp;
use super::{Error, State};

/// A TLS handshake in progress.
#[derive(Debug)]
pub(crate) enum TlsHandshake {
    /// rustls: the session is the stream; the handshake is its first phase.
    Rustls(Box<RustlsStream>),
    /// native-tls: an interrupted handshake, resumed on readiness.
    #[cfg(feature = "native-tls")]
    Native(Box<native_tls::MidHandshakeTlsStream<Tcp>>),
}

/// Where a handshake step left the connection.
#[derive(Debug)]
pub(crate) enum TlsProgress {
    /// Waiting for the socket.
    Pending(TlsHandshake),
    /// Done: the encrypted stream, ready for the WebSocket upgrade.
    Done(Stream),
}

impl TlsHandshake {
    /// Takes the handshake as far as the socket allows.
    pub(crate) fn resume(self) -> Result<TlsProgress, Error> {
        match self {
            Self::Rustls(mut tls) => match tls.handshake() {
                Ok(true) => Ok(TlsProgress::Done(Stream::Rustls(tls))),
                Ok(false) => Ok(TlsProgress::Pending(Self::Rustls(tls))),
                Err(e) => Err(io_error(e, State::TlsHandshaking)),
            },
            #[cfg(feature = "native-tls")]
            Self::Native(mid) => super::tls_native::settle(mid.handshake()),
        }
    }

    /// Whether handshake bytes wait for the socket to become writable.
    pub(crate) fn wants_write(&self) -> bool {
        match self {
            Self::Rustls(tls) => tls.wants_write(),
            #[cfg(feature = "native-tls")]
            Self::Native(mid) => mid.get_ref().write_blocked(),
        }
    }

    /// The socket, for registration.
    pub(crate) fn tcp_mut(&mut self) -> &mut Tcp {
        match self {
            Self::Rustls(tls) => tls.tcp_mut(),
            #[cfg(feature = "native-tls")]
            Self::Native(mid) => mid.get_mut(),
        }
    }
}
