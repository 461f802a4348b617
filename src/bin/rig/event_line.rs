//! How `rig monitor` prints one event: a JSON object per line, or a
//! colored human line; and the UTC timestamp both carry.

use std::io::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rig::protocol::{Message, Payload, Ref};

use crate::connect::payload_text;

/// The wall clock as time since the Unix epoch (for the `ts` field only).
#[expect(clippy::disallowed_methods, reason = "`ts` is the wall-clock time an event arrived")]
pub(crate) fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// `2026-11-25T16:33:25.123456Z` for a time since the Unix epoch.
pub(crate) fn rfc3339(since_epoch: Duration) -> String {
    let mut out = Vec::with_capacity(27);
    push_rfc3339(&mut out, since_epoch);
    String::from_utf8(out).unwrap_or_default()
}

/// Appends [`rfc3339`] of `since_epoch` to `out`.
fn push_rfc3339(out: &mut Vec<u8>, since_epoch: Duration) {
    let secs = since_epoch.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since_epoch.subsec_micros()
    );
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

/// Appends `text` as a JSON string.
fn push_json_str(out: &mut Vec<u8>, text: &str) {
    // Serializing a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

fn push_ref(out: &mut Vec<u8>, r: Option<&Ref>) {
    match r {
        Some(r) => push_json_str(out, r.as_str()),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends the payload as JSON text (binary as a base64 JSON string).
fn push_payload(out: &mut Vec<u8>, payload: &Payload) {
    match payload.as_json() {
        Some(json) => out.extend_from_slice(json.as_bytes()),
        None => out.extend_from_slice(payload_text(payload).as_bytes()),
    }
}

/// Appends `{"ts":..,"topic":..,"event":..,"payload":..,"ref":..,"join_ref":..}`.
fn push_json_line(out: &mut Vec<u8>, at: Duration, message: &Message) {
    out.extend_from_slice(br#"{"ts":""#);
    push_rfc3339(out, at);
    out.extend_from_slice(br#"","topic":"#);
    push_json_str(out, &message.topic);
    out.extend_from_slice(br#","event":"#);
    push_json_str(out, &message.event);
    out.extend_from_slice(br#","payload":"#);
    push_payload(out, &message.payload);
    out.extend_from_slice(br#","ref":"#);
    push_ref(out, message.r#ref.as_ref());
    out.extend_from_slice(br#","join_ref":"#);
    push_ref(out, message.join_ref.as_ref());
    out.push(b'}');
}

/// Appends `16:33:25.123 room:lobby shout {"text":"hi"}`, colored when `color`.
fn push_pretty_line(out: &mut Vec<u8>, at: Duration, message: &Message, color: bool) {
    let ts = rfc3339(at);
    let time = ts.get(11..23).unwrap_or(&ts);
    let (topic, event) = (&message.topic, &message.event);
    // Writing to a Vec cannot fail.
    let _ = if color {
        write!(out, "\x1b[2m{time}\x1b[0m \x1b[36m{topic}\x1b[0m \x1b[1;33m{event}\x1b[0m ")
    } else {
        write!(out, "{time} {topic} {event} ")
    };
    push_payload(out, &message.payload);
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
    /// Appends the line for `message`, which arrived `at` (since the Unix
    /// epoch), to `out`, without the newline.
    pub(crate) fn write(self, out: &mut Vec<u8>, at: Duration, message: &Message) {
        match self {
            Self::Json => push_json_line(out, at, message),
            Self::Pretty { color } => push_pretty_line(out, at, message, color),
        }
    }

    /// The line for `message` as a string.
    #[cfg(test)]
    fn line(self, at: Duration, message: &Message) -> String {
        let mut out = Vec::new();
        self.write(&mut out, at, message);
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {

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
        let at = Duration::from_secs(1_795_624_405) + Duration::from_micros(123_456);
        assert_eq!(
            Format::Json.line(at, &m),
            r#"{"ts":"2026-11-25T16:33:25.123456Z","topic":"room:a","event":"shout","payload":{"x":1},"ref":null,"join_ref":"3"}"#
        );
        let plain = Format::Pretty { color: false };
        assert_eq!(plain.line(at, &m), r#"16:33:25.123 room:a shout {"x":1}"#);
        assert!(Format::Pretty { color: true }.line(at, &m).contains("\x1b[36mroom:a"));
        let binary = Message::new(None, None, "t", "b", Payload::binary(vec![1u8, 2]));
        assert!(Format::Json.line(at, &binary).contains(r#""payload":"AQI=""#));
        let quoted = Message::new(None, None, "a\"b", "e", Payload::json("{}"));
        assert!(Format::Json.line(at, &quoted).contains(r#""topic":"a\"b","#));
    }
}
