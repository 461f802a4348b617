//! Topic patterns: exact topics, prefixes (`room:*`) and globs (`room:*:admin`).

use std::fmt;

use super::error::PatternError;

/// Which topics a subscription wants.
///
/// Parsed from text by [`TopicPattern::parse`]: a pattern without `*` or `?`
/// is an exact topic; one whose only wildcard is a trailing `*` is a prefix
/// (`room:*` matches `room:`, `room:lobby`, `room:a:b`); anything else is a
/// glob where `*` matches any run of characters (including `:` and nothing)
/// and `?` matches exactly one character.
///
/// # Examples
///
/// ```
/// use rig::filter::TopicPattern;
///
/// # fn main() -> Result<(), rig::filter::PatternError> {
/// assert!(TopicPattern::parse("room:lobby")?.matches("room:lobby"));
/// assert!(TopicPattern::parse("room:*")?.matches("room:42"));
/// assert!(TopicPattern::parse("room:*:admin")?.matches("room:7:admin"));
/// assert!(!TopicPattern::parse("room:?")?.matches("room:42"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TopicPattern {
    /// Matches this topic only.
    Exact(Box<str>),
    /// Matches every topic that starts with this text (the `*` is not kept).
    Prefix(Box<str>),
    /// Matches by glob (`*` any run, `?` one character); kept as written.
    Glob(Box<str>),
}

impl TopicPattern {
    /// Parses a pattern; see the type docs for the three forms.
    ///
    /// # Errors
    ///
    /// [`PatternError::Empty`] for an empty pattern (no topic is empty, so it
    /// could never match).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::TopicPattern;
    ///
    /// # fn main() -> Result<(), rig::filter::PatternError> {
    /// assert_eq!(TopicPattern::parse("room:*")?, TopicPattern::Prefix("room:".into()));
    /// assert!(TopicPattern::parse("").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        let wild = |c: char| c == '*' || c == '?';
        Ok(match text.find(wild) {
            None => Self::Exact(text.into()),
            Some(at) if at + 1 == text.len() && text.ends_with('*') => {
                Self::Prefix(text.get(..at).unwrap_or_default().into())
            }
            Some(_) => Self::Glob(text.into()),
        })
    }

    /// True when `topic` is one this pattern wants.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::TopicPattern;
    ///
    /// let any = TopicPattern::Prefix("".into());
    /// assert!(any.matches("phoenix"));
    /// ```
    #[must_use]
    pub fn matches(&self, topic: &str) -> bool {
        match self {
            Self::Exact(exact) => **exact == *topic,
            Self::Prefix(prefix) => topic.starts_with(&**prefix),
            Self::Glob(glob) => glob_matches(glob, topic),
        }
    }
}

impl fmt::Display for TopicPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(text) | Self::Glob(text) => f.write_str(text),
            Self::Prefix(prefix) => write!(f, "{prefix}*"),
        }
    }
}

/// Glob match with `*` (any run) and `?` (one char), in O(pattern × text)
/// worst case and no recursion: on a mismatch, go back to the last `*` and
/// let it swallow one more character (the classic two-pointer walk). ASCII
/// (the usual topic) is matched on bytes, without collecting chars.
fn glob_matches(glob: &str, text: &str) -> bool {
    if glob.is_ascii() && text.is_ascii() {
        glob_walk(glob.as_bytes(), text.as_bytes(), b'*', b'?')
    } else {
        let glob: Vec<char> = glob.chars().collect();
        let text: Vec<char> = text.chars().collect();
        glob_walk(&glob, &text, '*', '?')
    }
}

fn glob_walk<C: Copy + PartialEq>(pattern: &[C], text: &[C], star: C, one: C) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(&c) if c == star => {
                last_star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == one || Some(&c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match last_star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    last_star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|&c| c == star))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(text: &str) -> TopicPattern {
        TopicPattern::parse(text).unwrap()
    }

    #[test]
    fn parse_picks_the_cheapest_form() {
        assert_eq!(pat("room:1"), TopicPattern::Exact("room:1".into()));
        assert_eq!(pat("room:*"), TopicPattern::Prefix("room:".into()));
        assert_eq!(pat("*"), TopicPattern::Prefix("".into()));
        assert_eq!(pat("room:*:x"), TopicPattern::Glob("room:*:x".into()));
        assert_eq!(pat("room:?"), TopicPattern::Glob("room:?".into()));
        assert_eq!(pat("room:**"), TopicPattern::Glob("room:**".into()));
        assert_eq!(TopicPattern::parse(""), Err(PatternError::Empty));
    }

    #[test]
    fn display_roundtrips() {
        for text in ["room:1", "room:*", "*", "a*b?c", "*x*"] {
            assert_eq!(pat(text).to_string(), text);
            assert_eq!(pat(&pat(text).to_string()), pat(text));
        }
    }

    #[test]
    fn globs() {
        let cases = [
            ("*", "", true),
            ("a*", "a", true),
            ("*:admin", "room:1:admin", true),
            ("*:admin", "room:1:admins", false),
            ("room:*:x", "room::x", true),
            ("room:?", "room:é", true),
            ("room:?", "room:", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("**a", "ba", true),
            ("a?", "ab", true),
            ("a?", "abc", false),
        ];
        for (glob, text, want) in cases {
            assert_eq!(glob_matches(glob, text), want, "{glob} vs {text}");
        }
    }

    #[test]
    fn exact_and_prefix() {
        assert!(pat("room:1").matches("room:1"));
        assert!(!pat("room:1").matches("room:10"));
        assert!(pat("room:*").matches("room:"));
        assert!(!pat("room:*").matches("room"));
    }
}
