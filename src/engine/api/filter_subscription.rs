//! The handles of filter subscriptions: [`FilterSubscription`] (a queue the
//! user reads) and [`FilterBinding`] (a callback on the dispatcher pool).

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvError, RecvTimeoutError, TryRecvError};

use crate::engine::shared::filter_set::Membership;
use crate::filter::{RemoveError, SubscriptionId};
use crate::protocol::Message;

/// A filter subscription read as a bounded queue
/// ([`Socket::subscribe_filter`](crate::engine::Socket::subscribe_filter)): the
/// messages of the socket's channels that its [`Filter`](crate::filter::Filter)
/// wants, each topic's in server order.
///
/// Matching runs on the dispatcher workers. When the queue is full the
/// subscription's [`Overflow`](crate::engine::Overflow) applies:
/// DropNewest and DropOldest count each loss in [`dropped`](Self::dropped)
/// (and in the socket's health and status stream); Block makes the worker
/// wait, and a worker that stays behind pauses reading of the socket. Dropping the handle removes the
/// subscription ([`remove`](Self::remove) says when that is complete).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::filter::Filter;
/// use rig::protocol::Payload;
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
/// # let engine = rig::engine::Engine::start(Default::default())?;
/// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
/// # socket.connect()?;
/// let events = socket.subscribe_filter(Filter::topic("stream:*")?.events(["event"]))?;
/// let stream = socket.channel("stream:a", Payload::json(r#"{"mode":"burst","count":3}"#))?;
/// stream.join().wait()?;
/// for _ in 0..3 {
///     let message = events.recv_timeout(Duration::from_secs(5))?;
///     assert_eq!((&*message.topic, &*message.event), ("stream:a", "event"));
/// }
/// assert_eq!(events.dropped(), 0);
/// events.remove()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FilterSubscription {
    pub(crate) rx: Receiver<Message>,
    pub(crate) member: Membership,
}

impl FilterSubscription {
    /// Waits for the next message, without a deadline.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once nothing more can come (the socket was removed).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rig::filter::Filter;
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # socket.connect()?;
    /// let done = socket.subscribe_filter(Filter::topic("stream:*")?.events(["done"]))?;
    /// let stream = socket.channel("stream:b", rig::protocol::Payload::json(r#"{"mode":"burst","count":1}"#))?;
    /// stream.join().wait()?;
    /// assert_eq!(&*done.recv()?.event, "done");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recv(&self) -> Result<Message, RecvError> {
        let message = self.rx.recv()?;
        self.member.shared.made_room();
        Ok(message)
    }

    /// Waits up to `timeout` for the next message.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`], or `Disconnected` once the socket
    /// was removed.
    ///
    /// # Examples
    ///
    /// See [`FilterSubscription`].
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Message, RecvTimeoutError> {
        let message = self.rx.recv_timeout(timeout)?;
        self.member.shared.made_room();
        Ok(message)
    }

    /// The next message if one is queued.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`], or `Disconnected` once the socket was removed.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let rooms = socket.subscribe_filter(rig::filter::Filter::topic("room:*")?)?;
    /// assert!(rooms.try_recv().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_recv(&self) -> Result<Message, TryRecvError> {
        let message = self.rx.try_recv()?;
        self.member.shared.made_room();
        Ok(message)
    }

    /// The underlying receiver (for `select!`). Under
    /// [`Overflow::Block`](crate::engine::Overflow::Block), a worker waiting for room does not see messages taken through it at
    /// once: it looks again every millisecond.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let rooms = socket.subscribe_filter(rig::filter::Filter::topic("room:*")?)?;
    /// assert!(rooms.receiver().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn receiver(&self) -> &Receiver<Message> {
        &self.rx
    }

    /// Messages this subscription lost: its queue was full (DropNewest,
    /// DropOldest), the dispatcher worker's queue was full (a drop policy),
    /// or the engine stopped while a Block delivery waited.
    ///
    /// # Examples
    ///
    /// See [`FilterSubscription`].
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.member.shared.dropped.load(Relaxed)
    }

    /// Messages put in this subscription's queue (with DropOldest, some of
    /// them may have been taken back later and counted in
    /// [`dropped`](Self::dropped)).
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let rooms = socket.subscribe_filter(rig::filter::Filter::topic("room:*")?)?;
    /// assert_eq!(rooms.delivered(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn delivered(&self) -> u64 {
        self.member.shared.delivered.load(Relaxed)
    }

    /// The subscription's id (as in [`Status::Dropped`](crate::engine::Status::Dropped)).
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let a = socket.subscribe_filter(rig::filter::Filter::topic("room:*")?)?;
    /// let b = socket.subscribe_filter(rig::filter::Filter::topic("room:*")?)?;
    /// assert_ne!(a.id(), b.id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn id(&self) -> SubscriptionId {
        self.member.id
    }

    /// Removes the subscription. When this returns `Ok`, no dispatcher
    /// worker is delivering to it and none will: nothing is added to its
    /// queue after that point (messages queued before stay readable
    /// through a [`receiver`](Self::receiver) clone). A worker waiting for
    /// room in its full Block queue gives up the message.
    ///
    /// # Errors
    ///
    /// [`RemoveError::SnapshotHeld`] when called inside a filter callback
    /// (on a dispatcher worker that is matching): the subscription is then
    /// removed without that promise (later messages do not match it, the
    /// one being matched may still arrive).
    ///
    /// # Examples
    ///
    /// See [`FilterSubscription`].
    pub fn remove(mut self) -> Result<(), RemoveError> {
        let result = self.member.remove();
        if result.is_err() {
            self.member.remove_nowait();
        }
        result
    }
}

