//! What one subscription wants: [`Filter`], and its id.

use std::fmt;

use super::error::PatternError;
use super::expr::Expr;
use super::pattern::TopicPattern;
use super::payload::LazyPayload;
use crate::protocol::Message;

/// Names one subscription in a [`Registry`](super::Registry) or
/// [`Table`](super::Table). Ids are never reused by a registry.
///
/// # Examples
///
/// ```
/// use rig::filter::{Filter, Registry};
///
/// let registry = Registry::new();
/// let a = registry.add(Filter::topic("room:*")?, ());
/// let b = registry.add(Filter::topic("room:*")?, ());
/// assert_ne!(a, b);
/// assert!(a.as_u64() < b.as_u64());
/// # Ok::<(), rig::filter::PatternError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriptionId(u64);

impl SubscriptionId {
    pub(crate) fn new(n: u64) -> Self {
        Self(n)
    }

    /// The number inside, for logs and maps.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, Table};
    ///
    /// let table = Table::from_filters([(Filter::topic("a")?, ())]);
    /// assert_eq!(table.ids().next().map(|id| id.as_u64()), Some(0));
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    #[must_use]
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sub#{}", self.0)
    }
}

/// What a subscription wants: a topic pattern, optionally a set of event
/// names, and optionally payload predicates that must all hold.
///
/// # Examples
///
/// ```
/// use rig::filter::{Expr, Filter};
/// use rig::protocol::{Message, Payload};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let filter = Filter::topic("room:*")?
///     .events(["new_msg"])
///     .when(Expr::parse(r#"payload.user == "ann""#)?);
/// let msg = |event: &str, body: &str| {
///     Message::new(None, None, "room:1", event.to_owned(), Payload::json(body.to_owned()))
/// };
/// assert!(filter.matches(&msg("new_msg", r#"{"user":"ann"}"#)));
/// assert!(!filter.matches(&msg("new_msg", r#"{"user":"bob"}"#)));
/// assert!(!filter.matches(&msg("typing", r#"{"user":"ann"}"#)));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    topic: TopicPattern,
    events: Option<Box<[Box<str>]>>,
    expr: Expr,
}

impl Filter {
    /// Every message whose topic the pattern matches, any event, any payload.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, TopicPattern};
    ///
    /// let filter = Filter::new(TopicPattern::Exact("room:1".into()));
    /// assert_eq!(filter.topic_pattern().to_string(), "room:1");
    /// ```
    #[must_use]
    pub fn new(topic: TopicPattern) -> Self {
        Self { topic, events: None, expr: Expr::new(Vec::new()) }
    }

    /// [`Filter::new`] with a pattern parsed by [`TopicPattern::parse`].
    ///
    /// # Errors
    ///
    /// [`PatternError`] when the pattern is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Filter;
    ///
    /// assert!(Filter::topic("room:*").is_ok());
    /// assert!(Filter::topic("").is_err());
    /// ```
    pub fn topic(pattern: &str) -> Result<Self, PatternError> {
        TopicPattern::parse(pattern).map(Self::new)
    }

    /// Only these events (an empty set matches nothing). Replaces any set
    /// given before.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Filter;
    ///
    /// let filter = Filter::topic("*")?.events(["b", "a", "b"]);
    /// let names: Vec<&str> = filter.event_names().unwrap().iter().map(|e| &**e).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    #[must_use]
    pub fn events<I, S>(mut self, events: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Box<str>>,
    {
        let mut events: Vec<Box<str>> = events.into_iter().map(Into::into).collect();
        events.sort_unstable();
        events.dedup();
        self.events = Some(events.into_boxed_slice());
        self
    }

    /// Adds payload predicates; all of them (and any added before) must hold.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Expr, Filter};
    ///
    /// let filter = Filter::topic("*")?
    ///     .when(Expr::parse("payload.a")?)
    ///     .when(Expr::parse("payload.b")?);
    /// assert_eq!(filter.expr().to_string(), "payload.a && payload.b");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn when(mut self, expr: Expr) -> Self {
        let mut predicates =
            std::mem::replace(&mut self.expr, Expr::new(Vec::new())).into_predicates();
        predicates.extend(expr.into_predicates());
        self.expr = Expr::new(predicates);
        self
    }

    /// The topic pattern.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::{Filter, TopicPattern};
    ///
    /// assert_eq!(Filter::topic("a*")?.topic_pattern(), &TopicPattern::Prefix("a".into()));
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    #[must_use]
    pub fn topic_pattern(&self) -> &TopicPattern {
        &self.topic
    }

    /// The event names wanted, sorted; `None` means every event.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Filter;
    ///
    /// assert!(Filter::topic("a")?.event_names().is_none());
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    #[must_use]
    pub fn event_names(&self) -> Option<&[Box<str>]> {
        self.events.as_deref()
    }

    /// The payload predicates (empty: any payload).
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Filter;
    ///
    /// assert!(Filter::topic("a")?.expr().predicates().is_empty());
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    #[must_use]
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Whether the filter wants `message`, checked on its own: the linear
    /// reference that [`Table`](super::Table) must agree with.
    ///
    /// # Examples
    ///
    /// ```
    /// use rig::filter::Filter;
    /// use rig::protocol::{Message, Payload};
    ///
    /// let msg = Message::new(None, None, "room:1", "e", Payload::empty());
    /// assert!(Filter::topic("room:*")?.matches(&msg));
    /// # Ok::<(), rig::filter::PatternError>(())
    /// ```
    #[must_use]
    pub fn matches(&self, message: &Message) -> bool {
        self.topic.matches(&message.topic)
            && self.accepts_event(&message.event)
            && self.accepts_payload(&LazyPayload::new(&message.payload))
    }

    pub(crate) fn accepts_event(&self, event: &str) -> bool {
        self.events.as_ref().is_none_or(|set| set.binary_search_by(|e| (**e).cmp(event)).is_ok())
    }

    pub(crate) fn accepts_payload(&self, payload: &LazyPayload<'_>) -> bool {
        self.expr.predicates().iter().all(|p| p.eval(payload))
    }
}
