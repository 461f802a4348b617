//! Test support for the protocol core: fixture loading, harnesses, and the
//! conformance tests named after ../shared/CONFORMANCE.md IDs.

mod codec_fixtures;
mod codec_props;
#[allow(dead_code, reason = "fields and helpers are used by the fixture tests as they land")]
pub(crate) mod fixtures;
mod presence_conformance;
