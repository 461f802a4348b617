//! Frames in and out of a socket's connection: received data to the
//! session, the session's frames to the connection, flushing.

use bytestring::ByteString;

use super::link::Link;
use super::slot::SocketSlot;
use super::thread::Ctx;
use crate::engine::shared::failure::{ConnectionError, ErrorKind};
use crate::engine::shared::health::add;
use crate::protocol::Frame;
use crate::transport::{self, Data};

impl SocketSlot {
    /// Hands received frames to the session.
    pub(crate) fn feed(&mut self, ctx: &mut Ctx<'_>, frames: &mut Vec<Data>) {
        if frames.is_empty() {
            return;
        }
        add(&self.counters.frames_in, frames.len() as u64);
        for data in frames.drain(..) {
            add(&self.counters.bytes_in, data.len() as u64);
            let frame = match data {
                // Copied out of the read buffer: tungstenite hands out slices
                // of one shared buffer per read, and the message's fields
                // would share its reference count with the read buffer and
                // with every other message of the read, a cache line rig-io
                // and the consumers' threads would bounce between (their
                // drops against rig-io's slicing). A frame of its own is one
                // small allocation and copy; it also frees the read buffer
                // for reuse at once. tungstenite checked the UTF-8 already:
                // `String` to `ByteString` does not check it again.
                Data::Text(text) => Frame::Text(ByteString::from(String::from(text.as_str()))),
                Data::Binary(bytes) => Frame::Binary(transport::Bytes::copy_from_slice(&bytes)),
            };
            // A frame that does not decode is counted and reported by the
            // session itself; nothing else to do.
            let _ = self.session.handle_frame(ctx.now, frame);
        }
    }

    /// Writes a frame the session produced.
    pub(crate) fn transmit(&mut self, ctx: &mut Ctx<'_>, frame: Frame) {
        let Link::Open { conn } = &mut self.link else { return };
        let data = match frame {
            Frame::Text(text) => match transport::Utf8Bytes::try_from(text.into_bytes()) {
                Ok(text) => Data::Text(text),
                Err(_) => return,
            },
            Frame::Binary(bytes) => Data::Binary(bytes),
        };
        let len = data.len() as u64;
        match conn.send(data) {
            Ok(()) => {
                add(&self.counters.frames_out, 1);
                add(&self.counters.bytes_out, len);
            }
            Err(transport::SendError::NotOpen(_)) => {}
            Err(transport::SendError::Full(_)) => {
                let e = ConnectionError::new(ErrorKind::OutputFull, "output queue full");
                self.fail(ctx, e, true);
            }
            Err(transport::SendError::Failed(e)) => {
                self.link_failed(ctx, *e, transport::State::Open);
            }
        }
    }

    /// Flushes queued output and re-registers the interest; returns whether
    /// the connection failed doing so (the session has work again).
    pub(crate) fn flush(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let Some(conn) = self.link.conn_mut() else { return false };
        let during = conn.state();
        let flushed = if matches!(during, transport::State::Open | transport::State::Closing) {
            conn.flush()
        } else {
            Ok(())
        };
        match flushed.and_then(|()| conn.reregister(ctx.registry).map(|_| ())) {
            Ok(()) => false,
            Err(e) => {
                self.link_failed(ctx, e, during);
                true
            }
        }
    }
}
