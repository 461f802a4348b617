//! [`Ref`]: a `ref` or `join_ref`, kept inline when short.
//!
//! Every push makes a ref, every reply carries two, and the session keeps
//! them as map keys. Refs are short decimal counters, so a ref of up to
//! [`INLINE`] bytes lives in the value itself: making one allocates
//! nothing, and cloning or dropping one touches no reference count shared
//! with other threads. Longer ones share their text as a `ByteString`.

use std::fmt;
use std::hash::{Hash, Hasher};

use bytestring::ByteString;

/// The longest ref text kept inline: 22 bytes, so that a `Ref` is no
/// larger than a `ByteString` and a flag. A phoenix.js counter needs 20
/// digits only after 10^19 pushes.
const INLINE: usize = 22;

/// A ref's text: inline when short, shared otherwise. Which one depends
/// only on the length, so equal texts are always stored alike.
#[derive(Clone)]
pub(crate) enum RefText {
    Inline { len: u8, bytes: [u8; INLINE] },
    Shared(ByteString),
}

impl RefText {
    fn new(text: &str) -> Option<Self> {
        let len = u8::try_from(text.len()).ok().filter(|&len| usize::from(len) <= INLINE)?;
        let mut bytes = [0; INLINE];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Some(Self::Inline { len, bytes })
    }

    fn from_shared(text: ByteString) -> Self {
        Self::new(&text).unwrap_or(Self::Shared(text))
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Shared(text) => text.as_bytes(),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // Copied from a `&str` whole, so always UTF-8: the fallback is
            // never taken (the crate forbids the unchecked conversion).
            Self::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            Self::Shared(text) => text,
        }
    }
}

impl fmt::Debug for RefText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl PartialEq for RefText {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for RefText {}

impl Hash for RefText {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

/// A `ref` or `join_ref` exactly as carried on the wire.
///
/// phoenix.js and rig send refs as decimal strings (`"1"`, `"2"`, ...). Phoenix
/// echoes whatever the client sent, and a client that sends a JSON number gets
/// a number back, so a `Ref` remembers which of the two it was. Refs of up to
/// 22 bytes are held inline (no allocation, no shared reference count).
///
/// # Examples
///
/// ```
/// use rig::protocol::Ref;
///
/// let r = Ref::from_u64(42);
/// assert_eq!(r.as_str(), "42");
/// assert_eq!(r.to_u64(), Some(42));
/// assert!(!r.is_number());
/// assert_ne!(Ref::number("42"), r);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ref {
    text: RefText,
    number: bool,
}

impl Ref {
    /// A string ref with the given text.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::Ref::new("7").to_string(), "7");
    /// ```
    pub fn new(text: impl Into<ByteString>) -> Self {
        Self { text: RefText::from_shared(text.into()), number: false }
    }

    /// A numeric ref; `text` is the JSON number as written on the wire.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(rig::protocol::Ref::number("1").is_number());
    /// ```
    pub fn number(text: impl Into<ByteString>) -> Self {
        Self { text: RefText::from_shared(text.into()), number: true }
    }

    /// A string ref with the text of `text`, copied when short enough to
    /// be held inline (a decoder's slice of a frame: no reference count on
    /// the frame's buffer).
    pub(crate) fn from_str_in(
        text: &str,
        number: bool,
        shared: impl FnOnce() -> ByteString,
    ) -> Self {
        let text = RefText::new(text).unwrap_or_else(|| RefText::Shared(shared()));
        Self { text, number }
    }

    /// The decimal string ref phoenix.js would make from counter value `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::Ref::from_u64(1).as_str(), "1");
    /// ```
    #[must_use]
    pub fn from_u64(mut n: u64) -> Self {
        // Written backwards into the inline buffer: no allocation.
        let mut digits = [0; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            // `n % 10` is a digit, so the cast keeps it whole.
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut bytes = [0; INLINE];
        let len = digits.len() - at;
        bytes[..len].copy_from_slice(&digits[at..]);
        // At most 20 digits: fits a u8.
        let text = RefText::Inline { len: len as u8, bytes };
        Self { text, number: false }
    }

    /// The ref's text (the string contents, or the number as written).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(rig::protocol::Ref::new("12").as_str(), "12");
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The ref's text alone (whether it was a number or a string does not
    /// count), for the session's maps: a reply matches its push either way.
    pub(crate) fn text_key(&self) -> &RefText {
        &self.text
    }

    /// Whether the ref was a JSON number rather than a string.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!rig::protocol::Ref::new("1").is_number());
    /// ```
    #[must_use]
    pub fn is_number(&self) -> bool {
        self.number
    }

    /// The ref as an integer, when it is a plain decimal number.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::protocol::Ref;
    /// assert_eq!(Ref::new("10").to_u64(), Some(10));
    /// assert_eq!(Ref::new("x1").to_u64(), None);
    /// ```
    #[must_use]
    pub fn to_u64(&self) -> Option<u64> {
        let s = self.as_str();
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }
}

impl fmt::Debug for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.number { write!(f, "{}", self.as_str()) } else { write!(f, "{:?}", self.as_str()) }
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn short_refs_are_inline_long_ones_shared_and_equal_either_way() {
        let short = Ref::new("1234567890123456789012");
        assert!(matches!(short.text, RefText::Inline { len: 22, .. }));
        let long = Ref::new("12345678901234567890123");
        assert!(matches!(long.text, RefText::Shared(_)));
        assert_eq!(long.as_str(), "12345678901234567890123");
        let sliced = Ref::from_str_in("1234567890123456789012", false, || unreachable!("inline"));
        assert_eq!(sliced, short);
        assert_eq!(Ref::from_u64(u64::MAX).as_str(), u64::MAX.to_string());
        assert_eq!(Ref::from_u64(0).as_str(), "0");
        assert_eq!(Ref::from_u64(7), Ref::new("7"));
        assert_ne!(Ref::number("7"), Ref::new("7"));
        assert!(Ref::number("7").text_key() == Ref::new("7").text_key());
        assert!(size_of::<Ref>() <= 40, "no larger than a ByteString and a flag");
    }

    proptest! {
        #[test]
        fn any_text_round_trips(text in "\\PC{0,30}", n in any::<u64>()) {
            let (made, counted) = (Ref::new(text.clone()), Ref::from_u64(n));
            prop_assert_eq!(made.as_str(), text.as_str());
            prop_assert_eq!(counted.as_str(), n.to_string());
            prop_assert_eq!(Ref::from_u64(n).to_u64(), Some(n));
        }
    }
}
