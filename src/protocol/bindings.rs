//! A per-channel table of event handlers (phoenix.js `channel.on` /
//! `channel.off`), as plain data.
//!
//! The session itself reports every message as an
//! [`Event::Message`](super::Event::Message); a layer that offers callbacks
//! per event name (the engine's dispatchers, an embedding program) can keep
//! one `Bindings` per channel. Handlers are any type `H` (a boxed closure, a
//! sender, an index).
//!
//! Dispatch takes a snapshot ([`Bindings::matching`]) and looks each ref up
//! again before calling it, so a handler that removes itself (or another)
//! during dispatch does not make the others skip (phoenix.js C43).
//!
//! # Examples
//!
//! ```
//! use rig::protocol::Bindings;
//!
//! let mut bindings: Bindings<&str> = Bindings::new();
//! let first = bindings.on("shout", "first");
//! let second = bindings.on("shout", "second");
//! bindings.on("other", "third");
//! assert_eq!(second.as_u64(), first.as_u64() + 1);
//!
//! let mut called = Vec::new();
//! for r in bindings.matching("shout") {
//!     if let Some(handler) = bindings.get(r) {
//!         called.push(*handler);
//!     }
//!     bindings.off("shout", Some(first)); // removing during dispatch is fine
//! }
//! assert_eq!(called, ["first", "second"]);
//! assert_eq!(bindings.matching("shout"), [second]);
//! ```

use bytestring::ByteString;

/// The ref of one binding, returned by [`Bindings::on`]; refs grow by one
/// per call.
///
/// # Examples
///
/// ```
/// let mut b = rig::protocol::Bindings::new();
/// assert_eq!(b.on("e", ()).as_u64(), 0);
/// assert_eq!(b.on("e", ()).as_u64(), 1);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct BindingRef(u64);

impl BindingRef {
    /// The number behind the ref.
    ///
    /// # Examples
    ///
    /// See [`BindingRef`].
    #[must_use]
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// Handlers by event name, in the order they were bound.
///
/// Dispatch over a [`matching`](Self::matching) snapshot and look each ref
/// up again, so handlers removed meanwhile are skipped and the others run.
///
/// # Examples
///
/// ```
/// let mut b = rig::protocol::Bindings::new();
/// b.on("shout", |payload: &str| payload.len());
/// let lens: Vec<usize> = b.matching("shout").into_iter().filter_map(|r| b.get(r)).map(|h| h("hey")).collect();
/// assert_eq!(lens, [3]);
/// ```
#[derive(Clone, Debug)]
pub struct Bindings<H> {
    next: u64,
    entries: Vec<(ByteString, BindingRef, H)>,
}

impl<H> Default for Bindings<H> {
    fn default() -> Self {
        Self { next: 0, entries: Vec::new() }
    }
}

impl<H> Bindings<H> {
    /// An empty table.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::protocol::Bindings::<()>::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Binds `handler` to `event`; returns its ref.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = rig::protocol::Bindings::new();
    /// let r = b.on("shout", 7);
    /// assert_eq!(b.get(r), Some(&7));
    /// ```
    pub fn on(&mut self, event: impl Into<ByteString>, handler: H) -> BindingRef {
        let r = BindingRef(self.next);
        self.next = self.next.wrapping_add(1);
        self.entries.push((event.into(), r, handler));
        r
    }

    /// Unbinds `event`'s handler with ref `r`, or every handler of `event`
    /// when `r` is `None`. Returns how many were removed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = rig::protocol::Bindings::new();
    /// let a = b.on("e", 1);
    /// b.on("e", 2);
    /// assert_eq!(b.off("e", Some(a)), 1);
    /// assert_eq!(b.off("e", None), 1);
    /// assert!(b.is_empty());
    /// ```
    pub fn off(&mut self, event: &str, r: Option<BindingRef>) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(e, own, _)| !(&**e == event && r.is_none_or(|r| r == *own)));
        before - self.entries.len()
    }

    /// The refs bound to `event` now, in binding order: a snapshot to
    /// dispatch over.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = rig::protocol::Bindings::new();
    /// let r = b.on("e", ());
    /// b.on("f", ());
    /// assert_eq!(b.matching("e"), [r]);
    /// ```
    #[must_use]
    pub fn matching(&self, event: &str) -> Vec<BindingRef> {
        self.entries.iter().filter(|(e, _, _)| &**e == event).map(|(_, r, _)| *r).collect()
    }

    /// The handler with ref `r`, if it is still bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = rig::protocol::Bindings::new();
    /// let r = b.on("e", "h");
    /// b.off("e", None);
    /// assert_eq!(b.get(r), None);
    /// ```
    #[must_use]
    pub fn get(&self, r: BindingRef) -> Option<&H> {
        self.entries.iter().find(|(_, own, _)| *own == r).map(|(_, _, h)| h)
    }

    /// The handler with ref `r`, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = rig::protocol::Bindings::new();
    /// let r = b.on("e", 1);
    /// if let Some(h) = b.get_mut(r) { *h += 1; }
    /// assert_eq!(b.get(r), Some(&2));
    /// ```
    pub fn get_mut(&mut self, r: BindingRef) -> Option<&mut H> {
        self.entries.iter_mut().find(|(_, own, _)| *own == r).map(|(_, _, h)| h)
    }

    /// The number of bindings.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut b = rig::protocol::Bindings::new();
    /// b.on("e", ());
    /// assert_eq!(b.len(), 1);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is bound.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::protocol::Bindings::<u8>::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
