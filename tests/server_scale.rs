//! A thousand concurrent WebSocket clients on one `rig serve`.
//!
//! One thread drives all clients: each completes its upgrade (blocking, with
//! a deadline), then turns non-blocking and is registered with a mio `Poll`;
//! joins and the broadcast are read as they come. Every client must get its
//! join reply and then the one broadcast, and nothing else.

use std::io::{self, Write as _};
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

use crate::util::ws::{self, FRAME_TIMEOUT};
use crate::util::{Deadline, RigServer, assert_healthy};

const CLIENTS: usize = 1000;
const PATH: &str = "/socket/websocket?token=secret&vsn=2.0.0";
const JOIN: &str = r#"["1","1","room:scale","phx_join",{}]"#;
const JOIN_REPLY: &str =
    r#"["1","1","room:scale","phx_reply",{"response":{"joined":"room:scale"},"status":"ok"}]"#;
const SHOUT: &str = r#"["1","2","room:scale","shout",{"from":0,"to":"everyone"}]"#;
const BROADCAST: &str = r#"[null,null,"room:scale","shout",{"from":0,"to":"everyone"}]"#;

/// The whole test: upgrades, joins and fan-out, on a 2-core machine in debug.
const BUDGET: Duration = Duration::from_secs(90);

struct Client {
    ws: WebSocket<TcpStream>,
    received: Vec<String>,
    /// A write that hit `WouldBlock` and must be flushed again.
    unflushed: bool,
}

/// Raises the soft open-files limit to the hard one (this process and, by
/// inheritance, the server child need a descriptor per connection).
fn raise_nofile_limit() {
    let wanted = u64::try_from(2 * CLIENTS + 256).unwrap();
    let soft = rlimit::increase_nofile_limit(u64::MAX).expect("raise RLIMIT_NOFILE");
    assert!(soft >= wanted, "RLIMIT_NOFILE is {soft}; {wanted} descriptors are needed");
}

fn open_client(server: &RigServer, deadline: Deadline) -> Client {
    let tcp = ws::tcp_connect(server.addr());
    let key = tungstenite::handshake::client::generate_key();
    let request = ws::upgrade_request(server.addr(), PATH, &key, &[]);
    (&tcp).write_all(request.as_bytes()).unwrap();
    let mut reader = tcp.try_clone().unwrap();
    let (response, leftover) = ws::read_head(&mut reader, &tcp, deadline).unwrap();
    assert_eq!(response.status, 101, "{response:?}");
    tcp.set_read_timeout(None).unwrap();
    tcp.set_nonblocking(true).unwrap();
    let stream = TcpStream::from_std(tcp);
    let ws = WebSocket::from_partially_read(stream, leftover, Role::Client, None);
    Client { ws, received: Vec::new(), unflushed: false }
}

/// Queues `text` and flushes what the socket takes now.
fn send(client: &mut Client, text: &str) {
    match client.ws.send(Message::text(text)) {
        Ok(()) => client.unflushed = false,
        Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
            client.unflushed = true;
        }
        Err(e) => panic!("send {text}: {e}"),
    }
}

/// Reads every complete frame the socket has now.
fn drain(index: usize, client: &mut Client) {
    loop {
        match client.ws.read() {
            Ok(Message::Text(text)) => client.received.push(text.as_str().to_owned()),
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Ok(other) => panic!("client {index}: unexpected {other:?}"),
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => panic!("client {index}: read failed: {e}"),
        }
    }
}

/// Polls until `done` holds for every client, or panics at the deadline.
fn pump(
    poll: &mut Poll,
    clients: &mut [Client],
    deadline: Deadline,
    what: &str,
    done: impl Fn(&Client) -> bool,
) {
    let mut events = Events::with_capacity(1024);
    loop {
        for client in clients.iter_mut().filter(|c| c.unflushed) {
            match client.ws.flush() {
                Ok(()) => client.unflushed = false,
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("flush: {e}"),
            }
        }
        let missing = clients.iter().filter(|c| !done(c)).count();
        if missing == 0 {
            return;
        }
        let Some(left) = deadline.remaining() else {
            let sample = clients.iter().position(|c| !done(c));
            panic!(
                "{what}: {missing} of {} clients not done at the deadline \
                 (first: #{sample:?}, received {:?})",
                clients.len(),
                sample.and_then(|i| clients.get(i)).map(|c| &c.received)
            );
        };
        poll.poll(&mut events, Some(left.min(Duration::from_millis(200)))).unwrap();
        for event in &events {
            let index = event.token().0;
            if let Some(client) = clients.get_mut(index) {
                drain(index, client);
            }
        }
    }
}

#[test]
fn a_thousand_clients_receive_one_broadcast() {
    raise_nofile_limit();
    let server = RigServer::start_secret();
    let deadline = Deadline::after(BUDGET);
    let mut poll = Poll::new().unwrap();
    let mut clients = Vec::with_capacity(CLIENTS);
    for index in 0..CLIENTS {
        let step = Deadline::after(FRAME_TIMEOUT);
        let mut client = open_client(&server, step);
        poll.registry().register(client.ws.get_mut(), Token(index), Interest::READABLE).unwrap();
        send(&mut client, JOIN);
        clients.push(client);
    }
    pump(&mut poll, &mut clients, deadline, "join", |c| !c.received.is_empty());
    for (index, client) in clients.iter().enumerate() {
        assert_eq!(client.received, [JOIN_REPLY], "client {index}: join");
    }
    send(clients.first_mut().unwrap(), SHOUT);
    pump(&mut poll, &mut clients, deadline, "broadcast", |c| c.received.len() >= 2);
    for (index, client) in clients.iter().enumerate() {
        assert_eq!(client.received, [JOIN_REPLY, BROADCAST], "client {index}: broadcast");
    }
    drop(clients);
    assert_healthy(&server);
}
