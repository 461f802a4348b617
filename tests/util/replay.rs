//! The transcript replay engine: one transcript against one `rig serve`.
//!
//! Rows are processed in file order, which is the order they happened in:
//! `http` opens the row's connection with the row's path and query and checks
//! the status (101, or 403 with an empty body); `out` sends the frame (or the
//! close, expecting the recorded close reply); a run of `in` rows of one
//! connection must arrive byte for byte and in order (see
//! `util::fixtures::RefMap` for the two normalised values). The only order
//! relaxed is the joiner's own `presence_diff` / `presence_state` pair, which
//! the README describes as a race inside Phoenix.
//!
//! Nothing unexpected may arrive: a frame out of place fails the next `in`
//! row; before a client close, and before an `out` row the recorder sent
//! after a pause with no frame in between (e.g. the stale `phx_leave` of
//! duplicate_join), the connection must stay quiet for [`QUIET`]; and no
//! data frame may precede the server's close reply.
//!
//! One deviation from the recordings: idle_timeout.jsonl was recorded on a
//! second Phoenix socket mounted at `/short` with a 2 s timeout; `rig serve`
//! has one socket, so that transcript runs on `/socket` with `--idle-timeout 2`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::fixtures::{self, RefMap, Row, RowFrame, Transcript};
use super::ws::Upgrade;
use super::{Deadline, Received, RigServer, WsClient, now};

/// How long a connection must stay silent where the transcript shows silence.
const QUIET: Duration = Duration::from_millis(200);

/// A recorded gap on one connection, with no `in` row in it, longer than this
/// means the recorder waited to see that nothing comes.
const DELIBERATE_PAUSE_MS: f64 = 250.0;

/// Lower bound for the idle timeout of 2 s. A lower bound cannot fail
/// because the machine is slow, so it is safe to assert.
const IDLE_AT_LEAST: Duration = Duration::from_millis(1500);

struct Conn {
    client: Option<WsClient>,
    /// `t_ms` of this connection's last row.
    last_t_ms: f64,
    /// Whether that row was an `out` row.
    last_was_out: bool,
    opened_at: std::time::Instant,
}

pub(crate) struct Replay {
    transcript: Transcript,
    server: RigServer,
    conns: BTreeMap<String, Conn>,
    refs: RefMap,
}

impl Replay {
    /// A replay of the named fixture transcript.
    pub(crate) fn new(name: &str) -> Self {
        Self::of(fixtures::load(name))
    }

    /// A replay of `transcript`, on a fresh server.
    pub(crate) fn of(transcript: Transcript) -> Self {
        let server = if transcript.name == "idle_timeout.jsonl" {
            RigServer::start(&["--token", "secret", "--idle-timeout", "2"])
        } else {
            RigServer::start_secret()
        };
        Self { transcript, server, conns: BTreeMap::new(), refs: RefMap::default() }
    }

    fn context(&self, row: &Row) -> String {
        format!("{} row {} (conn {})", self.transcript.name, row.i, row.conn())
    }

    /// Plays every row; panics at the first difference.
    pub(crate) fn run(mut self) {
        let rows: Vec<Row> =
            self.transcript.rows.iter().filter(|row| row.dir != "note").cloned().collect();
        let mut at = 0;
        while let Some(row) = rows.get(at) {
            match row.dir.as_str() {
                "http" => self.open(row),
                "out" => self.send(row),
                "in" => {
                    let run_len = rows
                        .get(at..)
                        .unwrap_or_default()
                        .iter()
                        .take_while(|r| r.dir == "in" && r.conn() == row.conn())
                        .count();
                    let group = rows.get(at..at + run_len).unwrap_or_default().to_vec();
                    self.receive(&group);
                    at += run_len;
                    continue;
                }
                other => panic!("{}: unknown dir {other:?}", self.context(row)),
            }
            at += 1;
        }
        self.finish();
    }

    fn open(&mut self, row: &Row) {
        let context = self.context(row);
        let path_query = row
            .path_query()
            .unwrap_or_else(|| panic!("{context}: http row without a URL"))
            .replacen("/short/websocket", "/socket/websocket", 1);
        let expected_status = row.status.unwrap_or_else(|| panic!("{context}: no status"));
        let client = match WsClient::upgrade(self.server.addr(), &path_query, &[]) {
            Upgrade::Accepted(client, response) => {
                assert_eq!(expected_status, 101, "{context}: {path_query} was accepted");
                assert_eq!(
                    response.header("sec-websocket-protocol"),
                    None,
                    "{context}: no subprotocol was offered, none may be chosen"
                );
                Some(*client)
            }
            Upgrade::Refused(response) => {
                assert_eq!(
                    response.status, expected_status,
                    "{context}: {path_query}: {response:?}"
                );
                let recorded_body = row.body.as_deref().unwrap_or_default().as_bytes();
                assert_eq!(response.body, recorded_body, "{context}: refusal body");
                assert_eq!(response.header("content-length"), Some("0"), "{context}: {response:?}");
                None
            }
        };
        let conn = Conn { client, last_t_ms: row.t_ms, last_was_out: false, opened_at: now() };
        self.conns.insert(row.conn().to_owned(), conn);
    }

