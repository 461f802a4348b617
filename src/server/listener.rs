//! Accepting connections: TCP, then TLS when configured, then registration.

use std::io;
use std::time::Duration;

use mio::{Interest, Token};

use super::conn::{Conn, Phase};
use super::event_loop::{FIRST_CONN, Hub};
use super::stats::bump;
use super::transport::Transport;
use crate::time::Instant;

/// How long an HTTP request head may take to arrive.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How soon to retry after `accept` failed.
const ACCEPT_RETRY: Duration = Duration::from_millis(20);

impl Hub {
    pub(crate) fn accept(&mut self, now: Instant) {
        loop {
            let (sock, peer) = match self.listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of descriptors or similar: the pending connections
                    // wait in the backlog; retry soon (no new edge may come).
                    log::warn!("accept failed: {e}");
                    self.accept_retry = now.checked_add(ACCEPT_RETRY);
                    return;
                }
            };
            let _ = sock.set_nodelay(true);
            let transport = match self.config.tls() {
                None => Transport::Plain(sock),
                Some(tls) => match tls.accept(sock) {
                    Ok(tls) => Transport::Tls(Box::new(tls)),
                    Err(e) => {
                        log::warn!("tls setup failed for {peer}: {e}");
                        continue;
                    }
                },
            };
            let slot = self.free.pop().unwrap_or(self.conns.len());
            self.next_id += 1;
            let mut conn = Conn {
                id: self.next_id,
                phase: Phase::Http { transport, buf: Vec::new() },
                last_recv: now,
                deadline: None,
                phase_deadline: now.checked_add(HANDSHAKE_TIMEOUT.min(self.config.idle_timeout())),
                dirty: false,
                pace_at: None,
            };
            let registered = conn.phase.transport().map(|t| {
                self.poll.registry().register(
                    t.socket(),
                    Token(slot + FIRST_CONN),
                    Interest::READABLE | Interest::WRITABLE,
                )
            });
            if let Some(Err(e)) = registered {
                log::warn!("cannot register {peer}: {e}");
                continue;
            }
            log::debug!("accepted {peer} as connection {}", conn.id);
            bump(&self.stats.connections_accepted);
            bump(&self.stats.connections_open);
            match self.conns.get_mut(slot) {
                Some(entry) => *entry = Some(conn),
                None => self.conns.push(Some(conn)),
            }
            self.rearm(slot);
        }
    }
}
