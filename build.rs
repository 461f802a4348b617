//! Records the git commit a checkout is built from, for `--version`.
//!
//! Outside a git checkout (a crates.io package, a tarball) the version line is
//! the crate version alone. No dependency: git is asked once per change of
//! HEAD, and a missing or failing git is not an error.

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn main() {
    let version = env!("CARGO_PKG_VERSION");
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // Only a checkout whose top level is this crate counts: a crate unpacked
    // inside some other repository must not report that repository's commit.
    let top = git(&["-C", &manifest_dir.to_string_lossy(), "rev-parse", "--show-toplevel"]);
    let commit = top.filter(|top| std::path::Path::new(top) == manifest_dir).and_then(|_| {
        // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it
        // points to (a commit), and packed-refs (after `git gc`).
        // A path that does not exist would rerun this script on every
        // build, so only existing ones are watched.
        let branch = git(&["symbolic-ref", "-q", "HEAD"]);
        let watched = ["HEAD", "packed-refs"].into_iter().chain(branch.as_deref());
        for path in watched {
            let file = git(&["rev-parse", "--git-path", path]).map(PathBuf::from);
            if let Some(file) = file.filter(|f| manifest_dir.join(f).exists()) {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
        git(&["rev-parse", "--short=10", "HEAD"])
    });
    let line = match commit {
        Some(commit) => format!("{version} (commit {commit})"),
        None => version.to_owned(),
    };
    println!("cargo:rustc-env=RIG_VERSION_LINE={line}");
    println!("cargo:rerun-if-changed=build.rs");
}
