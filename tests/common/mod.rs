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

static XMLLINT_FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Validates one ISO 20022 part (an `AppHdr` or a `Document`, written alone) against `xsd`
/// with xmllint; the error is xmllint's own report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub fn xmllint(part: &str, xsd: &std::path::Path) -> Result<(), String> {
    let n = XMLLINT_FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!("clearway-xsd-{}-{n}.xml", std::process::id()));
    std::fs::write(
        &file,
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{part}\n"),
    )
    .unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd)
        .arg(&file)
        .output()
        .expect("xmllint is needed (Debian: apt-get install -y libxml2-utils)");
    let _ = std::fs::remove_file(&file);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
