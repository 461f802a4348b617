//! The committed `include/rig.h` is what cbindgen makes of the crate now.
//! `RIG_BLESS=1 cargo test -p rig-ffi --test header` rewrites it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use std::path::Path;

#[test]
fn committed_header_matches_a_fresh_generation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new().with_crate(dir).with_config(config).generate().unwrap();
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let fresh = String::from_utf8(fresh).unwrap();
    let path = dir.join("include/rig.h");
    if std::env::var_os("RIG_BLESS").is_some_and(|bless| !bless.is_empty()) {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "ffi/include/rig.h is stale: run `RIG_BLESS=1 cargo test -p rig-ffi --test header` \
         and commit the result"
    );
}
