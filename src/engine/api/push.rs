//! [`Push`]: the handle of a push, join or leave, and how it resolves.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use super::client::SocketLink;
use super::push_handlers::OutcomeHandlers;
use crate::engine::shared::callback::OutcomeCallback;
use crate::engine::shared::command::{Command, PushSink};
use crate::engine::shared::ids::PushKey;
use crate::engine::shared::push_result::{PushError, PushResult};
use crate::protocol::Reply;

/// A push, join or leave in flight. It resolves exactly once; wait for it,
/// poll it, or hand it callbacks.
///
/// Waiting gives `Ok` only for an `ok` reply: an `error` reply (a refused
/// join, a handler's `{:error, ..}`) is [`PushError::Reply`] with the reply
/// inside, as a timeout or a lost channel are errors too. The phoenix.js
/// style, one callback per status (`push.receive("ok", ..)`), is
/// [`on_ok`](Self::on_ok), [`on_error`](Self::on_error) and
/// [`on_timeout`](Self::on_timeout).
///
/// Dropping the handle does not cancel the push; a handle given callbacks
/// hands them to the engine when it is dropped.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::engine::{Engine, SocketOptions};
/// use rig::protocol::Payload;
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
///
/// let engine = Engine::start(Default::default())?;
/// let socket = engine.socket(SocketOptions::builder(server.url()).build()?)?;
/// socket.connect()?;
/// let room = socket.channel("room:lobby", Payload::empty())?;
/// let reply = room.join().wait_timeout(Duration::from_secs(5)).expect("in time")?;
/// assert_eq!(reply.response.as_json(), Some(r#"{"joined":"room:lobby"}"#));
///
/// let reply = room.push("echo", Payload::json(r#"{"n":1}"#)).wait()?;
/// assert!(reply.is_ok());
/// assert_eq!(reply.response.as_json(), Some(r#"{"n":1}"#));
///
/// let refused = room.push("echo_error", Payload::json(r#"{"n":2}"#)).wait().unwrap_err();
/// assert_eq!(refused.reply().map(|r| &*r.status), Some("error"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Push {
    key: PushKey,
    link: Option<SocketLink>,
    rx: Receiver<PushResult>,
    outcome: Option<PushResult>,
    /// The outbox entry of a durable push.
    outbox_id: Option<crate::outbox::OutboxId>,
    /// Callbacks per status, handed over when the outcome is known or the
    /// handle goes away.
    handlers: Option<Box<OutcomeHandlers>>,
}

impl Push {
    /// A handle and the sink rig-io resolves it through.
    pub(crate) fn pair(link: &SocketLink) -> (Self, PushSink) {
        let key = PushKey(link.engine.keys.next());
        let (tx, rx) = crossbeam_channel::bounded(1);
        let push = Self {
            key,
            link: Some(link.clone()),
            rx,
            outcome: None,
            outbox_id: None,
            handlers: None,
        };
        (push, PushSink { key, tx })
    }

    /// A handle that is already resolved (the command could not be sent).
    pub(crate) fn resolved(result: PushResult) -> Self {
        let (_tx, rx) = crossbeam_channel::bounded(1);
        Self {
            key: PushKey(0),
            link: None,
            rx,
            outcome: Some(result),
            outbox_id: None,
            handlers: None,
        }
    }

    /// Blocks until the push resolves. Do not call it from a callback you
    /// expect other callbacks to run beside: they share one thread.
    ///
    /// # Errors
    ///
    /// [`PushError::Reply`] when the server answered with another status
    /// than `ok` (the reply inside); the other [`PushError`]s when there is
    /// no reply.
    ///
    /// # Examples
    ///
    /// See [`Push`].
    pub fn wait(mut self) -> PushResult {
        let result = match self.outcome.take() {
            Some(result) => result,
            None => self.rx.recv().unwrap_or(Err(PushError::EngineStopped)),
        };
        self.run_handlers(&result);
        result
    }

