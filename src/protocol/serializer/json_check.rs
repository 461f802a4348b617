//! A one-pass check that a payload is one JSON value, for the compact V2
//! frame ([`super::v2_scan`]).
//!
//! rig-io checks every payload before it routes a frame; serde_json's
//! `IgnoredAny` was about half of the envelope's decode on number-heavy
//! payloads (a call per token, number parsing). This loop reads the bytes
//! once with a bit stack for nesting. It answers only "certainly valid" or
//! "ask serde_json": whatever it is unsure of (`\u` escapes, nesting past
//! [`MAX_DEPTH`]) goes to the full decoder, so it can never accept what
//! serde_json refuses as long as its grammar is a subset of JSON's (the
//! tests and the fuzz oracles check both ways).

/// Deeper nesting is left to serde_json (which refuses past 128). One bit
/// per level in a `u64`: a `u128` stack was shifted through memory (`shld`)
/// on every opening, a sixth of the whole check.
const MAX_DEPTH: u32 = 64;

/// Whether `text` is certainly exactly one JSON value (whitespace allowed
/// between and around tokens, as serde_json's `from_str` allows it).
/// `false` means "not sure".
pub(crate) fn is_one_value(text: &str) -> bool {
    let mut reader = Reader { bytes: text.as_bytes(), at: 0, stack: 0, depth: 0 };
    reader.value_list().is_some() && reader.at == reader.bytes.len()
}

const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The index of the first byte of `bytes` that `marks` flags, eight bytes
/// at a time: `marks` sets the high bit of each flagged byte of a
/// little-endian word (the lowest set bit must be exact; bits above it may
/// be stray), `marked` says the same of one byte for the tail.
#[inline(always)]
fn first_marked(
    bytes: &[u8],
    marks: impl Fn(u64) -> u64,
    marked: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let found = marks(u64::from_le_bytes(word));
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let tail = chunks.remainder().iter().position(|&b| marked(b))?;
    Some(at + tail)
}

/// The index of the first byte of `bytes` that ends the fast read of a
/// string: a quote, a backslash or a control character. Eight bytes at a
/// time (a 1 KiB string is most of a big payload's check).
pub(super) fn string_stop(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    // A high bit for each quote, backslash or byte below 0x20; only the
    // lowest is exact (a borrow can set bits above it), and it is the first
    // such byte, the word being read little-endian.
    let marks = |x: u64| {
        zero_byte(x ^ (ONES * u64::from(b'"')))
            | zero_byte(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGHS)
    };
    first_marked(bytes, marks, |b| b == b'"' || b == b'\\' || b < 0x20)
}

