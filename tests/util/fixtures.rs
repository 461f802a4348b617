//! The real Phoenix 1.7 transcripts and the rules for comparing with them.
//!
//! Rows are compared byte for byte, except for the values the fixtures'
//! README names as varying from run to run: presence `phx_ref` /
//! `phx_ref_prev` strings (mapped consistently: one recorded value always
//! stands for the same actual value, and two recorded values never for one)
//! and the stream's `t` / `server_elapsed_us` numbers.

use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine as _;
use serde::Deserialize;

/// `../shared/fixtures/phoenix-1.7`, relative to the crate root.
pub(crate) fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/phoenix-1.7")
}

/// One transcript row (see the fixtures' README for the fields).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Row {
    pub(crate) i: u32,
    pub(crate) t_ms: f64,
    pub(crate) dir: String,
    #[serde(default)]
    pub(crate) conn: Option<String>,
    #[serde(default)]
    pub(crate) opcode: Option<String>,
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) b64: Option<String>,
    #[serde(default)]
    pub(crate) code: Option<u16>,
    #[serde(default)]
    pub(crate) reason: Option<String>,
    #[serde(default)]
    pub(crate) server_close_code: Option<u16>,
    #[serde(default)]
    pub(crate) server_close_reason: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<u16>,
    #[serde(default)]
    pub(crate) url: Option<String>,
    #[serde(default)]
    pub(crate) body: Option<String>,
}

/// The payload of a data-frame row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RowFrame {
    Text(String),
    Binary(Vec<u8>),
}

impl Row {
    /// The connection this row belongs to (`A` when the file names none).
    pub(crate) fn conn(&self) -> &str {
        self.conn.as_deref().unwrap_or("A")
    }

    /// The text or binary frame of an `in`/`out` row.
    pub(crate) fn frame(&self) -> Option<RowFrame> {
        match self.opcode.as_deref()? {
            "text" => Some(RowFrame::Text(self.text.clone()?)),
            "binary" => {
                let b64 = self.b64.as_deref()?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_else(|e| panic!("row {}: bad base64: {e}", self.i));
                Some(RowFrame::Binary(bytes))
            }
            _ => None,
        }
    }

    /// The URL's path and query (`/socket/websocket?token=...`) of an `http` row.
    pub(crate) fn path_query(&self) -> Option<&str> {
        let url = self.url.as_deref()?;
        let after_scheme = url.split_once("://")?.1;
        let slash = after_scheme.find('/')?;
        after_scheme.get(slash..)
    }

    /// Whether this is a presence frame that races with its partner
    /// (`presence_diff` broadcast vs. `presence_state` push to the joiner).
    pub(crate) fn presence_event(&self) -> Option<&'static str> {
        let text = self.text.as_deref()?;
        if text.starts_with(r#"[null,null,"#) && text.contains(r#","presence_diff","#) {
            Some("presence_diff")
        } else if text.contains(r#","presence_state","#) {
            Some("presence_state")
        } else {
            None
        }
    }
}

/// A whole transcript file.
#[derive(Clone, Debug)]
pub(crate) struct Transcript {
    pub(crate) name: String,
    pub(crate) rows: Vec<Row>,
}

/// Loads one transcript, e.g. `"close.jsonl"`.
pub(crate) fn load(name: &str) -> Transcript {
    let path = dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e} (is ../shared beside the repo?)", path.display()));
    let rows = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: bad row {line}: {e}"))
        })
        .collect();
    Transcript { name: name.to_owned(), rows }
}

/// Names of every `.jsonl` transcript in the fixtures directory, sorted.
pub(crate) fn all_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap_or_else(|e| panic!("read {}: {e}", dir().display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".jsonl"))
        .collect();
    names.sort();
    names
}

/// The consistent mapping of recorded presence refs to actual ones.
#[derive(Debug, Default)]
pub(crate) struct RefMap {
    recorded_to_actual: HashMap<String, String>,
    actual_to_recorded: HashMap<String, String>,
}

