//! One scrape: every watched thing read once, written as metric families
//! through prometheus-client's OpenMetrics text encoder.

use std::fmt;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Registry;

use super::Watched;
use super::families::{Desc, Family, UnitKind, Value};
use crate::engine::shared::channel::TopicCounts;
use crate::engine::{ConnectionState, EngineHealth};
use crate::protocol::ChannelState;

/// The label value that sums the topics beyond the cap.
pub(crate) const OTHER_TOPICS: &str = "_other";

/// The two text formats a scrape can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// OpenMetrics 1.0 (`# EOF` last): what Prometheus asks for first.
    OpenMetrics,
    /// The Prometheus text format 0.0.4: for older scrapers, `curl` and
    /// `promtool check metrics`.
    Prometheus,
}

/// Writes everything watched in `format`.
pub(crate) fn render(watched: &Arc<Watched>, format: Format) -> String {
    let mut registry = Registry::with_prefix("rig");
    registry.register_collector(Box::new(Scrape(Arc::clone(watched))));
    let mut text = String::new();
    // Writing into a String cannot fail; an encoder error would be a bug
    // in a family (say, a bad name), and a partial scrape is still useful.
    let _ = match format {
        Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut text, &registry),
        Format::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
        }
    };
    text
}

#[derive(Debug)]
struct Scrape(Arc<Watched>);

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let health = self.0.engine.lock().as_ref().and_then(super::sources::EngineSource::health);
        if let Some(health) = &health {
            engine(health, &mut encoder)?;
        }
        sockets(&self.0, &mut encoder)?;
        topics(&self.0, &mut encoder)?;
        #[cfg(feature = "server")]
        if let Some(server) = self.0.server.lock().as_ref() {
            super::server::encode(&(server.read)(), &mut encoder)?;
        }
        Ok(())
    }
}

/// A counter's or gauge's description, as a constant.
const fn desc(name: &'static str, help: &'static str) -> Desc {
    Desc { name, help, unit: None }
}

fn one(encoder: &mut DescriptorEncoder<'_>, d: Desc, value: Value) -> fmt::Result {
    let mut family = Family::new(d);
    family.add(&[], value);
    family.encode(encoder)
}

fn engine(h: &EngineHealth, e: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let gauge = |v: usize| Value::Gauge(v as f64);
    one(
        e,
        desc("engine_io_thread_alive", "1 while the rig-io thread runs"),
        Value::Gauge(f64::from(u8::from(h.io_thread_alive))),
    )?;
    one(e, desc("engine_sockets", "Sockets on the engine"), Value::Gauge(h.sockets as f64))?;
    one(e, desc("engine_wakeups", "Times rig-io woke from its poll"), Value::Counter(h.wakeups))?;
    one(e, desc("engine_commands", "Commands rig-io executed"), Value::Counter(h.commands))?;
    one(e, desc("engine_command_queue", "Commands waiting for rig-io"), gauge(h.command_queue))?;
    one(
        e,
        desc("engine_dispatch_queue", "Callback jobs waiting for the dispatcher workers"),
        gauge(h.dispatch_queue),
    )?;
    one(
        e,
        desc("engine_dispatch_queue_max", "Callback jobs waiting for the busiest worker"),
        gauge(h.dispatch_queue_max),
    )?;
    one(
        e,
        desc("engine_dispatch_workers", "Dispatcher worker threads"),
        gauge(h.dispatch_workers),
    )?;
    one(
        e,
        desc(
            "engine_dispatch_dropped",
            "Messages for callbacks dropped because the dispatcher was behind",
        ),
        Value::Counter(h.dispatch_dropped),
    )?;
    one(
        e,
        desc("engine_handler_panics", "Callbacks that panicked (caught)"),
        Value::Counter(h.handler_panics),
    )?;
    one(
        e,
        desc(
            "engine_slow_handlers",
            "Handler runs longer than the slow-handler threshold (per window of 16 runs)",
        ),
        Value::Counter(h.slow_handlers),
    )?;
    one(
        e,
        desc("engine_filter_dropped", "Messages filter subscriptions lost"),
        Value::Counter(h.filter_dropped),
    )
}

