//! A real Prometheus scrapes `rig serve --metrics`: its HTTP API must show a
//! counter that moved, and `promtool check metrics` must accept the
//! exposition. Needs Debian's `prometheus` package; skipped with a printed
//! reason when it is missing, unless `RIG_REQUIRE_PROMETHEUS` is set (CI).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rig::engine::{Engine, SocketOptions};
use rig::protocol::Payload;

use crate::util::{RigServer, poll_until};

/// How long Prometheus may take to start and scrape (1 s interval).
const SCRAPED: Duration = Duration::from_secs(60);

/// The binary, or `None` (after saying why) when the test cannot run here.
pub(crate) fn tool(name: &str) -> Option<String> {
    let path = format!("/usr/bin/{name}");
    if Path::new(&path).exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("RIG_REQUIRE_PROMETHEUS").is_none(),
        "{path} is missing and RIG_REQUIRE_PROMETHEUS is set (apt-get install prometheus)"
    );
    eprintln!("skipped: {path} is missing (apt-get install prometheus)");
    None
}

/// A port nobody listens on now.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// `GET path` over HTTP/1.1; the body of a 200 answer.
pub(crate) fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    conn.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

/// Prometheus on a generated config, killed on drop.
struct Prometheus {
    child: Child,
    web: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(binary: &str, targets: &[SocketAddr]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: rig\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let web = free_port();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address={web}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Self { child, web, _dir: dir }
    }

    /// The value of an instant query's first sample, if any.
    fn query(&self, promql: &str) -> Option<f64> {
        let encoded: String = promql
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let body = http_get(self.web, &format!("/api/v1/query?query={encoded}"))?;
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        let value = json.pointer("/data/result/0/value/1")?.as_str()?;
        value.parse().ok()
    }

    /// Waits until `promql` gives at least `min`; the value, or panics.
    fn until_at_least(&self, promql: &str, min: f64) -> f64 {
        let mut seen = None;
        let got = poll_until(SCRAPED, || {
            seen = self.query(promql);
            seen.is_some_and(|v| v >= min)
        });
        assert!(got, "Prometheus never saw {promql} >= {min} (last: {seen:?})");
        seen.unwrap_or_default()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `promtool check metrics` on the exposition at `addr`.
pub(crate) fn promtool_accepts(promtool: &str, addr: SocketAddr) {
    let text = http_get(addr, "/metrics").expect("the exposition");
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "promtool check metrics: {out:?}\n{text}");
}

#[test]
fn prometheus_scrapes_rig_serve() {
    let (Some(prometheus), Some(promtool)) = (tool("prometheus"), tool("promtool")) else { return };
    let metrics = free_port();
    let server = RigServer::start(&["--metrics", &metrics.to_string()]);
    promtool_accepts(&promtool, metrics);
    let prom = Prometheus::start(&prometheus, &[metrics]);
    prom.until_at_least("up{job=\"rig\"}", 1.0);

    // Something for the counters: a join and an echo through the engine.
    let engine = Engine::start(Default::default()).unwrap();
    let url = format!("ws://{}/socket", server.addr());
    let socket = engine.socket(SocketOptions::builder(url).build().unwrap()).unwrap();
    socket.connect().unwrap();
    let room = socket.channel("room:lobby", Payload::json("{}")).unwrap();
    room.join().wait_timeout(Duration::from_secs(10)).expect("joined in time").unwrap();
    let joins = prom.until_at_least("rig_server_joins_total{status=\"ok\"}", 1.0);
    assert!(joins >= 1.0);
    prom.until_at_least("rig_server_channels_joined", 1.0);
}

#[test]
fn prometheus_scrapes_rig_monitor() {
    let (Some(prometheus), Some(promtool)) = (tool("prometheus"), tool("promtool")) else { return };
    let server = RigServer::start(&[]);
    let metrics = free_port();
    let url = format!("ws://{}/socket", server.addr());
    let mut monitor = crate::cli_util::rig(&[
        "monitor",
        &url,
        "-t",
        "stream:prom",
        "--join-param",
        "rate=50",
        "--join-param",
        "count=1000000",
        "--metrics",
        &metrics.to_string(),
    ]);
    let mut monitor = monitor.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let scraped = std::panic::catch_unwind(|| {
        let up = poll_until(SCRAPED, || http_get(metrics, "/metrics").is_some());
        assert!(up, "rig monitor never served /metrics");
        promtool_accepts(&promtool, metrics);
        let prom = Prometheus::start(&prometheus, &[metrics]);
        let topic = "rig_topic_received_total{topic=\"stream:prom\"}";
        let first = prom.until_at_least(topic, 1.0);
        prom.until_at_least(topic, first + 1.0); // it moves
        prom.until_at_least("rig_socket_state{state=\"open\"}", 1.0);
    });
    let _ = monitor.kill();
    let _ = monitor.wait();
    if let Err(panic) = scraped {
        std::panic::resume_unwind(panic);
    }
}
