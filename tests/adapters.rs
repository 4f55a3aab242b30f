//! The adapters end to end: profiles load, events agree with their JSON Schemas, every card
//! event × card profile gives a message that decodes back to the same fields (snapshots), every
//! invalid event is refused with all its reasons, and bank answers become status events.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers, as in every test

mod common;

use std::path::{Path, PathBuf};

use adapters::event::Event;
use adapters::profile::{Channel, Profile};
use emv::iso8583::unpack;

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

fn profiles() -> Vec<Profile> {
    files(&common::fixtures().join("profiles"), "toml")
        .iter()
        .map(|p| Profile::load(p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn card_profiles() -> Vec<Profile> {
    profiles()
        .into_iter()
        .filter(|p| p.channel == Channel::Iso8583)
        .collect()
}

/// Every event fixture: (type folder, file stem, text).
fn events() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for dir in files_dirs(&common::fixtures().join("events")) {
        let folder = dir.file_name().unwrap().to_string_lossy().into_owned();
        for file in files(&dir, "json") {
            let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
            out.push((
                folder.clone(),
                stem,
                std::fs::read_to_string(&file).unwrap(),
            ));
        }
    }
    out
}

fn files_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

#[test]
fn every_profile_loads() {
    let all = profiles();
    assert!(all.len() >= 4, "the four example profiles, at least");
    for id in [
        "sepa-bank",
        "fednow-bank",
        "corporate-channel",
        "card-acquirer",
    ] {
        assert!(all.iter().any(|p| p.id == id), "{id} missing");
    }
    let fednow = all.iter().find(|p| p.id == "fednow-bank").unwrap();
    assert_eq!(fednow.messages["payment_return"], "pacs.004.001.10");
    let sepa = all.iter().find(|p| p.id == "sepa-bank").unwrap();
    assert_eq!(sepa.messages["payment_return"], "pacs.004.001.09");
}

#[test]
fn a_dialect_file_is_read_relative_to_its_profile() {
    let dir = tempfile::tempdir().unwrap();
    let dialect =
        std::fs::read_to_string(common::root().join("emv/dialects/iso87binary.toml")).unwrap();
    std::fs::write(dir.path().join("bank87.toml"), dialect).unwrap();
    let profile = std::fs::read_to_string(common::fixtures().join("profiles/card_acquirer.toml"))
        .unwrap()
        .replace(
            "dialect = \"iso87binary\"",
            "dialect_file = \"bank87.toml\"",
        );
    std::fs::write(dir.path().join("bank.toml"), &profile).unwrap();
    let loaded = Profile::load(&dir.path().join("bank.toml")).unwrap();
    assert_eq!(loaded.dialect().unwrap().name(), "bank87");

    std::fs::write(
        dir.path().join("bad.toml"),
        profile.replace("bank87.toml", "missing.toml"),
    )
    .unwrap();
    let e = Profile::load(&dir.path().join("bad.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("iso8583.dialect") && e.contains("missing.toml"),
        "{e}"
    );
}

#[test]
fn events_agree_with_their_schemas() {
    let schemas = common::root().join("adapters/schemas");
    let mut checked = 0;
    for (folder, stem, text) in events() {
        let schema: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(schemas.join(format!("{folder}.json"))).unwrap(),
        )
        .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let instance: serde_json::Value = serde_json::from_str(&text).unwrap();
        let schema_ok = validator.is_valid(&instance);
        let parsed = Event::from_json(&text);
        let name = format!("{folder}/{stem}");
        if stem.starts_with("invalid") {
            // refused by both: the schema or the model (parse, then mapping) says no
            let refused = match &parsed {
                Err(_) => true,
                Ok(event) => profiles()
                    .iter()
                    .filter(|p| p.id == event.bank)
                    .all(|p| adapters::adapt(event, p).is_err()),
            };
            assert!(refused, "{name}: an invalid fixture was accepted");
            if !schema_ok {
                assert!(
                    parsed.is_err() || refused,
                    "{name}: the schema refuses what the model accepts"
                );
            }
        } else {
            assert!(schema_ok, "{name}: not valid per its schema");
            assert!(parsed.is_ok(), "{name}: {:?}", parsed.err());
        }
        // the schema never refuses what the model parses, except on meaning the mapping checks
        if schema_ok {
            assert!(
                parsed.is_ok() || stem.starts_with("invalid"),
                "{name}: schema-valid yet the model refuses its shape"
            );
        } else {
            assert!(
                stem.starts_with("invalid"),
                "{name}: the schema refuses a valid fixture"
            );
        }
        checked += 1;
    }
    assert!(checked >= 4 + 5 * 3, "{checked} fixtures");
}

#[test]
fn card_events_through_card_profiles() {
    let profiles = card_profiles();
    assert!(profiles.len() >= 2);
    let mut count = 0;
    for (folder, stem, text) in events() {
        if !folder.starts_with("card.") || stem.starts_with("invalid") {
            continue;
        }
        for profile in &profiles {
            let mut event = Event::from_json(&text).unwrap();
            event.bank = profile.id.clone();
            let out = adapters::adapt(&event, profile)
                .unwrap_or_else(|e| panic!("{folder}/{stem} × {}: {e}", profile.id));
            // deterministic: the same event and profile give the same bytes
            let again = adapters::adapt(&event, profile).unwrap();
            assert_eq!(out.wire, again.wire, "{folder}/{stem}: not deterministic");
            // decodes back to the same fields
            let dialect = profile.dialect().unwrap().clone();
            let decoded = unpack(&dialect, &out.wire).unwrap();
            assert_eq!(decoded.describe(&dialect).to_string(), out.described);
            assert_eq!(decoded.mti().as_str(), out.message_type);
            let mut shown = format!(
                "{} × {}: {} ({} bytes), key {}\n{}",
                folder,
                profile.id,
                out.message_type,
                out.wire.len(),
                out.message_key,
                out.described
            );
            for warning in &out.warnings {
                shown.push_str(&format!("warning: {warning}\n"));
            }
            insta::assert_snapshot!(format!("{}__{folder}__{stem}", profile.id), shown);
            count += 1;
        }
    }
    assert!(count >= 2 * 10, "{count}");
}

#[test]
fn invalid_card_events_are_refused_with_every_reason() {
    for (folder, stem, text) in events() {
        if !folder.starts_with("card.") || !stem.starts_with("invalid") {
            continue;
        }
        let refusal = match Event::from_json(&text) {
            Err(e) => format!("parse: {e}"),
            Ok(event) => {
                let profile = profiles().into_iter().find(|p| p.id == event.bank).unwrap();
                let e = adapters::adapt(&event, &profile).unwrap_err();
                format!("adapt:\n{}", e.reasons.join("\n"))
            }
        };
        assert!(!refusal.contains("4761739001010010"), "{stem}: PAN leaked");
        insta::assert_snapshot!(format!("refusal__{folder}__{stem}"), refusal);
    }
}

#[test]
fn inbound_iso8583_answers_become_status_events() {
    let root = common::fixtures().join("inbound/iso8583");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("adapters/schemas/clearway.status.v1.json"))
            .unwrap(),
    )
    .unwrap();
    let status_schema = jsonschema::validator_for(&schema).unwrap();
    for (dialect_dir, profile_file) in [
        ("iso87binary", "card_acquirer.toml"),
        ("iso87ascii", "card_acquirer_single.toml"),
    ] {
        let profile =
            Profile::load(&common::fixtures().join("profiles").join(profile_file)).unwrap();
        let dialect = profile.dialect().unwrap().clone();
        for kind in ["ok", "err"] {
            let dir = root.join(dialect_dir).join(kind);
            if !dir.is_dir() {
                continue;
            }
            for file in files(&dir, "hex") {
                let text = std::fs::read_to_string(&file).unwrap();
                let wire = emv::iso8583::parse_hex(text.trim()).unwrap();
                let result = adapters::inbound::iso8583(&profile, &dialect, &wire);
                let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
                let name = format!("inbound__{dialect_dir}__{kind}__{stem}");
                match (kind, result) {
                    ("ok", Ok(status)) => {
                        let json = serde_json::to_string_pretty(&status).unwrap();
                        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
                        assert!(
                            status_schema.is_valid(&value),
                            "{name}: not a valid status event"
                        );
                        assert!(!json.contains("4761739001010010"));
                        insta::assert_snapshot!(name, json);
                    }
                    ("err", Err(e)) => insta::assert_snapshot!(name, e.to_string()),
                    (kind, other) => panic!("{name}: {kind} fixture gave {other:?}"),
                }
            }
        }
    }
}

