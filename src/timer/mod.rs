//! Timers driven by the injected clock.
//!
//! [`TimerWheel`] keeps every deadline of a session (heartbeat, push and join
//! timeouts, rejoin and reconnect backoff). It never reads a clock: callers
//! pass `now` to [`TimerWheel::poll`] and ask [`TimerWheel::next_deadline`]
//! how long they may sleep.
//!
//! Deadlines are kept at millisecond resolution and rounded *up*, so a timer
//! never fires early.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::time::Instant;

/// Identifies one armed timer; stale keys (fired or cancelled) are harmless.
///
/// # Examples
///
/// ```
/// use rig::timer::TimerWheel;
/// let (clock, _mock) = rig::time::Clock::mock();
/// let mut wheel = TimerWheel::new(clock.now());
/// let key = wheel.insert(clock.now(), "x");
/// assert_eq!(wheel.cancel(key), Some("x"));
/// assert_eq!(wheel.cancel(key), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimerKey {
    tick: u64,
    seq: u64,
}

/// A set of timers ordered by deadline.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::timer::TimerWheel;
///
/// let (clock, mock) = rig::time::Clock::mock();
/// let mut wheel = TimerWheel::new(clock.now());
/// wheel.insert(clock.now() + Duration::from_millis(10), "heartbeat");
/// assert_eq!(wheel.poll(clock.now()), None);
/// mock.increment(Duration::from_millis(10));
/// assert_eq!(wheel.poll(clock.now()), Some("heartbeat"));
/// ```
#[derive(Debug)]
pub struct TimerWheel<T> {
    origin: Instant,
    next_seq: u64,
    entries: BTreeMap<(u64, u64), T>,
}

impl<T> TimerWheel<T> {
    /// An empty wheel whose tick 0 is `origin`.
    ///
    /// # Examples
    ///
    /// ```
    /// let wheel = rig::timer::TimerWheel::<()>::new(rig::time::Clock::real().now());
    /// assert!(wheel.is_empty());
    /// ```
    #[must_use]
    pub fn new(origin: Instant) -> Self {
        Self { origin, next_seq: 0, entries: BTreeMap::new() }
    }

    /// Arms a timer that fires at `deadline` (rounded up to the next ms).
    /// A deadline in the past fires on the next [`poll`](Self::poll).
    ///
    /// # Examples
    ///
    /// ```
    /// let now = rig::time::Clock::real().now();
    /// let mut wheel = rig::timer::TimerWheel::new(now);
    /// wheel.insert(now, 1);
    /// assert_eq!(wheel.len(), 1);
    /// ```
    pub fn insert(&mut self, deadline: Instant, value: T) -> TimerKey {
        let tick = self.tick_ceil(deadline);
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.entries.insert((tick, seq), value);
        TimerKey { tick, seq }
    }

    /// Disarms a timer; returns its value if it had not fired yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = rig::time::Clock::real().now();
    /// let mut wheel = rig::timer::TimerWheel::new(now);
    /// let k = wheel.insert(now, 'a');
    /// assert_eq!(wheel.cancel(k), Some('a'));
    /// ```
    pub fn cancel(&mut self, key: TimerKey) -> Option<T> {
        self.entries.remove(&(key.tick, key.seq))
    }

    /// Pops one timer whose deadline is at or before `now`, earliest first.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = rig::time::Clock::real().now();
    /// let mut wheel = rig::timer::TimerWheel::new(now);
    /// wheel.insert(now, 'a');
    /// assert_eq!(wheel.poll(now), Some('a'));
    /// assert_eq!(wheel.poll(now), None);
    /// ```
    pub fn poll(&mut self, now: Instant) -> Option<T> {
        let now_tick = self.tick_floor(now);
        let (&key, _) = self.entries.first_key_value()?;
        if key.0 > now_tick {
            return None;
        }
        self.entries.remove(&key)
    }

    /// The earliest armed deadline, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = rig::time::Clock::real().now();
    /// let mut wheel = rig::timer::TimerWheel::new(now);
    /// assert!(wheel.next_deadline().is_none());
    /// wheel.insert(now, ());
    /// assert!(wheel.next_deadline().is_some());
    /// ```
    #[must_use]
    pub fn next_deadline(&self) -> Option<Instant> {
        let (&(tick, _), _) = self.entries.first_key_value()?;
        Some(self.origin + Duration::from_millis(tick))
    }

    /// The number of armed timers.
    ///
    /// # Examples
    ///
    /// ```
    /// let wheel = rig::timer::TimerWheel::<u8>::new(rig::time::Clock::real().now());
    /// assert_eq!(wheel.len(), 0);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no timer is armed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::timer::TimerWheel::<u8>::new(rig::time::Clock::real().now()).is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn tick_ceil(&self, t: Instant) -> u64 {
        let d = t.saturating_duration_since(self.origin);
        let ms = d.as_millis();
        let ms = if d > Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)) {
            ms + 1
        } else {
            ms
        };
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    fn tick_floor(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.origin).as_millis()).unwrap_or(u64::MAX)
    }
}
