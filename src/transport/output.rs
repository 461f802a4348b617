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
    /// See the [module docs](super).
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
    /// See the [module docs](super).
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
    /// See the [module docs](super).
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
    /// A fatal [`Error`] from the socket; the connection is closed then.
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
    pub fn flush(&mut self) -> Result<(), Error> {
        let result = self.flush_output();
        if result.is_err() {
            self.phase = Phase::Closed;
        }
        result
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
    /// [`Progress::Closed`](super::Progress::Closed) when the server has answered and closed; apply a
    /// deadline and drop the connection if it does not. Before the WebSocket
    /// is open this aborts at once (the connection is dropped to closed).
    ///
    /// # Errors
    ///
    /// A fatal [`Error`] from the socket; the connection is closed then.
    ///
    /// # Examples
    ///
    /// See the [module docs](super).
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
