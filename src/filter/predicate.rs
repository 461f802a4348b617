//! Payload predicates: a field path and a test on the value found there.

use std::cmp::Ordering;
use std::fmt;

use regex::Regex;
use serde_json::Value;
use serde_json::value::RawValue;

use super::payload::LazyPayload;

/// A field path under `payload`: `payload.items.0.id` is `["items", "0", "id"]`.
///
/// A segment is an object key, or an array index when the value at that level
/// is an array and the segment is a decimal number.
///
/// # Examples
///
/// ```
/// use rig::filter::Path;
///
/// let path = Path::new(vec!["items".into(), "0".into()]).unwrap();
/// assert_eq!(path.to_string(), "payload.items.0");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    segments: Box<[Box<str>]>,
}

impl Path {
    /// A path from its segments; `None` when there are none (a predicate
    /// names a field, not the whole payload).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Path;
    ///
    /// assert!(Path::new(Vec::new()).is_none());
    /// ```
    #[must_use]
    pub fn new(segments: Vec<Box<str>>) -> Option<Self> {
        (!segments.is_empty()).then(|| Self { segments: segments.into_boxed_slice() })
    }

    /// The segments, outermost first.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Path;
    ///
    /// let path = Path::new(vec!["a".into()]).unwrap();
    /// assert_eq!(&*path.segments()[0], "a");
    /// ```
    #[must_use]
    pub fn segments(&self) -> &[Box<str>] {
        &self.segments
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payload")?;
        for segment in &*self.segments {
            let plain = !segment.is_empty()
                && segment.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if plain {
                write!(f, ".{segment}")?;
            } else {
                write!(f, ".{}", Value::String(segment.to_string()))?;
            }
        }
        Ok(())
    }
}

/// A number literal: integers kept exact (the whole i64 and u64 ranges),
/// anything else as a finite `f64`.
///
/// # Examples
///
/// ```
/// use rig::filter::Number;
///
/// assert_eq!(Number::Int(u64::MAX.into()).to_string(), "18446744073709551615");
/// assert_eq!(Number::Float(0.5).to_string(), "0.5");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Number {
    /// An integer in `i64::MIN..=u64::MAX`.
    Int(i128),
    /// A finite float.
    Float(f64),
}

impl Number {
    fn from_json(n: &serde_json::Number) -> Option<Self> {
        if let Some(i) = n.as_i64() {
            Some(Self::Int(i.into()))
        } else if let Some(u) = n.as_u64() {
            Some(Self::Int(u.into()))
        } else {
            n.as_f64().map(Self::Float)
        }
    }

    #[expect(clippy::cast_precision_loss, reason = "comparing with a float is a float comparison")]
    fn as_f64(self) -> f64 {
        match self {
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }

    /// Exact between integers, `f64` otherwise (`None` never happens for
    /// finite values but keeps NaN honest).
    fn compare(self, other: Self) -> Option<Ordering> {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            // Debug keeps a `.0` or exponent, so the text reads back as a float.
            Self::Float(x) => write!(f, "{x:?}"),
        }
    }
}

/// A JSON scalar a field is compared with.
///
/// # Examples
///
/// ```
/// use rig::filter::Literal;
///
/// assert_eq!(Literal::String("a\"b".into()).to_string(), r#""a\"b""#);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Literal {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string (escapes already decoded).
    String(Box<str>),
}

impl Literal {
    fn equals(&self, value: &Value) -> bool {
        match (self, value) {
            (Self::Null, Value::Null) => true,
            (Self::Bool(a), Value::Bool(b)) => a == b,
            (Self::String(a), Value::String(b)) => **a == **b,
            (Self::Number(a), Value::Number(b)) => {
                Number::from_json(b).and_then(|b| b.compare(*a)) == Some(Ordering::Equal)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write!(f, "{}", Value::String(s.to_string())),
        }
    }
}

/// An ordering comparison.
///
/// # Examples
///
/// ```
/// use rig::filter::CmpOp;
///
/// assert_eq!(CmpOp::Ge.to_string(), ">=");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        })
    }
}

