//! Cross-check against an independent implementation: pyiso8583 (PyPI), driven by a spec built
//! from jPOS's packager files, must find the same MTI and field values as `clearway iso8583
//! decode` on every ASCII-dialect message we have (our fixtures and the public vectors).
//!
//! The binary dialect is not cross-checked here: pyiso8583 counts BCD length prefixes in bytes
//! where ISO 8583:1987 binary (and jPOS) count digits, so it cannot express that dialect.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn messages(dialect: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = common::fixtures().join("iso8583").join(dialect).join("ok");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "hex") {
                let hex: String = std::fs::read_to_string(&p)
                    .unwrap()
                    .split_whitespace()
                    .collect();
                out.push((p.display().to_string(), hex.to_uppercase()));
            }
        }
    }
    let conf = common::conformance().join("iso8583");
    let mut public: Vec<PathBuf> = Vec::new();
    match dialect {
        "iso87ascii" => {
            public.push(conf.join("jpos/ISO87APackager.bin"));
            for name in [
                "iso_reversal_message.dat",
                "financial_transaction_message.dat",
                "network_management_message.dat",
                "iso_reversal_message_error_date.dat",
            ] {
                public.push(conf.join("moov").join(name));
            }
        }
        "iso93ascii" => public.push(conf.join("jpos/ISO93APackager.bin")),
        _ => {}
    }
    for p in public {
        let bytes = std::fs::read(&p).unwrap();
        out.push((
            p.display().to_string(),
            bytes.iter().map(|b| format!("{b:02X}")).collect(),
        ));
    }
    out.sort();
    out
}

fn pyiso8583(packager: &PathBuf, hexes: &[String]) -> Vec<serde_json::Value> {
    let script = common::root().join("tests/crosscheck/pyiso8583_decode.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(packager)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (scripts/test installs it)");
    {
        let mut stdin = child.stdin.take().unwrap();
        for h in hexes {
            writeln!(stdin, "{h}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pyiso8583 cross-check script failed (is pyiso8583 installed? scripts/test installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn ascii_dialects_agree_with_pyiso8583() {
    let mut compared = 0;
    for dialect in ["iso87ascii", "iso93ascii"] {
        let packager = common::conformance().join(format!("iso8583/jpos/packager-{dialect}.xml"));
        let msgs = messages(dialect);
        let theirs = pyiso8583(
            &packager,
            &msgs.iter().map(|(_, h)| h.clone()).collect::<Vec<_>>(),
        );
        assert_eq!(theirs.len(), msgs.len());
        for ((name, hex), theirs) in msgs.iter().zip(theirs) {
            assert!(
                theirs.get("error").is_none(),
                "{name}: pyiso8583 could not decode it: {theirs}"
            );
            let out = common::clearway()
                .args([
                    "iso8583",
                    "decode",
                    "--dialect",
                    dialect,
                    "--hex",
                    hex,
                    "--json",
                    "--show-pan",
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: clearway refused it: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let ours: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(ours["mti"], theirs["mti"], "{name}: MTI");
            let skipped: Vec<String> = theirs["skipped"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let theirs_fields: BTreeMap<String, serde_json::Value> =
                serde_json::from_value(theirs["fields"].clone()).unwrap();
            let ours_fields: BTreeMap<String, serde_json::Value> =
                serde_json::from_value(ours["fields"].clone()).unwrap();
            for (k, v) in &theirs_fields {
                if skipped.contains(k) {
                    continue;
                }
                // Say which field differs; the values may hold card data, so not the values.
                assert!(
                    ours_fields.get(k) == Some(v),
                    "{name}: field {k} differs from pyiso8583"
                );
                compared += 1;
            }
            let extra: Vec<&String> = ours_fields
                .keys()
                .filter(|k| !theirs_fields.contains_key(*k) && k.as_str() != "1")
                .collect();
            assert!(
                extra.is_empty(),
                "{name}: fields only clearway found: {extra:?}"
            );
        }
    }
    eprintln!("pyiso8583 cross-check: {compared} field values agree");
    assert!(
        compared > 100,
        "the cross-check compared only {compared} fields"
    );
}
