//! `rig::metrics` against the embedded server: per-topic counts that add up
//! exactly (received = delivered + dropped), the topic cap summing the rest
//! under `_other`, the server's counters, and the `/metrics` listener.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use rig::engine::{Engine, EngineConfig, Overflow, Status};
use rig::metrics::{Metrics, MetricsError};
use rig::protocol::Payload;

use crate::engine_util::{WAIT, server, socket_with, until_status};
use crate::util::poll_until;

/// The value of the sample `series` (name and labels exactly), or panics
/// with the exposition.
fn sample(text: &str, series: &str) -> f64 {
    let prefix = format!("{series} ");
    let line = text.lines().find(|l| l.starts_with(&prefix));
    let line = line.unwrap_or_else(|| panic!("no {series} in:\n{text}"));
    line[prefix.len()..].parse().unwrap()
}

fn topic(name: &str, socket: &str, topic: &str) -> String {
    format!("rig_topic_{name}{{socket=\"{socket}\",topic=\"{topic}\"}}")
}

/// Reads everything a stream sends until `done`; returns how many messages.
fn drain(sub: &rig::engine::Subscription) -> u64 {
    let mut n = 0;
    loop {
        let message = sub.recv_timeout(WAIT).expect("the stream's next message");
        n += 1;
        if message.event == "done" {
            return n;
        }
    }
}