/// Every connection state, with its label value.
const STATES: [(ConnectionState, &str); 8] = [
    (ConnectionState::Idle, "idle"),
    (ConnectionState::Connecting, "connecting"),
    (ConnectionState::Open, "open"),
    (ConnectionState::Closing, "closing"),
    (ConnectionState::WaitingToReconnect, "waiting_to_reconnect"),
    (ConnectionState::AuthFailed, "auth_failed"),
    (ConnectionState::Failed, "failed"),
    (ConnectionState::GaveUp, "gave_up"),
];

/// A socket's counters: name, help, unit, and how to read the value.
type SocketField =
    (&'static str, &'static str, Option<UnitKind>, fn(&crate::engine::SocketHealth) -> Value);

const SOCKET_FIELDS: [SocketField; 23] = [
    (
        "socket_connect_attempts",
        "Connect attempts started (first connects and reconnects)",
        None,
        |h| Value::Counter(h.connect_attempts),
    ),
    ("socket_connections", "Connections that opened", None, |h| Value::Counter(h.connections)),
    ("socket_reconnects", "Connections that opened after an earlier one", None, |h| {
        Value::Counter(h.reconnects)
    }),
    ("socket_auth_failures", "Upgrades refused with 401 or 403", None, |h| {
        Value::Counter(h.auth_failures)
    }),
    ("socket_heartbeat_timeouts", "Heartbeats that went unanswered", None, |h| {
        Value::Counter(h.heartbeat_timeouts)
    }),
    ("socket_frames_received", "WebSocket messages received", None, |h| {
        Value::Counter(h.frames_in)
    }),
    ("socket_frames_sent", "WebSocket messages sent", None, |h| Value::Counter(h.frames_out)),
    ("socket_received", "Payload bytes received", Some(UnitKind::Bytes), |h| {
        Value::Counter(h.bytes_in)
    }),
    ("socket_sent", "Payload bytes sent", Some(UnitKind::Bytes), |h| Value::Counter(h.bytes_out)),
    ("socket_decode_errors", "Received frames that did not decode", None, |h| {
        Value::Counter(h.decode_errors)
    }),
    ("socket_delivered", "Messages handed to subscriptions and callbacks", None, |h| {
        Value::Counter(h.delivered)
    }),
    ("socket_dropped", "Messages dropped because a consumer was full", None, |h| {
        Value::Counter(h.dropped)
    }),
    ("socket_queued", "Messages waiting in subscription queues", None, |h| {
        Value::Gauge(h.queued as f64)
    }),
    ("socket_pending_pushes", "Pushes, joins and leaves waiting for their outcome", None, |h| {
        Value::Gauge(h.pending_pushes as f64)
    }),
    (
        "socket_status_dropped",
        "Status entries dropped because a status stream was full",
        None,
        |h| Value::Counter(h.status_dropped),
    ),
    (
        "socket_sends_lost",
        "Channel sends not sent: the channel stopped being joined first",
        None,
        |h| Value::Counter(h.sends_lost),
    ),
    ("socket_pauses", "Times reading stopped for a full blocking consumer", None, |h| {
        Value::Counter(h.pauses)
    }),
    ("socket_outbox_depth", "Durable pushes held by the outbox", None, |h| {
        Value::Gauge(h.outbox_depth as f64)
    }),
    ("socket_outbox_in_flight", "Durable pushes sent and waiting for their reply", None, |h| {
        Value::Gauge(h.outbox_in_flight as f64)
    }),
    ("socket_outbox_acked", "Durable pushes the server answered", None, |h| {
        Value::Counter(h.outbox_acked)
    }),
    ("socket_outbox_requeued", "Durable pushes put back to be sent again", None, |h| {
        Value::Counter(h.outbox_requeued)
    }),
    ("socket_filter_delivered", "Messages handed to filter subscriptions", None, |h| {
        Value::Counter(h.filter_delivered)
    }),
    ("socket_dispatch_dropped", "Messages a full dispatcher worker could not take", None, |h| {
        Value::Counter(h.dispatch_dropped)
    }),
];

