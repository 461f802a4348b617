//! Running the `rig` client commands as child processes, with a deadline.

use std::io::{Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use crate::util::RigServer;
use crate::util::server::{rig_binary, wait_with_deadline};

/// How long one client command may run (a debug build on a loaded machine).
pub(crate) const RUN_LIMIT: Duration = Duration::from_secs(60);

/// What a finished `rig` command left behind.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// `ws://127.0.0.1:PORT/socket` of a running `rig serve`.
pub(crate) fn socket_url(server: &RigServer) -> String {
    format!("ws://127.0.0.1:{}/socket", server.addr().port())
}

/// A `rig <args>` command with `RIG_TOKEN` cleared and warnings off.
pub(crate) fn rig(args: &[&str]) -> Command {
    let mut command = Command::new(rig_binary());
    command.args(args).env_remove("RIG_TOKEN").env("RIG_LOG", "error");
    command
}

/// Runs `command` to completion with `stdin` as its input, within [`RUN_LIMIT`].
pub(crate) fn run(mut command: Command, stdin: &str) -> Run {
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("spawn rig");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_owned();
    let writer = thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = read_all(&mut child, true);
    let err = read_all(&mut child, false);
    let status = wait_with_deadline(&mut child, RUN_LIMIT);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = writer.join();
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    };
    assert!(status.is_some(), "rig did not exit within {RUN_LIMIT:?}: {run:?}");
    run
}

/// Reads a pipe of the child to its end on another thread.
fn read_all(child: &mut Child, stdout: bool) -> thread::JoinHandle<String> {
    let mut pipe: Box<dyn std::io::Read + Send> = if stdout {
        Box::new(child.stdout.take().expect("stdout"))
    } else {
        Box::new(child.stderr.take().expect("stderr"))
    };
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// `rig serve --token secret` over TLS with a fresh self-signed certificate
/// for `localhost`, whose PEM stays on disk while this lives.
#[derive(Debug)]
pub(crate) struct TlsServer {
    pub(crate) server: RigServer,
    pub(crate) cert_path: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl TlsServer {
    pub(crate) fn start(name: &str) -> Self {
        let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        Self::start_with(name, params)
    }

    /// The same with a self-signed certificate made from `params` (a CA
    /// certificate, an expired one, ...).
    pub(crate) fn start_with(name: &str, params: rcgen::CertificateParams) -> Self {
        let dir = std::env::temp_dir().join(format!("rig-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let cert_path = dir.join("cert.pem");
        let key_path = dir.join("key.pem");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        let server = RigServer::start(&[
            "--token",
            "secret",
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ]);
        Self { server, cert_path, dir }
    }

    /// `wss://localhost:PORT/socket`.
    pub(crate) fn url(&self) -> String {
        format!("wss://localhost:{}/socket", self.server.addr().port())
    }

    pub(crate) fn ca(&self) -> &str {
        self.cert_path.to_str().unwrap()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
