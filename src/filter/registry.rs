//! Subscriptions added and removed from any thread while dispatchers match.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};
use parking_lot::Mutex;

use super::subscription::{Filter, SubscriptionId};
use super::table::{Entry, Table};

thread_local! {
    /// Snapshots this thread holds (of any registry): a `remove` that waited
    /// for them would wait for itself.
    static HELD: Cell<usize> = const { Cell::new(0) };
}

/// Why [`Registry::remove`] refused to wait.
///
/// # Examples
///
/// ```
/// use rig::filter::{Filter, Registry, RemoveError};
///
/// let registry = Registry::new();
/// let id = registry.add(Filter::topic("a")?, ());
/// let snapshot = registry.load();
/// assert_eq!(registry.remove(id), Err(RemoveError::SnapshotHeld));
/// drop(snapshot);
/// assert_eq!(registry.remove(id), Ok(true));
/// # Ok::<(), rig::filter::PatternError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RemoveError {
    /// The calling thread holds a [`Snapshot`] (of any registry), so waiting for every
    /// snapshot to drop would never end. The subscription was *not* removed.
    /// Drop the snapshot first, or (inside a handler) use
    /// [`Registry::remove_nowait`] and accept its weaker promise.
    #[error("this thread holds a filter snapshot: drop it before remove, or use remove_nowait")]
    SnapshotHeld,
}

/// The live set of subscriptions: writers rebuild, readers never wait.
///
/// Readers ([`load`](Self::load)) get the current immutable [`Table`] through
/// an atomic pointer (`arc-swap`): no lock and no shared counter write per
/// load in the common case. Writers ([`add`](Self::add),
/// [`remove`](Self::remove)) take a writer lock, build a new table (entries
/// are shared `Arc`s, so a rebuild re-indexes pointers) and publish it with
/// one atomic swap.
///
/// # The remove guarantee
///
/// When [`remove`](Self::remove)`(id)` returns `Ok(true)`:
///
/// - every [`Snapshot`] loaded after that is of a table without `id`, and
/// - every snapshot that held a table with `id` (on any thread) has been
///   dropped.
///
/// So no call of [`Table::for_each_match`] made through a snapshot reports
/// `id` after `remove` returns: a handler run inside that callback is never
/// called for a removed subscription. (Ids or values copied out of a snapshot
/// and used after it is dropped are outside this promise.)
///
/// This is done by waiting, not by a per-subscription flag: a flag checked
/// before the callback leaves a window between check and call that only a
/// per-delivery lock could close. `remove` publishes the new table, then
/// spins (yielding the CPU) until the old tables it replaced have no readers
/// left; `arc-swap` accounts every outstanding load in the table's reference
/// count when it swaps, so that count is exact. `remove` waits for the tables
/// replaced up to its own publish (any table with `id` is one of them)
/// without holding the writer lock, so other writers go on meanwhile (a
/// handler may add a subscription while a `remove` waits for that handler).
/// Readers never wait for writers. Hence: keep snapshots short (one message or one
/// batch), and never call `remove` from a thread holding a snapshot (it
/// returns [`RemoveError::SnapshotHeld`]); inside a handler use
/// [`remove_nowait`](Self::remove_nowait).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use rig::filter::{Filter, Registry};
/// use rig::protocol::{Message, Payload};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let registry = Arc::new(Registry::new());
/// let id = registry.add(Filter::topic("room:*")?, "rooms");
/// let msg = Message::new(None, None, "room:1", "e", Payload::empty());
///
/// let dispatcher = {
///     let registry = Arc::clone(&registry);
///     let msg = msg.clone();
///     std::thread::spawn(move || registry.load().matches(&msg).len())
/// };
/// assert!(dispatcher.join().map_err(|_| "panicked")? <= 1);
///
/// assert_eq!(registry.remove(id)?, true);
/// assert!(registry.load().matches(&msg).is_empty());
/// # Ok(())
/// # }
/// ```
pub struct Registry<T> {
    current: ArcSwap<Table<T>>,
    writer: Mutex<Writer<T>>,
}

struct Writer<T> {
    entries: Vec<Arc<Entry<T>>>,
    next_id: u64,
    /// Replaced tables that may still have readers, each with the
    /// generation of the publish that replaced it.
    retired: Vec<(u64, Arc<Table<T>>)>,
    /// Publishes so far.
    generation: u64,
}

