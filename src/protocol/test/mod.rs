//! Test support for the protocol core: fixture loading, harnesses, and the
//! conformance tests named after ../shared/CONFORMANCE.md IDs.

mod codec_fixtures;
mod codec_props;
mod conformance_channel;
mod conformance_channel_events;
mod conformance_push;
mod conformance_socket;
mod conformance_socket_heartbeat;
mod conformance_socket_transport;
#[allow(dead_code, reason = "fields and helpers are used by the fixture tests as they land")]
pub(crate) mod fixtures;
pub(crate) mod harness;
mod presence_conformance;
mod replay;
mod secrets_in_logs;
mod session_behaviour;
mod session_edges;
mod session_fixtures;
mod session_fixtures_codecs;
mod session_fixtures_more;
mod session_long_run;
mod session_props;
mod session_push_outcomes;
mod session_reconnect_storm;
mod session_send;
