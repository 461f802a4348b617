//! `rig diagnose` against servers that go silent or are not there: every
//! failure reads as words ("no answer within 300 ms"), never as a Rust
//! error's debug text or an OS error number.

use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::cli_util::{Run, rig, run};

/// A server that accepts `count` connections and never says a word, until
/// the sender is dropped.
fn silent_server(count: usize) -> (SocketAddr, mpsc::Sender<()>, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(count).collect();
        let _ = stopped.recv_timeout(Duration::from_secs(120));
        drop(held);
    });
    (addr, stop, server)
}

fn diagnose(url: &str) -> Run {
    run(rig(&["diagnose", url, "--timeout", "300"]), "")
}

fn assert_in_words(done: &Run) {
    for raw in ["WouldBlock", "Interrupted handshake", "os error", "Other(", "Error("] {
        assert!(!done.stdout.contains(raw), "{raw:?} in {}", done.stdout);
    }
}

#[test]
fn a_silent_server_is_no_answer_in_time() {
    let (addr, stop, server) = silent_server(2);
    let plain = diagnose(&format!("ws://{addr}/socket"));
    let tls = diagnose(&format!("wss://{addr}/socket"));
    drop(stop);
    server.join().unwrap();

    assert_eq!(plain.code, Some(3), "{plain:?}");
    // The run's deadline (--timeout bounds the whole run) cuts the upgrade.
    let cut = "no complete upgrade reply within the --timeout of 300 ms";
    assert!(plain.stdout.contains(cut), "{}", plain.stdout);
    assert!(plain.stdout.contains("raise --timeout"), "{}", plain.stdout);
    assert_in_words(&plain);
    assert_eq!(tls.code, Some(3), "{tls:?}");
    let cut = "no TLS handshake within the --timeout of 300 ms";
    assert!(tls.stdout.contains(cut), "{}", tls.stdout);
    assert_in_words(&tls);
}

#[test]
fn a_closed_port_is_connection_refused() {
    let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let done = diagnose(&format!("ws://{addr}/socket"));
    assert_eq!(done.code, Some(3), "{done:?}");
    assert!(done.stdout.contains(&format!("{addr}: connection refused")), "{}", done.stdout);
    assert_in_words(&done);
}

#[test]
fn a_plain_server_behind_wss_is_not_tls_in_words() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Answers whatever comes with plain HTTP, as a ws:// server would.
    let server = thread::spawn(move || {
        for stream in listener.incoming().take(2) {
            let mut stream = stream.unwrap();
            let mut hello = [0u8; 512];
            let _ = std::io::Read::read(&mut stream, &mut hello);
            let _ = std::io::Write::write_all(&mut stream, b"HTTP/1.1 400 Bad Request\r\n\r\n");
        }
    });
    let url = format!("wss://{addr}/socket");
    let diagnosed = diagnose(&url);
    let pushed = run(rig(&["push", &url, "room:a", "echo", "--timeout", "3000"]), "");
    server.join().unwrap();

    assert_eq!(diagnosed.code, Some(3), "{diagnosed:?}");
    assert!(
        diagnosed.stdout.contains("handshake: the server's answer is not TLS"),
        "{diagnosed:?}"
    );
    assert_in_words(&diagnosed);
    assert_eq!(pushed.code, Some(3), "{pushed:?}");
    assert!(pushed.stderr.contains("tls: the server's answer is not TLS"), "{pushed:?}");
    assert!(!pushed.stderr.contains("InvalidContentType"), "{pushed:?}");
}
