//! The receiver form of channel messages ([`Subscription`]), the callback
//! form's handle ([`Binding`]). The state a channel shares with rig-io is
//! `shared::channel`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvError, RecvTimeoutError, TryRecvError};

use super::client::SocketLink;
use crate::engine::shared::command::Command;
use crate::engine::shared::idle::recv_with;
use crate::engine::shared::ids::{ChannelKey, SubKey};
use crate::protocol::Message;

/// A bounded queue of a channel's messages (all of them, or one event's).
///
/// The I/O thread never waits for it: when it is full the engine's
/// [`Overflow`](crate::engine::Overflow) policy applies and [`dropped`](Self::dropped)
/// counts the loss (with [`Overflow::Block`](crate::engine::Overflow::Block) nothing
/// is lost: the socket stops being read until this queue has room, and
/// reading it through [`recv_timeout`](Self::recv_timeout) or
/// [`try_recv`](Self::try_recv) resumes it). Dropping the subscription
/// unsubscribes.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::protocol::Payload;
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
/// # let engine = rig::engine::Engine::start(Default::default())?;
/// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
/// # socket.connect()?;
/// let room = socket.channel("room:lobby", Payload::empty())?;
/// let shouts = room.subscribe("shout")?;
/// room.join().wait()?;
/// room.send("shout", Payload::json(r#"{"hi":1}"#))?;
/// let message = shouts.recv_timeout(Duration::from_secs(5))?;
/// assert_eq!(message.payload.as_json(), Some(r#"{"hi":1}"#));
/// assert_eq!(shouts.dropped(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Subscription {
    pub(crate) rx: Receiver<Message>,
    pub(crate) dropped: Arc<AtomicU64>,
    /// Set by rig-io when it paused the socket on this full queue.
    pub(crate) stalled: Arc<AtomicBool>,
    pub(crate) link: SocketLink,
    pub(crate) channel: ChannelKey,
    pub(crate) key: SubKey,
}

impl Subscription {
    /// Waits for the next message.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Disconnected`] once the engine stopped or the
    /// channel closed for good, [`RecvTimeoutError::Timeout`] otherwise.
    ///
    /// # Examples
    ///
    /// See [`Subscription`].
    pub fn recv_timeout(&self, timeout: Duration) -> Result<Message, RecvTimeoutError> {
        let message = recv_with(&self.rx, self.link.engine.config.idle, Some(timeout))?;
        self.made_room();
        Ok(message)
    }

    /// Waits for the next message, without a deadline. Like
    /// [`recv_timeout`](Self::recv_timeout), it waits as the engine's
    /// [`IdleStrategy`](crate::engine::IdleStrategy) says: with a spinning
    /// strategy the calling thread checks the queue itself before it
    /// parks, so rig-io hands it a message without a wake-up.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the engine stopped or the channel closed for good.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// # socket.connect()?;
    /// let stream = socket.channel("stream:r", rig::protocol::Payload::json(r#"{"mode":"burst","count":1}"#))?;
    /// let done = stream.subscribe("done")?;
    /// stream.join().wait()?;
    /// assert_eq!(&*done.recv()?.event, "done");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recv(&self) -> Result<Message, RecvError> {
        let message =
            recv_with(&self.rx, self.link.engine.config.idle, None).map_err(|_| RecvError)?;
        self.made_room();
        Ok(message)
    }

    /// The next message if one is queued.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] or, once nothing more can come,
    /// [`TryRecvError::Disconnected`].
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let all = room.subscribe_all()?;
    /// assert!(all.try_recv().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn try_recv(&self) -> Result<Message, TryRecvError> {
        let message = self.rx.try_recv()?;
        self.made_room();
        Ok(message)
    }

    /// A message was taken: if rig-io paused the socket on this queue,
    /// wake it (once; an atomic load otherwise).
    fn made_room(&self) {
        if self.stalled.load(Relaxed) && self.stalled.swap(false, SeqCst) {
            // A stopped engine has nothing to resume.
            let _ = self.link.engine.commands.send(Command::Resume);
        }
    }

    /// The underlying receiver (for `select!` or iteration). Under
    /// [`Overflow::Block`](crate::engine::Overflow::Block), taking messages through
    /// it does not wake the paused socket: rig-io notices the room within
    /// 10 ms instead of at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
    /// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
    /// let all = room.subscribe_all()?;
    /// assert!(all.receiver().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn receiver(&self) -> &Receiver<Message> {
        &self.rx
    }

    /// Messages lost because this queue was full.
    ///
    /// # Examples
    ///
    /// See [`Subscription`].
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let command =
            Command::Unsubscribe { socket: self.link.socket, channel: self.channel, sub: self.key };
        // A stopped engine has nothing left to unsubscribe from.
        let _ = self.link.engine.commands.send(command);
    }
}

/// Names a callback registered with [`Channel::on`](crate::engine::Channel::on),
/// to remove it with [`Channel::off`](crate::engine::Channel::off).
///
/// # Examples
///
/// ```
/// # let server = rig::server::Server::start(rig::server::ServerConfig::builder().build())?;
/// # let engine = rig::engine::Engine::start(Default::default())?;
/// # let socket = engine.socket(rig::engine::SocketOptions::builder(server.url()).build()?)?;
/// let room = socket.channel("room:a", rig::protocol::Payload::empty())?;
/// let a = room.on("shout", |_| {})?;
/// let b = room.on("shout", |_| {})?;
/// assert_ne!(a, b);
/// room.off(a)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binding(pub(crate) SubKey);
