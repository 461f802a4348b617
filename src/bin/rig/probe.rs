//! The steps of `rig diagnose`, each on plain blocking sockets so every
//! layer can be timed and named: DNS, TCP, TLS, certificate, WebSocket
//! upgrade, heartbeats, join.
//!
//! `--timeout` is the budget of the whole run ([`Deadline`]): every step
//! gets what is left of it. A socket timeout alone bounds one `read`, not a
//! step: a server that sends its upgrade reply one byte per second never
//! lets a one-second read timeout fire, so each read and write is given
//! the time left until the deadline instead.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rig::time::{Clock, Instant};
use rig::transport::{WsUrl, resolve};
use rustls::pki_types::ServerName;
use serde_json::{Value, json};

use crate::cert;

/// The outcome of one step: a line of the report.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) name: &'static str,
    pub(crate) ok: bool,
    pub(crate) detail: String,
    pub(crate) hint: Option<&'static str>,
    /// Measurements and facts for `--json`.
    pub(crate) data: Value,
}

impl Step {
    pub(crate) fn ok(name: &'static str, detail: impl Into<String>, data: Value) -> Self {
        Self { name, ok: true, detail: detail.into(), hint: None, data }
    }

    pub(crate) fn failed(
        name: &'static str,
        detail: impl Into<String>,
        hint: &'static str,
    ) -> Self {
        Self { name, ok: false, detail: detail.into(), hint: Some(hint), data: Value::Null }
    }
}

/// The end of the whole run: `--timeout` after it started.
#[derive(Clone, Debug)]
pub(crate) struct Deadline {
    clock: Clock,
    at: Instant,
    budget: Duration,
}

impl Deadline {
    /// `budget` from now on `clock`.
    pub(crate) fn new(clock: &Clock, budget: Duration) -> Self {
        Self { clock: clock.clone(), at: clock.now() + budget, budget }
    }

    /// The time left; `None` once it is over (a zero socket timeout would
    /// mean "wait forever", so less than a millisecond counts as over).
    pub(crate) fn remaining(&self) -> Option<Duration> {
        Some(self.at.saturating_duration_since(self.clock.now()))
            .filter(|left| *left >= Duration::from_millis(1))
    }

    /// Whether the run is out of time.
    pub(crate) fn is_over(&self) -> bool {
        self.remaining().is_none()
    }

    /// The detail of a step cut short by the deadline.
    pub(crate) fn expired(&self, waiting_for: &str) -> String {
        format!(
            "timed out: no {waiting_for} within the --timeout of {} ms (it bounds the whole run)",
            self.budget.as_millis()
        )
    }

    /// Gives `tcp`'s next read and write the time left, or fails with
    /// `TimedOut` when none is.
    fn arm(&self, tcp: &TcpStream) -> std::io::Result<()> {
        let left = self.remaining().ok_or_else(timed_out)?;
        tcp.set_read_timeout(Some(left))?;
        tcp.set_write_timeout(Some(left))
    }
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "the --timeout of the run is over")
}

/// A socket timeout shows as `WouldBlock` (EAGAIN) on a blocking socket;
/// tungstenite would take that for a non-blocking pause and hand back a
/// half-done handshake, so it becomes `TimedOut`.
fn no_would_block(err: std::io::Error) -> std::io::Error {
    if err.kind() == std::io::ErrorKind::WouldBlock { timed_out() } else { err }
}

/// A plain or TLS stream whose every read and write ends by the run's
/// [`Deadline`].
pub(crate) struct Stream {
    inner: Inner,
    deadline: Deadline,
}

enum Inner {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    /// A plain TCP stream bounded by `deadline`.
    pub(crate) fn plain(tcp: TcpStream, deadline: &Deadline) -> Self {
        Self { inner: Inner::Plain(tcp), deadline: deadline.clone() }
    }

    /// The run's deadline this stream obeys.
    pub(crate) fn deadline(&self) -> &Deadline {
        &self.deadline
    }

