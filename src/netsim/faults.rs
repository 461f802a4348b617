//! What the proxy does to the bytes: per-direction faults and proxy-wide ones.

use std::num::{NonZeroU64, NonZeroUsize};
use std::time::Duration;

/// Which way bytes flow through the proxy.
///
/// # Examples
///
/// ```
/// use rig::netsim::Direction;
///
/// assert_eq!(Direction::ALL, [Direction::Upstream, Direction::Downstream]);
/// assert_eq!(Direction::Upstream.reverse(), Direction::Downstream);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server: what the proxy reads from accepted connections.
    Upstream,
    /// Server to client: what the proxy reads from the upstream address.
    Downstream,
}

impl Direction {
    /// Both directions, upstream first.
    pub const ALL: [Self; 2] = [Self::Upstream, Self::Downstream];

    /// The other direction.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::netsim::Direction;
    /// assert_eq!(Direction::Downstream.reverse(), Direction::Upstream);
    /// ```
    #[must_use]
    pub const fn reverse(self) -> Self {
        match self {
            Self::Upstream => Self::Downstream,
            Self::Downstream => Self::Upstream,
        }
    }

    /// 0 for upstream, 1 for downstream (the RNG stream id).
    pub(crate) const fn id(self) -> u64 {
        match self {
            Self::Upstream => 0,
            Self::Downstream => 1,
        }
    }
}

/// One value per direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PerDirection<T> {
    pub(crate) upstream: T,
    pub(crate) downstream: T,
}

impl<T> PerDirection<T> {
    pub(crate) const fn get(&self, direction: Direction) -> &T {
        match direction {
            Direction::Upstream => &self.upstream,
            Direction::Downstream => &self.downstream,
        }
    }

    pub(crate) fn get_mut(&mut self, direction: Direction) -> &mut T {
        match direction {
            Direction::Upstream => &mut self.upstream,
            Direction::Downstream => &mut self.downstream,
        }
    }
}

/// A repeating event whose intervals are `every ± jitter` (uniform, seeded),
/// never shorter than [`Periodic::MIN_INTERVAL`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::netsim::Periodic;
///
/// let flap = Periodic { every: Duration::from_secs(2), jitter: Duration::from_millis(200) };
/// assert_eq!(Periodic::every(Duration::from_secs(2)).jitter, Duration::ZERO);
/// assert_ne!(flap, Periodic::every(Duration::from_secs(2)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Periodic {
    /// The mean interval.
    pub every: Duration,
    /// The largest deviation from `every`, either way.
    pub jitter: Duration,
}

impl Periodic {
    /// The shortest interval a schedule produces, whatever the jitter.
    pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

    /// Exactly every `every` (no jitter).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = rig::netsim::Periodic::every(Duration::from_millis(500));
    /// assert_eq!(p.every, Duration::from_millis(500));
    /// ```
    #[must_use]
    pub const fn every(every: Duration) -> Self {
        Self { every, jitter: Duration::ZERO }
    }
}

/// Recurring stalls: every [`Stalls::every`] the direction forwards nothing
/// for [`Stalls::length`], then resumes with every byte intact.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::netsim::{Periodic, Stalls};
///
/// let stalls = Stalls {
///     every: Periodic::every(Duration::from_secs(1)),
///     length: Duration::from_millis(300),
/// };
/// assert_eq!(stalls.length, Duration::from_millis(300));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stalls {
    /// When stalls begin (measured from when the faults were set).
    pub every: Periodic,
    /// How long each stall lasts.
    pub length: Duration,
}

/// Faults applied to one direction of every connection.
///
/// All are off by default. Bytes always arrive intact and in order; the
/// faults change only when and in what pieces.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::netsim::DirectionFaults;
///
/// let slow_link = DirectionFaults::default()
///     .latency(Duration::from_millis(40))
///     .jitter(Duration::from_millis(10))
///     .bandwidth(64 * 1024)
///     .slice(7);
/// assert_ne!(slow_link, DirectionFaults::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirectionFaults {
    pub(crate) latency: Duration,
    pub(crate) jitter: Duration,
    pub(crate) bandwidth: Option<NonZeroU64>,
    pub(crate) slice: Option<NonZeroUsize>,
    pub(crate) slice_gap: Duration,
    pub(crate) stalls: Option<Stalls>,
}

impl DirectionFaults {
    /// One-way delay added to every byte (default zero).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let f = rig::netsim::DirectionFaults::default().latency(Duration::from_millis(25));
    /// # let _ = f;
    /// ```
    #[must_use]
    pub const fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Extra delay drawn per read from `0..=jitter` (seeded). Bytes never
    /// overtake earlier bytes: a draw shorter than the previous one waits
    /// for it (default zero).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let f = rig::netsim::DirectionFaults::default().jitter(Duration::from_millis(5));
    /// # let _ = f;
    /// ```
    #[must_use]
    pub const fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Caps each connection's rate in this direction at `bytes_per_second`
    /// (a token bucket per connection, holding 20 ms worth of bytes, at
    /// least one). 0 means no cap (the default).
    ///
    /// # Examples
    ///
    /// ```
    /// let f = rig::netsim::DirectionFaults::default().bandwidth(10_000);
    /// assert_eq!(f.bandwidth(0), rig::netsim::DirectionFaults::default());
    /// ```
    #[must_use]
    pub const fn bandwidth(mut self, bytes_per_second: u64) -> Self {
        self.bandwidth = NonZeroU64::new(bytes_per_second);
        self
    }

