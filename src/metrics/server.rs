//! The embedded server's counters (`rig serve --metrics`).

use std::fmt;

use prometheus_client::encoding::DescriptorEncoder;

use super::families::{Desc, Family, UnitKind, Value};
use crate::server::ServerStats;

const fn plain(name: &'static str, help: &'static str) -> Desc {
    Desc { name, help, unit: None }
}

fn one(e: &mut DescriptorEncoder<'_>, d: Desc, value: Value) -> fmt::Result {
    let mut family = Family::new(d);
    family.add(&[], value);
    family.encode(e)
}

/// Writes one server's counters.
pub(crate) fn encode(s: &ServerStats, e: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let c = Value::Counter;
    one(
        e,
        plain("server_connections_accepted", "TCP connections accepted"),
        c(s.connections_accepted),
    )?;
    one(
        e,
        plain("server_connections_open", "Connections open now, in any phase"),
        Value::Gauge(s.connections_open as f64),
    )?;
    one(e, plain("server_upgrades", "WebSocket upgrades accepted"), c(s.upgrades))?;
    let mut refused =
        Family::new(plain("server_upgrades_refused", "Upgrades refused, by HTTP status"));
    for (status, v) in
        [("400", s.refused_bad_request), ("403", s.refused_forbidden), ("404", s.refused_not_found)]
    {
        refused.add(&[("status", status)], c(v));
    }
    refused.encode(e)?;
    let mut ended =
        Family::new(plain("server_connections_ended", "Connections that ended, by reason"));
    let reasons = [
        ("handshake_timeout", s.handshake_timeouts),
        ("malformed", s.closed_malformed),
        ("idle", s.closed_idle),
        ("too_big", s.closed_too_big),
        ("bad_utf8", s.closed_bad_utf8),
        ("protocol", s.closed_protocol),
        ("shutdown", s.closed_shutdown),
        ("slow_reader", s.dropped_slow),
        ("client_close", s.client_closes),
        ("lost", s.connections_lost),
    ];
    for (reason, v) in reasons {
        ended.add(&[("reason", reason)], c(v));
    }
    ended.encode(e)?;
    one(e, plain("server_frames_received", "WebSocket data messages received"), c(s.frames_in))?;
    one(
        e,
        Desc {
            name: "server_received",
            help: "Payload bytes received",
            unit: Some(UnitKind::Bytes),
        },
        c(s.bytes_in),
    )?;
    one(
        e,
        plain("server_frames_sent", "WebSocket data messages handed to sockets"),
        c(s.frames_out),
    )?;
    one(
        e,
        Desc {
            name: "server_sent",
            help: "Payload bytes handed to sockets",
            unit: Some(UnitKind::Bytes),
        },
        c(s.bytes_out),
    )?;
    one(
        e,
        plain("server_channels_joined", "Channels joined now"),
        Value::Gauge(s.channels_joined as f64),
    )?;
    let mut joins = Family::new(plain("server_joins", "Joins answered, by status"));
    joins.add(&[("status", "ok")], c(s.joins_ok));
    joins.add(&[("status", "error")], c(s.joins_refused));
    joins.encode(e)?;
    one(
        e,
        plain("server_channel_crashes", "Channels that crashed (phx_error)"),
        c(s.channel_crashes),
    )?;
    one(e, plain("server_broadcasts", "Broadcasts sent"), c(s.broadcasts))?;
    one(
        e,
        plain("server_broadcast_messages", "Messages broadcasts fanned out"),
        c(s.broadcast_messages),
    )?;
    one(e, plain("server_heartbeats", "Heartbeats answered"), c(s.heartbeats))?;
    one(
        e,
        plain("server_stream_events", "stream:* events handed to connections"),
        c(s.stream_events),
    )
}
