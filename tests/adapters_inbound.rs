//! Bank answers to `clearway.status.v1`: every inbound fixture (`fixtures/inbound/iso20022/`)
//! and every public ISO 20022 answer in `../shared/conformance/iso20022/samples/` gives the
//! status events in its snapshot, each valid against `adapters/schemas/clearway.status.v1.json`;
//! refused inputs give an error with path and offset; the same message always gives the same
//! status ids; no input panics. Also: the README's conformance matrix is the code's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers, as in every test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use adapters::inbound::codes::Codes;
use adapters::profile::Profile;
use adapters::status::{Status, StatusEvent};

fn profile(stem: &str) -> Profile {
    Profile::load(
        &common::fixtures()
            .join("profiles")
            .join(format!("{stem}.toml")),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn status_schema() -> jsonschema::Validator {
    let path = common::root().join("adapters/schemas/clearway.status.v1.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// The events as JSON (an array, in message order), each checked against the schema.
fn checked_json(name: &str, events: &[StatusEvent]) -> String {
    assert!(!events.is_empty(), "{name}: no status event");
    let schema = status_schema();
    for event in events {
        let value = serde_json::to_value(event).unwrap();
        let errors: Vec<String> = schema.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{name}: not a valid status event: {errors:?}"
        );
    }
    let ids: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e.status_id.as_str()).collect();
    assert_eq!(
        ids.len(),
        events.len(),
        "{name}: two events share a status id"
    );
    masked_for_snapshot(&serde_json::to_string_pretty(events).unwrap())
}

/// Snapshots hold no Luhn-valid 13 to 19 digit run (`tests/tidy.rs`), and some public samples
/// have ids that start with one by chance (`20230604011104238Sc01…`): such a run is masked as a
/// card number would be, so the rule holds without an exception. The events themselves are
/// checked unmasked (schema, ids) before this.
fn masked_for_snapshot(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // hex-digit runs, as tidy reads them: `…04238Sc01` ends the run at `S`
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let first = run.bytes().next();
        let pan_like = (13..=19).contains(&run.len())
            && run.bytes().all(|b| b.is_ascii_digit())
            && !run.bytes().all(|b| Some(b) == first)
            && emv::card::luhn_valid(run);
        out.push_str(&if pan_like {
            emv::card::mask_pan(run)
        } else {
            run.clone()
        });
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Runs xmllint on the first element named `part` (any prefix) against `xsd_dir/<ns>.xsd`.
fn xsd_check(file: &Path, part: &str, xsd_dir: &Path) -> Result<(), String> {
    let extracted = Command::new("xmllint")
        .arg("--xpath")
        .arg(format!("(//*[local-name()='{part}'])[1]"))
        .arg(file)
        .output()
        .expect("xmllint is needed (Debian: apt-get install -y libxml2-utils)");
    if !extracted.status.success() {
        return Err(format!("no {part}"));
    }
    let text = String::from_utf8(extracted.stdout).unwrap();
    let ns = text
        .split("urn:iso:std:iso:20022:tech:xsd:")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| format!("{part} without an ISO namespace"))?
        .to_owned();
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), &text).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd_dir.join(format!("{ns}.xsd")))
        .arg(tmp.path())
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The profile a fixture is read with: the name of the folder above `ok/` or `err/`.
fn profile_of(path: &Path) -> Profile {
    let folder = path.parent().and_then(Path::parent).unwrap();
    profile(&folder.file_name().unwrap().to_string_lossy())
}

