//! A reader that stops early (`clearway … | head`) ends a command's output quietly: exit 0 and
//! nothing on stderr, never the panic `println!` raises on a broken pipe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn parse_output_cut_short_by_its_reader() {
    let dir = tempfile::tempdir().unwrap();
    let statement = dir.path().join("camt053.xml");
    let made = Command::new(env!("CARGO_BIN_EXE_clearway"))
        .args([
            "iso20022",
            "generate",
            "camt.053",
            "--entries",
            "2000",
            "--out",
        ])
        .arg(&statement)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");

    for extra in [&[][..], &["--json"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clearway"))
            .args(["iso20022", "parse"])
            .arg(&statement)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty()); // then the reader goes away, as `head -1` does
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{extra:?}: {:?}: {stderr}",
            out.status
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