#[test]
fn cli_adapt_list_and_exit_codes() {
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
    insta::assert_snapshot!("matrix", matrix);
    // adapters/README.md shows the same matrix: generated from the code, never hand-kept
    let readme = std::fs::read_to_string(common::root().join("adapters/README.md")).unwrap();
    let shown = readme
        .split("<!-- matrix:start -->\n```\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n<!-- matrix:end -->").next())
        .unwrap_or("");
    assert_eq!(
        shown, matrix,
        "adapters/README.md's matrix is stale: paste `clearway adapt --list` between the markers"
    );

    let fixtures = common::fixtures();
    let profile = fixtures.join("profiles/card_acquirer.toml");
    let event = fixtures.join("events/card.authorization_requested/typical.json");
    let out = common::clearway()
        .args(["adapt", "--profile"])
        .arg(&profile)
        .arg(&event)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("4761739001010010"), "PAN in the clear");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["message_type"], "0100");

    let bad = fixtures.join("events/card.authorization_requested/invalid_decimals_and_expiry.json");
    let out = common::clearway()
        .args(["adapt", "--profile"])
        .arg(&profile)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    for reason in [
        "data.amount",
        "data.card.expiry",
        "data.terminal.mcc",
        "data.emv.9F26",
    ] {
        assert!(stderr.contains(reason), "{reason} missing from: {stderr}");
    }
    assert!(!stderr.contains("4761739001010010"));

    let answer =
        fixtures.join("inbound/iso8583/iso87binary/ok/0110_declined_insufficient_funds.hex");
    let out = common::clearway()
        .args(["adapt", "--profile"])
        .arg(&profile)
        .arg("--inbound")
        .arg(&answer)
        .arg("--hex")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"AM04\""));

    // the same answer as raw bytes (no --hex): read as the wire itself
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("answer.bin");
    let hex = std::fs::read_to_string(&answer).unwrap();
    std::fs::write(&raw, emv::iso8583::parse_hex(hex.trim()).unwrap()).unwrap();
    let out = common::clearway()
        .args(["adapt", "--profile"])
        .arg(&profile)
        .arg("--inbound")
        .arg(&raw)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"AM04\""));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A valid event of `event_type` built from the generated values.
    fn event_json(
        event_type: &str,
        id: u32,
        minor: u64,
        currency: &str,
        name: &str,
        emv: bool,
    ) -> String {
        let value = adapters::money::minor_to_string(
            minor,
            iso20022::money::Currency::parse(currency).unwrap(),
        );
        let amount = serde_json::json!({"value": value, "currency": currency});
        let card =
            serde_json::json!({"pan": "4761739001010010", "expiry": "2812", "entry_mode": "051"});
        let terminal = serde_json::json!({"terminal_id": "T1", "merchant_id": "M1",
            "merchant_name": name, "city": "Berlin", "country": "DE", "mcc": "5411"});
        let original =
            serde_json::json!({"event_id": "evt-o", "occurred_at": "2026-11-25T10:00:00Z"});
        let chip = if emv {
            serde_json::json!({"9F26": "0102030405060708", "9F27": "80"})
        } else {
            serde_json::json!({})
        };
        let total = |count: u64| serde_json::json!({"count": count, "amount": value});
        let data = match event_type {
            "card.authorization_requested" => serde_json::json!({"payment_id": "p",
                "amount": amount, "card": card, "terminal": terminal, "emv": chip}),
            "card.authorization_reversed" => serde_json::json!({"payment_id": "p",
                "amount": amount, "card": card, "terminal": terminal, "original": original}),
            "card.capture" => serde_json::json!({"payment_id": "p", "amount": amount,
                "card": card, "terminal": terminal, "emv": chip, "authorization":
                {"event_id": "evt-o", "occurred_at": "2026-11-25T10:00:00Z", "approval_code": "ABC123"}}),
            "card.refund" => serde_json::json!({"payment_id": "p", "amount": amount,
                "card": card, "terminal": terminal}),
            _ => {
                serde_json::json!({"batch_id": "b", "currency": currency, "settlement_date": "1126",
                "credits": total(1), "credit_reversals": total(1), "debits": total(2),
                "debit_reversals": total(2), "net": "0"})
            }
        };
        serde_json::json!({"schema": "clearway.event.v1", "event_id": format!("evt-prop-{id}"),
            "type": event_type, "occurred_at": "2026-11-25T10:15:30Z", "bank": "x", "data": data})
        .to_string()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn random_valid_events_give_valid_messages(
            id in 0u32..1_000_000,
            minor in 0u64..1_000_000_000_000,
            currency in prop::sample::select(vec!["EUR", "USD", "JPY", "BHD", "GBP"]),
            name in "[ -~]{1,60}",
            emv in any::<bool>(),
            event_type in prop::sample::select(vec![
                "card.authorization_requested",
                "card.authorization_reversed",
                "card.capture",
                "card.refund",
                "card.batch_closed",
            ]),
        ) {
            let text = event_json(event_type, id, minor, currency, &name, emv);
            for profile in card_profiles() {
                let mut event = Event::from_json(&text).unwrap();
                event.bank = profile.id.clone();
                let out = adapters::adapt(&event, &profile).unwrap();
                let dialect = profile.dialect().unwrap().clone();
                let decoded = unpack(&dialect, &out.wire).unwrap();
                let (field, width) = if event_type == "card.batch_closed" { (86, 16) } else { (4, 12) };
                let amount = decoded.text(field).unwrap().into_owned();
                prop_assert_eq!(amount, format!("{minor:0width$}"));
                if event_type == "card.batch_closed" {
                    // equal debits and credits net to zero
                    prop_assert_eq!(decoded.text(97).unwrap().into_owned(), format!("C{:016}", 0));
                }
                prop_assert!(!out.described.contains("4761739001010010"));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Hostile input gives a value or an error, never a panic.
        #[test]
        fn no_input_panics(text in ".{0,300}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = Event::from_json(&text);
            let _ = Profile::from_toml("fuzz", &text);
            let _ = adapters::de39::Table::from_toml(&text);
            for profile in card_profiles() {
                let _ = adapters::inbound::iso8583(&profile, profile.dialect().unwrap(), &bytes);
            }
        }

        /// A valid event with one JSON value replaced by noise is refused or mapped, never a panic.
        #[test]
        fn mutated_events_never_panic(index in 0usize..64, noise in prop::sample::select(vec![
            "\"\"", "\"x\"", "-1", "1e999", "null", "[]", "{}", "\"99999999999999999999.999\"",
        ])) {
            let text = std::fs::read_to_string(
                common::fixtures().join("events/card.authorization_requested/typical.json"),
            ).unwrap();
            // replace the value after the n-th `": "` (up to the next ',' or newline) with noise
            let mut parts: Vec<String> = text.split(": ").map(str::to_owned).collect();
            let n = 1 + index % (parts.len() - 1);
            let end = parts[n].find([',', '\n']).unwrap_or(parts[n].len());
            parts[n] = format!("{noise}{}", &parts[n][end..]);
            if let Ok(event) = Event::from_json(&parts.join(": ")) {
                for profile in card_profiles() {
                    let _ = adapters::adapt(&event, &profile);
                }
            }
        }
    }
}
