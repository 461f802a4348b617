//! A plain TCP echo upstream on one mio thread, with a bounded buffer per
//! connection (it stops reading while its echo cannot be written).

use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
const LIMIT: usize = 64 * 1024;

pub(crate) struct Echo {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<()>>,
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    eof: bool,
}

impl Echo {
    pub(crate) fn start() -> Self {
        let mut listener = crate::listener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let poll = Poll::new().unwrap();
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE).unwrap();
        let waker = Arc::new(Waker::new(poll.registry(), WAKER).unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("netsim-echo".into())
            .spawn(move || serve(poll, listener, &flag))
            .unwrap();
        Self { addr, stop, waker, thread: Some(thread) }
    }

    pub(crate) const fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.waker.wake().unwrap();
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

fn serve(mut poll: Poll, listener: TcpListener, stop: &AtomicBool) {
    let mut events = Events::with_capacity(256);
    let mut conns: Vec<Option<Conn>> = Vec::new();
    while !stop.load(Ordering::Acquire) {
        poll.poll(&mut events, None).unwrap();
        for event in &events {
            match event.token() {
                LISTENER => loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let token = Token(conns.len() + 2);
                            poll.registry()
                                .register(
                                    &mut stream,
                                    token,
                                    Interest::READABLE | Interest::WRITABLE,
                                )
                                .unwrap();
                            conns.push(Some(Conn { stream, buf: Vec::new(), eof: false }));
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => panic!("echo accept: {e}"),
                    }
                },
                WAKER => {}
                Token(t) => {
                    let slot = &mut conns[t - 2];
                    if let Some(conn) = slot
                        && !pump(conn)
                    {
                        *slot = None;
                    }
                }
            }
        }
    }
}

/// Echoes what it can; false when the connection is over.
fn pump(conn: &mut Conn) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let mut progress = false;
        while !conn.eof && conn.buf.len() < LIMIT {
            let room = (LIMIT - conn.buf.len()).min(chunk.len());
            match conn.stream.read(&mut chunk[..room]) {
                Ok(0) => conn.eof = true,
                Ok(n) => {
                    conn.buf.extend_from_slice(&chunk[..n]);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => return false,
            }
        }
        while !conn.buf.is_empty() {
            match conn.stream.write(&conn.buf) {
                Ok(n) => {
                    conn.buf.drain(..n);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => return false,
            }
        }
        if conn.eof && conn.buf.is_empty() {
            return false;
        }
        if !progress {
            return true;
        }
    }
}
