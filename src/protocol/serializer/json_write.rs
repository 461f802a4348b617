//! Writing the JSON text of frames: string literals with serde_json's
//! escapes, refs, and the exact length of both beforehand.
//!
//! Frames are built in a `String` of exactly their final length: a
//! `ByteString` made from a `String` whose capacity is larger allocates a
//! second block for its reference count; one that is full does not.

use std::fmt::Write as _;

use super::json_check::string_stop;
use crate::protocol::message::Ref;

/// Writes `s` as a JSON string literal (the escaping serde_json uses):
/// the stretches without a quote, backslash or control character are
/// copied whole, found eight bytes at a time.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut rest = s;
    while let Some(stop) = string_stop(rest.as_bytes()) {
        // `stop` is at an ASCII byte, so a character boundary.
        let (clean, tail) = rest.split_at(stop);
        out.push_str(clean);
        let mut chars = tail.chars();
        match chars.next() {
            Some('"') => out.push_str("\\\""),
            Some('\\') => out.push_str("\\\\"),
            Some('\n') => out.push_str("\\n"),
            Some('\r') => out.push_str("\\r"),
            Some('\t') => out.push_str("\\t"),
            Some('\u{08}') => out.push_str("\\b"),
            Some('\u{0c}') => out.push_str("\\f"),
            Some(c) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            None => {}
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
    out.push('"');
}

/// The length [`write_json_string`] writes for `s`.
pub(crate) fn json_string_len(s: &str) -> usize {
    let escapes: usize = match string_stop(s.as_bytes()) {
        None => 0,
        Some(first) => s.as_bytes()[first..]
            .iter()
            .map(|&b| match b {
                b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
                0..0x20 => 5,
                _ => 0,
            })
            .sum(),
    };
    s.len() + 2 + escapes
}

/// Writes a ref: `null`, a number as written, or a string literal.
pub(crate) fn write_ref(out: &mut String, r: Option<&Ref>) {
    match r {
        None => out.push_str("null"),
        Some(r) if r.is_number() => out.push_str(r.as_str()),
        Some(r) => write_json_string(out, r.as_str()),
    }
}

/// The length [`write_ref`] writes for `r`.
pub(crate) fn ref_len(r: Option<&Ref>) -> usize {
    match r {
        None => 4,
        Some(r) if r.is_number() => r.as_str().len(),
        Some(r) => json_string_len(r.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The literal is serde_json's, and its length is known beforehand.
        #[test]
        fn strings_are_written_as_serde_json_writes_them(s in "[ -~\u{e9}\u{1}-\u{1f}\"\\\\\u{7f}\u{2028}]{0,24}") {
            let mut out = String::new();
            write_json_string(&mut out, &s);
            prop_assert_eq!(&out, &serde_json::to_string(&s).unwrap());
            prop_assert_eq!(json_string_len(&s), out.len());
        }
    }

    #[test]
    fn refs_are_null_numbers_or_strings() {
        for (r, text) in [
            (None, "null"),
            (Some(Ref::from_u64(12)), r#""12""#),
            (Some(Ref::number("7")), "7"),
            (Some(Ref::new("a\"b")), r#""a\"b""#),
        ] {
            let mut out = String::new();
            write_ref(&mut out, r.as_ref());
            assert_eq!((out.as_str(), ref_len(r.as_ref())), (text, text.len()));
        }
    }
}