fn sockets(w: &Watched, e: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let views: Vec<(String, super::sources::SocketView)> =
        w.sockets.lock().iter().filter_map(|s| Some((s.name.clone(), s.view()?))).collect();
    let mut state =
        Family::new(desc("socket_state", "1 for the state the connection is in, 0 for the others"));
    let mut rtt_last = Family::new(Desc {
        name: "socket_heartbeat_rtt",
        help: "The last heartbeat or ping round trip",
        unit: Some(UnitKind::Seconds),
    });
    let mut rtt = Family::new(Desc {
        name: "socket_rtt",
        help: "Heartbeat and ping round trips",
        unit: Some(UnitKind::Seconds),
    });
    for (name, view) in &views {
        for (s, label) in STATES {
            state.add(
                &[("socket", name), ("state", label)],
                Value::Gauge(f64::from(u8::from(view.health.state == s))),
            );
        }
        if let Some(last) = view.health.heartbeat_rtt {
            rtt_last.add(&[("socket", name)], Value::Gauge(last.as_secs_f64()));
        }
        rtt.add(
            &[("socket", name)],
            Value::Histogram(view.rtt.sum, view.rtt.count, view.rtt.buckets.clone()),
        );
    }
    state.encode(e)?;
    for (field, help, unit, read) in SOCKET_FIELDS {
        let mut family = Family::new(Desc { name: field, help, unit });
        for (name, view) in &views {
            family.add(&[("socket", name)], read(&view.health));
        }
        family.encode(e)?;
    }
    rtt_last.encode(e)?;
    rtt.encode(e)
}

fn topics(w: &Watched, e: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let mut rows: Vec<(String, String, TopicCounts, bool)> = Vec::new();
    let mut other: Option<(TopicCounts, u64)> = None;
    for t in w.topics.lock().iter() {
        let Some((c, state)) = t.counts() else { continue };
        let joined = state == ChannelState::Joined;
        if rows.len() < w.max_topics {
            rows.push((t.socket.clone(), t.topic.clone(), c, joined));
        } else {
            let (sum, n) = other.get_or_insert_with(|| (TopicCounts::default(), 0));
            sum.received += c.received;
            sum.delivered += c.delivered;
            sum.dropped_queue_full += c.dropped_queue_full;
            sum.dropped_dispatch += c.dropped_dispatch;
            *n += u64::from(joined);
        }
    }
    let mut received = Family::new(desc("topic_received", "Messages that arrived for the topic"));
    let mut delivered = Family::new(desc(
        "topic_delivered",
        "Copies handed to the topic's subscriptions and callbacks",
    ));
    let mut dropped = Family::new(desc(
        "topic_dropped",
        "Copies lost, by reason: queue_full (a subscription queue) or dispatch_full (a dispatcher worker)",
    ));
    let mut joined = Family::new(desc(
        "topic_joined",
        "1 while the channel is joined (for _other: how many are)",
    ));
    let other_row = other.map(|(c, n)| (String::new(), OTHER_TOPICS.to_owned(), c, n));
    let all = rows
        .iter()
        .map(|(s, t, c, j)| (s, t, c, u64::from(*j)))
        .chain(other_row.iter().map(|(s, t, c, n)| (s, t, c, *n)));
    for (socket, topic, c, n) in all {
        let labels = [("socket", socket.as_str()), ("topic", topic.as_str())];
        received.add(&labels, Value::Counter(c.received));
        delivered.add(&labels, Value::Counter(c.delivered));
        for (reason, v) in
            [("queue_full", c.dropped_queue_full), ("dispatch_full", c.dropped_dispatch)]
        {
            dropped.add(
                &[("socket", socket.as_str()), ("topic", topic.as_str()), ("reason", reason)],
                Value::Counter(v),
            );
        }
        joined.add(&labels, Value::Gauge(n as f64));
    }
    for family in [received, delivered, dropped, joined] {
        family.encode(e)?;
    }
    Ok(())
}

/// A watched server: a reader of its counters.
#[cfg(feature = "server")]
pub(crate) struct ServerSource {
    pub(crate) read: Box<dyn Fn() -> crate::server::ServerStats + Send + Sync>,
}

#[cfg(feature = "server")]
impl ServerSource {
    pub(crate) fn new(server: &crate::server::ServerHandle) -> Self {
        Self { read: Box::new(server.stats_reader()) }
    }
}

#[cfg(feature = "server")]
impl fmt::Debug for ServerSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerSource")
    }
}
