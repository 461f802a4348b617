//! The same seed gives the same fault schedule; another seed another one.

use std::time::Duration;

use crate::netsim::{Direction, DirectionFaults, Faults, Periodic, Schedule, SimRng, Stalls};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn faults() -> Faults {
    let stalls = Stalls { every: Periodic { every: ms(500), jitter: ms(200) }, length: ms(50) };
    Faults::default()
        .both(DirectionFaults::default().latency(ms(10)).jitter(ms(30)).stalls(stalls))
        .reset_every(Periodic { every: ms(1000), jitter: ms(400) })
}

/// Everything a run would draw: delays of a few connections, stall windows
/// and reset ticks.
fn draws(seed: u64) -> (Vec<Duration>, Vec<Duration>, Vec<Duration>) {
    let schedule = Schedule::new(seed);
    let f = faults();
    let mut delays = Vec::new();
    for conn in 0..5 {
        for direction in Direction::ALL {
            delays.extend(schedule.delays(conn, direction, f.direction(direction)).take(100));
        }
    }
    let mut stalls = Vec::new();
    for direction in Direction::ALL {
        let windows = schedule.stalls(direction, f.direction(direction)).unwrap();
        stalls.extend(windows.take(100).flat_map(|w| [w.start, w.end]));
    }
    let resets = schedule.resets(&f).unwrap().take(100).collect();
    (delays, stalls, resets)
}

#[test]
fn the_same_seed_gives_the_same_schedule() {
    assert_eq!(draws(1234), draws(1234));
}

#[test]
fn another_seed_gives_another_schedule() {
    let (a_delays, a_stalls, a_resets) = draws(1);
    let (b_delays, b_stalls, b_resets) = draws(2);
    assert_ne!(a_delays, b_delays);
    assert_ne!(a_stalls, b_stalls);
    assert_ne!(a_resets, b_resets);
}

#[test]
fn streams_are_independent_of_each_other() {
    // Drawing more delays for connection 0 does not shift connection 1.
    let s = Schedule::new(9);
    let f = *faults().direction(Direction::Upstream);
    let first: Vec<_> = s.delays(1, Direction::Upstream, &f).take(10).collect();
    let _ = s.delays(0, Direction::Upstream, &f).take(1000).count();
    assert_eq!(s.delays(1, Direction::Upstream, &f).take(10).collect::<Vec<_>>(), first);
    assert_ne!(s.delays(1, Direction::Downstream, &f).take(10).collect::<Vec<_>>(), first);
    assert_ne!(s.delays(2, Direction::Upstream, &f).take(10).collect::<Vec<_>>(), first);
}

#[test]
fn draws_stay_in_their_ranges_and_cover_them() {
    let (delays, _, resets) = draws(77);
    assert!(delays.iter().all(|d| *d >= ms(10) && *d <= ms(40)));
    // Jitter really varies: both halves of the range are hit.
    assert!(delays.iter().any(|d| *d < ms(25)) && delays.iter().any(|d| *d > ms(25)));
    let mut previous = Duration::ZERO;
    for tick in resets {
        let gap = tick - previous;
        assert!(gap >= ms(600) && gap <= ms(1400), "{gap:?}");
        previous = tick;
    }
}

#[test]
fn intervals_never_fall_below_the_minimum() {
    let wild = Faults::default().reset_every(Periodic { every: ms(1), jitter: ms(50) });
    let ticks: Vec<_> = Schedule::new(3).resets(&wild).unwrap().take(500).collect();
    assert!(ticks.windows(2).all(|w| w[1] - w[0] >= Periodic::MIN_INTERVAL));
}

#[test]
fn the_rng_is_uniform_enough_for_jitter() {
    let mut rng = SimRng::new(5);
    let mut buckets = [0u32; 10];
    for _ in 0..10_000 {
        buckets[usize::try_from(rng.below(10)).unwrap()] += 1;
    }
    assert!(buckets.iter().all(|n| (800..1200).contains(n)), "{buckets:?}");
    // SplitMix64's first output for seed 0 (the published reference value).
    assert_eq!(SimRng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
}
