//! Errors of the filter module: bad topic patterns and bad `-w` expressions.

use std::fmt;

/// A topic pattern that cannot be used.
///
/// # Examples
///
/// ```
/// use rig::filter::{PatternError, TopicPattern};
///
/// assert_eq!(TopicPattern::parse(""), Err(PatternError::Empty));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern was empty. No topic is empty, so it could never match;
    /// use `*` to match every topic.
    #[error("empty topic pattern (use `*` for every topic)")]
    Empty,
}

/// An expression of the `-w` language that does not parse.
///
/// `column` counts characters from 1, so a CLI can point at the fault with
/// [`ExprError::caret`].
///
/// # Examples
///
/// ```
/// use rig::filter::{Expr, ExprErrorKind};
///
/// let err = Expr::parse("payload.n > ").unwrap_err();
/// assert_eq!(err.column(), 13);
/// assert_eq!(err.kind(), &ExprErrorKind::UnexpectedEnd { expected: "a value" });
/// assert_eq!(err.to_string(), "column 13: expected a value, found the end of the expression");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {kind}")]
pub struct ExprError {
    column: usize,
    kind: ExprErrorKind,
}

impl ExprError {
    pub(crate) fn new(column: usize, kind: ExprErrorKind) -> Self {
        Self { column, kind }
    }

    /// The 1-based character column where the fault starts.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Expr;
    ///
    /// assert_eq!(Expr::parse("payload.a == @").unwrap_err().column(), 14);
    /// ```
    #[must_use]
    pub fn column(&self) -> usize {
        self.column
    }

    /// What went wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Expr, ExprErrorKind};
    ///
    /// let err = Expr::parse("payload.a == \"x").unwrap_err();
    /// assert_eq!(err.kind(), &ExprErrorKind::UnterminatedString);
    /// ```
    #[must_use]
    pub fn kind(&self) -> &ExprErrorKind {
        &self.kind
    }

    /// The expression with a caret line under the fault, for terminals.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Expr;
    ///
    /// let src = "payload.n >> 5";
    /// let err = Expr::parse(src).unwrap_err();
    /// assert_eq!(err.caret(src), "payload.n >> 5\n           ^");
    /// ```
    #[must_use]
    pub fn caret(&self, source: &str) -> String {
        let pad = " ".repeat(self.column.saturating_sub(1));
        format!("{source}\n{pad}^")
    }
}

/// The kinds of [`ExprError`].
///
/// # Examples
///
/// ```
/// use rig::filter::{Expr, ExprErrorKind};
///
/// let err = Expr::parse("user == 1").unwrap_err();
/// assert!(matches!(err.kind(), ExprErrorKind::BadPath { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExprErrorKind {
    /// The expression was empty (or only spaces).
    Empty,
    /// A character that cannot start anything here.
    UnexpectedChar {
        /// The character found.
        found: char,
        /// What the parser was looking for.
        expected: &'static str,
    },
    /// The expression stopped where more was needed.
    UnexpectedEnd {
        /// What the parser was looking for.
        expected: &'static str,
    },
    /// A path that does not start with `payload` or has an empty segment.
    BadPath {
        /// Why the path is wrong.
        reason: &'static str,
    },
    /// A number literal that is not a finite JSON number.
    BadNumber,
    /// A string literal without its closing quote.
    UnterminatedString,
    /// A backslash escape that JSON does not have (`\q`) or a bad `\u` code.
    BadEscape,
    /// An ordering comparison (`<`, `<=`, `>`, `>=`) with a non-number.
    NotANumber,
    /// `=~` with something other than a string literal.
    RegexNeedsString,
    /// The regular expression did not compile; the text is regex's reason.
    BadRegex(String),
    /// `||`, `!` or parentheses: one subscription is a conjunction.
    Unsupported {
        /// The construct, e.g. `||`.
        what: &'static str,
    },
}

impl fmt::Display for ExprErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty expression"),
            Self::UnexpectedChar { found, expected } => {
                write!(f, "expected {expected}, found {found:?}")
            }
            Self::UnexpectedEnd { expected } => {
                write!(f, "expected {expected}, found the end of the expression")
            }
            Self::BadPath { reason } => write!(f, "bad field path: {reason}"),
            Self::BadNumber => f.write_str("bad number"),
            Self::UnterminatedString => f.write_str("string without its closing quote"),
            Self::BadEscape => f.write_str("bad escape in string"),
            Self::NotANumber => f.write_str("`<`, `<=`, `>` and `>=` compare with a number"),
            Self::RegexNeedsString => f.write_str("`=~` takes a string literal"),
            Self::BadRegex(reason) => write!(f, "bad regex: {reason}"),
            Self::Unsupported { what } => {
                write!(
                    f,
                    "{what} is not supported: join conditions with `&&`, or add a second subscription"
                )
            }
        }
    }
}