    fn tcp(&self) -> &TcpStream {
        match &self.inner {
            Inner::Plain(s) => s,
            Inner::Tls(s) => &s.sock,
        }
    }
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.inner {
            Inner::Plain(_) => "Stream::Plain",
            Inner::Tls(_) => "Stream::Tls",
        })
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.deadline.arm(self.tcp())?;
        match &mut self.inner {
            Inner::Plain(s) => s.read(buf),
            Inner::Tls(s) => s.read(buf),
        }
        .map_err(no_would_block)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.deadline.arm(self.tcp())?;
        match &mut self.inner {
            Inner::Plain(s) => s.write(buf),
            Inner::Tls(s) => s.write(buf),
        }
        .map_err(no_would_block)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.deadline.arm(self.tcp())?;
        match &mut self.inner {
            Inner::Plain(s) => s.flush(),
            Inner::Tls(s) => s.flush(),
        }
        .map_err(no_would_block)
    }
}

impl Stream {
    /// The read timeout of the socket underneath (the `--timeout` of every step).
    pub(crate) fn read_timeout(&self) -> Option<Duration> {
        self.tcp().read_timeout().ok().flatten()
    }
}

/// A socket error in words. A read that hit the socket's timeout reports
/// `WouldBlock` on Unix ("os error 11"): it means no answer in time.
pub(crate) fn io_words(e: &std::io::Error, timeout: Option<Duration>) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => match timeout {
            Some(t) => format!("no answer within {} ms", t.as_millis()),
            None => "no answer in time".to_owned(),
        },
        ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        ErrorKind::ConnectionReset => "the server reset the connection".to_owned(),
        ErrorKind::UnexpectedEof | ErrorKind::BrokenPipe => {
            "the server closed the connection".to_owned()
        }
        _ => {
            if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
                // The transport's words for TLS failures, without its prefix.
                let words = rig::transport::Error::Tls(Box::new(tls.clone())).to_string();
                return words.trim_start_matches("tls: ").to_owned();
            }
            let text = e.to_string();
            match text.split_once(" (os error ") {
                Some((words, _)) => words.to_owned(),
                None => text,
            }
        }
    }
}

/// Milliseconds with two decimals.
pub(crate) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

/// DNS: the addresses of the URL's host. The lookup blocks in the system
/// resolver, which takes no timeout, so it runs on its own thread and is
/// left behind (the process exits) when the deadline comes first.
pub(crate) fn dns(url: &WsUrl, clock: &Clock, deadline: &Deadline) -> (Step, Vec<SocketAddr>) {
    let hint = "check the host name in the URL";
    let start = clock.now();
    let (sender, answer) = crossbeam_channel::bounded(1);
    let lookup = url.clone();
    let spawned = std::thread::Builder::new().name("rig-dns".into()).spawn(move || {
        // The receiver is gone only when the deadline passed: nobody to tell.
        let _late = sender.send(resolve(&lookup));
    });
    if let Err(e) = spawned {
        return (Step::failed("dns", format!("cannot start the lookup: {e}"), hint), Vec::new());
    }
    let Some(left) = deadline.remaining() else {
        return (Step::failed("dns", deadline.expired("address"), hint), Vec::new());
    };
    let Ok(resolved) = answer.recv_timeout(left) else {
        return (Step::failed("dns", deadline.expired("address"), hint), Vec::new());
    };
    match resolved {
        Ok(addrs) if !addrs.is_empty() => {
            let took = clock.now() - start;
            let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            let detail = format!("{} in {:.2} ms", list.join(", "), ms(took));
            (Step::ok("dns", detail, json!({"addresses": list, "ms": ms(took)})), addrs)
        }
        Ok(_) => (Step::failed("dns", "no address", hint), Vec::new()),
        Err(e) => (Step::failed("dns", e.to_string(), hint), Vec::new()),
    }
}

/// TCP: a connect to each address in turn until one answers.
pub(crate) fn tcp(
    addrs: &[SocketAddr],
    deadline: &Deadline,
    clock: &Clock,
) -> (Step, Option<TcpStream>) {
    let mut failures = Vec::new();
    let mut timed_out = false;
    for addr in addrs {
        let Some(left) = deadline.remaining() else {
            failures.push(deadline.expired("connection"));
            timed_out = true;
            break;
        };
        let start = clock.now();
        match TcpStream::connect_timeout(addr, left) {
            Ok(stream) => {
                let took = clock.now() - start;
                let _ = stream.set_nodelay(true);
                let detail = format!("connected to {addr} in {:.2} ms", ms(took));
                let data = json!({"address": addr.to_string(), "ms": ms(took)});
                return (Step::ok("tcp", detail, data), Some(stream));
            }
            Err(e) => {
                timed_out |= e.kind() == std::io::ErrorKind::TimedOut;
                failures.push(format!("{addr}: {}", io_words(&e, Some(left))));
            }
        }
    }
    let hint = if timed_out {
        "nothing answered: check the address, the port and any firewall"
    } else {
        "is the server running, and is the port right?"
    };
    (Step::failed("tcp", failures.join("; "), hint), None)
}

