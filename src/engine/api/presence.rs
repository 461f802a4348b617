//! [`ChannelPresence`]: a channel's presence list, kept in sync on the
//! dispatcher (phoenix.js `new Presence(channel)`), with join, leave and
//! sync callbacks.
//!
//! [`Channel::presence`] binds a handler to every message of the channel,
//! on the channel's dispatcher worker (so callbacks run in order with the
//! channel's other handlers). The handler feeds a
//! [`PresenceView`](crate::protocol::presence::PresenceView) (see
//! `dispatch::presence_feed` for how diffs wait for the state, first and after every
//! rejoin), then calls the callbacks with the changes, outside any lock.
//! The view itself sits behind a short lock for [`list`](ChannelPresence::list)
//! and [`state`](ChannelPresence::state) snapshots from any thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use super::channel::Channel;
use super::subscription::Binding;
use crate::engine::dispatch::presence_feed::PresenceFeed;
use crate::engine::shared::channel::ChannelShared;
use crate::engine::shared::command::EventFilter;
use crate::engine::shared::config::Overflow;
use crate::engine::shared::error::EngineError;
use crate::protocol::Message;
use crate::protocol::presence::{Presence, PresenceEvent, PresenceState, PresenceView};

type JoinCallback = Box<dyn FnMut(&str, Option<&Presence>, &Presence) + Send>;
type LeaveCallback = Box<dyn FnMut(&str, &Presence, &Presence) + Send>;
type SyncCallback = Box<dyn FnMut() + Send>;

enum Callback {
    Join(JoinCallback),
    Leave(LeaveCallback),
    Sync(SyncCallback),
}

/// What the handle and the handler share.
struct PresenceShared {
    view: Mutex<PresenceView>,
    /// A state has been applied, at join counter `synced_at`.
    has_state: AtomicBool,
    synced_at: AtomicU64,
    decode_errors: AtomicU64,
    dropped_diffs: AtomicU64,
}

/// A channel's presence list, kept in sync from its `presence_state` and
/// `presence_diff` messages, with callbacks (phoenix.js `Presence`). Made
/// by [`Channel::presence`].
///
/// Diffs that arrive before the state of the current join are held and
/// applied right after it, on the first join and after every rejoin (a
/// reconnect): the new state replaces the old view, and keys it lacks are
/// reported as leaves. The callbacks run on the channel's dispatcher
/// worker, in order with the channel's other handlers, after the view is
/// updated: in each change every join, then every leave, then one sync. A
/// panicking callback is caught and counted like any handler.
///
/// The binding uses [`Overflow::Block`] whatever the engine's policy: a
/// lost diff would leave the view wrong until the next rejoin, so a full
/// worker pauses the socket instead. Dropping the handle does not stop the
/// view: [`Channel::off`] with [`binding`](Self::binding) does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::engine::{Engine, SocketOptions};
/// use rig::protocol::Payload;
/// use rig::server::{Server, ServerConfig};
///
/// let server = Server::start(ServerConfig::builder().build())?;
/// let engine = Engine::start(Default::default())?;
/// let socket = engine.socket(SocketOptions::builder(server.url()).build()?)?;
/// socket.connect()?;
/// let lobby = socket.channel("presence:lobby", Payload::json(r#"{"user_id":"ann"}"#))?;
/// let presence = lobby.presence()?;
/// let (joined_tx, joined) = crossbeam_channel::unbounded();
/// presence.on_join(move |key, _current, _joined| joined_tx.send(key.to_owned()).unwrap());
/// lobby.join().wait()?;
/// assert_eq!(joined.recv_timeout(Duration::from_secs(5))?, "ann");
/// assert!(presence.is_synced());
/// assert_eq!(presence.list().len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ChannelPresence {
    shared: Arc<PresenceShared>,
    channel: Arc<ChannelShared>,
    callbacks: Sender<Callback>,
    binding: Binding,
}

impl std::fmt::Debug for ChannelPresence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelPresence")
            .field("binding", &self.binding)
            .field("synced", &self.is_synced())
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// A presence list for this channel, kept in sync on the dispatcher.
    /// Call it before [`join`](Self::join) so that the first state is seen
    /// (a view made later waits for the next rejoin's state). Each call
    /// makes an independent view.
    ///
    /// # Errors
    ///
    /// [`EngineError::Stopped`].
    ///
    /// # Examples
    ///
    /// See [`ChannelPresence`].
    pub fn presence(&self) -> Result<ChannelPresence, EngineError> {
        let shared = Arc::new(PresenceShared {
            view: Mutex::new(PresenceView::new()),
            has_state: AtomicBool::new(false),
            synced_at: AtomicU64::new(0),
            decode_errors: AtomicU64::new(0),
            dropped_diffs: AtomicU64::new(0),
        });
        let (callbacks, added) = crossbeam_channel::unbounded();
        let mut handler = Handler {
            shared: Arc::clone(&shared),
            channel: Arc::clone(self.shared()),
            feed: PresenceFeed::default(),
            added,
            joins: Vec::new(),
            leaves: Vec::new(),
            syncs: Vec::new(),
        };
        let binding =
            self.bind(EventFilter::All, Overflow::Block, move |message| handler.handle(message))?;
        Ok(ChannelPresence { shared, channel: Arc::clone(self.shared()), callbacks, binding })
    }
}

impl ChannelPresence {
    /// Every presence, in key order: `(key, presence)` (phoenix.js `list()`).
    ///
    /// # Examples
    ///
    /// See [`ChannelPresence`].
    #[must_use]
    pub fn list(&self) -> Vec<(String, Presence)> {
        self.shared.view.lock().list(|key, presence| (key.to_owned(), presence.clone()))
    }

