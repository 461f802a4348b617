//! `inbox:*`: every pushed event is recorded in the server's [`PushLog`],
//! deduplicated by the outbox id the client carried (`_rig_id`).
//!
//! [`PushLog`]: crate::server::PushLog

use serde_json::Value;

use super::{Ctx, Joined, Kind, Outcome, joined};
use crate::protocol::{Payload, Reply};

/// Any join is accepted.
pub(crate) fn join(topic: &str) -> Joined {
    Joined { response: Value::Object(joined(topic)), kind: Kind::Inbox, track: None }
}

/// Records the push and replies `ok` with `{"dup":false}` or, for an id
/// already recorded, `{"dup":true}`: a duplicate is acknowledged too, so the
/// client deletes its copy.
pub(crate) fn handle_in(payload: &Payload, ctx: &mut Ctx<'_>) -> Outcome {
    let dup = ctx.push_log.record(ctx.topic, payload).is_duplicate();
    let response = if dup { r#"{"dup":true}"# } else { r#"{"dup":false}"# };
    Outcome::Reply(Reply::new("ok", Payload::json(response)))
}