impl<T> Registry<T> {
    /// An empty registry.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Registry;
    ///
    /// assert!(Registry::<()>::new().load().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            current: ArcSwap::from_pointee(Table::from_entries(Vec::new())),
            writer: Mutex::new(Writer {
                entries: Vec::new(),
                next_id: 0,
                retired: Vec::new(),
                generation: 0,
            }),
        }
    }

    /// The current table, for one message or one batch.
    ///
    /// Holding it delays [`remove`](Self::remove) (never other readers), so
    /// drop it promptly. It stays on the thread that loaded it.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, Registry};
    ///
    /// let registry = Registry::new();
    /// registry.add(Filter::topic("a")?, ());
    /// assert_eq!(registry.load().len(), 1);
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    pub fn load(&self) -> Snapshot<'_, T> {
        HELD.with(|held| held.set(held.get() + 1));
        Snapshot { table: self.current.load(), _registry: PhantomData }
    }

    /// Adds a subscription; it is seen by every snapshot loaded after this
    /// returns. Waits only for other writers.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, Registry};
    ///
    /// let registry = Registry::new();
    /// let id = registry.add(Filter::topic("a")?, "handler");
    /// assert_eq!(registry.load().ids().collect::<Vec<_>>(), [id]);
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    pub fn add(&self, filter: Filter, value: T) -> SubscriptionId {
        let mut writer = self.writer.lock();
        let id = SubscriptionId::new(writer.next_id);
        writer.next_id += 1;
        writer.entries.push(Arc::new(Entry { id, filter, value }));
        let dead = self.publish(&mut writer);
        drop(writer);
        drop(dead);
        id
    }

    /// Removes a subscription and waits until no snapshot can report it (see
    /// [the remove guarantee](Self#the-remove-guarantee)). `Ok(false)` when
    /// `id` was not (or no longer) in the registry.
    ///
    /// # Errors
    ///
    /// [`RemoveError::SnapshotHeld`] when this thread holds a snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, Registry};
    ///
    /// let registry = Registry::new();
    /// let id = registry.add(Filter::topic("a")?, ());
    /// assert_eq!(registry.remove(id), Ok(true));
    /// assert_eq!(registry.remove(id), Ok(false));
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    pub fn remove(&self, id: SubscriptionId) -> Result<bool, RemoveError> {
        if HELD.with(Cell::get) > 0 {
            return Err(RemoveError::SnapshotHeld);
        }
        let mut writer = self.writer.lock();
        let removed = Self::take(&mut writer, id);
        let dead = if removed { self.publish(&mut writer) } else { Vec::new() };
        // Every table that may report `id` was replaced by now (even when
        // `id` was already gone, by a remove_nowait): wait for those, not
        // for tables replaced later, and without the writer lock, so that a
        // reader may add or remove (without waiting) while we wait.
        let mine = writer.generation;
        drop(writer);
        drop(dead);
        let mut spins = 0_u32;
        loop {
            {
                let mut writer = self.writer.lock();
                let dead = Self::prune(&mut writer);
                let done = !writer.retired.iter().any(|(generation, _)| *generation <= mine);
                drop(writer);
                drop(dead);
                if done {
                    return Ok(removed);
                }
            }
            if spins < 64 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// Removes a subscription without waiting: snapshots loaded after this
    /// returns do not report it, but a snapshot already held (on any thread,
    /// including the caller's own) still may. For handlers that unsubscribe
    /// themselves. Returns whether `id` was present.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, Registry};
    ///
    /// let registry = Registry::new();
    /// let id = registry.add(Filter::topic("a")?, ());
    /// let snapshot = registry.load();
    /// assert!(registry.remove_nowait(id));
    /// assert_eq!(snapshot.len(), 1);
    /// assert!(registry.load().is_empty());
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    pub fn remove_nowait(&self, id: SubscriptionId) -> bool {
        let mut writer = self.writer.lock();
        let removed = Self::take(&mut writer, id);
        let dead = if removed { self.publish(&mut writer) } else { Vec::new() };
        drop(writer);
        drop(dead);
        removed
    }

    /// How many subscriptions the current table holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Registry;
    ///
    /// assert_eq!(Registry::<()>::new().len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        // The published table, not the writer's list: never waits for a writer.
        self.current.load().len()
    }

    /// True when no subscription is registered.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Registry;
    ///
    /// assert!(Registry::<()>::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn take(writer: &mut Writer<T>, id: SubscriptionId) -> bool {
        // Entries are in id order (ids only grow, appends only).
        match writer.entries.binary_search_by_key(&id, |e| e.id) {
            Ok(index) => {
                writer.entries.remove(index);
                true
            }
            Err(_) => false,
        }
    }

    /// Takes the retired tables nobody reads, to be dropped by the caller
    /// after the writer lock is released (dropping one may run user code).
    fn prune(writer: &mut Writer<T>) -> Vec<(u64, Arc<Table<T>>)> {
        let (keep, dead) = std::mem::take(&mut writer.retired)
            .into_iter()
            .partition(|(_, table)| Arc::strong_count(table) > 1);
        writer.retired = keep;
        dead
    }

    #[must_use]
    fn publish(&self, writer: &mut Writer<T>) -> Vec<(u64, Arc<Table<T>>)> {
        let table = Arc::new(Table::from_entries(writer.entries.clone()));
        let old = self.current.swap(table);
        writer.generation += 1;
        let generation = writer.generation;
        writer.retired.push((generation, old));
        // After the swap the count is exact: a table nobody reads goes
        // (once the caller released the lock).
        Self::prune(writer)
    }
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Registry<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").field("table", &**self.current.load()).finish()
    }
}

/// A loaded table: derefs to [`Table`]. Not `Send`: it belongs to the
/// thread that loaded it (that is how [`Registry::remove`] knows when a
/// thread would wait for itself).
///
/// # Examples
///
/// ```
/// use rig::filter::{Filter, Registry};
/// use rig::protocol::{Message, Payload};
///
/// let registry = Registry::new();
/// registry.add(Filter::topic("a")?, 7);
/// let snapshot = registry.load();
/// let mut seen = Vec::new();
/// snapshot.for_each_match(&Message::new(None, None, "a", "e", Payload::empty()), |_, v| seen.push(*v));
/// assert_eq!(seen, [7]);
/// # Ok::<(), rig::filter::PatternError>(())
/// ```
pub struct Snapshot<'a, T> {
    table: Guard<Arc<Table<T>>>,
    _registry: PhantomData<(&'a Registry<T>, *const ())>,
}

impl<T> Deref for Snapshot<'_, T> {
    type Target = Table<T>;

    fn deref(&self) -> &Table<T> {
        &self.table
    }
}

impl<T> Drop for Snapshot<'_, T> {
    fn drop(&mut self) {
        HELD.with(|held| held.set(held.get().saturating_sub(1)));
    }
}

impl<T> fmt::Debug for Snapshot<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Snapshot").field(&**self.table).finish()
    }
}
