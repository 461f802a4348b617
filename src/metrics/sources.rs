//! What a [`Metrics`](super::Metrics) watches, held weakly: watching never
//! keeps an engine, socket or channel alive, and what is gone drops out of
//! the next scrape.

use std::sync::{Arc, Weak};

use crate::engine::api::client::EngineShared;
use crate::engine::api::socket::SocketInner;
use crate::engine::shared::channel::{ChannelShared, TopicCounts};
use crate::engine::{Channel, Engine, EngineHealth, Socket, SocketHealth};
use crate::protocol::ChannelState;

/// A watched engine.
#[derive(Debug)]
pub(crate) struct EngineSource {
    shared: Weak<EngineShared>,
}

impl EngineSource {
    pub(crate) fn new(engine: &Engine) -> Self {
        Self { shared: Arc::downgrade(&engine.shared) }
    }

    /// The engine's health, `None` once it is gone.
    pub(crate) fn health(&self) -> Option<EngineHealth> {
        let shared = self.shared.upgrade()?;
        let depths = shared.dispatcher.depths();
        Some(shared.counters.snapshot(shared.commands.len(), &depths))
    }
}

/// A watched socket.
#[derive(Debug)]
pub(crate) struct SocketSource {
    pub(crate) name: String,
    inner: Weak<SocketInner>,
}

/// One scrape's view of a socket.
#[derive(Debug)]
pub(crate) struct SocketView {
    pub(crate) health: SocketHealth,
    pub(crate) rtt: crate::engine::shared::rtt_histogram::RttSnapshot,
}

impl SocketSource {
    pub(crate) fn new(name: String, socket: &Socket) -> Self {
        Self { name, inner: Arc::downgrade(&socket.inner) }
    }

    pub(crate) fn view(&self) -> Option<SocketView> {
        let socket = Socket { inner: self.inner.upgrade()? };
        Some(SocketView {
            health: socket.health(),
            rtt: socket.inner.counters.rtt_histogram.snapshot(),
        })
    }
}

/// A watched channel: its socket's name and its topic.
#[derive(Debug)]
pub(crate) struct TopicSource {
    pub(crate) socket: String,
    pub(crate) topic: String,
    shared: Weak<ChannelShared>,
}

impl TopicSource {
    pub(crate) fn new(socket: String, channel: &Channel) -> Self {
        Self { socket, topic: channel.topic().to_owned(), shared: Arc::downgrade(channel.shared()) }
    }

    pub(crate) fn counts(&self) -> Option<(TopicCounts, ChannelState)> {
        let shared = self.shared.upgrade()?;
        Some((shared.counters.snapshot(), shared.state()))
    }
}