    fn conn(&mut self, row: &Row) -> &mut Conn {
        let context = self.context(row);
        self.conns
            .get_mut(row.conn())
            .unwrap_or_else(|| panic!("{context}: connection never opened"))
    }

    fn client(&mut self, row: &Row) -> &mut WsClient {
        let context = self.context(row);
        self.conn(row).client.as_mut().unwrap_or_else(|| panic!("{context}: connection not open"))
    }

    fn send(&mut self, row: &Row) {
        let context = self.context(row);
        let conn = self.conn(row);
        let paused = conn.last_was_out && row.t_ms - conn.last_t_ms >= DELIBERATE_PAUSE_MS;
        conn.last_t_ms = row.t_ms;
        conn.last_was_out = true;
        let client = self.client(row);
        if paused {
            quiet(client, &context);
        }
        match (row.opcode.as_deref(), row.frame()) {
            (_, Some(RowFrame::Text(text))) => client.send_text(&text),
            (_, Some(RowFrame::Binary(bytes))) => client.send_binary(&bytes),
            (Some("close"), None) => {
                let code = row.code.unwrap_or_else(|| panic!("{context}: close without code"));
                let reply =
                    row.server_close_code.unwrap_or_else(|| panic!("{context}: no reply code"));
                quiet(client, &context);
                client.send_close(code);
                let received = client.expect_frame();
                let reason = row.server_close_reason.clone().unwrap_or_default();
                assert_eq!(
                    received,
                    Received::Close { code: Some(reply), reason },
                    "{context}: the server's reply to a client close with {code} \
                     (a data frame here was not in the transcript)"
                );
                assert_eq!(client.expect_frame(), Received::Closed, "{context}: end after close");
                self.conn(row).client = None;
            }
            (opcode, _) => panic!("{context}: cannot send opcode {opcode:?}"),
        }
    }

    fn receive(&mut self, group: &[Row]) {
        let mut pending: Vec<&Row> = group.iter().collect();
        while let Some(first) = pending.first().copied() {
            let context = self.context(first);
            {
                let conn = self.conn(first);
                conn.last_t_ms = first.t_ms;
                conn.last_was_out = false;
            }
            let received = self.client(first).expect_frame();
            if self.row_matches(first, &received) {
                pending.remove(0);
                continue;
            }
            let partner = pending.get(1).copied().filter(|second| {
                matches!(
                    (first.presence_event(), second.presence_event()),
                    (Some("presence_diff"), Some("presence_state"))
                        | (Some("presence_state"), Some("presence_diff"))
                )
            });
            if let Some(second) = partner
                && self.row_matches(second, &received)
            {
                pending.remove(1);
                continue;
            }
            panic!(
                "{context}: unexpected frame\n  expected: {}\n  received: {received:?}",
                describe(first)
            );
        }
    }

    fn row_matches(&mut self, row: &Row, received: &Received) -> bool {
        let context = self.context(row);
        match (row.opcode.as_deref(), row.frame(), received) {
            (_, Some(RowFrame::Text(expected)), Received::Text(actual)) => {
                self.refs.matches(&expected, actual)
            }
            (_, Some(RowFrame::Binary(expected)), Received::Binary(actual)) => expected == *actual,
            (Some("close"), None, Received::Close { code, reason }) => {
                let expected_reason = row.reason.clone().unwrap_or_default();
                let matched = *code == row.code && *reason == expected_reason;
                if matched {
                    let conn = self.conn(row);
                    let lived = now().saturating_duration_since(conn.opened_at);
                    if self.transcript.name == "idle_timeout.jsonl" {
                        assert!(lived >= IDLE_AT_LEAST, "{context}: idle close after {lived:?}");
                    }
                    let client = self.client(row);
                    assert_eq!(
                        client.expect_frame(),
                        Received::Closed,
                        "{context}: end after close"
                    );
                    self.conn(row).client = None;
                }
                matched
            }
            _ => false,
        }
    }

    /// Every connection the transcript leaves open must be quiet, then close cleanly.
    fn finish(mut self) {
        let name = self.transcript.name.clone();
        for (id, conn) in &mut self.conns {
            if let Some(client) = conn.client.as_mut() {
                let context = format!("{name} end (conn {id})");
                quiet(client, &context);
                client.close_expecting(1000, 1000);
            }
        }
    }
}

fn quiet(client: &mut WsClient, context: &str) {
    if let Some(received) = client.recv(Deadline::after(QUIET)) {
        panic!("{context}: nothing should arrive here, got {received:?}");
    }
}

fn describe(row: &Row) -> String {
    match row.frame() {
        Some(RowFrame::Text(text)) => format!("text {text}"),
        Some(RowFrame::Binary(bytes)) => format!("binary {bytes:?}"),
        None => format!("{:?} code {:?} reason {:?}", row.opcode, row.code, row.reason),
    }
}