/// The test a [`Predicate`] applies to the value at its path.
///
/// A missing field (or a binary or non-object payload) fails every test,
/// `NotEquals` included: `payload.user != "ann"` wants a `user` that is not
/// `"ann"`.
///
/// # Examples
///
/// ```
/// use rig::filter::{Literal, Test};
///
/// let test = Test::Equals(Literal::Bool(true));
/// assert_eq!(test, Test::Equals(Literal::Bool(true)));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Test {
    /// The field exists (any value, `null` included).
    Exists,
    /// The field equals the literal (numbers by value: `5 == 5.0`).
    Equals(Literal),
    /// The field exists and does not equal the literal.
    NotEquals(Literal),
    /// The field is a number and compares so with the literal.
    Compare(CmpOp, Number),
    /// The field is a string the regex finds a match in (unanchored).
    Matches(Regex),
}

impl PartialEq for Test {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Exists, Self::Exists) => true,
            (Self::Equals(a), Self::Equals(b)) | (Self::NotEquals(a), Self::NotEquals(b)) => a == b,
            (Self::Compare(o, a), Self::Compare(p, b)) => o == p && a == b,
            (Self::Matches(a), Self::Matches(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

/// One payload condition: a path and a test, e.g. `payload.n > 5`.
///
/// # Examples
///
/// ```
/// use rig::filter::{CmpOp, Number, Path, Predicate, Test};
///
/// let path = Path::new(vec!["n".into()]).unwrap();
/// let predicate = Predicate::new(path, Test::Compare(CmpOp::Gt, Number::Int(5)));
/// assert_eq!(predicate.to_string(), "payload.n > 5");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Predicate {
    path: Path,
    test: Test,
}

impl Predicate {
    /// A predicate from its parts.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Path, Predicate, Test};
    ///
    /// let p = Predicate::new(Path::new(vec!["user".into()]).unwrap(), Test::Exists);
    /// assert_eq!(p.to_string(), "payload.user");
    /// ```
    #[must_use]
    pub fn new(path: Path, test: Test) -> Self {
        Self { path, test }
    }

    /// The field path.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Expr;
    ///
    /// let expr = Expr::parse("payload.a.b == 1")?;
    /// assert_eq!(expr.predicates()[0].path().to_string(), "payload.a.b");
    /// # Ok::<(), rig::filter::ExprError>(())
    /// ```
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The test on the field.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Expr, Test};
    ///
    /// let expr = Expr::parse("payload.a")?;
    /// assert_eq!(expr.predicates()[0].test(), &Test::Exists);
    /// # Ok::<(), rig::filter::ExprError>(())
    /// ```
    #[must_use]
    pub fn test(&self) -> &Test {
        &self.test
    }

    pub(crate) fn eval(&self, payload: &LazyPayload<'_>) -> bool {
        let Some(raw) = payload.resolve(&self.path) else { return false };
        match &self.test {
            Test::Exists => true,
            Test::Equals(literal) => leaf(raw).is_some_and(|v| literal.equals(&v)),
            Test::NotEquals(literal) => leaf(raw).is_some_and(|v| !literal.equals(&v)),
            Test::Compare(op, bound) => match leaf(raw) {
                Some(Value::Number(n)) => {
                    let order = Number::from_json(&n).and_then(|n| n.compare(*bound));
                    order.is_some_and(|o| match op {
                        CmpOp::Lt => o.is_lt(),
                        CmpOp::Le => o.is_le(),
                        CmpOp::Gt => o.is_gt(),
                        CmpOp::Ge => o.is_ge(),
                    })
                }
                _ => false,
            },
            Test::Matches(regex) => match leaf(raw) {
                Some(Value::String(s)) => regex.is_match(&s),
                _ => false,
            },
        }
    }
}

/// Parses the one value a test looks at.
fn leaf(raw: &RawValue) -> Option<Value> {
    serde_json::from_str(raw.get()).ok()
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = &self.path;
        match &self.test {
            Test::Exists => write!(f, "{path}"),
            Test::Equals(l) => write!(f, "{path} == {l}"),
            Test::NotEquals(l) => write!(f, "{path} != {l}"),
            Test::Compare(op, n) => write!(f, "{path} {op} {n}"),
            Test::Matches(re) => write!(f, "{path} =~ {}", Value::String(re.as_str().to_owned())),
        }
    }
}
