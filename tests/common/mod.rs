//! Paths every integration test needs: the repository's `fixtures/` and the shared conformance
//! data beside the repository (`../shared/conformance`, or `$CLEARWAY_SHARED/conformance`).
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

/// The workspace root (this package's manifest directory).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/` in the repository.
pub fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// The shared conformance data; a test that needs it fails loudly when it is missing.
pub fn conformance() -> PathBuf {
    let shared = std::env::var_os("CLEARWAY_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("..").join("shared"));
    let dir = shared.join("conformance");
    assert!(
        dir.is_dir(),
        "conformance data not found at {} (set CLEARWAY_SHARED)",
        dir.display()
    );
    dir
}

/// The `clearway` binary built for this test run.
pub fn clearway() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_clearway"))
}