#[test]
fn iso20022_fixtures_become_status_events() {
    let xsd = common::conformance().join("iso20022/xsd");
    let mut seen = 0;
    insta::glob!("../fixtures", "inbound/iso20022/*/ok/*.xml", |path| {
        let bytes = std::fs::read(path).unwrap();
        let name = path.display().to_string();
        xsd_check(path, "Document", &xsd).unwrap_or_else(|e| panic!("{name}: {e}"));
        if String::from_utf8_lossy(&bytes).contains("AppHdr") {
            xsd_check(path, "AppHdr", &xsd).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let events = adapters::inbound::read(&profile_of(path), &bytes, false)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        insta::assert_snapshot!(checked_json(&name, &events));
        seen += 1;
    });
    insta::glob!("../fixtures", "inbound/iso20022/*/err/*.xml", |path| {
        let bytes = std::fs::read(path).unwrap();
        let err = adapters::inbound::read(&profile_of(path), &bytes, false)
            .expect_err("an err/ fixture is refused");
        insta::assert_snapshot!(err.to_string());
    });
    assert!(seen >= 16, "only {seen} ok fixtures");
}

/// The public samples that are bank answers Clearway reads; the other samples (statements,
/// requests we send) are not answers.
fn answer_samples() -> Vec<PathBuf> {
    let dir = common::conformance().join("iso20022/samples");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace("camt054", "camt.054");
            name.ends_with(".xml")
                && ["pacs.002", "pacs.004", "pacs.008", "camt.029", "camt.054"]
                    .iter()
                    .any(|t| name.contains(t))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn public_samples_become_status_events() {
    let samples = answer_samples();
    assert!(
        samples.len() >= 20,
        "found only {} answer samples",
        samples.len()
    );
    let (sepa, fednow) = (profile("sepa_bank"), profile("fednow_bank"));
    for path in samples {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let profile = if stem.starts_with("fednow") {
            &fednow
        } else {
            &sepa
        };
        let result = adapters::inbound::read(profile, &bytes, false);
        let name = format!("sample__{stem}");
        if stem.starts_with("rustiso") {
            // an XSD-tool placeholder with an empty TxInfAndSts: no status to read
            let err = result.expect_err("the placeholder has no status");
            insta::assert_snapshot!(name, err.to_string());
        } else {
            let events = result.unwrap_or_else(|e| panic!("{stem}: {e}"));
            insta::assert_snapshot!(name, checked_json(&stem, &events));
        }
    }
}

#[test]
fn the_same_message_gives_the_same_status_ids() {
    let sepa = profile("sepa_bank");
    let path = common::fixtures()
        .join("inbound/iso20022/sepa_bank/ok/camt054_booked_credit_debit_and_pending.xml");
    let bytes = std::fs::read(path).unwrap();
    let ids = |bytes: &[u8]| -> Vec<String> {
        adapters::inbound::read(&sepa, bytes, false)
            .unwrap()
            .into_iter()
            .map(|e| e.status_id)
            .collect()
    };
    let first = ids(&bytes);
    assert_eq!(first.len(), 4);
    assert_eq!(first, ids(&bytes), "a redelivery must carry the same ids");
    // the same content laid out differently is the same answer
    let text = String::from_utf8(bytes).unwrap();
    let reflowed = text.replace("\n\t\t\t", "\n ");
    assert_eq!(first, ids(reflowed.as_bytes()));
}

#[test]
fn iso8583_answers_read_the_same_through_read() {
    for (dir, stem) in [
        ("iso87binary", "card_acquirer"),
        ("iso87ascii", "card_acquirer_single"),
    ] {
        let profile = profile(stem);
        let folder = common::fixtures()
            .join("inbound/iso8583")
            .join(dir)
            .join("ok");
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read(&path).unwrap();
            let wire = emv::iso8583::parse_hex(String::from_utf8_lossy(&text).trim()).unwrap();
            let direct =
                adapters::inbound::iso8583(&profile, profile.dialect().unwrap(), &wire).unwrap();
            // hex text only when told: an ASCII-dialect wire message is all hex digits too
            for (bytes, hex) in [(&text, true), (&wire, false)] {
                let events = adapters::inbound::read(&profile, bytes, hex).unwrap();
                assert_eq!(events.len(), 1);
                assert_eq!(
                    serde_json::to_string(&events[0]).unwrap(),
                    serde_json::to_string(&direct).unwrap(),
                    "{}",
                    path.display()
                );
            }
        }
    }
    // a card profile refuses XML as a card message; an ISO 20022 profile refuses card bytes
    let xml =
        std::fs::read(common::fixtures().join("inbound/iso20022/sepa_bank/ok/pacs002_accp.xml"))
            .unwrap();
    let e = adapters::inbound::read(&profile("card_acquirer"), &xml, false).unwrap_err();
    assert!(e.to_string().starts_with("ISO 8583"), "{e}");
    let e = adapters::inbound::read(&profile("card_acquirer"), b"01 1G", true).unwrap_err();
    assert_eq!(e.to_string(), "hex input: not a hex digit at byte 4");
    let e = adapters::inbound::read(&profile("sepa_bank"), &[0x30, 0xFF, 0x30], false).unwrap_err();
    assert_eq!(e.to_string(), "ISO 20022: input is not UTF-8 at byte 1");
}

#[test]
fn status_values_agree_with_the_schema_and_the_readme() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("adapters/schemas/clearway.status.v1.json"))
            .unwrap(),
    )
    .unwrap();
    let in_schema: Vec<&str> = schema["properties"]["status"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let in_code: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(in_schema, in_code);
    for status in Status::ALL {
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            serde_json::Value::from(status.as_str())
        );
    }
    // adapters/README.md tables every code row and every status value
    let readme = std::fs::read_to_string(common::root().join("adapters/README.md")).unwrap();
    for row in Codes::shipped().rows() {
        let line = format!("| {} | `{}` | `{}` |", row.message, row.code, row.status);
        assert!(
            readme.contains(&line),
            "adapters/README.md lacks the row `{line}`"
        );
    }
    for status in Status::ALL {
        assert!(
            readme.contains(&format!("`{status}`")),
            "adapters/README.md does not explain `{status}`"
        );
    }
}

