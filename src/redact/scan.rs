//! The positional rules: where in free text a secret sits, whatever its
//! value. Each rule marks byte ranges; the ranges are then replaced by the
//! mask. Every delimiter is ASCII, so every range starts and ends on a
//! character boundary.

use super::{MASK, is_secret_name};

/// Free text (a log record, an error message, a request dump) with the
/// secrets hidden by position: URL userinfo, values of secret `key=value`
/// pairs, `"key": "value"` JSON members and `Name: value` header lines,
/// and bearer tokens. Works on `Debug`-escaped text too (`\"`, `\r\n`).
///
/// # Examples
///
/// ```
/// let dump = r#""GET /s?jwt=x HTTP/1.1\r\nCookie: a=b; c=d\r\nHost: h\r\n""#;
/// assert_eq!(rig::redact::text(dump), r#""GET /s?jwt=*** HTTP/1.1\r\nCookie: ***\r\nHost: h\r\n""#);
/// assert_eq!(rig::redact::text(r#"["1","1","room:a","phx_join",{"token":"t"}]"#),
///            r#"["1","1","room:a","phx_join",{"token":"***"}]"#);
/// assert_eq!(rig::redact::text("dialing ws://u:p@h/s"), "dialing ws://***@h/s");
/// ```
#[must_use]
pub fn text(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    userinfo(bytes, &mut ranges);
    pairs(bytes, &mut ranges);
    colons(bytes, &mut ranges);
    bearer(bytes, &mut ranges);
    if ranges.is_empty() {
        return text.to_owned();
    }
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        if end <= at {
            continue;
        }
        let start = start.max(at);
        out.push_str(text.get(at..start).unwrap_or_default());
        out.push_str(MASK);
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// Whether `b` ends a value in free text.
fn ends_value(b: u8) -> bool {
    b.is_ascii_whitespace() || b"&\"'<>,;()#\\`[]{}".contains(&b)
}

/// The end of the run starting at `from` of bytes for which `keep` holds.
fn run_end(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    bytes.get(from..).map_or(from, |rest| from + rest.iter().take_while(|&&b| keep(b)).count())
}

/// The start of the run ending at `to` (exclusive) of bytes for which `keep` holds.
fn run_start(bytes: &[u8], to: usize, keep: impl Fn(u8) -> bool) -> usize {
    bytes.get(..to).map_or(to, |head| to - head.iter().rev().take_while(|&&b| keep(b)).count())
}

fn is_secret(bytes: &[u8], start: usize, end: usize) -> bool {
    bytes
        .get(start..end)
        .and_then(|name| std::str::from_utf8(name).ok())
        .is_some_and(is_secret_name)
}

fn push(ranges: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    if end > start {
        ranges.push((start, end));
    }
}

/// `scheme://user:pass@host`: everything before the last `@` of the authority.
fn userinfo(bytes: &[u8], ranges: &mut Vec<(usize, usize)>) {
    let ends_authority = |b: u8| ends_value(b) || b"/?".contains(&b);
    for (i, window) in bytes.windows(3).enumerate() {
        if window == b"://" {
            let start = i + 3;
            let end = run_end(bytes, start, |b| !ends_authority(b));
            if let Some(at) = bytes.get(start..end).and_then(|a| a.iter().rposition(|&b| b == b'@'))
            {
                push(ranges, start, start + at);
            }
        }
    }
}

/// `key=value` with a secret key (query strings, flags, free text).
fn pairs(bytes: &[u8], ranges: &mut Vec<(usize, usize)>) {
    let is_key = |b: u8| b.is_ascii_alphanumeric() || b"_-.[]%".contains(&b);
    for (i, _) in bytes.iter().enumerate().filter(|&(_, &b)| b == b'=') {
        let key_start = run_start(bytes, i, is_key);
        if key_start < i && is_secret(bytes, key_start, i) {
            let end = run_end(bytes, i + 1, |b| !ends_value(b));
            // `token=Token(7)` is a Rust value in a record (mio's), not a secret.
            if bytes.get(end) != Some(&b'(') {
                push(ranges, i + 1, end);
            }
        }
    }
}

/// `"key": "value"` (JSON, plain or `Debug`-escaped) and `Name: value`
/// (a header line) with a secret name.
fn colons(bytes: &[u8], ranges: &mut Vec<(usize, usize)>) {
    for (i, _) in bytes.iter().enumerate().filter(|&(_, &b)| b == b':') {
        if i > 0 && bytes.get(i - 1) == Some(&b'"') {
            json_member(bytes, i, ranges);
        } else {
            header_line(bytes, i, ranges);
        }
    }
}

/// The value of a JSON member whose key closes with the `"` before `colon`.
fn json_member(bytes: &[u8], colon: usize, ranges: &mut Vec<(usize, usize)>) {
    let escaped = colon >= 2 && bytes.get(colon - 2) == Some(&b'\\');
    let key_end = if escaped { colon - 2 } else { colon - 1 };
    let key_start = run_start(bytes, key_end, |b| b != b'"' && b != b'\\');
    if key_start == key_end || !is_secret(bytes, key_start, key_end) {
        return;
    }
    let value = run_end(bytes, colon + 1, |b| b == b' ');
    let quote: &[u8] = if escaped { b"\\\"" } else { b"\"" };
    if bytes.get(value..).is_some_and(|rest| rest.starts_with(quote)) {
        let start = value + quote.len();
        let close = bytes
            .get(start..)
            .and_then(|rest| rest.windows(quote.len()).position(|w| w == quote))
            .map_or(bytes.len(), |at| start + at);
        push(ranges, start, close);
    } else {
        // A number, boolean or null.
        push(
            ranges,
            value,
            run_end(bytes, value, |b| b.is_ascii_alphanumeric() || b"-+.".contains(&b)),
        );
    }
}

/// `Name: value` up to the end of the line (a real or an escaped newline):
/// the space after the colon tells a header from a topic like `api:events`.
fn header_line(bytes: &[u8], colon: usize, ranges: &mut Vec<(usize, usize)>) {
    if bytes.get(colon + 1) != Some(&b' ') {
        return;
    }
    let name_start = run_start(bytes, colon, |b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
    if name_start < colon && is_secret(bytes, name_start, colon) {
        let start = run_end(bytes, colon + 1, |b| b == b' ');
        push(ranges, start, run_end(bytes, start, |b| !b"\r\n\\\"".contains(&b)));
    }
}

/// `Bearer <token>` and phoenix.js's `base64url.bearer.phx.<token>`.
fn bearer(bytes: &[u8], ranges: &mut Vec<(usize, usize)>) {
    let lower = bytes.to_ascii_lowercase();
    for (i, window) in lower.windows(7).enumerate() {
        match window {
            b"bearer " => {
                let start = run_end(bytes, i + 7, |b| b == b' ');
                push(ranges, start, run_end(bytes, start, |b| !ends_value(b)));
            }
            b"bearer." => {
                let is_part = |b: u8| b.is_ascii_alphanumeric() || b"_.+/=-".contains(&b);
                let end = run_end(bytes, i + 7, is_part);
                let tail = bytes.get(i + 7..end).unwrap_or_default();
                let token =
                    tail.iter().rposition(|&b| b == b'.').map_or(i + 7, |dot| i + 7 + dot + 1);
                push(ranges, token, end);
            }
            _ => {}
        }
    }
}
