//! `stream:*` with `"pace":"frame"`: one WebSocket frame per write, on time.
//!
//! The client counts its `read` calls on the socket: an event that arrives
//! without a new read came in the same TCP segment as the one before it
//! (written together, or coalesced because the client was late).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tungstenite::Message;
use tungstenite::client::IntoClientRequest as _;

use super::util::{WAIT, server};

/// A socket that counts the reads that returned bytes.
struct Counting {
    inner: TcpStream,
    reads: Arc<AtomicUsize>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.reads.fetch_add(1, Ordering::Relaxed);
        }
        Ok(n)
    }
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Joins `stream:p` with `params`; returns, per event, `(t, shared_read)`:
/// the server's stamp and whether it came in the previous event's read.
fn run(params: &str, count: usize) -> Vec<(u64, bool)> {
    let server = server();
    let url = format!("{}/websocket?vsn=2.0.0", server.url());
    let inner = TcpStream::connect(server.local_addr()).unwrap();
    inner.set_read_timeout(Some(WAIT)).unwrap();
    let reads = Arc::new(AtomicUsize::new(0));
    let stream = Counting { inner, reads: Arc::clone(&reads) };
    let (mut ws, _) = tungstenite::client(url.into_client_request().unwrap(), stream)
        .unwrap_or_else(|_| panic!("handshake failed"));
    ws.send(Message::text(format!(r#"["1","1","stream:p","phx_join",{params}]"#))).unwrap();
    let mut events = Vec::new();
    let mut last_reads = usize::MAX;
    loop {
        let Message::Text(text) = ws.read().unwrap() else { continue };
        let msg: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
        match msg[3].as_str() {
            Some("event") => {
                let now = reads.load(Ordering::Relaxed);
                events.push((msg[4]["t"].as_u64().unwrap(), now == last_reads));
                last_reads = now;
            }
            Some("done") => break,
            _ => {}
        }
    }
    assert_eq!(events.len(), count);
    events
}

#[test]
fn frame_pace_sends_one_event_per_write_at_its_own_time() {
    // 2,000 events/s: every 500 µs, which the 1 ms timer wheel cannot pace
    // (it writes what is due at a wake-up together, with one stamp). Paced
    // by frame, each event is written alone and stamped when it is
    // written: no two share a stamp, however late the machine runs. The
    // schedule itself is tested on the mock clock (server::pacer); how
    // the reads fall on the client depends on its scheduling, so it is
    // not asserted here.
    let events = run(r#"{"rate":2000,"count":400,"pace":"frame"}"#, 400);
    let same_stamp = events.windows(2).filter(|w| w[1].0 == w[0].0).count();
    assert_eq!(same_stamp, 0, "events written together by the frame pacer");
}

#[test]
fn default_pace_still_batches_what_is_due() {
    // Unchanged behaviour: events due at one wake-up share a write (and a stamp).
    let events = run(r#"{"rate":4000,"count":400}"#, 400);
    let same_stamp = events.windows(2).filter(|w| w[1].0 == w[0].0).count();
    assert!(same_stamp > 0, "no two events were written together");
}