#[test]
fn cli_prints_one_object_or_an_array() {
    let fixtures = common::fixtures();
    let sepa = fixtures.join("profiles/sepa_bank.toml");
    let run = |file: &str| {
        common::clearway()
            .args(["adapt", "--profile"])
            .arg(&sepa)
            .arg("--inbound")
            .arg(fixtures.join("inbound/iso20022/sepa_bank").join(file))
            .output()
            .unwrap()
    };
    let out = run("ok/pacs002_rjct_ac04_closed_account.xml");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let one: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(one["status"], "rejected");
    assert_eq!(one["reasons"][0]["code"], "AC04");

    let out = run("ok/pacs008_received_two_transactions.xml");
    assert!(out.status.success());
    let several: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(several.as_array().map(Vec::len), Some(2));
    assert_eq!(several[1]["debtor_name"], "Σοφία Παπαδοπούλου");

    let out = run("err/pacs002_unmapped_status_blck.xml");
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("TxInfAndSts[1]/TxSts") && stderr.contains("at byte"),
        "{stderr}"
    );
}

#[test]
fn readme_matrix_is_the_code_s() {
    let out = common::clearway()
        .current_dir(common::root())
        .args(["adapt", "--list"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let matrix = String::from_utf8(out.stdout).unwrap();
    let path = common::root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- matrix:begin -->\n```\n", "```\n<!-- matrix:end -->");
    let (Some(head), Some(tail)) = (
        readme.split_once(begin).map(|(h, _)| h),
        readme.split_once(end).map(|(_, t)| t),
    ) else {
        panic!("README.md has no {begin:?} … {end:?} block");
    };
    let expected = format!("{head}{begin}{matrix}{end}{tail}");
    if std::env::var_os("UPDATE_MATRIX").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    assert!(
        readme == expected,
        "README.md's conformance matrix is not `clearway adapt --list`; regenerate it with \
         `UPDATE_MATRIX=1 cargo test --test adapters_inbound readme_matrix`"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn fixture_texts() -> Vec<Vec<u8>> {
        let dir = common::fixtures().join("inbound/iso20022/sepa_bank/ok");
        let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        out.sort();
        out
    }

    proptest! {
        #[test]
        fn no_input_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            for stem in ["sepa_bank", "card_acquirer"] {
                let _ = adapters::inbound::read(&profile(stem), &bytes, false);
            }
        }

        /// A fixture cut short or with one byte changed gives events or an error, never a
        /// panic; what it gives is always valid against the schema.
        #[test]
        fn mutated_answers_never_panic(
            pick in 0usize..64,
            cut in 0usize..10_000,
            at in 0usize..10_000,
            byte in prop::sample::select(b"<>/\"&;0A9 -".to_vec()),
        ) {
            let texts = fixture_texts();
            let text = &texts[pick % texts.len()];
            let sepa = profile("sepa_bank");
            let schema = status_schema();
            let mut changed = text.clone();
            changed[text.len() * at / 10_000] = byte;
            let cut_text = &text[..text.len() * cut / 10_000];
            for input in [&changed[..], cut_text] {
                if let Ok(events) = adapters::inbound::read(&sepa, input, false) {
                    for event in events {
                        let value = serde_json::to_value(&event).unwrap();
                        prop_assert!(schema.is_valid(&value), "{value}");
                    }
                }
            }
        }
    }
}
