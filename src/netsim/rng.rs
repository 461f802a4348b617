//! A small deterministic PRNG, so every fault schedule can be replayed from a seed.

/// SplitMix64: tiny, fast, and the same sequence on every machine for a seed.
///
/// It is not cryptographic; it drives jitter and fault schedules, where all
/// that matters is that a seed gives the same numbers again.
///
/// # Examples
///
/// ```
/// use rig::netsim::SimRng;
///
/// let mut a = SimRng::new(7);
/// let mut b = SimRng::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.below(10) < 10);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimRng {
    state: u64,
}

/// The SplitMix64 increment (the golden ratio in 64 bits).
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl SimRng {
    /// A generator for `seed`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rng = rig::netsim::SimRng::new(0);
    /// assert_ne!(rng.next_u64(), rng.next_u64());
    /// ```
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// An independent generator for one use of a seed (a connection, a
    /// direction, a schedule), so adding draws to one stream never shifts
    /// another.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::netsim::SimRng;
    ///
    /// let root = SimRng::new(42);
    /// assert_eq!(root.fork(1), root.fork(1));
    /// assert_ne!(root.fork(1), root.fork(2));
    /// ```
    #[must_use]
    pub fn fork(&self, stream: u64) -> Self {
        let mut mixer = Self::new(self.state ^ mix(stream.wrapping_add(GAMMA)));
        Self::new(mixer.next_u64())
    }

    /// The next 64 random bits.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rng = rig::netsim::SimRng::new(1);
    /// let first = rng.next_u64();
    /// assert_eq!(rig::netsim::SimRng::new(1).next_u64(), first);
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix(self.state)
    }

    /// A number in `0..bound` (0 when `bound` is 0), without modulo bias
    /// worth speaking of (Lemire's multiply-shift).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rng = rig::netsim::SimRng::new(3);
    /// assert!((0..1000).all(|_| rng.below(6) < 6));
    /// assert_eq!(rng.below(0), 0);
    /// ```
    pub fn below(&mut self, bound: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(bound);
        // The high half of a 64x64 product always fits in 64 bits.
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    /// A number in `0..=max`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rng = rig::netsim::SimRng::new(3);
    /// assert!((0..1000).all(|_| rng.up_to(2) <= 2));
    /// assert!(rng.up_to(u64::MAX) <= u64::MAX);
    /// ```
    pub fn up_to(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(bound) => self.below(bound),
            None => self.next_u64(),
        }
    }
}

/// The SplitMix64 output function.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
