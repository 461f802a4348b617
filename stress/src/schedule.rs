//! The fault schedule: when each reset, stall and server restart happens,
//! worked out in advance from the seed, so a run can be repeated.
//!
//! Each kind recurs at its own mean interval, each interval drawn within
//! ±10 % of it (so kinds drift apart rather than always coinciding); the
//! first one falls after one interval. Faults start only inside the run's
//! duration; recovery from the last one is awaited after it.

use std::time::Duration;

use rig::netsim::SimRng;
use serde::Serialize;

/// A fault the harness injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FaultKind {
    /// Every proxied connection is reset (both ends get an RST).
    Reset,
    /// Nothing is forwarded either way for the stall length.
    Stall,
    /// The server shuts down and starts again on the same port.
    Restart,
}

impl FaultKind {
    /// Whether the fault kills the connections (recovery needs a rejoin).
    pub(crate) fn kills_connections(self) -> bool {
        !matches!(self, Self::Stall)
    }

    /// The name used in reports and in the parent/child protocol.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Stall => "stall",
            Self::Restart => "restart",
        }
    }

    /// The kind for `name`.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [Self::Reset, Self::Stall, Self::Restart].into_iter().find(|kind| kind.name() == name)
    }
}

/// One planned fault: `kind` at `at` after the run began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Planned {
    pub(crate) at: Duration,
    pub(crate) kind: FaultKind,
}

/// Every fault of a run, in time order. A zero interval turns a kind off.
pub(crate) fn plan(seed: u64, duration: Duration, every: &[(FaultKind, Duration)]) -> Vec<Planned> {
    let root = SimRng::new(seed);
    let mut out = Vec::new();
    for (stream, &(kind, interval)) in (1_u64..).zip(every) {
        if interval.is_zero() {
            continue;
        }
        let mut rng = root.fork(stream);
        let mean = crate::clock::micros(interval);
        let spread = mean / 10;
        let mut at = Duration::ZERO;
        loop {
            let step = mean.saturating_sub(spread).saturating_add(rng.up_to(spread * 2)).max(1);
            at = at.saturating_add(Duration::from_micros(step));
            if at >= duration {
                break;
            }
            out.push(Planned { at, kind });
        }
    }
    out.sort_by_key(|p| p.at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn each_kind_recurs_near_its_interval_within_the_duration() {
        let faults = plan(7, 60 * S, &[(FaultKind::Reset, 10 * S), (FaultKind::Stall, 7 * S)]);
        let resets: Vec<_> = faults.iter().filter(|p| p.kind == FaultKind::Reset).collect();
        assert!((5..=6).contains(&resets.len()), "{resets:?}");
        assert!(faults.iter().all(|p| p.at < 60 * S));
        assert!(faults.windows(2).all(|w| w[0].at <= w[1].at));
        let first = resets[0].at;
        assert!(first >= 9 * S && first <= 11 * S, "{first:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_plan_and_zero_turns_a_kind_off() {
        let every = [(FaultKind::Restart, 5 * S), (FaultKind::Reset, Duration::ZERO)];
        assert_eq!(plan(3, 30 * S, &every), plan(3, 30 * S, &every));
        assert_ne!(plan(3, 30 * S, &every), plan(4, 30 * S, &every));
        assert!(plan(3, 30 * S, &every).iter().all(|p| p.kind == FaultKind::Restart));
    }

    #[test]
    fn names_round_trip() {
        for kind in [FaultKind::Reset, FaultKind::Stall, FaultKind::Restart] {
            assert_eq!(FaultKind::from_name(kind.name()), Some(kind));
            assert_eq!(kind.kills_connections(), kind != FaultKind::Stall);
        }
    }
}
