//! rig's integration tests: one binary, real sockets on 127.0.0.1.
//!
//! They drive the real `rig` binary (`rig serve`) as a child process and talk
//! to it as a foreign client would: the real Phoenix transcripts replayed byte
//! for byte, hostile input, a thousand clients, the CLI contract, and the
//! official phoenix.js client. The `engine_*` modules drive rig's own client
//! engine against the embedded server and against misbehaving fake servers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail by panicking, helpers included"
)]

#[cfg(feature = "server")]
mod cli_bad_input;
#[cfg(feature = "server")]
mod cli_demo;
#[cfg(feature = "server")]
mod cli_diagnose;
#[cfg(feature = "server")]
mod cli_error_words;
#[cfg(feature = "server")]
mod cli_monitor;
#[cfg(feature = "server")]
mod cli_monitor_ends;
#[cfg(feature = "server")]
mod cli_monitor_output;
#[cfg(feature = "server")]
mod cli_pty;
#[cfg(feature = "server")]
mod cli_push;
#[cfg(feature = "server")]
mod cli_secrets;
mod cli_tls;
#[cfg(feature = "server")]
mod cli_util;
#[cfg(feature = "server")]
mod cli_version;
mod js_conformance;
#[cfg(all(feature = "server", feature = "metrics"))]
mod metrics_prometheus;
mod server_bad_input;
mod server_cli;
mod server_fixtures;
mod server_scale;
mod util;

#[cfg(feature = "server")]
mod engine_api_lifecycle;
#[cfg(feature = "server")]
mod engine_api_outcomes;
#[cfg(feature = "server")]
mod engine_basic;
#[cfg(feature = "server")]
mod engine_delivery;
#[cfg(feature = "server")]
mod engine_dispatch;
#[cfg(feature = "server")]
mod engine_dispatch_block;
mod engine_drop_report;
#[cfg(feature = "server")]
mod engine_fake;
#[cfg(feature = "server")]
mod engine_faults;
#[cfg(feature = "server")]
mod engine_filter;
#[cfg(feature = "server")]
mod engine_filter_churn;
#[cfg(feature = "server")]
mod engine_idle;
#[cfg(feature = "server")]
mod engine_memory;
#[cfg(all(feature = "server", feature = "metrics"))]
mod engine_metrics;
#[cfg(all(feature = "server", feature = "netsim"))]
mod engine_netsim;
#[cfg(all(feature = "server", feature = "netsim"))]
mod engine_netsim_cli;
#[cfg(all(feature = "server", feature = "netsim"))]
mod engine_netsim_faults;
#[cfg(all(feature = "server", feature = "netsim"))]
mod engine_netsim_loss;
#[cfg(all(feature = "server", feature = "outbox"))]
mod engine_outbox;
#[cfg(all(feature = "server", feature = "outbox"))]
mod engine_outbox_crash;
mod engine_outbox_edges;
#[cfg(feature = "server")]
mod engine_oversized_push;
#[cfg(feature = "server")]
mod engine_presence;
#[cfg(feature = "server")]
mod engine_presence_view;
#[cfg(feature = "server")]
mod engine_reconnect;
#[cfg(feature = "server")]
mod engine_reconnect_storm;
#[cfg(feature = "server")]
mod engine_scale;
#[cfg(feature = "server")]
mod engine_socket_memory;
#[cfg(feature = "server")]
mod engine_subprotocol;
#[cfg(feature = "server")]
mod engine_util;
#[cfg(all(feature = "server", feature = "netsim"))]
mod netsim_check;
#[cfg(all(feature = "server", feature = "netsim"))]
mod netsim_util;
#[cfg(feature = "server")]
mod rig_bench;
