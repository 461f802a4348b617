//! The allowed range of every numeric flag, checked before anything starts:
//! a value outside it is a usage error (exit 2) that names the range, never
//! a clamp, an overflow or a panic later on.

use std::time::Duration;

use crate::exit::Failure;

/// The longest time any millisecond flag may ask for: one day. Deadlines
/// are added to the clock; a day keeps every sum far from overflowing while
/// no real use waits longer.
pub(crate) const MAX_MS: u64 = 86_400_000;

/// The longest `--duration` or `--idle-timeout`, in seconds: a year (a
/// longer watch needs no deadline at all).
pub(crate) const MAX_SECS: u64 = 31_536_000;

/// The shortest heartbeat interval or timeout in ms: a heartbeat reply has to
/// be able to arrive before the next one is due, else the socket
/// reconnects forever.
pub(crate) const MIN_HEARTBEAT_MS: u64 = 100;

/// An inclusive range of whole numbers in one unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) min: u64,
    pub(crate) max: u64,
    /// `ms`, `s`, `events/s`: printed after the numbers.
    pub(crate) unit: &'static str,
}

impl Range {
    /// Milliseconds in `min..=MAX_MS`.
    pub(crate) const fn ms(min: u64) -> Self {
        Self { min, max: MAX_MS, unit: "ms" }
    }

    /// Seconds in `min..=MAX_SECS`.
    pub(crate) const fn secs(min: u64) -> Self {
        Self { min, max: MAX_SECS, unit: "s" }
    }

    /// `value` of `flag`, or a usage error naming the range.
    pub(crate) fn check(self, flag: &str, value: u64) -> Result<u64, Failure> {
        if (self.min..=self.max).contains(&value) {
            Ok(value)
        } else {
            Err(self.refuse(flag, &value.to_string()))
        }
    }

    /// `value` ms of `flag` as a duration, or a usage error naming the range.
    pub(crate) fn millis(self, flag: &str, value: u64) -> Result<Duration, Failure> {
        self.check(flag, value).map(Duration::from_millis)
    }

    /// `seconds` of `flag` (fractions allowed), or a usage error naming the
    /// range; NaN and infinities are refused too.
    pub(crate) fn seconds(self, flag: &str, seconds: f64) -> Result<Duration, Failure> {
        // Both bounds are at most MAX_SECS, exact in an f64.
        let (min, max) = (self.min as f64, self.max as f64);
        if seconds.is_finite() && seconds >= min && seconds <= max {
            Ok(Duration::from_secs_f64(seconds))
        } else {
            Err(self.refuse(flag, &format!("{seconds:?}")))
        }
    }

    fn refuse(self, flag: &str, value: &str) -> Failure {
        Failure::usage(format!(
            "{flag} {value} is out of range: it must be {} to {} {}",
            self.min, self.max, self.unit
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::USAGE;

    #[test]
    fn values_in_range_pass_and_others_name_the_range() {
        let range = Range::ms(1);
        assert_eq!(range.check("--timeout", 1).unwrap(), 1);
        assert_eq!(range.millis("--timeout", MAX_MS).unwrap(), Duration::from_secs(86_400));
        let refused = range.check("--timeout", u64::MAX).unwrap_err();
        assert_eq!(refused.code, USAGE);
        assert_eq!(
            refused.message,
            "--timeout 18446744073709551615 is out of range: it must be 1 to 86400000 ms"
        );
        assert_eq!(range.check("--timeout", 0).unwrap_err().code, USAGE);
    }

    #[test]
    fn seconds_refuse_what_a_duration_cannot_hold() {
        let range = Range::secs(0);
        assert_eq!(range.seconds("--duration", 0.5).unwrap(), Duration::from_millis(500));
        for bad in [1.8e19, -1.0, f64::NAN, f64::INFINITY, 31_536_000.5] {
            let refused = range.seconds("--duration", bad).unwrap_err();
            assert_eq!(refused.code, USAGE, "{bad}");
            assert!(refused.message.contains("must be 0 to 31536000 s"), "{}", refused.message);
        }
    }
}
