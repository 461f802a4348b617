//! The `rig serve` contract: one flushed `listening on ...` line with the real
//! port, exit 0 on SIGINT/SIGTERM, a clear failure for a bad address, a port
//! in use or an unreadable certificate, TLS (`wss://`), and no token check
//! when no `--token` is configured.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rustls::pki_types::{CertificateDer, ServerName};

use crate::util::server::{SHUTDOWN, STARTUP, rig_binary, wait_with_deadline};
use crate::util::ws::{FRAME_TIMEOUT, Upgrade, read_head, tcp_connect, upgrade_request};
use crate::util::{Deadline, Received, RigServer, WsClient, assert_healthy};

#[test]
fn listening_line_names_the_real_port_and_sigterm_exits_zero() {
    let server = RigServer::start_secret();
    let expected = format!("listening on ws://127.0.0.1:{}/socket", server.addr().port());
    assert_eq!(server.listening_line(), expected);
    assert_healthy(&server);
    let (status, more_stdout) = server.stop_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM: {status:?}");
    assert!(more_stdout.is_empty(), "exactly one stdout line, then: {more_stdout:?}");
}

#[test]
fn sigint_exits_zero_with_clients_connected() {
    let server = RigServer::start_secret();
    let mut client = WsClient::connect(server.addr(), "/socket/websocket?token=secret&vsn=2.0.0");
    client.send_text(r#"["1","1","room:bye","phx_join",{}]"#);
    client.expect_text(
        r#"["1","1","room:bye","phx_reply",{"response":{"joined":"room:bye"},"status":"ok"}]"#,
    );
    let (status, more_stdout) = server.stop_with(libc::SIGINT);
    assert_eq!(status.code(), Some(0), "exit status after SIGINT: {status:?}");
    assert!(more_stdout.is_empty(), "exactly one stdout line, then: {more_stdout:?}");
    // The connection ends with the server; it must not hang.
    let end = client.expect_frame();
    assert!(
        !matches!(end, Received::Text(_) | Received::Binary(_)),
        "after shutdown only the end of the connection may arrive, got {end:?}"
    );
}

#[test]
fn without_token_any_connect_is_accepted() {
    let server = RigServer::start(&[]);
    for path in ["/socket/websocket?vsn=2.0.0", "/socket/websocket?token=anything&vsn=2.0.0"] {
        let mut client = WsClient::connect(server.addr(), path);
        client.send_text(r#"[null,"1","phoenix","heartbeat",{}]"#);
        client.expect_text(r#"[null,"1","phoenix","phx_reply",{"response":{},"status":"ok"}]"#);
        client.close_expecting(1000, 1000);
    }
}

#[test]
fn client_close_codes_get_a_close_reply() {
    // Recorded (every fixture): a client close 1000 gets 1000 back. For other
    // codes the HTTP server decides: Bandit answers 1000 for any valid code,
    // Cowboy echoes it, as RFC 6455 section 5.5.1 suggests. rig serve echoes
    // valid codes (tungstenite) and answers codes a peer may not send
    // (RFC 6455 section 7.4.1-2) with 1002, as both servers do.
    let server = RigServer::start_secret();
    let cases = [
        (Some(1000), Some(1000)),
        (Some(1001), Some(1001)),
        (Some(3000), Some(3000)),
        (Some(4000), Some(4000)),
        (Some(1004), Some(1002)),
        (Some(2999), Some(1002)),
        (None, None),
    ];
    let mut wrong = Vec::new();
    for (code, reply) in cases {
        let mut client =
            WsClient::connect(server.addr(), "/socket/websocket?token=secret&vsn=2.0.0");
        match code {
            Some(code) => client.send_close(code),
            None => client.send_close_empty(),
        }
        match client.expect_frame() {
            Received::Close { code: got, .. } if got == reply => client.expect_closed(),
            other => wrong.push(format!("close {code:?}: expected reply {reply:?}, got {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "close replies:\n{}", wrong.join("\n"));
}

/// Runs `rig serve <args>` expecting it to fail on its own; returns its
/// status, stdout and stderr.
fn serve_failing(args: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Command::new(rig_binary())
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let Some(status) = wait_with_deadline(&mut child, STARTUP) else {
        let _ = child.kill();
        let _ = wait_with_deadline(&mut child, SHUTDOWN);
        panic!("rig serve {args:?} should have failed but is still running");
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status, stdout, stderr)
}

fn assert_clear_failure(args: &[&str]) {
    let (status, stdout, stderr) = serve_failing(args);
    assert!(!status.success(), "rig serve {args:?} must fail: {status:?}");
    assert!(stdout.is_empty(), "no listening line on failure: {stdout:?}");
    assert!(!stderr.trim().is_empty(), "rig serve {args:?} must say why on stderr");
}

#[test]
fn port_in_use_fails_clearly() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    assert_clear_failure(&["--addr", &addr]);
}

#[test]
fn bad_address_fails_clearly() {
    assert_clear_failure(&["--addr", "not-an-address"]);
}

#[test]
fn unreadable_certificate_fails_clearly() {
    let dir = TempDir::new();
    let missing = dir.path.join("missing.pem");
    let missing = missing.to_str().unwrap();
    assert_clear_failure(&["--addr", "127.0.0.1:0", "--tls-cert", missing, "--tls-key", missing]);
}

/// A directory under the system temp dir, removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("rig-cli-test-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        Self { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[test]
fn tls_serves_wss_with_the_given_certificate() {
    let dir = TempDir::new();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert_path = dir.path.join("cert.pem");
    let key_path = dir.path.join("key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();
    let server = RigServer::start(&[
        "--token",
        "secret",
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ]);
    let expected = format!("listening on wss://127.0.0.1:{}/socket", server.addr().port());
    assert_eq!(server.listening_line(), expected);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(certified.cert.der().to_vec())).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap().to_owned();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = tcp_connect(server.addr());
    let tls = rustls::StreamOwned::new(connection, tcp.try_clone().unwrap());
    let upgrade = WsClient::upgrade_over(
        Box::new(tls),
        tcp,
        server.addr(),
        "/socket/websocket?token=secret&vsn=2.0.0",
        &[],
    );
    let Upgrade::Accepted(mut client, _) = upgrade else { panic!("wss upgrade refused") };
    client.send_text(r#"["1","1","room:tls","phx_join",{}]"#);
    client.expect_text(
        r#"["1","1","room:tls","phx_reply",{"response":{"joined":"room:tls"},"status":"ok"}]"#,
    );
    client.send_text(r#"["1","2","room:tls","echo",{"over":"tls"}]"#);
    client.expect_text(
        r#"["1","2","room:tls","phx_reply",{"response":{"over":"tls"},"status":"ok"}]"#,
    );
    client.close_expecting(1000, 1000);

    // A plain-text client on the TLS port gets no WebSocket.
    let plain = tcp_connect(server.addr());
    let request = upgrade_request(
        server.addr(),
        "/socket/websocket?token=secret&vsn=2.0.0",
        "dGhlIHNhbXBsZSBub25jZQ==",
        &[],
    );
    (&plain).write_all(request.as_bytes()).unwrap();
    let mut reader = plain.try_clone().unwrap();
    if let Ok((response, _)) = read_head(&mut reader, &plain, Deadline::after(FRAME_TIMEOUT)) {
        assert_ne!(response.status, 101, "a plain-text upgrade must not succeed on the TLS port");
    }
}

/// The join the status tests make, and its reply.
const STATUS_JOIN: &str = r#"["1","1","room:status","phx_join",{}]"#;
const STATUS_JOINED: &str =
    r#"["1","1","room:status","phx_reply",{"response":{"joined":"room:status"},"status":"ok"}]"#;

#[test]
fn the_status_line_on_stderr_shows_a_connection() {
    let server = RigServer::start(&[]);
    let mut client = WsClient::connect(server.addr(), "/socket/websocket?vsn=2.0.0");
    client.send_text(STATUS_JOIN);
    client.expect_text(STATUS_JOINED);
    let wanted = "rig serve: 1 open (1 total), 1 channels, ";
    let seen = crate::util::poll_until(STARTUP, || server.stderr_text().contains(wanted));
    let stderr = server.stderr_text();
    assert!(seen, "no status line with {wanted:?} on stderr: {stderr:?}");
    // stderr is a pipe, not a terminal: whole lines, nothing rewritten.
    assert!(!stderr.contains('\r'), "{stderr:?}");
    let line = stderr.lines().find(|l| l.contains(wanted)).unwrap();
    assert!(line.contains(" fr/s ") && line.contains(", refused 0, closed malformed 0 idle 0"));
    let (status, more_stdout) = server.stop_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM: {status:?}");
    assert!(more_stdout.is_empty(), "exactly one stdout line, then: {more_stdout:?}");
}

#[test]
fn quiet_prints_no_status_and_one_summary_at_exit() {
    let dir = TempDir::new();
    let stderr_path = dir.path.join("stderr.txt");
    let mut child = Command::new(rig_binary())
        .args(["serve", "--quiet", "--addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let (tx, rx) = crossbeam_channel::bounded(1);
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(STARTUP).unwrap();
    let addr = crate::util::server::parse_listening_line(line.trim_end()).unwrap();
    let stderr = || std::fs::read_to_string(&stderr_path).unwrap();
    let mut client = WsClient::connect(addr, "/socket/websocket?vsn=2.0.0");
    client.send_text(STATUS_JOIN);
    client.expect_text(STATUS_JOINED);
    // Three status periods with a client connected, and no status line.
    let printed = crate::util::poll_until(std::time::Duration::from_secs(3), || {
        stderr().contains("rig serve:")
    });
    assert!(!printed, "--quiet printed a status line: {:?}", stderr());
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with the pid of our own, not yet reaped, child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let Some(status) = wait_with_deadline(&mut child, SHUTDOWN) else {
        let _ = child.kill();
        panic!("rig serve --quiet did not exit after SIGTERM; stderr: {:?}", stderr());
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
    let stderr = stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "only the summary: {stderr:?}");
    let summary = lines[0];
    assert!(summary.starts_with("rig serve: stopped after "), "{summary}");
    for part in [": 1 connections (1 upgraded, refused 0:", "joins 1 ok 0 refused", "shutdown 1"] {
        assert!(summary.contains(part), "{part:?} not in the summary: {summary}");
    }
    client.expect_close(1001);
}

/// Messages up to 8,000,000 bytes pass by default, as on Phoenix with
/// Bandit; `--max-frame-size` lowers the limit, and a larger message gets
/// close 1009.
#[test]
fn messages_up_to_8_000_000_bytes_pass_by_default_and_max_frame_size_lowers_it() {
    let join = r#"["1","1","room:big","phx_join",{}]"#;
    let joined =
        r#"["1","1","room:big","phx_reply",{"response":{"joined":"room:big"},"status":"ok"}]"#;
    let big = "a".repeat(7_900_000);
    let push = format!(r#"["1","2","room:big","echo",{{"s":"{big}"}}]"#);

    let server = RigServer::start(&[]);
    let mut client = WsClient::connect(server.addr(), "/socket/websocket?vsn=2.0.0");
    client.send_text(join);
    client.expect_text(joined);
    client.send_text(&push);
    let reply =
        format!(r#"["1","2","room:big","phx_reply",{{"response":{{"s":"{big}"}},"status":"ok"}}]"#);
    match client.expect_frame() {
        Received::Text(text) => {
            assert!(text == reply, "a {} byte reply that is not the echo", text.len())
        }
        other => panic!("expected the echo of a 7.9 MB push, got {other:?}"),
    }
    client.close_expecting(1000, 1000);

    let small = RigServer::start(&["--max-frame-size", "1000"]);
    let mut client = WsClient::connect(small.addr(), "/socket/websocket?vsn=2.0.0");
    client.send_text(join);
    client.expect_text(joined);
    client.send_text(&format!(r#"["1","2","room:big","echo",{{"s":"{}"}}]"#, "a".repeat(2000)));
    client.expect_close(1009);
    assert_healthy(&small);
}
