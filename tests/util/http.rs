//! The HTTP/1.1 side of the test client: upgrade requests written by hand and
//! response heads and bodies read with a deadline.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::Deadline;

/// How long one expected frame or HTTP response may take to arrive.
pub(crate) const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest HTTP response head the client accepts.
const MAX_HEAD: usize = 16 * 1024;

/// An HTTP response head (and, for non-101 answers, its body).
#[derive(Clone, Debug, Default)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl HttpResponse {
    /// The value of header `name` (case-insensitive), if present.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The request line and headers of a WebSocket upgrade for `path_query`.
pub(crate) fn upgrade_request(
    addr: SocketAddr,
    path_query: &str,
    key: &str,
    extra_headers: &[(&str, &str)],
) -> String {
    let mut request = format!(
        "GET {path_query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (name, value) in extra_headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// Opens a TCP connection to `addr` with a connect deadline.
pub(crate) fn tcp_connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, FRAME_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_nodelay(true).unwrap_or_else(|e| panic!("nodelay: {e}"));
    stream
}

/// Reads an HTTP response head; returns it with the bytes read past it.
pub(crate) fn read_head(
    stream: &mut dyn Read,
    tcp: &TcpStream,
    deadline: Deadline,
) -> Result<(HttpResponse, Vec<u8>), String> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 2048];
    let end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_HEAD {
            return Err(format!("response head over {MAX_HEAD} bytes"));
        }
        let left = deadline.remaining().ok_or("no complete response head before the deadline")?;
        tcp.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Err(format!(
                    "connection closed after {} bytes of response head: {:?}",
                    buffer.len(),
                    String::from_utf8_lossy(&buffer)
                ));
            }
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(format!("reading the response head: {e}")),
        }
    };
    let head = String::from_utf8(buffer[..end].to_vec()).map_err(|e| e.to_string())?;
    let leftover = buffer[end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(format!("bad status line {status_line:?}"));
    };
    if version != "HTTP/1.1" {
        return Err(format!("bad status line {status_line:?}"));
    }
    let status = code.parse().map_err(|_| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(|| format!("bad header {line:?}"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok((HttpResponse { status, headers, body: Vec::new() }, leftover))
}

/// Reads a response body after its head: `content-length` bytes, or until EOF
/// when the server sends no length.
pub(crate) fn read_body(
    stream: &mut dyn Read,
    tcp: &TcpStream,
    response: &HttpResponse,
    mut body: Vec<u8>,
    deadline: Deadline,
) -> Result<Vec<u8>, String> {
    let length = match response.header("content-length") {
        Some(text) => Some(text.parse::<usize>().map_err(|_| format!("content-length {text:?}"))?),
        None if response.header("transfer-encoding").is_some() => {
            return Err("chunked bodies are not expected from this server".to_owned());
        }
        None => None,
    };
    let mut chunk = [0_u8; 4096];
    while length.is_none_or(|wanted| body.len() < wanted) {
        let left = deadline.remaining().ok_or("body incomplete at the deadline")?;
        tcp.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(e) if length.is_none() && e.kind() == io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(format!("reading the body: {e}")),
        }
    }
    if let Some(wanted) = length
        && body.len() != wanted
    {
        return Err(format!("body of {} bytes, content-length {wanted}", body.len()));
    }
    Ok(body)
}

/// Whether `e` only means that nothing arrived in time.
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}
