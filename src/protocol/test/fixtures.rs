//! Loads the real Phoenix transcripts in `../shared/fixtures/phoenix-1.7/`.
//!
//! Each `.jsonl` row is one recorded event (see the fixtures' README):
//! `dir` = `out` (client → server), `in` (server → client), `http`, `note`.

use std::path::PathBuf;

use base64::Engine as _;
use serde::Deserialize;

use crate::protocol::Frame;

/// Where the fixtures live, relative to the crate root (CI clones the repo with
/// `../shared` beside it).
pub(crate) fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/phoenix-1.7")
}

/// One transcript row.
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
    pub(crate) server_close_code: Option<u16>,
    #[serde(default)]
    pub(crate) status: Option<u16>,
    #[serde(default)]
    pub(crate) url: Option<String>,
    #[serde(default)]
    pub(crate) decoded: Option<serde_json::Value>,
}

impl Row {
    /// The data frame of an `in`/`out` row with a text or binary opcode.
    pub(crate) fn frame(&self) -> Option<Frame> {
        match self.opcode.as_deref()? {
            "text" => Some(Frame::text(self.text.clone()?)),
            "binary" => {
                let bytes =
                    base64::engine::general_purpose::STANDARD.decode(self.b64.as_deref()?).ok()?;
                Some(Frame::binary(bytes))
            }
            _ => None,
        }
    }

    /// Whether this row is a data frame in direction `dir` (`"in"`/`"out"`).
    pub(crate) fn is_frame(&self, dir: &str) -> bool {
        self.dir == dir && matches!(self.opcode.as_deref(), Some("text" | "binary"))
    }
}

/// A whole transcript file.
#[derive(Clone, Debug)]
pub(crate) struct Transcript {
    pub(crate) name: String,
    pub(crate) rows: Vec<Row>,
}

impl Transcript {
    /// Whether the transcript was recorded on a V1 (`vsn=1.0.0` or no vsn) socket.
    pub(crate) fn is_v1(&self) -> bool {
        self.name.starts_with("v1_")
    }
}

/// Loads one transcript by file name, e.g. `"close.jsonl"`.
pub(crate) fn load(name: &str) -> Transcript {
    let path = dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    let rows = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: bad row {l}: {e}")))
        .collect();
    Transcript { name: name.to_owned(), rows }
}

/// Every `.jsonl` transcript, sorted by name.
pub(crate) fn all() -> Vec<Transcript> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("fixtures directory ../shared/fixtures/phoenix-1.7 must exist")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "expected the 15 Phoenix transcripts, found {names:?}");
    names.iter().map(|n| load(n)).collect()
}

#[test]
fn every_transcript_loads_and_every_frame_row_has_a_frame() {
    for t in all() {
        for row in &t.rows {
            if row.is_frame("in") || row.is_frame("out") {
                assert!(row.frame().is_some(), "{} row {}: no frame", t.name, row.i);
            }
        }
    }
}
