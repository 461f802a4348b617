//! Outbox ids: 128 bits, unique across processes, carried to the server.

use std::fmt;
use std::io::Read as _;
use std::str::FromStr;

/// The unique id of one outbox entry, carried to the server so that it can
/// drop a push it has already applied (delivery is at-least-once).
///
/// 128 bits: the high 64 are a random stamp drawn once when the outbox is
/// opened (8 bytes of `/dev/urandom` mixed with the wall clock and the
/// process id through SplitMix64; the clock and pid alone if urandom cannot
/// be read), the low 64 are the outbox's sequence counter, which also gives
/// the replay order. Rendered as 32 lowercase hex digits. How the id travels
/// is described in the [module docs](super#the-unique-id).
///
/// # Examples
///
/// ```
/// use rig::outbox::OutboxId;
///
/// let id = OutboxId::from_parts(0xabc, 7);
/// assert_eq!(id.to_string(), "0000000000000abc0000000000000007");
/// assert_eq!(id.to_string().parse::<OutboxId>(), Ok(id));
/// assert_eq!(id.seq(), 7);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboxId(u128);

impl OutboxId {
    /// An id from its random stamp and sequence number.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = rig::outbox::OutboxId::from_parts(1, 2);
    /// assert_eq!((id.stamp(), id.seq()), (1, 2));
    /// ```
    #[must_use]
    pub const fn from_parts(stamp: u64, seq: u64) -> Self {
        Self(((stamp as u128) << 64) | seq as u128)
    }

    /// The sequence number: the order of entries in the outbox.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::outbox::OutboxId::from_parts(9, 3).seq(), 3);
    /// ```
    #[must_use]
    pub const fn seq(self) -> u64 {
        (self.0 & u64::MAX as u128) as u64
    }

    /// The random stamp of the outbox session that made this id.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::outbox::OutboxId::from_parts(9, 3).stamp(), 9);
    /// ```
    #[must_use]
    pub const fn stamp(self) -> u64 {
        (self.0 >> 64) as u64
    }

    /// The id as one 128-bit number.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::outbox::OutboxId::from_parts(1, 1).as_u128(), (1 << 64) | 1);
    /// ```
    #[must_use]
    pub const fn as_u128(self) -> u128 {
        self.0
    }
}

impl fmt::Display for OutboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Debug for OutboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OutboxId({self})")
    }
}

/// The text was not 32 hex digits.
///
/// # Examples
///
/// ```
/// assert!("xyz".parse::<rig::outbox::OutboxId>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an outbox id is 32 hex digits")]
pub struct ParseIdError;

impl FromStr for OutboxId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseIdError);
        }
        u128::from_str_radix(s, 16).map(Self).map_err(|_| ParseIdError)
    }
}

/// One step of SplitMix64: a good 64-bit mixer for seeds.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A fresh random stamp for the ids of one outbox session.
pub(crate) fn fresh_stamp() -> u64 {
    let mut bytes = [0u8; 8];
    let random = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map(|()| u64::from_le_bytes(bytes))
        .unwrap_or(0);
    #[expect(
        clippy::disallowed_methods,
        reason = "wall time only makes the id unique across processes; nothing is scheduled by it"
    )]
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    splitmix64(random ^ splitmix64(nanos ^ u64::from(std::process::id()).rotate_left(48)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_text_roundtrip_and_rejects() {
        let id = OutboxId::from_parts(u64::MAX, 42);
        assert_eq!(id.to_string().len(), 32);
        assert_eq!(id.to_string().parse(), Ok(id));
        assert_eq!("".parse::<OutboxId>(), Err(ParseIdError));
        assert_eq!("g".repeat(32).parse::<OutboxId>(), Err(ParseIdError));
        assert_eq!("+".repeat(32).parse::<OutboxId>(), Err(ParseIdError));
    }

    #[test]
    fn stamps_differ() {
        assert_ne!(fresh_stamp(), fresh_stamp());
    }
}
