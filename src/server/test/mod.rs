//! Server tests: real sockets on 127.0.0.1:0, raw tungstenite clients.

mod fixtures;
mod inbox;
mod presence;
mod room;
mod scale;
mod secrets_in_logs;
mod session;
mod socket;
mod stats;
mod stream_pace;
mod tls;
mod util;
