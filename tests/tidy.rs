//! Repository-wide rules, checked by plain `cargo test`: the codec crates stay free of I/O
//! crates, every fixture folder says where its files come from, and no snapshot carries a card
//! number in the clear.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == ".git")
            {
                continue;
            }
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

#[test]
fn codec_crates_depend_on_no_io_crate() {
    const FORBIDDEN: [&str; 5] = ["tokio", "sqlx", "lapin", "reqwest", "hyper"];
    for krate in ["emv", "iso20022"] {
        let manifest = common::root().join(krate).join("Cargo.toml");
        let text = fs::read_to_string(&manifest).unwrap();
        let doc: toml::Table = text.parse().unwrap();
        let deps = doc
            .get("dependencies")
            .and_then(|d| d.as_table())
            .cloned()
            .unwrap_or_default();
        for name in deps.keys() {
            assert!(
                !FORBIDDEN
                    .iter()
                    .any(|f| name == f || name.starts_with(&format!("{f}-"))),
                "{krate}/Cargo.toml depends on {name}: the codec crates do no I/O"
            );
        }
    }
}

#[test]
fn every_fixture_folder_has_a_readme() {
    let root = common::fixtures();
    for file in files_under(&root) {
        if file.file_name().is_some_and(|n| n == "README.md") {
            continue;
        }
        // The README may sit in the file's folder or in any folder above it, below fixtures/.
        let mut dir = file.parent();
        let mut found = false;
        while let Some(d) = dir {
            if d == root {
                break;
            }
            if d.join("README.md").is_file() {
                found = true;
                break;
            }
            dir = d.parent();
        }
        assert!(
            found,
            "{}: no README.md beside it or above it (below fixtures/) naming its source",
            file.display()
        );
    }
}

/// Card-number candidates with their line numbers: maximal runs of 13 to 19 digits in plain
/// text, and, inside hex dumps (chip data), the digits that follow an EMV tag 5A or 57 and its
/// length byte. A digit run inside a hex dump is otherwise just bytes, not a number.
fn pan_candidates(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_hexdigit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
                i += 1;
            }
            let run = &line[start..i];
            if run.bytes().all(|b| b.is_ascii_digit()) {
                if (13..=19).contains(&run.len()) {
                    out.push((line_no + 1, run.to_owned()));
                }
                continue;
            }
            // A hex dump: look for 5A / 57 with a length byte, then the digits of the PAN.
            let upper = run.to_ascii_uppercase();
            for tag in ["5A", "57"] {
                let mut from = 0;
                while let Some(pos) = upper[from..].find(tag) {
                    let len = upper
                        .get(pos + from + 2..pos + from + 4)
                        .and_then(|l| usize::from_str_radix(l, 16).ok());
                    let value = pos + from + 4;
                    if let Some(len) = len.filter(|l| (7..=10).contains(l)) {
                        let digits: String = upper
                            .get(value..value + 2 * len)
                            .unwrap_or("")
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        if digits.len() >= 13 {
                            out.push((line_no + 1, digits));
                        }
                    }
                    from += pos + 1;
                }
            }
        }
    }
    out
}

#[test]
fn pan_candidates_finds_card_numbers_in_text_and_chip_data() {
    let found =
        pan_candidates("F2 4761739001010010\n55 9F02060000000001005A0847617390010100105F340101\n");
    let digits: Vec<&str> = found.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(digits, ["4761739001010010", "4761739001010010"]);
    assert!(found.iter().all(|(_, d)| emv::card::luhn_valid(d)));
    assert!(pan_candidates("9F260811223344556677889F2701").is_empty());
}

#[test]
fn no_luhn_valid_pan_in_snapshots() {
    let mut checked = 0;
    for file in files_under(&common::root()) {
        let is_snapshot = file.extension().is_some_and(|e| e == "snap")
            && file.components().any(|c| c.as_os_str() == "snapshots");
        if !is_snapshot {
            continue;
        }
        checked += 1;
        let text = fs::read_to_string(&file).unwrap();
        for (line_no, digits) in pan_candidates(&text) {
            let first = digits.as_bytes()[0];
            if digits.bytes().all(|b| b == first) {
                continue; // 0000000000000: filler, not a card number
            }
            // Say where, never the digits: the failure message must not leak either.
            assert!(
                !emv::card::luhn_valid(&digits),
                "{}:{line_no}: a Luhn-valid PAN-like number in the clear",
                file.display()
            );
        }
    }
    // The check must have something to look at once the codecs have snapshots.
    let _ = checked;
}