#[test]
fn topic_counts_add_up_and_the_cap_sums_the_rest() {
    let server = server();
    let engine = Engine::start(EngineConfig::builder().subscription_capacity(8).build()).unwrap();
    let (socket, status) = socket_with(&engine, server.url(), |o| o);
    socket.connect().unwrap();
    until_status(&status, WAIT, |s| *s == Status::Open);

    let metrics = Metrics::new().with_max_topics(2);
    metrics.watch_engine(&engine);
    metrics.watch_socket("s", &socket);
    metrics.watch_server(&server);

    // a: read in full; b: a queue of 8 nobody reads while 200 arrive;
    // c and d: beyond the cap of 2, summed under _other.
    let burst = |count: u32| Payload::json(format!(r#"{{"mode":"burst","count":{count}}}"#));
    let a = socket.channel("stream:a", burst(50)).unwrap();
    let b = socket.channel("stream:b", burst(200)).unwrap();
    let c = socket.channel("stream:c", burst(20)).unwrap();
    let d = socket.channel("stream:d", burst(30)).unwrap();
    for ch in [&a, &b, &c, &d] {
        metrics.watch_channel("s", ch);
    }
    // Block: nothing of a, c and d is lost to their queues of 8 (reading
    // pauses instead); b drops what does not fit.
    let a_all = a.subscribe_all_with(Overflow::Block).unwrap();
    let b_all = b.subscribe_all_with(Overflow::DropNewest).unwrap();
    let c_all = c.subscribe_all_with(Overflow::Block).unwrap();
    let d_all = d.subscribe_all_with(Overflow::Block).unwrap();
    // Readers first: a blocked queue pauses the whole socket, joins too.
    let readers = [a_all, c_all, d_all].map(|sub| std::thread::spawn(move || drain(&sub)));
    for ch in [&a, &b, &c, &d] {
        ch.join().wait_timeout(WAIT).expect("join in time").unwrap();
    }
    let [got_a, got_c, got_d] = readers.map(|r| r.join().unwrap());
    let got_other = got_c + got_d;
    // b's 200 events and its `done` have all arrived once the server has
    // written them and the socket has read as many frames.
    let mut text = String::new();
    let arrived = poll_until(WAIT, || {
        text = metrics.render();
        sample(&text, &topic("received_total", "s", "stream:b")) >= 201.0
    });
    assert!(arrived, "b's messages did not all arrive:\n{text}");

    let a_received = sample(&text, &topic("received_total", "s", "stream:a"));
    assert_eq!(a_received, got_a as f64);
    assert_eq!(sample(&text, &topic("delivered_total", "s", "stream:a")), a_received);
    assert_eq!(sample(&text, &topic("joined", "s", "stream:a")), 1.0);

    let b_received = sample(&text, &topic("received_total", "s", "stream:b"));
    let b_delivered = sample(&text, &topic("delivered_total", "s", "stream:b"));
    let b_full = sample(
        &text,
        "rig_topic_dropped_total{socket=\"s\",topic=\"stream:b\",reason=\"queue_full\"}",
    );
    assert_eq!(b_received, 201.0);
    assert_eq!(b_delivered, 8.0, "the queue holds 8");
    assert_eq!(b_delivered + b_full, b_received, "every copy is delivered or counted dropped");
    assert_eq!(b_all.dropped() as f64, b_full);

    assert_eq!(sample(&text, &topic("received_total", "", "_other")), got_other as f64);
    assert_eq!(sample(&text, &topic("joined", "", "_other")), 2.0);
    assert!(
        !text.contains("stream:c") && !text.contains("stream:d"),
        "capped topics get no series"
    );

    assert_eq!(sample(&text, "rig_socket_state{socket=\"s\",state=\"open\"}"), 1.0);
    assert_eq!(sample(&text, "rig_socket_state{socket=\"s\",state=\"idle\"}"), 0.0);
    assert!(
        sample(&text, "rig_socket_frames_received_total{socket=\"s\"}") >= a_received + b_received
    );
    assert_eq!(sample(&text, "rig_engine_io_thread_alive"), 1.0);
    assert_eq!(sample(&text, "rig_server_joins_total{status=\"ok\"}"), 4.0);
    assert!(text.ends_with("# EOF\n"));
}

/// One HTTP request to the listener; the whole answer.
fn get(addr: std::net::SocketAddr, request: &str) -> String {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(WAIT)).unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn the_listener_answers_metrics_only_and_a_taken_port_is_an_error() {
    let engine = Engine::start(EngineConfig::default()).unwrap();
    let metrics = Metrics::new();
    metrics.watch_engine(&engine);
    let listener = metrics.serve("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr();

    let ok = get(
        addr,
        "GET /metrics HTTP/1.1\r\nHost: t\r\nAccept: application/openmetrics-text\r\n\r\n",
    );
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    assert!(
        ok.contains("Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n")
    );
    assert!(ok.contains("\r\n\r\n# HELP rig_engine_io_thread_alive"), "{ok}");
    assert!(ok.ends_with("# EOF\n"));
    assert!(get(addr, "GET /other HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404 "));
    assert!(get(addr, "POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405 "));
    let huge = format!("GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(10_000));
    assert!(get(addr, &huge).starts_with("HTTP/1.1 431 "));

    match metrics.serve(addr) {
        Err(MetricsError::Bind { addr: a, .. }) => assert_eq!(a, addr),
        other => panic!("a taken port must be refused: {other:?}"),
    }
    drop(listener);
    assert!(TcpStream::connect(addr).is_err(), "dropping the listener closes the port");
}

#[test]
fn monitor_and_serve_refuse_a_metrics_port_in_use_before_connecting() {
    use crate::cli_util::{rig, run};
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    // Nothing listens at port 9: a monitor that got as far as connecting
    // would fail with exit 3, not 2.
    let monitor =
        run(rig(&["monitor", "ws://127.0.0.1:9/socket", "-t", "a", "--metrics", &addr]), "");
    assert_eq!(monitor.code, Some(2), "{monitor:?}");
    assert!(monitor.stderr.contains("--metrics") && monitor.stderr.contains(&addr), "{monitor:?}");
    let bad =
        run(rig(&["monitor", "ws://127.0.0.1:9/socket", "-t", "a", "--metrics", "nowhere"]), "");
    assert_eq!(bad.code, Some(2), "{bad:?}");
    let serve = run(rig(&["serve", "--addr", "127.0.0.1:0", "--metrics", &addr]), "");
    assert_eq!(serve.code, Some(2), "{serve:?}");
    assert!(!serve.stdout.contains("listening on"), "the server never started: {serve:?}");
}
