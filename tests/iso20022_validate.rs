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
        (
            "unsupported_namespace.xml",
            "pacs.008.001.12` at byte 0; supported: urn:iso:std:iso:20022:tech:xsd:head.001.001.02",
        ),
    ] {
        let bytes = std::fs::read(common::fixtures().join("iso20022/refused").join(file)).unwrap();
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

#[test]
fn envelopes_are_detected() {
    use iso20022::envelope::{Envelope, PartKind};
    for (file, envelope) in [
        ("apphdr_then_document.xml", Envelope::AppHdrThenDocument),
        ("message_wrapper.xml", Envelope::Message),
    ] {
        let bytes =
            std::fs::read(common::fixtures().join("iso20022/envelopes").join(file)).unwrap();
        let report = validate_bytes(&bytes, &Options::default()).unwrap();
        assert!(report.is_valid(), "{file}: {:?}", report.violations);
        assert_eq!(report.envelope, envelope, "{file}");
        let parts: Vec<(PartKind, &str)> = report
            .parts
            .iter()
            .map(|p| (p.kind, p.message.as_str()))
            .collect();
        assert_eq!(
            parts,
            [
                (PartKind::AppHdr, "head.001.001.02"),
                (PartKind::Document, "pacs.008.001.08")
            ]
        );
    }
    let swift = common::conformance().join("iso20022/samples/cbpr_c.105.1.1_pacs.008_AtoB.xml");
    let report = validate_bytes(&std::fs::read(swift).unwrap(), &Options::default()).unwrap();
    assert_eq!(report.envelope, Envelope::SwiftEnvelope);
    let bare = common::fixtures().join("iso20022/ok/pain.001.001.09_single_eur.xml");
    let report = validate_bytes(&std::fs::read(bare).unwrap(), &Options::default()).unwrap();
    assert_eq!(report.envelope, Envelope::Bare);
}

#[test]
fn rule_packs() {
    use iso20022::rules::RulePack;
    let sepa = RulePack::shipped("sepa").unwrap();
    let cbpr = RulePack::shipped("cbpr+").unwrap();
    let run = |pack: &RulePack, file: &str| -> Vec<String> {
        let bytes = std::fs::read(common::fixtures().join("iso20022").join(file)).unwrap();
        let options = Options {
            pack: Some(pack),
            ..Options::default()
        };
        validate_bytes(&bytes, &options)
            .unwrap()
            .violations
            .into_iter()
            .map(|v| format!("{}: {}", v.path, v.rule))
            .collect()
    };
    assert_eq!(
        run(&sepa, "ok/pain.001.001.09_single_eur.xml"),
        Vec::<String>::new()
    );
    assert_eq!(
        run(&cbpr, "ok/pain.001.001.09_single_eur.xml"),
        Vec::<String>::new()
    );
    insta::assert_snapshot!("pack_sepa_usd", run(&sepa, "pack/sepa_usd.xml").join("\n"));
    insta::assert_snapshot!(
        "pack_cbpr_unstructured",
        run(&cbpr, "pack/cbpr_unstructured_address.xml").join("\n")
    );
    assert!(
        RulePack::shipped("nope")
            .unwrap_err()
            .to_string()
            .contains("sepa, cbpr+")
    );
    assert!(RulePack::from_toml("t", "name = \"x\"\nrule_prefix = \"X\"\ntypo = 1").is_err());
}