    /// Writes at most `max_bytes` per `write` call, so the peer sees partial
    /// frames. 0 means no slicing (the default).
    ///
    /// # Examples
    ///
    /// ```
    /// let f = rig::netsim::DirectionFaults::default().slice(1);
    /// # let _ = f;
    /// ```
    #[must_use]
    pub const fn slice(mut self, max_bytes: usize) -> Self {
        self.slice = NonZeroUsize::new(max_bytes);
        self
    }

    /// With [`slice`](Self::slice): wait this long between pieces, so the
    /// peer reads each one on its own instead of finding several queued
    /// (default zero: pieces go out back to back, one `write` each). The
    /// proxy's timers have the poller's resolution, 1 ms: a shorter gap
    /// still waits about 1 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let f = rig::netsim::DirectionFaults::default().slice(3).slice_gap(Duration::from_millis(1));
    /// # let _ = f;
    /// ```
    #[must_use]
    pub const fn slice_gap(mut self, gap: Duration) -> Self {
        self.slice_gap = gap;
        self
    }

    /// Recurring stalls of this direction on every connection at once
    /// (default none).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::netsim::{DirectionFaults, Periodic, Stalls};
    ///
    /// let every = Periodic::every(Duration::from_secs(5));
    /// let f = DirectionFaults::default().stalls(Stalls { every, length: Duration::from_secs(1) });
    /// # let _ = f;
    /// ```
    #[must_use]
    pub const fn stalls(mut self, stalls: Stalls) -> Self {
        self.stalls = Some(stalls);
        self
    }
}

/// The full fault set of a proxy: one [`DirectionFaults`] per direction,
/// plus faults that hit whole connections.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::netsim::{DirectionFaults, Faults, Periodic};
///
/// let faults = Faults::default()
///     .both(DirectionFaults::default().latency(Duration::from_millis(20)))
///     .downstream(DirectionFaults::default().slice(5))
///     .reset_every(Periodic::every(Duration::from_secs(3)));
/// assert!(!faults.is_refusing());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    pub(crate) directions: PerDirection<DirectionFaults>,
    pub(crate) resets: Option<Periodic>,
    pub(crate) refuse: bool,
}

impl Faults {
    /// The same faults in both directions.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::netsim::{Direction, DirectionFaults, Faults};
    ///
    /// let d = DirectionFaults::default().slice(2);
    /// let f = Faults::default().both(d);
    /// assert_eq!(f.direction(Direction::Upstream), f.direction(Direction::Downstream));
    /// ```
    #[must_use]
    pub const fn both(mut self, faults: DirectionFaults) -> Self {
        self.directions = PerDirection { upstream: faults, downstream: faults };
        self
    }

    /// Faults on client-to-server bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::netsim::{Direction, DirectionFaults, Faults};
    ///
    /// let d = DirectionFaults::default().bandwidth(1000);
    /// assert_eq!(Faults::default().upstream(d).direction(Direction::Upstream), &d);
    /// ```
    #[must_use]
    pub const fn upstream(mut self, faults: DirectionFaults) -> Self {
        self.directions.upstream = faults;
        self
    }

    /// Faults on server-to-client bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::netsim::{Direction, DirectionFaults, Faults};
    ///
    /// let d = DirectionFaults::default().slice(1);
    /// assert_eq!(Faults::default().downstream(d).direction(Direction::Downstream), &d);
    /// ```
    #[must_use]
    pub const fn downstream(mut self, faults: DirectionFaults) -> Self {
        self.directions.downstream = faults;
        self
    }

    /// Flapping: reset every open connection (RST to both ends) at each
    /// tick of `every` (default none).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::netsim::{Faults, Periodic};
    ///
    /// let flap = Periodic { every: Duration::from_secs(1), jitter: Duration::from_millis(100) };
    /// let f = Faults::default().reset_every(flap);
    /// # let _ = f;
    /// ```
    #[must_use]
    pub const fn reset_every(mut self, every: Periodic) -> Self {
        self.resets = Some(every);
        self
    }

    /// Refuse new connections: the listening socket is closed, so connects
    /// fail with `ECONNREFUSED`; open connections go on. Turning it off
    /// listens again on the same address (default off).
    ///
    /// # Examples
    ///
    /// ```
    /// let f = rig::netsim::Faults::default().refuse(true);
    /// assert!(f.is_refusing());
    /// ```
    #[must_use]
    pub const fn refuse(mut self, refuse: bool) -> Self {
        self.refuse = refuse;
        self
    }

    /// The faults of one direction.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::netsim::{Direction, DirectionFaults, Faults};
    /// assert_eq!(Faults::default().direction(Direction::Upstream), &DirectionFaults::default());
    /// ```
    #[must_use]
    pub const fn direction(&self, direction: Direction) -> &DirectionFaults {
        self.directions.get(direction)
    }

    /// Whether new connections are refused.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rig::netsim::Faults::default().is_refusing());
    /// ```
    #[must_use]
    pub const fn is_refusing(&self) -> bool {
        self.refuse
    }
}
