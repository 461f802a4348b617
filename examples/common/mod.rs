//! What the examples share: a Phoenix server to talk to. The first
//! argument is its socket URL (`ws://host:4000/socket`); without one the
//! example starts rig's embedded Phoenix-compatible server on loopback, so
//! `cargo run --example NAME` works on its own.

use std::error::Error;

/// A server URL, and the embedded server when the example started one.
pub(crate) struct Peer {
    pub(crate) url: String,
    _server: Option<rig::server::ServerHandle>,
}

/// The URL given as the first argument, or an embedded server.
pub(crate) fn peer() -> Result<Peer, Box<dyn Error>> {
    if let Some(url) = std::env::args().nth(1) {
        return Ok(Peer { url, _server: None });
    }
    let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    Ok(Peer { url: server.url().to_owned(), _server: Some(server) })
}
