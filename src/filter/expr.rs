//! The `-w` predicate language (`rig monitor -w EXPR`).
//!
//! ```text
//! expr   := cond ( "&&" cond )*
//! cond   := path                      field exists
//!         | path ("==" | "!=") value
//!         | path ("<" | "<=" | ">" | ">=") number
//!         | path "=~" string          regex, unanchored
//! path   := "payload" ( "." segment )+    segment := [A-Za-z0-9_-]+ | string
//! value  := string | number | true | false | null   (JSON syntax and escapes)
//! ```
//!
//! `payload.items.0.id` indexes arrays; `payload."a.b"` names a key with a dot.

use std::fmt;
use std::str::FromStr;

use regex::Regex;

use super::error::{ExprError, ExprErrorKind};
use super::predicate::{CmpOp, Literal, Number, Path, Predicate, Test};

/// A parsed `-w` expression: predicates that must all hold.
///
/// `Display` prints the canonical form, which parses back to an equal `Expr`.
///
/// # Examples
///
/// ```
/// use rig::filter::Expr;
///
/// let expr: Expr = r#"payload.user=="ann"&&payload.n>5"#.parse()?;
/// assert_eq!(expr.predicates().len(), 2);
/// assert_eq!(expr.to_string(), r#"payload.user == "ann" && payload.n > 5"#);
/// # Ok::<(), rig::filter::ExprError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    predicates: Vec<Predicate>,
}

impl Expr {
    /// Parses an expression; regexes are compiled here, once.
    ///
    /// # Errors
    ///
    /// An [`ExprError`] whose column points at the fault.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Expr;
    ///
    /// assert!(Expr::parse(r#"payload.items.0.id =~ "^a""#).is_ok());
    /// assert_eq!(Expr::parse("payload.a || payload.b").unwrap_err().column(), 11);
    /// ```
    pub fn parse(text: &str) -> Result<Self, ExprError> {
        Parser { chars: text.chars().collect(), pos: 0 }.expr()
    }

    /// An expression from predicates built in code (all must hold).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Expr, Path, Predicate, Test};
    ///
    /// let exists = Predicate::new(Path::new(vec!["a".into()]).unwrap(), Test::Exists);
    /// assert_eq!(Expr::new(vec![exists]).to_string(), "payload.a");
    /// ```
    #[must_use]
    pub fn new(predicates: Vec<Predicate>) -> Self {
        Self { predicates }
    }

    /// The predicates, in written order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Expr;
    ///
    /// assert_eq!(Expr::parse("payload.a && payload.b")?.predicates().len(), 2);
    /// # Ok::<(), rig::filter::ExprError>(())
    /// ```
    #[must_use]
    pub fn predicates(&self) -> &[Predicate] {
        &self.predicates
    }

    /// The predicates, owned.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Expr;
    ///
    /// assert_eq!(Expr::parse("payload.a")?.into_predicates().len(), 1);
    /// # Ok::<(), rig::filter::ExprError>(())
    /// ```
    #[must_use]
    pub fn into_predicates(self) -> Vec<Predicate> {
        self.predicates
    }
}

impl FromStr for Expr {
    type Err = ExprError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, predicate) in self.predicates.iter().enumerate() {
            if i > 0 {
                f.write_str(" && ")?;
            }
            write!(f, "{predicate}")?;
        }
        Ok(())
    }
}

