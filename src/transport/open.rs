//! The open and closing states: reading frames, queueing and flushing
//! output, and the close handshake, over tungstenite's `WebSocket`.

use std::io;

use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, Utf8Bytes, WebSocket};

use super::classify::ws_error;
use super::stream::Stream;
use super::{Data, Error, SendError, State};

/// The most reason text a close frame holds (125 bytes of control payload
/// minus the 2-byte code).
const MAX_CLOSE_REASON: usize = 123;

/// The close code sent when the peer's close frame had none (RFC 6455 7.4.1:
/// "no status received").
pub(crate) const NO_STATUS: u16 = 1005;

/// What one read batch saw besides data frames.
#[derive(Debug, Default)]
pub(crate) struct Read {
    /// The peer's close frame (code, reason), if one arrived.
    pub(crate) peer_close: Option<(u16, String)>,
    /// The close handshake finished and the peer closed the socket.
    pub(crate) finished: bool,
    /// The budget ran out before the socket was drained.
    pub(crate) exhausted: bool,
}

/// Reads messages until the socket would block or `budget` messages
/// (control frames included) were read, appending data to `out`. Pongs to
/// pings are queued by tungstenite; the caller flushes them.
pub(crate) fn read_frames(
    ws: &mut WebSocket<Stream>,
    out: &mut Vec<Data>,
    budget: usize,
) -> Result<Read, tungstenite::Error> {
    let mut read = Read::default();
    for _ in 0..budget {
        match ws.read() {
            Ok(Message::Text(text)) => out.push(Data::Text(text)),
            Ok(Message::Binary(bytes)) => out.push(Data::Binary(bytes)),
            Ok(Message::Close(frame)) => {
                let close = frame.map_or((NO_STATUS, String::new()), |f| {
                    (u16::from(f.code), f.reason.as_str().to_owned())
                });
                log::debug!("peer close frame: {} {:?}", close.0, close.1);
                read.peer_close = Some(close);
            }
            // Ping: the pong is already queued. Pong: nothing to do. Raw
            // frames only exist in tungstenite's raw mode, which we never use.
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                return Ok(read);
            }
            Err(tungstenite::Error::ConnectionClosed) => {
                read.finished = true;
                return Ok(read);
            }
            // The peer sent its close and then reset the connection (a
            // server that hangs up with our data unread): the close frame
            // says why; the reset only ends it.
            Err(tungstenite::Error::Io(e)) if read.peer_close.is_some() => {
                log::debug!("connection ended after the peer's close frame: {e}");
                read.finished = true;
                return Ok(read);
            }
            Err(e) => return Err(e),
        }
    }
    read.exhausted = true;
    Ok(read)
}

/// Queues one message. A `WouldBlock` while tungstenite tries to write a
/// full buffer is fine: the frame is queued and goes out on a later flush.
pub(crate) fn queue(ws: &mut WebSocket<Stream>, data: Data) -> Result<(), SendError> {
    // A clone is a reference count bump; it lets a refused frame go back to
    // the caller as it came, not as tungstenite's internal frame.
    let message = Message::from(data.clone());
    match ws.write(message) {
        Ok(()) => Ok(()),
        Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
        Err(tungstenite::Error::WriteBufferFull(_)) => Err(SendError::Full(data)),
        Err(e) => Err(SendError::Failed(Box::new(ws_error(e, State::Open)))),
    }
}

/// Writes queued output. `Ok(true)`: all of it reached the socket;
/// `Ok(false)`: the socket is full, the rest waits for writability.
pub(crate) fn flush(ws: &mut WebSocket<Stream>, during: State) -> Result<bool, Error> {
    match ws.flush() {
        Ok(()) => Ok(true),
        Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
        Err(e) => Err(ws_error(e, during)),
    }
}

/// Queues our close frame (the caller flushes).
pub(crate) fn start_close(
    ws: &mut WebSocket<Stream>,
    code: u16,
    reason: &str,
) -> Result<(), Error> {
    let frame =
        CloseFrame { code: CloseCode::from(code), reason: Utf8Bytes::from(truncate(reason)) };
    match ws.close(Some(frame)) {
        Ok(()) => Ok(()),
        Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
        Err(e) => Err(ws_error(e, State::Closing)),
    }
}

/// `reason` cut to what a close frame holds, on a character boundary.
fn truncate(reason: &str) -> &str {
    if reason.len() <= MAX_CLOSE_REASON {
        return reason;
    }
    let mut end = MAX_CLOSE_REASON;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn close_reasons_are_cut_on_char_boundaries() {
        assert_eq!(truncate("bye"), "bye");
        let long = "é".repeat(100); // 200 bytes
        let cut = truncate(&long);
        assert_eq!(cut.len(), 122);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(truncate(&"a".repeat(200)).len(), 123);
    }
}
