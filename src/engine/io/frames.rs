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
    ///
    /// Text frames are copied out of tungstenite's read buffer into chunks
    /// of their own, up to [`CHUNK`] bytes each: tungstenite hands out
    /// slices of one long-lived buffer, so every message's fields would
    /// share one reference count with the read buffer and with every other
    /// message, a cache line rig-io (slicing the next frames) and the
    /// consumers' threads (dropping messages) would bounce between. A chunk
    /// is filled and sliced on rig-io only, then handed over once; it costs
    /// two allocations per chunk, not per frame, and frees the read buffer
    /// for reuse at once. A message pins at most its chunk. tungstenite
    /// checked the UTF-8 already, and slicing a `ByteString` by `&str`
    /// does not check it again.
    pub(crate) fn feed(&mut self, ctx: &mut Ctx<'_>, frames: &mut Vec<Data>) {
        if frames.is_empty() {
            return;
        }
        add(&self.counters.frames_in, frames.len() as u64);
        // What the chunks will hold, so each is allocated once.
        let texts = frames.iter().map(|d| if let Data::Text(t) = d { t.len() } else { 0 });
        let mut chunk = Chunk { left: texts.sum(), ..Chunk::default() };
        for data in frames.drain(..) {
            add(&self.counters.bytes_in, data.len() as u64);
            match data {
                Data::Text(text) => {
                    if !chunk.fits(text.len()) {
                        chunk.flush(|all, text| self.text_frame(ctx, all, text));
                    }
                    chunk.push(text.as_str());
                }
                Data::Binary(bytes) => {
                    // In order: the texts before it go first.
                    chunk.flush(|all, text| self.text_frame(ctx, all, text));
                    self.frame(ctx, Frame::Binary(transport::Bytes::copy_from_slice(&bytes)));
                }
            }
        }
        chunk.flush(|all, text| self.text_frame(ctx, all, text));
    }

    fn frame(&mut self, ctx: &Ctx<'_>, frame: Frame) {
        // A frame that does not decode is counted and reported by the
        // session itself; nothing else to do.
        let _ = self.session.handle_frame(ctx.now, frame);
    }

    /// A text frame, `text`, inside the chunk `all`: the message's fields
    /// are slices of the chunk (no count taken and dropped for the frame).
    fn text_frame(&mut self, ctx: &Ctx<'_>, all: &ByteString, text: &str) {
        // As `frame`: the session counts and reports what does not decode.
        let _ = self.session.handle_text(ctx.now, all, text);
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

/// Most bytes of text frames copied into one allocation (a larger frame
/// gets one of its own).
const CHUNK: usize = 4096;

/// Text frames copied back to back, and where each ends.
#[derive(Default)]
struct Chunk {
    text: String,
    ends: Vec<usize>,
    /// Text bytes still to come in this feed (the next allocation's size).
    left: usize,
}

impl Chunk {
    /// Whether `len` more bytes keep the chunk within [`CHUNK`] (an empty
    /// chunk takes any frame).
    fn fits(&self, len: usize) -> bool {
        self.text.is_empty() || self.text.len() + len <= CHUNK
    }

    fn push(&mut self, text: &str) {
        if self.text.capacity() == 0 {
            self.text.reserve_exact(text.len().max(self.left.min(CHUNK)));
        }
        self.left = self.left.saturating_sub(text.len());
        self.text.push_str(text);
        self.ends.push(self.text.len());
    }

    /// Hands each frame of the chunk to `deliver` with the chunk's buffer,
    /// in order; the chunk is empty again.
    fn flush(&mut self, mut deliver: impl FnMut(&ByteString, &str)) {
        if self.ends.is_empty() {
            return;
        }
        let all = ByteString::from(std::mem::take(&mut self.text));
        // Sliced through a handle of its own: `bytes` keeps a buffer made
        // from a full `String` "promotable", and every slice of that handle
        // takes a slower path than slices of a shared one (the session
        // bench's round: 4.3 M/s against 5.8 M/s).
        let all = all.slice_ref(&all);
        let mut start = 0;
        for end in self.ends.drain(..) {
            if let Some(text) = all.get(start..end) {
                deliver(&all, text);
            }
            start = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_frames_whole_in_order_and_bounded() {
        let mut chunk = Chunk::default();
        let mut out = Vec::new();
        let frames = ["a", "bc", "", &"x".repeat(5000), "d"];
        for text in frames {
            if !chunk.fits(text.len()) {
                chunk.flush(|_, text| out.push(text.to_owned()));
            }
            chunk.push(text);
            assert!(chunk.text.len() <= CHUNK || chunk.ends.len() == 1);
        }
        chunk.flush(|_, text| out.push(text.to_owned()));
        assert_eq!(out, frames);
    }
}
