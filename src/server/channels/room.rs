//! `room:*`: echo, replies, pushes, broadcasts, crashes, stops and a slow handler.

use std::time::Duration;

use serde_json::Value;

use super::{Ctx, Joined, Kind, Outcome, joined, reason};
use crate::protocol::{Payload, Reply};
use crate::server::json;

/// How long `slow` keeps the channel busy (the fixture server sleeps 3 s).
pub(crate) const SLOW: Duration = Duration::from_secs(3);

pub(crate) fn join(topic: &str) -> Result<Joined, Value> {
    if topic == "room:forbidden" {
        return Err(reason("unauthorized"));
    }
    Ok(Joined { response: Value::Object(joined(topic)), kind: Kind::Room, track: None })
}

pub(crate) fn handle_in(event: &str, payload: Payload, ctx: &mut Ctx<'_>) -> Outcome {
    match event {
        "echo" => Outcome::Reply(Reply::new("ok", payload)),
        "echo_error" => Outcome::Reply(Reply::new("error", payload)),
        "noreply" => Outcome::NoReply,
        "push_me" => {
            ctx.push("pushed", payload);
            Outcome::Reply(Reply::new("ok", Payload::empty()))
        }
        "shout" => {
            ctx.broadcast("shout", payload);
            Outcome::NoReply
        }
        "close" => Outcome::Stop,
        "close_reply" => Outcome::StopReply(Reply::new("ok", payload)),
        "slow" => Outcome::Busy {
            until: ctx.now.checked_add(SLOW).unwrap_or(ctx.now),
            reply: Reply::new("ok", payload),
        },
        "binary" => match payload.as_json() {
            None => Outcome::Reply(Reply::new("ok", payload)),
            Some(_) => {
                let mut response = serde_json::Map::new();
                response.insert("got".into(), json::params(&payload));
                response.insert("reason".into(), Value::String("expected binary".into()));
                Outcome::Reply(Reply::new("error", json::payload(&Value::Object(response))))
            }
        },
        "binary_push" => {
            ctx.push("bin_push", payload);
            Outcome::Reply(Reply::new("ok", Payload::empty()))
        }
        "binary_shout" => {
            ctx.broadcast("bin_shout", payload);
            Outcome::NoReply
        }
        // "boom" raises, and an event without a handle_in clause crashes too.
        _ => Outcome::Crash,
    }
}