/// A filter callback ([`Socket::on_filter`](crate::engine::Socket::on_filter)),
/// run on the dispatcher worker of each message's topic. Dropping it (or
/// [`remove`](Self::remove)) removes the callback.
///
/// The callback may run on several workers, one call at a time (a pattern
/// spans topics of several workers), inside `catch_unwind`: a panic is
/// counted ([`panics`](Self::panics), `EngineHealth::handler_panics`) and
/// the worker goes on.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::filter::{Expr, Filter};
/// use rig::protocol::Payload;
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
/// # let engine = rig::engine::Engine::start(Default::default())?;
/// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
/// # socket.connect()?;
/// let (tx, rx) = crossbeam_channel::unbounded();
/// let binding = socket.on_filter(
///     Filter::topic("stream:*")?.events(["event"]).when(Expr::parse("payload.seq > 2")?),
///     move |message| { let _ = tx.send(message.payload.clone()); },
/// )?;
/// let stream = socket.channel("stream:c", Payload::json(r#"{"mode":"burst","count":3}"#))?;
/// stream.join().wait()?;
/// let payload = rx.recv_timeout(Duration::from_secs(5))?;
/// assert!(payload.as_json().is_some_and(|json| json.contains(r#""seq":3"#)));
/// binding.remove()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping a FilterBinding removes the callback"]
pub struct FilterBinding {
    pub(crate) member: Membership,
}

impl FilterBinding {
    /// Removes the callback. When this returns `Ok` the callback is not
    /// running and will not be called again.
    ///
    /// # Errors
    ///
    /// [`RemoveError::SnapshotHeld`] when called inside a filter callback:
    /// the callback is removed for later messages only.
    ///
    /// # Examples
    ///
    /// See [`FilterBinding`].
    pub fn remove(mut self) -> Result<(), RemoveError> {
        let result = self.member.remove();
        if result.is_err() {
            self.member.remove_nowait();
        }
        result
    }

    /// Calls that panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let binding = socket.on_filter(rig::filter::Filter::topic("room:*")?, |_| {})?;
    /// assert_eq!((binding.panics(), binding.dropped()), (0, 0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn panics(&self) -> u64 {
        self.member.shared.panics.load(Relaxed)
    }

    /// Messages the callback did not get because the dispatcher worker's
    /// queue was full (under a drop policy).
    ///
    /// # Examples
    ///
    /// See [`panics`](Self::panics).
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.member.shared.dropped.load(Relaxed)
    }

    /// Calls made.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let binding = socket.on_filter(rig::filter::Filter::topic("room:*")?, |_| {})?;
    /// assert_eq!(binding.delivered(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn delivered(&self) -> u64 {
        self.member.shared.delivered.load(Relaxed)
    }
}
