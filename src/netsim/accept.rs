//! Accepting clients and opening their upstream connections.

use std::io;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Interest, Token};

use super::conn::{Conn, Side};
use super::event_loop::{FIRST_CONN, Hub, RETRY};
use super::faults::{Direction, PerDirection};
use super::pipe::Pipe;
use super::stats::Counters;

impl Hub {
    pub(crate) fn accept(&mut self, now: Duration) {
        loop {
            let Some(listener) = &self.listener else { return };
            match listener.accept() {
                Ok((client, _peer)) => self.open(client, now),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of descriptors or the like: the backlog waits and
                    // no new edge may come, so retry on a timer.
                    log::warn!("accept failed: {e}");
                    self.retry_at = Some(now.saturating_add(RETRY));
                    return;
                }
            }
        }
    }

    fn open(&mut self, client: TcpStream, now: Duration) {
        Counters::add(&self.counters.connections, 1);
        let id = self.next_id;
        self.next_id += 1;
        let server = match TcpStream::connect(self.config.upstream()) {
            Ok(server) => server,
            Err(e) => {
                log::debug!("connection {id}: upstream connect failed: {e}");
                Counters::add(&self.counters.upstream_failures, 1);
                let _ = socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO));
                return;
            }
        };
        // Slices must leave as written, not wait for Nagle.
        let _ = client.set_nodelay(true);
        let slot = self.free.pop().unwrap_or(self.conns.len());
        let pipe = |direction| {
            let faults = self.faults.direction(direction);
            let delays = self.schedule.delays(id, direction, faults);
            Pipe::new(self.config.buffer_limit(), faults, delays, now)
        };
        let mut conn = Conn {
            id,
            client: Side::new(client),
            server: Side::new(server),
            connected: false,
            pipes: PerDirection {
                upstream: pipe(Direction::Upstream),
                downstream: pipe(Direction::Downstream),
            },
            scheduled: None,
            reported: 0,
        };
        let both = Interest::READABLE | Interest::WRITABLE;
        let base = FIRST_CONN + slot * 2;
        let registry = self.poll.registry();
        let registered = registry
            .register(&mut conn.client.stream, Token(base), both)
            .and_then(|()| registry.register(&mut conn.server.stream, Token(base + 1), both));
        if let Err(e) = registered {
            log::warn!("connection {id}: cannot register: {e}");
            self.free.push(slot);
            conn.close(registry, true);
            return;
        }
        Counters::add(&self.counters.open_connections, 1);
        match self.conns.get_mut(slot) {
            Some(entry) => *entry = Some(conn),
            None => self.conns.push(Some(conn)),
        }
    }
}
