//! rustls over the non-blocking socket: TLS records on the left, plaintext
//! on the right, never blocking.
//!
//! ```text
//!   socket (Tcp) ──read_tls──▶ ClientConnection ──reader()──▶ plaintext reads
//!   socket (Tcp) ◀─write_tls── ClientConnection ◀─writer()─── plaintext writes
//! ```
//!
//! rustls buffers at most its buffer limit (64 KiB by default) of outgoing
//! TLS data; past that a plaintext write reports `WouldBlock`, so tungstenite
//! keeps the rest in its own bounded write buffer.

use std::io::{self, Read, Write};
use std::sync::Arc;

use pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

use super::Error;
use super::tcp::Tcp;

/// A client TLS session over a non-blocking [`Tcp`] socket.
#[derive(Debug)]
pub(crate) struct RustlsStream {
    conn: ClientConnection,
    tcp: Tcp,
}

impl RustlsStream {
    /// Starts a TLS session; `name` is sent as SNI and checked against the
    /// server's certificate.
    pub(crate) fn new(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        tcp: Tcp,
    ) -> Result<Self, Error> {
        let conn = ClientConnection::new(config, name).map_err(super::classify::tls_error)?;
        Ok(Self { conn, tcp })
    }

    /// Drives the TLS handshake as far as the socket allows. `Ok(true)` once
    /// it is complete and the last handshake bytes are handed to the socket.
    pub(crate) fn handshake(&mut self) -> io::Result<bool> {
        loop {
            self.write_pending_tls()?;
            if !self.conn.is_handshaking() {
                return Ok(true);
            }
            if !self.conn.wants_read() {
                // Only writing is left and the socket is full: wait for WRITABLE.
                return Ok(false);
            }
            match self.conn.read_tls(&mut self.tcp) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => self.process_new_packets()?,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }

    /// Whether TLS data waits for the socket to become writable.
    pub(crate) fn wants_write(&self) -> bool {
        self.conn.wants_write() || self.tcp.write_blocked()
    }

    /// The socket, for registration.
    pub(crate) fn tcp_mut(&mut self) -> &mut Tcp {
        &mut self.tcp
    }

    /// Hands buffered TLS data to the socket until it is empty or full.
    fn write_pending_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.tcp) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Decrypts what `read_tls` brought in. A TLS error travels inside an
    /// `io::Error` (kind `InvalidData`) so tungstenite passes it through; the
    /// connection unwraps it again to report a typed error.
    fn process_new_packets(&mut self) -> io::Result<()> {
        match self.conn.process_new_packets() {
            Ok(_) => {
                // Handshake replies, key updates or alerts may now be queued.
                self.write_pending_tls()
            }
            Err(e) => {
                // Best effort: let the peer see our alert before we drop.
                let _ignored = self.write_pending_tls();
                Err(io::Error::new(io::ErrorKind::InvalidData, e))
            }
        }
    }
}

impl Read for RustlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                other => return other,
            }
            // No plaintext buffered: pull more records from the socket.
            match self.conn.read_tls(&mut self.tcp)? {
                0 => {
                    // rustls now knows about EOF: Ok(0) after close_notify,
                    // UnexpectedEof without it.
                    return match self.conn.reader().read(buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            Err(io::ErrorKind::UnexpectedEof.into())
                        }
                        other => other,
                    };
                }
                _ => self.process_new_packets()?,
            }
        }
    }
}

impl Write for RustlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Make room first: rustls only takes plaintext up to its buffer limit.
        self.write_pending_tls()?;
        let taken = self.conn.writer().write(buf)?;
        if taken == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.write_pending_tls()?;
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_pending_tls()?;
        if self.conn.wants_write() { Err(io::ErrorKind::WouldBlock.into()) } else { Ok(()) }
    }
}
