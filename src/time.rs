//! Time as an input: the crate's `Instant` and the clock that produces it.
//!
//! The protocol core never reads a clock; drivers call [`Clock::now`] and pass
//! the result in. Tests build the clock from [`quanta::Clock::mock`] and move
//! it forward by hand, so timeouts, backoff and heartbeats run without sleeping.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use rig::time::Clock;
//!
//! let (clock, mock) = Clock::mock();
//! let start = clock.now();
//! mock.increment(Duration::from_millis(1500));
//! assert_eq!(clock.now().saturating_duration_since(start), Duration::from_millis(1500));
//! ```

use std::sync::Arc;

/// A point in time from the injected clock.
pub type Instant = quanta::Instant;

/// A cheap, cloneable handle to a real or mocked monotonic clock.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: quanta::Clock,
}

impl Clock {
    /// The real monotonic clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let clock = rig::time::Clock::real();
    /// let a = clock.now();
    /// assert!(clock.now() >= a);
    /// ```
    #[must_use]
    pub fn real() -> Self {
        Self { inner: quanta::Clock::new() }
    }

    /// A mocked clock and the handle that moves it forward.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (clock, mock) = rig::time::Clock::mock();
    /// let t0 = clock.now();
    /// mock.increment(Duration::from_secs(30));
    /// assert_eq!(clock.now() - t0, Duration::from_secs(30));
    /// ```
    #[must_use]
    pub fn mock() -> (Self, Arc<quanta::Mock>) {
        let (inner, mock) = quanta::Clock::mock();
        (Self { inner }, mock)
    }

    /// The current time of this clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let clock = rig::time::Clock::real();
    /// let _now: rig::time::Instant = clock.now();
    /// ```
    #[must_use]
    pub fn now(&self) -> Instant {
        self.inner.now()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::real()
    }
}