    /// A copy of the whole state, by key.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let lobby = socket.channel("presence:lobby", rig::protocol::Payload::empty())?;
    /// assert!(lobby.presence()?.state().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn state(&self) -> PresenceState {
        self.shared.view.lock().state().clone()
    }

    /// Whether the view holds the state of the channel's current join
    /// (phoenix.js `!inPendingSyncState()`): false before the first state
    /// and from a rejoin until its state has been handled.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let lobby = socket.channel("presence:lobby", rig::protocol::Payload::empty())?;
    /// assert!(!lobby.presence()?.is_synced());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_synced(&self) -> bool {
        self.shared.has_state.load(SeqCst)
            && self.shared.synced_at.load(SeqCst) == self.channel.joins()
    }

    /// Calls `callback(key, current, joined)` when metas join `key`:
    /// `current` is the presence before (`None` for a new key), `joined`
    /// holds the metas that joined. Runs on the dispatcher; callbacks added
    /// before the join see every change.
    ///
    /// # Examples
    ///
    /// See [`ChannelPresence`].
    pub fn on_join(
        &self,
        callback: impl FnMut(&str, Option<&Presence>, &Presence) + Send + 'static,
    ) {
        self.add(Callback::Join(Box::new(callback)));
    }

    /// Calls `callback(key, current, left)` when metas leave `key`:
    /// `current` is what remains (no metas: the key is gone), `left` holds
    /// the metas that left.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// # let lobby = socket.channel("presence:lobby", rig::protocol::Payload::empty())?;
    /// let presence = lobby.presence()?;
    /// presence.on_leave(|key, current, _left| {
    ///     if current.metas.is_empty() {
    ///         println!("{key} is gone");
    ///     }
    /// });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_leave(&self, callback: impl FnMut(&str, &Presence, &Presence) + Send + 'static) {
        self.add(Callback::Leave(Box::new(callback)));
    }

    /// Calls `callback()` after each change (a state, or a diff applied),
    /// once the view is in sync.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// # let lobby = socket.channel("presence:lobby", rig::protocol::Payload::empty())?;
    /// let presence = lobby.presence()?;
    /// presence.on_sync(|| println!("presence changed"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_sync(&self, callback: impl FnMut() + Send + 'static) {
        self.add(Callback::Sync(Box::new(callback)));
    }

    /// The handler's binding: [`Channel::off`] stops the view.
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// let lobby = socket.channel("presence:lobby", rig::protocol::Payload::empty())?;
    /// let presence = lobby.presence()?;
    /// lobby.off(presence.binding())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn binding(&self) -> Binding {
        self.binding
    }

    /// Presence payloads that did not decode (each changed nothing).
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// # let lobby = socket.channel("presence:lobby", rig::protocol::Payload::empty())?;
    /// assert_eq!(lobby.presence()?.decode_errors(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn decode_errors(&self) -> u64 {
        self.shared.decode_errors.load(SeqCst)
    }

    /// Diffs dropped while waiting for a state, beyond
    /// [`DEFAULT_PENDING_LIMIT`](crate::protocol::presence::DEFAULT_PENDING_LIMIT)
    /// held (the oldest go first).
    ///
    /// # Examples
    ///
    /// ```
    /// # let engine = rig::engine::Engine::start(Default::default())?;
    /// # let socket = engine.socket(rig::engine::SocketOptions::builder("ws://127.0.0.1:9/socket").build()?)?;
    /// # let lobby = socket.channel("presence:lobby", rig::protocol::Payload::empty())?;
    /// assert_eq!(lobby.presence()?.dropped_diffs(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn dropped_diffs(&self) -> u64 {
        self.shared.dropped_diffs.load(SeqCst)
    }

    fn add(&self, callback: Callback) {
        // The handler owns the receiver; it is gone only once the channel
        // is, and then no callback would run anyway.
        let _ = self.callbacks.send(callback);
    }
}

/// The presence handler, on the channel's dispatcher worker.
struct Handler {
    shared: Arc<PresenceShared>,
    channel: Arc<ChannelShared>,
    feed: PresenceFeed,
    added: Receiver<Callback>,
    joins: Vec<JoinCallback>,
    leaves: Vec<LeaveCallback>,
    syncs: Vec<SyncCallback>,
}

impl Handler {
    fn handle(&mut self, message: &Message) {
        for callback in self.added.try_iter() {
            match callback {
                Callback::Join(f) => self.joins.push(f),
                Callback::Leave(f) => self.leaves.push(f),
                Callback::Sync(f) => self.syncs.push(f),
            }
        }
        let joins = self.channel.joins();
        let changes = {
            let mut view = self.shared.view.lock();
            self.feed.handle(&mut view, joins, message)
        };
        self.shared.dropped_diffs.store(self.feed.dropped, SeqCst);
        let changes = match changes {
            Ok(changes) => changes,
            Err(e) => {
                self.shared.decode_errors.fetch_add(1, SeqCst);
                log::warn!("{}: bad presence payload: {e}", message.topic);
                return;
            }
        };
        if message.is_event(crate::protocol::events::PRESENCE_STATE) && !changes.is_empty() {
            self.shared.synced_at.store(joins, SeqCst);
            self.shared.has_state.store(true, SeqCst);
        }
        // The lock is released: callbacks may read the view.
        for change in &changes {
            match change {
                PresenceEvent::Join { key, current, joined } => {
                    for f in &mut self.joins {
                        f(key, current.as_ref(), joined);
                    }
                }
                PresenceEvent::Leave { key, current, left } => {
                    for f in &mut self.leaves {
                        f(key, current, left);
                    }
                }
                PresenceEvent::Sync => {
                    for f in &mut self.syncs {
                        f();
                    }
                }
            }
        }
    }
}