/// How many ASCII digits `bytes` starts with. Eight at a time: the
/// microsecond timestamps and ids of market and telemetry payloads are
/// 13 to 19 digits long.
fn digit_run(bytes: &[u8]) -> usize {
    // Per byte, no carries between bytes: below b'0' borrows into the high
    // bit of `x - 0x30` (only where the high bit of x is clear, so the
    // borrow stays in its byte), above b'9' carries into the high bit of
    // `x + 0x46`; high bytes set it in both.
    let not_digit = |x: u64| {
        let below = (x | HIGHS).wrapping_sub(u64::from_ne_bytes([0x30; 8])) ^ HIGHS;
        let above = (x & !HIGHS).wrapping_add(u64::from_ne_bytes([0x46; 8])) | x;
        (below | above) & HIGHS
    };
    first_marked(bytes, not_digit, |b| !b.is_ascii_digit()).unwrap_or(bytes.len())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// One bit per open container, innermost lowest: 1 = object.
    stack: u64,
    depth: u32,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.at += 1)
    }

    /// Reads a value and, while inside containers, everything up to the
    /// closing of the outermost one.
    fn value_list(&mut self) -> Option<()> {
        loop {
            self.scalar_or_open()?;
            // After a value: close containers, or a comma and the next one.
            loop {
                self.skip_whitespace();
                if self.depth == 0 {
                    return Some(());
                }
                let in_object = self.stack & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        if in_object {
                            self.key()?;
                        }
                        break;
                    }
                    b'}' if in_object => self.close(),
                    b']' if !in_object => self.close(),
                    _ => return None,
                }
            }
        }
    }

    /// A scalar, an empty container, or the opening of a container and the
    /// start of its first member (then the value is read by the next turn).
    fn scalar_or_open(&mut self) -> Option<()> {
        loop {
            self.skip_whitespace();
            match self.peek()? {
                b'"' => return self.string(),
                b'-' | b'0'..=b'9' => return self.number(),
                b't' => return self.literal(b"true"),
                b'f' => return self.literal(b"false"),
                b'n' => return self.literal(b"null"),
                open @ (b'{' | b'[') => {
                    self.at += 1;
                    self.skip_whitespace();
                    let object = open == b'{';
                    if self.eat(if object { b'}' } else { b']' }).is_some() {
                        return Some(());
                    }
                    if self.depth >= MAX_DEPTH {
                        return None;
                    }
                    self.depth += 1;
                    self.stack = self.stack << 1 | u64::from(object);
                    if object {
                        self.key()?;
                    }
                }
                _ => return None,
            }
        }
    }

    fn close(&mut self) {
        self.at += 1;
        self.depth -= 1;
        self.stack >>= 1;
    }

    /// `"key"` and its colon, inside an object.
    fn key(&mut self) -> Option<()> {
        self.skip_whitespace();
        self.string()?;
        self.skip_whitespace();
        self.eat(b':')
    }

    /// A string with the escapes serde_json checks the same way; a `\u`
    /// escape (surrogate rules) is left to serde_json. Always inlined: as a
    /// call it spilled the reader to the stack and back for every string
    /// (the broadcast's decode 133 -> 109 ns with this and the envelope's).
    #[inline(always)]
    fn string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            let rest = self.bytes.get(self.at..)?;
            let stop = string_stop(rest)?;
            self.at += stop + 1;
            match rest.get(stop)? {
                b'"' => return Some(()),
                b'\\' => match self.peek()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                    _ => return None,
                },
                _ => return None,
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.').is_some() {
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        // `01`, `1.5.2`, `2x`: not a number's end.
        match self.peek() {
            Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') => None,
            _ => Some(()),
        }
    }

    fn digits(&mut self) {
        self.at += self.bytes.get(self.at..).map_or(0, digit_run);
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at.checked_add(word.len())?;
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::de::IgnoredAny;

    use super::*;

    fn serde_accepts(text: &str) -> bool {
        serde_json::from_str::<IgnoredAny>(text).is_ok()
    }

    #[test]
    fn accepts_what_phoenix_sends() {
        for text in [
            r#"{"seq":123,"t":1795524420280334}"#,
            r#"{"response":{"n":1},"status":"ok"}"#,
            r#"{"a":[1,-2.5e-3,true,false,null,"x\"y\\z\n"],"b":{},"c":[],"d":{"e":[[]]}}"#,
            r#"{ "a" : [ 1 , 2 ] , "b" : { } }"#,
            r#""just a string""#,
            " 1 ",
            "0",
            "-0.0E+10",
            "[]",
        ] {
            assert!(is_one_value(text), "{text}");
            assert!(serde_accepts(text), "{text}");
        }
    }

    proptest! {
        /// Eight at a time finds the same byte as one at a time.
        #[test]
        fn string_stop_finds_the_first_special_byte(bytes in prop::collection::vec(
            prop_oneof![4 => 0x20u8..=0xff, 1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20],
            0..40,
        )) {
            let slow = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(string_stop(&bytes), slow);
        }
    }

    proptest! {
        /// Eight at a time counts the same digits as one at a time.
        #[test]
        fn digit_run_counts_the_leading_digits(bytes in prop::collection::vec(
            prop_oneof![4 => b'0'..=b'9', 1 => any::<u8>(), 1 => Just(b'/'), 1 => Just(b':')],
            0..40,
        )) {
            let slow = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            prop_assert_eq!(digit_run(&bytes), slow);
        }
    }

    /// Not JSON, or JSON the check leaves to serde_json.
    #[rustfmt::skip]
    const UNSURE: &[&str] = &[
        "", " ", "{", "}", "[1,]", "[,1]", r#"{"a":1,}"#, r#"{"a"}"#, r#"{"a":}"#, r#"{1:2}"#,
        "[1 2]", "01", "1.", ".5", "1e", "1e+", "-", "--1", "+1", "1.5.2", "tru", "nul",
        "truex", "[1]]", "[1]x", "{}{}", r#""a"#, "\"a\u{1}\"", r#""\x""#, r#""\u0041""#,
        "[1}", r#"{"a":1]"#, "NaN", "Infinity",
    ];

    #[test]
    fn is_unsure_of_everything_else() {
        for text in UNSURE {
            assert!(!is_one_value(text), "{text:?}");
        }
        let deep = format!("{}1{}", "[".repeat(65), "]".repeat(65));
        assert!(!is_one_value(&deep));
        let fine = format!("{}1{}", "[".repeat(64), "]".repeat(64));
        assert!(is_one_value(&fine));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Never sure of something serde_json refuses.
        #[test]
        fn sure_only_of_what_serde_json_accepts(text in r#"[\[\]{}",:0-9a-z\\. +eE\-\n]{0,24}"#) {
            if is_one_value(&text) {
                prop_assert!(serde_accepts(&text), "{:?}", text);
            }
        }

        /// And sure of every value serde_json writes without `\u` escapes.
        #[test]
        fn sure_of_values_serde_json_writes(value in json_value()) {
            let text = value.to_string();
            prop_assert_eq!(is_one_value(&text), !has_u_escape(&value), "{}", text);
        }
    }

    /// Whether serde_json writes a `\u` escape for `value`: a control
    /// character without a short escape, in a string or a key.
    fn has_u_escape(value: &serde_json::Value) -> bool {
        let needs = |s: &str| s.chars().any(|c| c < ' ' && !"\n\r\t\u{8}\u{c}".contains(c));
        match value {
            serde_json::Value::String(s) => needs(s),
            serde_json::Value::Array(items) => items.iter().any(has_u_escape),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| needs(k) || has_u_escape(v)),
            _ => false,
        }
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            "[ -~\u{e9}\u{1}\n\"\\\\]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z\"]{0,4}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
