//! Pausing reads on a [`Connection`]: the driver's hook for backpressure.
//!
//! A driver whose consumer is full stops reading one connection (and only
//! that one): the kernel's receive buffer fills and TCP flow control slows
//! the peer. While paused the connection still writes (queued frames,
//! pongs already queued, a close), its [`interest`](Connection::interest)
//! drops READABLE, so an edge-triggered poll does not wake for data that
//! will not be read, and [`handle_ready`](Connection::handle_ready) reads
//! nothing. Handshakes are never paused: the pause applies once the
//! connection is open (or closing).

use super::connection::{Connection, Phase};

impl Connection {
    /// Stops (`true`) or resumes (`false`) reading this connection. Call
    /// [`reregister`](Self::reregister) afterwards: the interest changes.
    /// After a resume, call [`handle_ready`](Self::handle_ready) as
    /// readable at once: data that arrived while paused does not signal
    /// again by itself (re-registering an edge-triggered socket that has
    /// unread input does report it, but the driver need not rely on that).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let url = WsUrl::parse(&format!("ws://{}/", listener.local_addr()?))?;
    /// let mut conn = Connection::start(listener.local_addr()?, &ConnectRequest::new(url), None)?;
    /// conn.pause_reading(true);
    /// // Not open yet: the handshake still reads.
    /// assert!(!conn.is_reading_paused());
    /// assert!(conn.interest().is_readable());
    /// conn.pause_reading(false);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pause_reading(&mut self, paused: bool) {
        self.read_paused = paused;
    }

    /// Whether reads are paused right now: [`pause_reading`](Self::pause_reading)
    /// asked for it and the connection is open or closing.
    ///
    /// # Examples
    ///
    /// See [`pause_reading`](Self::pause_reading).
    #[must_use]
    pub fn is_reading_paused(&self) -> bool {
        self.read_paused && matches!(self.phase, Phase::Open(_) | Phase::Closing { .. })
    }
}
