//! Sending on a [`Connection`]: queueing frames, flushing, and starting
//! the close handshake.

use std::mem;

use super::connection::{Connection, Phase};
use super::{Data, Error, SendError, open};

impl Connection {
    /// Queues a text message. Call [`flush`](Self::flush) after a batch (or
    /// let the next writable event do it: queued output makes the interest
    /// writable).
    ///
    /// # Errors
    ///
    /// [`SendError::NotOpen`] before the handshake or after close,
    /// [`SendError::Full`] at the output cap (both hand the frame back), and
    /// [`SendError::Failed`] when the socket failed (the connection is closed).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let addr = listener.local_addr()?;
    /// # let url = WsUrl::parse(&format!("ws://{addr}/"))?;
    /// # let mut conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
    /// // Not open yet: the frame comes back.
    /// let refused = conn.send_text("too early").unwrap_err();
    /// assert_eq!(refused.into_data(), Some(rig::transport::Data::from("too early")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_text(&mut self, text: impl Into<tungstenite::Utf8Bytes>) -> Result<(), SendError> {
        self.send(Data::Text(text.into()))
    }

    /// Queues a binary message; see [`send_text`](Self::send_text).
    ///
    /// # Errors
    ///
    /// As for [`send_text`](Self::send_text).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let addr = listener.local_addr()?;
    /// # let url = WsUrl::parse(&format!("ws://{addr}/"))?;
    /// # let mut conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
    /// let refused = conn.send_binary(vec![1_u8, 2, 3]).unwrap_err();
    /// assert!(matches!(refused, rig::transport::SendError::NotOpen(_)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_binary(&mut self, bytes: impl Into<tungstenite::Bytes>) -> Result<(), SendError> {
        self.send(Data::Binary(bytes.into()))
    }

    /// Queues a message; see [`send_text`](Self::send_text).
    ///
    /// # Errors
    ///
    /// As for [`send_text`](Self::send_text).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let addr = listener.local_addr()?;
    /// # let url = WsUrl::parse(&format!("ws://{addr}/"))?;
    /// # let mut conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
    /// let refused = conn.send(rig::transport::Data::from("hi")).unwrap_err();
    /// assert!(refused.into_data().is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn send(&mut self, data: Data) -> Result<(), SendError> {
        let Phase::Open(ws) = &mut self.phase else { return Err(SendError::NotOpen(data)) };
        match open::queue(ws, data) {
            Ok(()) => {
                self.unflushed = true;
                Ok(())
            }
            Err(SendError::Failed(e)) => {
                self.phase = Phase::Closed;
                Err(SendError::Failed(e))
            }
            Err(refused) => Err(refused),
        }
    }

    /// Writes queued output until done or the socket is full (then the
    /// interest turns writable and the next event continues).
    ///
    /// # Errors
    ///
    /// A fatal [`Error`] from the socket; the connection is closed then. A
    /// write that fails because the peer hung up (broken pipe, reset) on an
    /// open connection is reported by the next
    /// [`handle_ready`](Self::handle_ready) instead, as the peer's close
    /// when its close frame can still be read.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let addr = listener.local_addr()?;
    /// # let url = WsUrl::parse(&format!("ws://{addr}/"))?;
    /// # let mut conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
    /// conn.flush()?; // nothing queued: a no-op
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&mut self) -> Result<(), Error> {
        match self.flush_output() {
            // The peer is gone, but its close frame may wait unread: the
            // next `handle_ready` (the interest asks for it at once) reads
            // it and reports the close instead of the failed write.
            Err(e)
                if super::salvage::is_write_failure(&e)
                    && matches!(
                        self.phase,
                        Phase::Open(_) | Phase::Closing { by_us: false, .. }
                    ) =>
            {
                self.deferred = Some(e);
                Ok(())
            }
            Err(e) => {
                self.phase = Phase::Closed;
                Err(e)
            }
            Ok(()) => Ok(()),
        }
    }

    /// Flushes without changing state on failure (the caller decides).
    pub(super) fn flush_output(&mut self) -> Result<(), Error> {
        let state = self.state();
        if let Phase::Open(ws) | Phase::Closing { ws, .. } = &mut self.phase {
            self.unflushed = !open::flush(ws, state)?;
        }
        Ok(())
    }

    /// Starts the close handshake with `code` and `reason` (cut to the 123
    /// bytes a close frame holds). Keep calling `handle_ready`: it reports
    /// [`Progress::Closed`](super::Progress::Closed) when the server has
    /// answered and closed; apply a deadline and drop the connection if it
    /// does not. Before the WebSocket is open this aborts at once (the
    /// connection is dropped to closed).
    ///
    /// # Errors
    ///
    /// A fatal [`Error`] from the socket; the connection is closed then.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::transport::{ConnectRequest, Connection, WsUrl};
    /// # let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// # let addr = listener.local_addr()?;
    /// # let url = WsUrl::parse(&format!("ws://{addr}/"))?;
    /// # let mut conn = Connection::start(addr, &ConnectRequest::new(url), None)?;
    /// conn.close(1000, "bye")?; // before the upgrade: dropped at once
    /// assert_eq!(conn.state(), rig::transport::State::Closed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn close(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        match mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Open(mut ws) => {
                open::start_close(&mut ws, code, reason)?;
                self.unflushed = true;
                self.phase = Phase::Closing { ws, by_us: true, peer_close: None };
                self.flush()
            }
            closing @ Phase::Closing { .. } => {
                self.phase = closing;
                Ok(())
            }
            // Nothing to say to the peer before the upgrade: just drop.
            _ => Ok(()),
        }
    }
}
