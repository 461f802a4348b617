//! Every random choice the proxy makes, derived from one seed.
//!
//! The proxy draws from these generators and nothing else, so a seed fixes
//! the fault schedule: which delay each read of connection *n* gets, when
//! stalls begin, when connections are reset. What stays outside the seed is
//! how the kernel splits the byte stream into reads, and the order in which
//! clients connect (connection *n* is the *n*-th one accepted, from 0).

use std::ops::Range;
use std::time::Duration;

use super::faults::{Direction, DirectionFaults, Faults, Periodic, Stalls};
use super::rng::SimRng;

/// Stream ids, so each kind of draw has its own independent sequence.
const DELAYS: u64 = 1;
const STALLS: u64 = 2;
const RESETS: u64 = 3;

/// The seeded source of every fault schedule.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::netsim::{Direction, DirectionFaults, Schedule};
///
/// let faults = DirectionFaults::default()
///     .latency(Duration::from_millis(10))
///     .jitter(Duration::from_millis(5));
/// let a: Vec<Duration> = Schedule::new(9).delays(0, Direction::Upstream, &faults).take(5).collect();
/// let b: Vec<Duration> = Schedule::new(9).delays(0, Direction::Upstream, &faults).take(5).collect();
/// assert_eq!(a, b);
/// assert!(a.iter().all(|d| *d >= Duration::from_millis(10) && *d <= Duration::from_millis(15)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    root: SimRng,
}

impl Schedule {
    /// The schedule of `seed`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::netsim::Schedule::new(1), rig::netsim::Schedule::new(1));
    /// ```
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self { root: SimRng::new(seed) }
    }

    /// The one-way delays of connection `connection` in `direction`: one
    /// per read, each `latency + U(0..=jitter)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::netsim::{Direction, DirectionFaults, Schedule};
    ///
    /// let plain = DirectionFaults::default().latency(Duration::from_millis(3));
    /// let mut delays = Schedule::new(0).delays(7, Direction::Downstream, &plain);
    /// assert_eq!(delays.next(), Some(Duration::from_millis(3)));
    /// ```
    #[must_use]
    pub fn delays(
        &self,
        connection: u64,
        direction: Direction,
        faults: &DirectionFaults,
    ) -> Delays {
        Delays {
            rng: self.root.fork(DELAYS).fork(connection).fork(direction.id()),
            latency: faults.latency,
            jitter_nanos: nanos(faults.jitter),
        }
    }

    /// The stall windows of `direction`, as offsets from when the faults
    /// were set; `None` when the direction has no stalls.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::netsim::{Direction, DirectionFaults, Periodic, Schedule, Stalls};
    ///
    /// let ms = Duration::from_millis;
    /// let faults = DirectionFaults::default()
    ///     .stalls(Stalls { every: Periodic::every(ms(100)), length: ms(30) });
    /// let mut windows = Schedule::new(0).stalls(Direction::Upstream, &faults).unwrap();
    /// assert_eq!(windows.next(), Some(ms(100)..ms(130)));
    /// assert_eq!(windows.next(), Some(ms(200)..ms(230)));
    /// assert!(Schedule::new(0).stalls(Direction::Upstream, &DirectionFaults::default()).is_none());
    /// ```
    #[must_use]
    pub fn stalls(&self, direction: Direction, faults: &DirectionFaults) -> Option<StallWindows> {
        let Stalls { every, length } = faults.stalls?;
        let rng = self.root.fork(STALLS).fork(direction.id());
        Some(StallWindows { ticks: Ticks::new(rng, every), length })
    }

    /// When every open connection is reset (flapping), as offsets from when
    /// the faults were set; `None` without [`Faults::reset_every`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use rig::netsim::{Faults, Periodic, Schedule};
    ///
    /// let flap = Periodic { every: Duration::from_secs(1), jitter: Duration::from_millis(250) };
    /// let ticks: Vec<Duration> =
    ///     Schedule::new(5).resets(&Faults::default().reset_every(flap)).unwrap().take(3).collect();
    /// let gaps = [ticks[0], ticks[1] - ticks[0], ticks[2] - ticks[1]];
    /// assert!(gaps.iter().all(|g| *g >= Duration::from_millis(750) && *g <= Duration::from_millis(1250)));
    /// ```
    #[must_use]
    pub fn resets(&self, faults: &Faults) -> Option<Ticks> {
        Some(Ticks::new(self.root.fork(RESETS), faults.resets?))
    }
}

/// The per-read one-way delays of one connection direction (endless).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::netsim::{Direction, DirectionFaults, Schedule};
///
/// let jittery = DirectionFaults::default().jitter(Duration::from_micros(10));
/// let delays = Schedule::new(3).delays(1, Direction::Upstream, &jittery);
/// assert!(delays.take(100).all(|d| d <= Duration::from_micros(10)));
/// ```
#[derive(Clone, Debug)]
pub struct Delays {
    rng: SimRng,
    latency: Duration,
    jitter_nanos: u64,
}

impl Iterator for Delays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let extra = Duration::from_nanos(self.rng.up_to(self.jitter_nanos));
        Some(self.latency.saturating_add(extra))
    }
}

/// The times of a [`Periodic`] event, as offsets from its start (endless).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::netsim::{Faults, Periodic, Schedule};
///
/// let faults = Faults::default().reset_every(Periodic::every(Duration::from_secs(2)));
/// let mut ticks = Schedule::new(0).resets(&faults).unwrap();
/// assert_eq!(ticks.next(), Some(Duration::from_secs(2)));
/// assert_eq!(ticks.next(), Some(Duration::from_secs(4)));
/// ```
#[derive(Clone, Debug)]
pub struct Ticks {
    rng: SimRng,
    every_nanos: u64,
    jitter_nanos: u64,
    at: Duration,
}

impl Ticks {
    fn new(rng: SimRng, every: Periodic) -> Self {
        Self {
            rng,
            every_nanos: nanos(every.every),
            jitter_nanos: nanos(every.jitter),
            at: Duration::ZERO,
        }
    }
}

impl Iterator for Ticks {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        // every - jitter + U(0..=2 jitter), computed without going negative.
        let spread = self.rng.up_to(self.jitter_nanos.saturating_mul(2));
        let interval = self.every_nanos.saturating_add(spread).saturating_sub(self.jitter_nanos);
        let interval = Duration::from_nanos(interval).max(Periodic::MIN_INTERVAL);
        self.at = self.at.saturating_add(interval);
        Some(self.at)
    }
}

/// The stall windows of one direction, as offsets from their start (endless).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use rig::netsim::{Direction, DirectionFaults, Periodic, Schedule, Stalls};
///
/// let every = Periodic { every: Duration::from_millis(50), jitter: Duration::from_millis(10) };
/// let faults = DirectionFaults::default().stalls(Stalls { every, length: Duration::from_millis(5) });
/// let windows = Schedule::new(1).stalls(Direction::Downstream, &faults).unwrap();
/// assert!(windows.take(20).all(|w| w.end - w.start == Duration::from_millis(5)));
/// ```
#[derive(Clone, Debug)]
pub struct StallWindows {
    ticks: Ticks,
    length: Duration,
}

impl Iterator for StallWindows {
    type Item = Range<Duration>;

    fn next(&mut self) -> Option<Range<Duration>> {
        let start = self.ticks.next()?;
        Some(start..start.saturating_add(self.length))
    }
}

/// A duration in nanoseconds, saturating at `u64::MAX` (584 years).
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
