//! A write that fails because the peer has gone: its close frame may still
//! wait in the socket's receive buffer. A server that refuses a message
//! (1009 "message too big" for a large push) sends its close and hangs up
//! while the client is still writing; the client's write then fails with
//! "broken pipe" or "connection reset". Reading what is left turns that
//! into the close the server meant, with its code and reason, and hands
//! over the messages that came before it.

use std::io;

use tungstenite::Message;

use super::connection::{Connection, Phase};
use super::open::NO_STATUS;
use super::{Data, Error, State};

impl Connection {
    /// `error` if it is no write failure or nothing explains it; else
    /// [`Error::PeerClosed`] with the close frame read after it. Data
    /// messages read on the way are appended to `out`.
    pub(super) fn salvage_peer_close(&mut self, error: Error, out: &mut Vec<Data>) -> Error {
        if !is_write_failure(&error) {
            return error;
        }
        let budget = self.read_budget;
        match &mut self.phase {
            Phase::Open(ws) => {
                // Read one message at a time: the reset usually follows the
                // close frame, and a batch read would drop the frame with it.
                for _ in 0..budget {
                    match ws.read() {
                        Ok(Message::Text(text)) => out.push(Data::Text(text)),
                        Ok(Message::Binary(bytes)) => out.push(Data::Binary(bytes)),
                        Ok(Message::Close(frame)) => {
                            let (code, reason) = frame.map_or((NO_STATUS, String::new()), |f| {
                                (u16::from(f.code), f.reason.as_str().to_owned())
                            });
                            log::debug!("close frame read after a failed write: {code} {reason:?}");
                            return Error::PeerClosed {
                                during: State::Open,
                                code: Some(code),
                                reason,
                            };
                        }
                        Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
                        Err(_) => break,
                    }
                }
                error
            }
            // The close frame came in before the write failed.
            Phase::Closing { by_us: false, peer_close, .. } => match peer_close.take() {
                Some((code, reason)) => {
                    Error::PeerClosed { during: State::Open, code: Some(code), reason }
                }
                None => error,
            },
            _ => error,
        }
    }
}

/// A failed write to a peer that is gone.
pub(super) fn is_write_failure(error: &Error) -> bool {
    matches!(error, Error::Io(e) if matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    ))
}