const REF_KEYS: [&str; 2] = [r#""phx_ref":""#, r#""phx_ref_prev":""#];
const VARYING_NUMBERS: [&str; 2] = [r#""t":"#, r#""server_elapsed_us":"#];

impl RefMap {
    /// Whether `actual` equals `expected` under the normalisation rules; on a
    /// match, the ref pairs seen are remembered for later rows.
    pub(crate) fn matches(&mut self, expected: &str, actual: &str) -> bool {
        let expected = mask_numbers(expected);
        let actual = mask_numbers(actual);
        let expected_refs = ref_values(&expected);
        let actual_refs = ref_values(&actual);
        if expected_refs.len() != actual_refs.len() {
            return false;
        }
        let mut learned: Vec<(String, String)> = Vec::new();
        for (recorded, seen) in expected_refs.iter().zip(&actual_refs) {
            let known = self
                .recorded_to_actual
                .get(recorded.as_str())
                .or_else(|| learned.iter().find(|(r, _)| r == recorded).map(|(_, a)| a));
            let owner = self
                .actual_to_recorded
                .get(seen.as_str())
                .or_else(|| learned.iter().find(|(_, a)| a == seen).map(|(r, _)| r));
            match (known, owner) {
                (Some(a), Some(r)) if a == seen && r == recorded => {}
                (None, None) => learned.push((recorded.clone(), seen.clone())),
                _ => return false,
            }
        }
        let mut substituted = expected;
        for (recorded, seen) in expected_refs.iter().zip(&actual_refs) {
            let needle = format!("\"{recorded}\"");
            if let Some(at) = substituted.find(&needle) {
                substituted.replace_range(at..at + needle.len(), &format!("\u{0}{seen}\u{0}"));
            }
        }
        if substituted.replace('\u{0}', "\"") != actual {
            return false;
        }
        for (recorded, seen) in learned {
            self.actual_to_recorded.insert(seen.clone(), recorded.clone());
            self.recorded_to_actual.insert(recorded, seen);
        }
        true
    }
}

/// The string values of `phx_ref` / `phx_ref_prev` keys, in text order.
fn ref_values(text: &str) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for key in REF_KEYS {
        let mut from = 0;
        while let Some(at) = text.get(from..).and_then(|rest| rest.find(key)) {
            let start = from + at + key.len();
            let Some(len) = text.get(start..).and_then(|rest| rest.find('"')) else { break };
            found.push((start, text.get(start..start + len).unwrap_or_default().to_owned()));
            from = start + len;
        }
    }
    found.sort();
    found.into_iter().map(|(_, value)| value).collect()
}

/// Replaces the digits after `"t":` and `"server_elapsed_us":` with `#`.
fn mask_numbers(text: &str) -> String {
    let mut out = text.to_owned();
    for key in VARYING_NUMBERS {
        let mut from = 0;
        while let Some(at) = out.get(from..).and_then(|rest| rest.find(key)) {
            let start = from + at + key.len();
            let digits = out
                .get(start..)
                .map_or(0, |rest| rest.bytes().take_while(u8::is_ascii_digit).count());
            if digits > 0 {
                out.replace_range(start..start + digits, "#");
            }
            from = start;
        }
    }
    out
}

#[test]
fn ref_map_is_consistent_and_bijective() {
    let mut refs = RefMap::default();
    assert!(refs.matches(r#"{"phx_ref":"R1","s":1}"#, r#"{"phx_ref":"X","s":1}"#));
    assert!(refs.matches(r#"{"phx_ref":"R1"}"#, r#"{"phx_ref":"X"}"#));
    assert!(!refs.matches(r#"{"phx_ref":"R1"}"#, r#"{"phx_ref":"Y"}"#), "R1 is X");
    assert!(!refs.matches(r#"{"phx_ref":"R2"}"#, r#"{"phx_ref":"X"}"#), "X is R1's");
    assert!(refs.matches(
        r#"{"phx_ref":"R2","phx_ref_prev":"R1"}"#,
        r#"{"phx_ref":"Y","phx_ref_prev":"X"}"#
    ));
    assert!(!refs.matches(r#"{"phx_ref":"R3","s":1}"#, r#"{"phx_ref":"Z","s":2}"#));
    assert!(
        refs.matches(r#"{"phx_ref":"R3","s":1}"#, r#"{"phx_ref":"Z","s":1}"#),
        "no half-learning"
    );
}

#[test]
fn varying_numbers_are_masked_but_not_removed() {
    let mut refs = RefMap::default();
    assert!(refs.matches(r#"{"seq":1,"t":123}"#, r#"{"seq":1,"t":98765}"#));
    assert!(!refs.matches(r#"{"seq":1,"t":123}"#, r#"{"seq":2,"t":123}"#));
    assert!(!refs.matches(r#"{"seq":1,"t":123}"#, r#"{"seq":1,"t":"x"}"#));
    assert!(
        refs.matches(
            r#"{"count":5,"server_elapsed_us":1}"#,
            r#"{"count":5,"server_elapsed_us":40}"#
        )
    );
}
