//! The V2 text frame every Phoenix server writes, read by hand.
//!
//! Phoenix (Jason) and rig write V2 frames compact: `[`, two refs that are
//! `null` or short strings, a topic and an event without escapes, the
//! payload, `]`, no whitespace. Those four leading fields are found here by
//! one pass over their bytes instead of four rounds of serde_json's raw-value
//! machinery, which was most of the envelope's cost (a 62-byte broadcast:
//! 160 ns against 66 ns for serde_json into borrowed strings). The payload
//! is still checked to be one JSON value ([`super::json_check`], then
//! serde_json for what that is unsure of).
//!
//! Anything else (whitespace, escapes, numeric refs, a wrong shape, a bad
//! payload) is left to the full decoder in [`super::v2_json`], which also
//! names the problem; so this path only ever accepts what the full decoder
//! accepts, with the same fields (the fuzz oracles check both on every seed).

use serde::de::IgnoredAny;

use super::json_check;

/// The five fields of a compact V2 frame, as slices of its text: the refs
/// and strings without their quotes, the payload as written.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Envelope<'a> {
    pub(crate) join_ref: Option<&'a str>,
    pub(crate) r#ref: Option<&'a str>,
    pub(crate) topic: &'a str,
    pub(crate) event: &'a str,
    pub(crate) payload: &'a str,
}

/// The fields of `text` when it is a compact V2 frame; `None` means "ask
/// the full decoder", never "invalid".
pub(crate) fn scan(text: &str) -> Option<Envelope<'_>> {
    let mut cursor = Cursor { text, at: 0 };
    cursor.eat(b'[')?;
    let join_ref = cursor.nullable_string()?;
    cursor.eat(b',')?;
    let r#ref = cursor.nullable_string()?;
    cursor.eat(b',')?;
    let topic = cursor.string()?;
    cursor.eat(b',')?;
    let event = cursor.string()?;
    cursor.eat(b',')?;
    let payload = text.get(cursor.at..text.len().checked_sub(1)?)?;
    let (first, last) = (*payload.as_bytes().first()?, *payload.as_bytes().last()?);
    if !text.ends_with(']') || first.is_ascii_whitespace() || last.is_ascii_whitespace() {
        return None;
    }
    // One JSON value and nothing after it: `{},1` or a stray `]` fail here.
    // The one-pass check first; serde_json for what it is unsure of.
    if !json_check::is_one_value(payload) {
        serde_json::from_str::<IgnoredAny>(payload).ok()?;
    }
    Some(Envelope { join_ref, r#ref, topic, event, payload })
}

/// A position in the frame's text.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.text.as_bytes().get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    /// `null`, or a string as [`Self::string`] reads it.
    fn nullable_string(&mut self) -> Option<Option<&'a str>> {
        if self.text.as_bytes().get(self.at..self.at + 4) == Some(b"null") {
            self.at += 4;
            return Some(None);
        }
        self.string().map(Some)
    }

    /// A string literal without escapes or control characters (which JSON
    /// forbids unescaped); its contents. Always inlined, for the reason
    /// [`super::json_check`]'s string reader is.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let rest = self.text.as_bytes().get(start..)?;
        let len = json_check::string_stop(rest)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.at = start + len + 1;
        // Both ends are ASCII quotes, so both are character boundaries.
        self.text.get(start..start + len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_compact_frame_phoenix_writes() {
        let e = scan(r#"["1",null,"room:a","shout",{"a":[1,"]"]}]"#).unwrap();
        let want = Envelope {
            join_ref: Some("1"),
            r#ref: None,
            topic: "room:a",
            event: "shout",
            payload: r#"{"a":[1,"]"]}"#,
        };
        assert_eq!(e, want);
        assert_eq!(scan(r#"[null,"7","phoenix","phx_reply",[]]"#).unwrap().r#ref, Some("7"));
        assert_eq!(scan(r#"[null,null,"","",""]"#).unwrap().payload, r#""""#);
    }

    #[test]
    fn leaves_everything_unusual_to_the_full_decoder() {
        for text in [
            r#" [null,null,"t","e",{}]"#,
            r#"[null,null,"t","e",{}] "#,
            r#"[null, null,"t","e",{}]"#,
            r#"[null,null,"t","e", {}]"#,
            r#"[null,null,"t","e",{} ]"#,
            r#"[1,null,"t","e",{}]"#,
            r#"[null,null,"t\u0041","e",{}]"#,
            r#"[null,null,"t","e\"",{}]"#,
            "[null,null,\"t\u{1}\",\"e\",{}]",
            r#"[null,null,"t","e",{}"#,
            r#"[null,null,"t","e",]"#,
            r#"[null,null,"t","e",{},1]"#,
            r#"[null,null,"t","e",{]"#,
            r#"[null,null,"t","e",{}]]"#,
            r#"[null,null,"t","e"]"#,
            r#"[nul"#,
            r#"[null,null,"t"#,
            "",
            "[",
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
    }
}
