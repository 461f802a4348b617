//! Opaque handles: C holds an id dressed as a pointer, never an address.
//!
//! Every object lives in one registry under an id that is never reused, so
//! a freed, forged or wrongly typed handle is found out on lookup (an
//! error code, never a read of freed memory). Lookups clone an `Arc` and
//! let go of the lock before any rig call, so callbacks may call back in.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use crate::error::{Failure, rig_error};

/// One kind of object C holds a handle to.
pub(crate) trait Handle: Send + Sync + Sized + 'static {
    /// The opaque C type of the handle.
    type C;
    /// The C type's name, for messages.
    const KIND: &'static str;
    fn into_object(this: Arc<Self>) -> Object;
    fn from_object(object: &Object) -> Option<Arc<Self>>;
}

/// Every object in the registry, by kind.
pub(crate) enum Object {
    Engine(Arc<crate::adapt::EngineObj>),
    Socket(Arc<crate::adapt::SocketObj>),
    Channel(Arc<crate::adapt::ChannelObj>),
    Push(Arc<crate::adapt::PushObj>),
    Subscription(Arc<crate::adapt::SubscriptionObj>),
    Presence(Arc<crate::adapt::PresenceObj>),
    Owned(Arc<crate::owned::Owned>),
}

impl Object {
    fn kind(&self) -> &'static str {
        match self {
            Self::Engine(_) => "rig_engine",
            Self::Socket(_) => "rig_socket",
            Self::Channel(_) => "rig_channel",
            Self::Push(_) => "rig_push",
            Self::Subscription(_) => "rig_subscription",
            Self::Presence(_) => "rig_presence",
            Self::Owned(_) => "rig_owned",
        }
    }
}

/// Implements [`Handle`] for an object kind.
macro_rules! handle {
    ($object:ty, $c:ty, $variant:ident, $kind:literal) => {
        impl $crate::handles::Handle for $object {
            type C = $c;
            const KIND: &'static str = $kind;
            fn into_object(this: std::sync::Arc<Self>) -> $crate::handles::Object {
                $crate::handles::Object::$variant(this)
            }
            fn from_object(object: &$crate::handles::Object) -> Option<std::sync::Arc<Self>> {
                match object {
                    $crate::handles::Object::$variant(this) => Some(std::sync::Arc::clone(this)),
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use handle;

#[derive(Default)]
struct Registry {
    /// The last id handed out; ids start at 1 (0 is NULL).
    last: usize,
    live: HashMap<usize, Object>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while the lock was held (caught by the guard) leaves the map
    // consistent: every change to it is a single insert or remove.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Registers `object` and returns its handle.
pub(crate) fn register<T: Handle>(object: T) -> *mut T::C {
    let mut registry = registry();
    registry.last += 1;
    let id = registry.last;
    registry.live.insert(id, T::into_object(Arc::new(object)));
    std::ptr::without_provenance_mut(id)
}

/// The object behind `handle`, if it is a live handle of this kind.
pub(crate) fn lookup<T: Handle>(handle: *const T::C) -> Result<Arc<T>, Failure> {
    let id = handle.addr();
    if id == 0 {
        return Err(Failure::null(T::KIND));
    }
    let registry = registry();
    let object = registry.live.get(&id).ok_or_else(|| not_live::<T>(id))?;
    T::from_object(object).ok_or_else(|| wrong_kind::<T>(id, object))
}

/// Removes `handle` from the registry; the object is dropped once no call
/// in flight holds it. NULL is allowed and does nothing (as `free(NULL)`).
pub(crate) fn release<T: Handle>(handle: *const T::C) -> Result<(), Failure> {
    let id = handle.addr();
    if id == 0 {
        return Ok(());
    }
    let removed = {
        let mut registry = registry();
        let object = registry.live.get(&id).ok_or_else(|| not_live::<T>(id))?;
        if T::from_object(object).is_none() {
            return Err(wrong_kind::<T>(id, object));
        }
        let removed = registry.live.remove(&id);
        if registry.live.is_empty() {
            // Gives the table's memory back once every handle is freed, so
            // a clean shutdown leaves nothing allocated behind.
            registry.live = HashMap::new();
        }
        removed
    };
    // Dropped here, outside the lock: an engine's drop joins its threads,
    // whose callbacks may be inside a lookup.
    drop(removed);
    Ok(())
}

fn not_live<T: Handle>(id: usize) -> Failure {
    Failure::new(
        rig_error::RIG_ERR_BAD_HANDLE,
        format!("{} {id:#x} is not live (freed already, or not from rig)", T::KIND),
    )
}

fn wrong_kind<T: Handle>(id: usize, object: &Object) -> Failure {
    Failure::new(
        rig_error::RIG_ERR_BAD_HANDLE,
        format!("handle {id:#x} is a {}, not a {}", object.kind(), T::KIND),
    )
}

/// How many handles (and returned structs not yet cleared) are live: 0
/// once a program has freed everything, which a leak check can assert.
///
/// # Examples
///
/// ```
/// use rig_ffi::*;
/// let before = rig_live_handles();
/// let mut engine = std::ptr::null_mut();
/// unsafe { rig_engine_new(&mut engine) };
/// assert!(rig_live_handles() >= 1);
/// unsafe { rig_engine_free(engine) };
/// # let _ = before;
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn rig_live_handles() -> usize {
    std::panic::catch_unwind(|| registry().live.len()).unwrap_or(0)
}
