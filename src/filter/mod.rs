//! Subscription filter tables: which subscriber wants which message.
//!
//! A subscription is a [`Filter`]: a [`TopicPattern`] (exact `room:1`, prefix
//! `room:*`, or glob `room:*:admin`), an optional set of event names, and
//! optional payload [`Predicate`]s written in the `-w` language of
//! `rig monitor` ([`Expr`]): `payload.user == "ann" && payload.n > 5`.
//!
//! In scope: patterns, predicates and their parser, the indexed immutable
//! [`Table`], and the [`Registry`] that publishes a new table by atomic swap
//! whenever a subscription is added or removed. Out of scope: threads,
//! queues and handler calls (the engine's dispatcher pool runs the tables).
//! This module depends on the protocol's message types only.
//!
//! ```text
//!  add / remove (any thread)          dispatcher threads (hot path)
//!        │  writer lock                      │
//!        ▼                                   ▼
//!  rebuild Table ──atomic swap──▶ ArcSwap<Table> ──load()──▶ Snapshot
//!        │                                                    │
//!  remove waits until no Snapshot            for_each_match(&Message, f)
//!  of an older table is left                  topic index → event set →
//!                                             payload predicates (lazy JSON)
//! ```
//!
//! Payload predicates are lazy: the payload JSON is split only when a
//! subscription that matched on topic and event has predicates, once per
//! message, and only along the paths they name. Numbers compare exactly
//! between integers (all of i64 and u64) and as `f64` otherwise; regexes are
//! compiled once, when the expression is parsed.
//!
//! # Examples
//!
//! ```
//! use rig::filter::{Expr, Filter, Registry};
//! use rig::protocol::{Message, Payload};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = Registry::new();
//! let ann = registry.add(
//!     Filter::topic("room:*")?.events(["new_msg"]).when(Expr::parse(r#"payload.user == "ann""#)?),
//!     "ann's messages",
//! );
//! let msg = Message::new(None, None, "room:lobby", "new_msg", Payload::json(r#"{"user":"ann"}"#));
//! assert_eq!(registry.load().matches(&msg), [ann]);
//! registry.remove(ann)?;
//! assert!(registry.load().matches(&msg).is_empty());
//! # Ok(())
//! # }
//! ```

mod error;
mod expr;
mod pattern;
mod payload;
mod predicate;
mod registry;
mod subscription;
mod table;
#[cfg(test)]
mod tests;

pub use error::{ExprError, ExprErrorKind, PatternError};
pub use expr::Expr;
pub use pattern::TopicPattern;
pub use predicate::{CmpOp, Literal, Number, Path, Predicate, Test};
pub use registry::{Registry, RemoveError, Snapshot};
pub use subscription::{Filter, SubscriptionId};
pub use table::Table;
