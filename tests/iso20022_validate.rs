//! `clearway iso20022 validate` and `iso20022::validate` on the shared samples, our fixtures and
//! hostile input; level 1 verdicts compared with xmllint against the official XSD.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failure here is a test failure

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use iso20022::validate::{Options, validate_bytes};

fn samples() -> Vec<PathBuf> {
    let dir = common::conformance().join("iso20022/samples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    v.sort();
    v
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::fixtures().join("iso20022").join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    v.sort();
    v
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// README verdicts: three schema-invalid samples, genkgo v8 fails the balance rule.
#[test]
fn samples_give_the_readme_verdicts() {
    for path in samples() {
        let report = validate_bytes(&std::fs::read(&path).unwrap(), &Options::default()).unwrap();
        let rules: Vec<&str> = report.violations.iter().map(|v| v.rule.as_str()).collect();
        match name(&path).as_str() {
            "mt2mx_mt101_pain.001_A_B.xml" => {
                assert!(rules.contains(&"XSD-UNEXPECTED-ELEMENT"), "{rules:?}")
            }
            "rustiso_pain.001.001.09_minimal.xml" | "rustiso_pacs.002.001.10_minimal.xml" => {
                assert!(
                    report
                        .violations
                        .iter()
                        .any(|v| v.rule == "XSD-MISSING-ELEMENT" && v.path.ends_with("/Envlp"))
                )
            }
            "genkgo_camt053.v8.xml" => assert_eq!(rules, ["STMT-BALANCE"]),
            other => assert!(report.is_valid(), "{other}: {:?}", report.violations),
        }
    }
}

fn xmllint_valid(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap();
    let xsd_dir = common::root().join("iso20022/schemas");
    let mut all_valid = true;
    for part in ["Document", "AppHdr"] {
        let xpath = format!("(//*[local-name()='{part}'])[1]");
        let out = Command::new("xmllint")
            .args(["--nonet", "--xpath", &xpath])
            .arg(path)
            .output()
            .expect("xmllint is installed (scripts/test installs libxml2-utils)");
        if !out.status.success() {
            continue; // no such part
        }
        let element = String::from_utf8(out.stdout).unwrap();
        let ns = text
            .split("urn:iso:std:iso:20022:tech:xsd:")
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
            .find(|id| {
                (part == "AppHdr") == id.starts_with("head.")
                    && element.contains(&format!("xsd:{id}\""))
            })
            .unwrap_or_default()
            .to_owned();
        let tmp = std::env::temp_dir().join(format!("clearway-h3-{}-{part}.xml", name(path)));
        std::fs::write(&tmp, element).unwrap();
        let xsd = xsd_dir.join(format!("{ns}.xsd"));
        let status = Command::new("xmllint")
            .args(["--noout", "--nonet", "--schema"])
            .arg(&xsd)
            .arg(&tmp)
            .output()
            .unwrap();
        all_valid &= status.status.success();
    }
    all_valid
}

/// Level 1 only: our verdict equals xmllint's on every sample and fixture.
#[test]
fn schema_verdicts_agree_with_xmllint() {
    let options = Options {
        schema_only: true,
        ..Options::default()
    };
    for path in samples()
        .into_iter()
        .chain(fixtures("ok"))
        .chain(fixtures("err"))
    {
        let ours = validate_bytes(&std::fs::read(&path).unwrap(), &options)
            .unwrap()
            .is_valid();
        assert_eq!(ours, xmllint_valid(&path), "{}", path.display());
    }
}

/// Each err/ fixture reports the rule it is named after; snapshots of the reports.
#[test]
fn err_fixtures_report_their_rule() {
    for path in fixtures("err") {
        let report = validate_bytes(&std::fs::read(&path).unwrap(), &Options::default()).unwrap();
        let rule = name(&path).trim_end_matches(".xml").to_owned();
        assert!(
            report.violations.iter().any(|v| v.rule == rule),
            "{rule}: {:?}",
            report.violations
        );
        let lines: Vec<String> = report
            .violations
            .iter()
            .map(|v| format!("{}: {}: {}", v.path, v.rule, v.message))
            .collect();
        insta::assert_snapshot!(format!("err_{rule}"), lines.join("\n"));
    }
    for path in fixtures("ok") {
        let report = validate_bytes(&std::fs::read(&path).unwrap(), &Options::default()).unwrap();
        assert!(
            report.is_valid(),
            "{}: {:?}",
            path.display(),
            report.violations
        );
    }
}

#[test]
fn hostile_input_is_refused_with_a_clear_error() {
    for (file, words) in [
        ("billion_laughs.xml", "DOCTYPE"),
        ("external_entity.xml", "DOCTYPE"),
        ("deep_nesting.xml", "deeper than 64"),
    ] {
        let bytes = std::fs::read(common::fixtures().join("iso20022/hostile").join(file)).unwrap();
        let err = validate_bytes(&bytes, &Options::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains(words), "{file}: {err}");
    }
}

#[test]
fn cli_lines_and_exit_codes() {
    let genkgo = common::conformance().join("iso20022/samples/genkgo_camt053.v8.xml");
    let ok = common::fixtures().join("iso20022/ok/pain.001.001.09_single_eur.xml");
    let out = common::clearway()
        .args(["iso20022", "validate"])
        .arg(&ok)
        .arg(&genkgo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!(
            "{}: /Document/BkToCstmrStmt/Stmt[1]: STMT-BALANCE: ",
            genkgo.display()
        )),
        "{stdout}"
    );
    let out = common::clearway()
        .args(["iso20022", "validate", "--rules", "sepa"])
        .arg(&ok)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = common::clearway()
        .args(["iso20022", "validate", "--json"])
        .arg(&ok)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let _: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
}

#[test]
fn every_shipped_schema_compiles() {
    assert_eq!(
        iso20022::schema::compile_all().unwrap().len(),
        iso20022::schema::SHIPPED.len()
    );
}