    /// Waits up to `timeout`; `None` if the push is still pending (the
    /// handle stays usable).
    ///
    /// # Examples
    ///
    /// See [`Push`].
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<PushResult> {
        if self.outcome.is_none() {
            self.outcome = match self.rx.recv_timeout(timeout) {
                Ok(result) => Some(result),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Err(PushError::EngineStopped)),
            };
        }
        if let Some(result) = self.outcome.clone() {
            self.run_handlers(&result);
        }
        self.outcome.clone()
    }

    /// The outcome if the push has resolved, without blocking.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let mut join = room.join();
    /// assert_eq!(join.try_outcome(), None, "not connected yet: the join waits");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_outcome(&mut self) -> Option<PushResult> {
        if self.outcome.is_none() {
            self.outcome = match self.rx.try_recv() {
                Ok(result) => Some(result),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => Some(Err(PushError::EngineStopped)),
            };
        }
        if let Some(result) = self.outcome.clone() {
            self.run_handlers(&result);
        }
        self.outcome.clone()
    }

    /// Runs `callback` with the outcome on the engine's dispatcher thread
    /// (at once if the push has already resolved).
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # socket.connect()?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let (tx, rx) = crossbeam_channel::bounded(1);
    /// room.join().then(move |outcome| {
    ///     let _ = tx.send(outcome.map(|reply| reply.is_ok()));
    /// });
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5))?, Ok(true));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn then(mut self, callback: impl FnOnce(PushResult) + Send + 'static) {
        let callback: OutcomeCallback = match self.handlers.take() {
            Some(handlers) => Box::new(move |outcome: PushResult| {
                handlers.run(outcome.clone());
                callback(outcome);
            }),
            None => Box::new(callback),
        };
        self.hand_over(callback);
    }

    /// Runs `callback` with the `ok` reply on the engine's dispatcher thread
    /// (phoenix.js `push.receive("ok", ..)`). Chain it with
    /// [`on_error`](Self::on_error) and [`on_timeout`](Self::on_timeout); the
    /// callbacks are handed to the engine when the handle is dropped (or
    /// run once [`wait`](Self::wait) has the outcome).
    ///
    /// A handle that could not reach the engine (it had stopped) runs them
    /// on the calling thread. A channel or engine going away runs none of
    /// the three: use
    /// [`then`](Self::then) or [`wait`](Self::wait) to see every outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # socket.connect()?;
    /// use rig::protocol::Payload;
    /// let room = socket.channel("room:a", Payload::empty())?;
    /// room.join().wait()?;
    /// let (tx, rx) = crossbeam_channel::unbounded();
    /// let (ok, error, timeout) = (tx.clone(), tx.clone(), tx);
    /// room.push("echo_error", Payload::json(r#"{"n":1}"#))
    ///     .on_ok(move |_| ok.send("ok").unwrap())
    ///     .on_error(move |reply| error.send(if reply.status == "error" { "error" } else { "?" }).unwrap())
    ///     .on_timeout(move || timeout.send("timeout").unwrap());
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5))?, "error");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_ok(mut self, callback: impl FnOnce(Reply) + Send + 'static) -> Self {
        self.handlers.get_or_insert_default().ok = Some(Box::new(callback));
        self
    }

    /// Runs `callback` with a reply whose status is not `ok` (phoenix.js
    /// `push.receive("error", ..)`), on the engine's dispatcher thread.
    ///
    /// # Examples
    ///
    /// See [`on_ok`](Self::on_ok).
    pub fn on_error(mut self, callback: impl FnOnce(Reply) + Send + 'static) -> Self {
        self.handlers.get_or_insert_default().error = Some(Box::new(callback));
        self
    }

    /// Runs `callback` when no reply came within the push timeout
    /// (phoenix.js `push.receive("timeout", ..)`), on the engine's
    /// dispatcher thread.
    ///
    /// # Examples
    ///
    /// See [`on_ok`](Self::on_ok).
    pub fn on_timeout(mut self, callback: impl FnOnce() + Send + 'static) -> Self {
        self.handlers.get_or_insert_default().timeout = Some(Box::new(callback));
        self
    }

    /// Runs the status callbacks, once, on the dispatcher pool (on this
    /// thread for a handle resolved at creation: it has no engine).
    fn run_handlers(&mut self, result: &PushResult) {
        let Some(handlers) = self.handlers.take() else { return };
        match &self.link {
            Some(link) => {
                let run = Box::new(move |outcome: PushResult| handlers.run(outcome));
                link.engine.dispatcher.outcome(run, result.clone());
            }
            None => handlers.run(result.clone()),
        }
    }

    /// Gives `callback` the outcome on the dispatcher pool: at once if it
    /// is known, else through rig-io when the push resolves.
    fn hand_over(&mut self, callback: OutcomeCallback) {
        let ready = self.outcome.take().or_else(|| match self.rx.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(PushError::EngineStopped)),
        });
        let Some(link) = self.link.take() else {
            // Resolved at creation: no engine to ask.
            callback(ready.unwrap_or(Err(PushError::EngineStopped)));
            return;
        };
        if let Some(result) = ready {
            link.engine.dispatcher.outcome(callback, result);
            return;
        }
        // rig-io owns the outcome: it runs the callback when the push
        // resolves, or forwards the outcome already in `rx`.
        let command =
            Command::Then { socket: link.socket, push: self.key, callback, rx: self.rx.clone() };
        if let Err(err) = link.engine.commands.send(command) {
            log::warn!("push callback dropped: {err}");
        }
    }

    /// The receiver the outcome arrives on, e.g. for `crossbeam_channel::select!`.
    /// An outcome taken from it directly bypasses the status callbacks
    /// ([`on_ok`](Self::on_ok), ...): use one or the other.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # socket.connect()?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let join = room.join();
    /// let outcome = join.receiver().recv_timeout(std::time::Duration::from_secs(5))?;
    /// assert!(outcome?.is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn receiver(&self) -> &Receiver<PushResult> {
        &self.rx
    }

    /// The outbox id of a durable push
    /// ([`Channel::push_durable`](crate::engine::Channel::push_durable)), the one
    /// the server sees as `_rig_id`; `None` for any other push.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rig::outbox::{Limits, MemoryOutbox};
    /// use rig::protocol::Payload;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// let store = Arc::new(MemoryOutbox::new(Limits::default()));
    /// let options = rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").outbox_with(store);
    /// let socket = engine.socket(options.build()?)?;
    /// let room = socket.channel("room:a", Payload::empty())?;
    /// let push = room.push_durable("msg", Payload::json("{}"))?;
    /// assert!(push.outbox_id().is_some());
    /// assert!(room.push("msg", Payload::json("{}")).outbox_id().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn outbox_id(&self) -> Option<crate::outbox::OutboxId> {
        self.outbox_id
    }

    /// Marks this handle as the durable push of outbox entry `id`.
    pub(crate) fn with_outbox_id(mut self, id: crate::outbox::OutboxId) -> Self {
        self.outbox_id = Some(id);
        self
    }
}

impl Drop for Push {
    /// Status callbacks not run yet go to the engine with the push.
    fn drop(&mut self) {
        if let Some(handlers) = self.handlers.take() {
            self.hand_over(Box::new(move |outcome: PushResult| handlers.run(outcome)));
        }
    }
}