const VALUE: &str = "a value";
pub(crate) const OPERATOR: &str = "an operator (==, !=, <, <=, >, >=, =~) or `&&`";

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek2(&self) -> Option<char> {
        self.chars.get(self.pos + 1).copied()
    }

    fn error_at(&self, pos: usize, kind: ExprErrorKind) -> ExprError {
        ExprError::new(pos + 1, kind)
    }

    fn error(&self, kind: ExprErrorKind) -> ExprError {
        self.error_at(self.pos, kind)
    }

    fn unexpected(&self, expected: &'static str) -> ExprError {
        match self.peek() {
            Some(found) => self.error(ExprErrorKind::UnexpectedChar { found, expected }),
            None => self.error(ExprErrorKind::UnexpectedEnd { expected }),
        }
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_word) {
            self.pos += 1;
        }
        self.chars.get(start..self.pos).unwrap_or_default().iter().collect()
    }

    fn expr(mut self) -> Result<Expr, ExprError> {
        self.skip_space();
        if self.peek().is_none() {
            return Err(self.error(ExprErrorKind::Empty));
        }
        let mut predicates = vec![self.cond()?];
        loop {
            self.skip_space();
            match (self.peek(), self.peek2()) {
                (None, _) => return Ok(Expr { predicates }),
                (Some('&'), Some('&')) => {
                    self.pos += 2;
                    self.skip_space();
                    predicates.push(self.cond()?);
                }
                (Some('|'), Some('|')) => {
                    return Err(self.error(ExprErrorKind::Unsupported { what: "`||`" }));
                }
                _ => return Err(self.unexpected(OPERATOR)),
            }
        }
    }

    fn cond(&mut self) -> Result<Predicate, ExprError> {
        let path = self.path()?;
        self.skip_space();
        let op_at = self.pos;
        let op: &str = match (self.peek(), self.peek2()) {
            (None, _) | (Some('&'), Some('&')) | (Some('|'), Some('|')) => {
                return Ok(Predicate::new(path, Test::Exists));
            }
            (Some('='), Some('=')) => "==",
            (Some('!'), Some('=')) => "!=",
            (Some('='), Some('~')) => "=~",
            (Some('<'), Some('=')) => "<=",
            (Some('>'), Some('=')) => ">=",
            (Some('<'), _) => "<",
            (Some('>'), _) => ">",
            _ => return Err(self.unexpected(OPERATOR)),
        };
        self.pos = op_at + op.len();
        self.skip_space();
        let value_at = self.pos;
        let value = self.value()?;
        let test = match (op, value) {
            ("==", value) => Test::Equals(value),
            ("!=", value) => Test::NotEquals(value),
            ("=~", Literal::String(pattern)) => match Regex::new(&pattern) {
                Ok(regex) => Test::Matches(regex),
                Err(e) => {
                    return Err(self.error_at(value_at, ExprErrorKind::BadRegex(e.to_string())));
                }
            },
            ("=~", _) => return Err(self.error_at(value_at, ExprErrorKind::RegexNeedsString)),
            (op, Literal::Number(n)) => {
                let op = match op {
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                Test::Compare(op, n)
            }
            _ => return Err(self.error_at(value_at, ExprErrorKind::NotANumber)),
        };
        Ok(Predicate::new(path, test))
    }

    fn path(&mut self) -> Result<Path, ExprError> {
        match self.peek() {
            Some('!') => return Err(self.error(ExprErrorKind::Unsupported { what: "`!`" })),
            Some('(') => return Err(self.error(ExprErrorKind::Unsupported { what: "`(`" })),
            Some(c) if is_word(c) => {}
            _ => return Err(self.unexpected("a field path (payload.NAME)")),
        }
        let start = self.pos;
        if self.word() != "payload" {
            let reason = "a path starts with `payload.`";
            return Err(self.error_at(start, ExprErrorKind::BadPath { reason }));
        }
        let mut segments = Vec::new();
        while self.peek() == Some('.') {
            self.pos += 1;
            let segment = match self.peek() {
                // A quoted key may be anything, even empty (JSON allows it).
                Some('"') => self.string()?,
                _ => {
                    let word = self.word();
                    if word.is_empty() {
                        let reason = "empty segment after `.` (quote odd keys: payload.\"a b\")";
                        return Err(self.error(ExprErrorKind::BadPath { reason }));
                    }
                    word
                }
            };
            segments.push(segment.into_boxed_str());
        }
        Path::new(segments).ok_or_else(|| {
            let reason = "name a field: `payload.NAME`";
            self.error(ExprErrorKind::BadPath { reason })
        })
    }

    fn value(&mut self) -> Result<Literal, ExprError> {
        match self.peek() {
            Some('"') => Ok(Literal::String(self.string()?.into_boxed_str())),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number().map(Literal::Number),
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.pos;
                match self.word().as_str() {
                    "true" => Ok(Literal::Bool(true)),
                    "false" => Ok(Literal::Bool(false)),
                    "null" => Ok(Literal::Null),
                    _ => {
                        self.pos = start;
                        Err(self.unexpected("a value (string, number, true, false, null)"))
                    }
                }
            }
            _ => Err(self.unexpected(VALUE)),
        }
    }

    fn number(&mut self) -> Result<Number, ExprError> {
        let start = self.pos;
        let numeric = |c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E');
        while self.peek().is_some_and(numeric) {
            self.pos += 1;
        }
        let text: String = self.chars.get(start..self.pos).unwrap_or_default().iter().collect();
        let bad = || ExprError::new(start + 1, ExprErrorKind::BadNumber);
        serde_json::from_str::<serde_json::Number>(&text).map_err(|_| bad())?;
        if !text.contains(['.', 'e', 'E'])
            && let Ok(int) = text.parse::<i128>()
            && int >= i128::from(i64::MIN)
            && int <= i128::from(u64::MAX)
        {
            return Ok(Number::Int(int));
        }
        // serde_json checked the grammar; std's parser is exact to the last bit,
        // so the canonical text of a float reads back as the same float.
        text.parse::<f64>().ok().filter(|f| f.is_finite()).map(Number::Float).ok_or_else(bad)
    }

    /// A JSON string literal starting at the opening quote.
    fn string(&mut self) -> Result<String, ExprError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error_at(open, ExprErrorKind::UnterminatedString));
            };
            self.pos += 1;
            match c {
                '"' => return Ok(out),
                '\\' => out.push(self.escape()?),
                c => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, ExprError> {
        let backslash = self.pos - 1;
        let bad = |p: &Self| p.error_at(backslash, ExprErrorKind::BadEscape);
        let Some(c) = self.peek() else {
            return Err(self.error_at(backslash, ExprErrorKind::UnterminatedString));
        };
        self.pos += 1;
        Ok(match c {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let high = self.hex4().ok_or_else(|| bad(self))?;
                if (0xD800..0xDC00).contains(&high) {
                    let is_pair = self.peek() == Some('\\') && self.peek2() == Some('u');
                    if !is_pair {
                        return Err(bad(self));
                    }
                    self.pos += 2;
                    let low = self.hex4().filter(|l| (0xDC00..0xE000).contains(l));
                    let low = low.ok_or_else(|| bad(self))?;
                    let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                    char::from_u32(code).ok_or_else(|| bad(self))?
                } else {
                    char::from_u32(high).ok_or_else(|| bad(self))?
                }
            }
            _ => return Err(bad(self)),
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.chars.get(self.pos..self.pos + 4)?;
        let mut code = 0;
        for d in digits {
            code = code * 16 + d.to_digit(16)?;
        }
        self.pos += 4;
        Some(code)
    }
}
