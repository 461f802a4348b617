//! How `rig monitor` prints one event: a JSON object per line, or a
//! colored human line; and the UTC timestamp both carry.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rig::protocol::{Message, Ref};

use crate::connect::payload_text;

/// The wall clock as time since the Unix epoch (for the `ts` field only).
#[expect(clippy::disallowed_methods, reason = "`ts` is the wall-clock time an event arrived")]
pub(crate) fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// `2026-11-25T16:33:25.123456Z` for a time since the Unix epoch.
pub(crate) fn rfc3339(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_micros()
    )
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

fn ref_json(r: Option<&Ref>) -> String {
    r.map_or_else(|| "null".to_owned(), |r| serde_json::Value::from(r.as_str()).to_string())
}

/// `{"ts":..,"topic":..,"event":..,"payload":..,"ref":..,"join_ref":..}`.
pub(crate) fn json_line(ts: &str, message: &Message) -> String {
    format!(
        r#"{{"ts":"{ts}","topic":{},"event":{},"payload":{},"ref":{},"join_ref":{}}}"#,
        serde_json::Value::from(&*message.topic),
        serde_json::Value::from(&*message.event),
        payload_text(&message.payload),
        ref_json(message.r#ref.as_ref()),
        ref_json(message.join_ref.as_ref()),
    )
}

/// `16:33:25.123 room:lobby shout {"text":"hi"}`, colored when `color`.
pub(crate) fn pretty_line(ts: &str, message: &Message, color: bool) -> String {
    let time = ts.get(11..23).unwrap_or(ts);
    let payload = payload_text(&message.payload);
    if color {
        format!(
            "\x1b[2m{time}\x1b[0m \x1b[36m{}\x1b[0m \x1b[1;33m{}\x1b[0m {payload}",
            message.topic, message.event
        )
    } else {
        format!("{time} {} {} {payload}", message.topic, message.event)
    }
}

/// How `rig monitor` prints an event (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// One JSON object per line.
    Json,
    /// `HH:MM:SS.mmm topic event payload`, colored when `color`.
    Pretty { color: bool },
}

impl Format {
    /// The line for `message`, stamped with the time it arrived.
    pub(crate) fn line(self, message: &Message) -> String {
        let ts = rfc3339(unix_now());
        match self {
            Self::Json => json_line(&ts, message),
            Self::Pretty { color } => pretty_line(&ts, message, color),
        }
    }
}

#[cfg(test)]
mod tests {
    use rig::protocol::Payload;

    use super::*;

    #[test]
    fn timestamps_are_utc_rfc3339() {
        assert_eq!(rfc3339(Duration::ZERO), "1970-01-01T00:00:00.000000Z");
        let t = Duration::from_secs(1_795_624_405) + Duration::from_micros(123_456);
        assert_eq!(rfc3339(t), "2026-11-25T16:33:25.123456Z");
        assert_eq!(rfc3339(Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn lines_carry_every_field() {
        let m = Message::new(
            Some(Ref::from_u64(3)),
            None,
            "room:a",
            "shout",
            Payload::json(r#"{"x":1}"#),
        );
        let ts = "2026-11-25T16:33:25.123456Z";
        assert_eq!(
            json_line(ts, &m),
            r#"{"ts":"2026-11-25T16:33:25.123456Z","topic":"room:a","event":"shout","payload":{"x":1},"ref":null,"join_ref":"3"}"#
        );
        assert_eq!(pretty_line(ts, &m, false), r#"16:33:25.123 room:a shout {"x":1}"#);
        assert!(pretty_line(ts, &m, true).contains("\x1b[36mroom:a"));
        let binary = Message::new(None, None, "t", "b", Payload::binary(vec![1u8, 2]));
        assert!(json_line(ts, &binary).contains(r#""payload":"AQI=""#));
    }
}