/// TLS: the handshake (accepting any certificate: [`certificate`] judges it).
pub(crate) fn tls(
    tcp: TcpStream,
    host: &str,
    deadline: &Deadline,
) -> (Step, Option<(Stream, Vec<rustls::pki_types::CertificateDer<'static>>)>) {
    let hint = "is it a TLS port? use ws:// for a plain one, wss:// for TLS";
    let Ok(config) = crate::insecure::client_config() else {
        return (Step::failed("tls", "cannot set up TLS", hint), None);
    };
    let name = match ServerName::try_from(host.to_owned()) {
        Ok(name) => name,
        Err(e) => return (Step::failed("tls", format!("bad host name: {e}"), hint), None),
    };
    let conn = match rustls::ClientConnection::new(Arc::new(config), name) {
        Ok(conn) => conn,
        Err(e) => return (Step::failed("tls", e.to_string(), hint), None),
    };
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        let done =
            deadline.arm(&stream.sock).and_then(|()| stream.conn.complete_io(&mut stream.sock));
        if let Err(e) = done {
            let detail = if deadline.is_over() {
                deadline.expired("TLS handshake")
            } else {
                format!("handshake: {}", io_words(&e, stream.sock.read_timeout().ok().flatten()))
            };
            return (Step::failed("tls", detail, hint), None);
        }
    }
    let version =
        stream.conn.protocol_version().map_or_else(|| "?".to_owned(), |v| format!("{v:?}"));
    let cipher = stream
        .conn
        .negotiated_cipher_suite()
        .map_or_else(|| "?".to_owned(), |c| format!("{:?}", c.suite()));
    let chain: Vec<_> = stream
        .conn
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    let step = Step::ok(
        "tls",
        format!("{version}, {cipher}"),
        json!({"version": version, "cipher": cipher}),
    );
    let stream = Stream { inner: Inner::Tls(Box::new(stream)), deadline: deadline.clone() };
    (step, Some((stream, chain)))
}

/// The certificate: subject, issuer, expiry, and the verification result.
pub(crate) fn certificate(
    chain: &[rustls::pki_types::CertificateDer<'static>],
    host: &str,
    tls_ca: Option<&std::path::Path>,
    insecure: bool,
) -> Step {
    let hint = "give the server's CA with --tls-ca FILE (or skip verification with --insecure)";
    let Some(leaf) = chain.first() else {
        return Step::failed("certificate", "the server sent no certificate", hint);
    };
    let summary = match cert::summary(leaf) {
        Ok(summary) => summary,
        Err(e) => return Step::failed("certificate", e, hint),
    };
    let now = crate::event_line::unix_now().as_secs();
    let verified = cert::roots(tls_ca)
        .map_err(cert::Refusal::from)
        .and_then(|roots| cert::verify(roots, chain, host, now));
    let mut data = json!({
        "subject": summary.subject,
        "issuer": summary.issuer,
        "not_after": summary.not_after,
        "verified": verified.is_ok(),
    });
    let facts = format!(
        "subject {}, issuer {}, expires {}",
        summary.subject, summary.issuer, summary.not_after
    );
    match verified {
        Ok(()) => Step::ok("certificate", format!("{facts}, verified"), data),
        Err(e) if insecure => {
            data["verification_error"] = e.text.clone().into();
            Step::ok("certificate", format!("{facts}, NOT verified ({}; --insecure)", e.text), data)
        }
        Err(e) => {
            let hint = crate::connect::certificate_hint(e.cause.as_ref());
            let mut step =
                Step::failed("certificate", format!("{facts}, not trusted: {}", e.text), hint);
            data["verification_error"] = e.text.into();
            step.data = data;
            step
        }
    }
}
