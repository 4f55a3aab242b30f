//! The ISO 20022 outbound mappings end to end: every transfer/payout event × every ISO 20022
//! profile that plans a message for it gives either an XML message (snapshot; each ISO part
//! XSD-valid per xmllint; byte-identical on a second run) or a refusal for a documented reason
//! (snapshot); invalid events are refused with every reason; random valid events give messages
//! that pass validation for every profile.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers, as in every test

mod common;

use std::path::{Path, PathBuf};

use adapters::event::Event;
use adapters::profile::{Channel, Profile};

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

fn iso_profiles() -> Vec<Profile> {
    files(&common::fixtures().join("profiles"), "toml")
        .iter()
        .map(|p| Profile::load(p).unwrap_or_else(|e| panic!("{e}")))
        .filter(|p| p.channel == Channel::Iso20022)
        .collect()
}

/// The ISO 20022 event fixtures: (type folder, file stem, text).
fn iso_events() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for folder in [
        "transfer.requested",
        "transfer.cancel_requested",
        "transfer.return_requested",
        "payout.batch_requested",
    ] {
        for file in files(&common::fixtures().join("events").join(folder), "json") {
            let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
            out.push((
                folder.to_owned(),
                stem,
                std::fs::read_to_string(&file).unwrap(),
            ));
        }
    }
    out
}

/// Validates one ISO part (as written, cut out of the message) against the XSD of its version
/// from the shared conformance set.
fn xmllint(part: &str, version: &str) -> Result<(), String> {
    let xsd = common::conformance()
        .join("iso20022")
        .join("xsd")
        .join(format!("{version}.xsd"));
    common::xmllint(part, &xsd)
}

/// The element `<name …>…</name>` cut out of the XML as written, with its version (from its
/// default namespace).
fn part<'x>(xml: &'x str, name: &str) -> Option<(&'x str, &'x str)> {
    let start = xml.find(&format!("<{name} "))?;
    let close = format!("</{name}>");
    let end = xml[start..].find(&close)? + start + close.len();
    let text = &xml[start..end];
    let ns = text.split("xmlns=\"").nth(1)?.split('"').next()?;
    let version = ns.strip_prefix(iso20022::wire::ISO_NS_PREFIX)?;
    Some((text, version))
}

/// Every ISO part of `xml` validates against its XSD; returns the versions checked.
fn xsd_valid(xml: &str) -> Vec<String> {
    let mut checked = Vec::new();
    for name in ["AppHdr", "Document"] {
        if let Some((text, version)) = part(xml, name) {
            if let Err(e) = xmllint(text, version) {
                panic!("{name} ({version}) is not XSD-valid: {e}");
            }
            checked.push(version.to_owned());
        }
    }
    assert!(
        checked.iter().any(|v| !v.starts_with("head.")),
        "no Document"
    );
    checked
}

/// The snapshot of a message: a summary line, warnings, then the XML; a very large message
/// (the batch of 500) shows its SHA-256 and its XML up to the end of the first transaction.
fn shown(out: &adapters::Outbound, xml: &str) -> String {
    use sha2::Digest;
    let mut s = format!(
        "{} ({} bytes), key {}\n",
        out.message_type,
        out.wire.len(),
        out.message_key
    );
    for w in &out.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    if xml.len() > 20_000 {
        let digest = sha2::Sha256::digest(xml.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let cut = xml
            .find("</CdtTrfTxInf>")
            .map_or(xml.len(), |i| i + "</CdtTrfTxInf>".len());
        s.push_str(&format!("sha256 {hex}\n{}…\n", &xml[..cut]));
    } else {
        s.push_str(xml);
    }
    s
}

/// A refusal is expected only for these documented reasons: the rule pack's currencies.
const DOCUMENTED_REFUSALS: &[&str] = &["SEPA-CURRENCY"];

#[test]
fn iso_events_through_iso_profiles() {
    let profiles = iso_profiles();
    assert_eq!(
        profiles.len(),
        3,
        "sepa-bank, fednow-bank, corporate-channel"
    );
    let (mut messages, mut refusals) = (0, 0);
    for (folder, stem, text) in iso_events() {
        if stem.starts_with("invalid") {
            continue;
        }
        for profile in &profiles {
            let mut event = Event::from_json(&text).unwrap();
            if profile.planned_message(event.event_type).is_none() {
                continue; // e.g. a corporate channel sends no camt.056
            }
            event.bank = profile.id.clone();
            let name = format!("{}__{folder}__{stem}", profile.id);
            match adapters::adapt(&event, profile) {
                Ok(out) => {
                    let xml = String::from_utf8(out.wire.clone()).unwrap();
                    assert_eq!(out.described, xml);
                    assert_eq!(
                        Some(out.message_type.clone()),
                        profile.planned_message(event.event_type)
                    );
                    // deterministic: the same event and profile give the same bytes
                    let again = adapters::adapt(&event, profile).unwrap();
                    assert_eq!(out.wire, again.wire, "{name}: not deterministic");
                    let versions = xsd_valid(&xml);
                    assert!(versions.contains(&out.message_type), "{name}: {versions:?}");
                    assert_eq!(
                        versions.iter().any(|v| v.starts_with("head.")),
                        profile.header.as_ref().is_some_and(|h| h.bah),
                        "{name}: BAH as the profile says"
                    );
                    // it reads back as the same message, through the crate's own reader
                    let read = iso20022::read(&xml).unwrap();
                    assert_eq!(iso20022::write(&read), xml, "{name}: not canonical");
                    insta::assert_snapshot!(name, shown(&out, &xml));
                    messages += 1;
                }
                Err(refusal) => {
                    for reason in &refusal.reasons {
                        assert!(
                            DOCUMENTED_REFUSALS.iter().any(|r| reason.contains(r)),
                            "{name}: refused for an undocumented reason: {reason}"
                        );
                    }
                    // a batch repeats one reason per transaction: show the first ten and the count
                    let mut shown: Vec<String> = refusal.reasons.iter().take(10).cloned().collect();
                    if refusal.reasons.len() > 10 {
                        shown.push(format!("… {} reasons in all", refusal.reasons.len()));
                    }
                    insta::assert_snapshot!(format!("refused__{name}"), shown.join("\n"));
                    refusals += 1;
                }
            }
        }
    }
    assert!(messages >= 20, "{messages} messages");
    assert!(refusals >= 1, "{refusals} refusals");
}

#[test]
fn invalid_iso_events_are_refused_with_every_reason() {
    let profiles = iso_profiles();
    let mut count = 0;
    for (folder, stem, text) in iso_events() {
        if !stem.starts_with("invalid") {
            continue;
        }
        let refusal = match Event::from_json(&text) {
            Err(e) => format!("parse: {e}"),
            Ok(event) => {
                let profile = profiles.iter().find(|p| p.id == event.bank).unwrap();
                let e = adapters::adapt(&event, profile).unwrap_err();
                assert!(e.reasons.len() >= 2 || folder.contains("return"), "{stem}");
                format!("adapt:\n{}", e.reasons.join("\n"))
            }
        };
        insta::assert_snapshot!(format!("refusal__{folder}__{stem}"), refusal);
        count += 1;
    }
    assert!(count >= 4, "{count}");
}

#[test]
fn derived_references_find_the_original() {
    // a recall names the original transfer by the MsgId and UETR it was sent with
    let fixtures = common::fixtures().join("events");
    let profile = Profile::load(&common::fixtures().join("profiles/fednow_bank.toml")).unwrap();
    let transfer = Event::from_json(
        &std::fs::read_to_string(fixtures.join("transfer.requested/edge_jpy_fednow.json")).unwrap(),
    )
    .unwrap();
    let cancel = Event::from_json(
        &std::fs::read_to_string(
            fixtures.join("transfer.cancel_requested/edge_fednow_instructing_agent.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let sent = adapters::adapt(&transfer, &profile).unwrap();
    let recall = adapters::adapt(&cancel, &profile).unwrap();
    let recall_xml = String::from_utf8(recall.wire).unwrap();
    let uetr = adapters::outbound::iso_common::uetr(transfer.event_id.as_str(), None);
    assert!(String::from_utf8(sent.wire).unwrap().contains(&uetr));
    assert!(recall_xml.contains(&format!("<OrgnlMsgId>{}</OrgnlMsgId>", sent.message_key)));
    assert!(recall_xml.contains(&format!("<OrgnlUETR>{uetr}</OrgnlUETR>")));
}

#[test]
fn cli_prints_the_xml_as_is() {
    let fixtures = common::fixtures();
    let out = common::clearway()
        .args(["adapt", "--profile"])
        .arg(fixtures.join("profiles/sepa_bank.toml"))
        .arg(fixtures.join("events/transfer.requested/edge_non_latin_max_lengths.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AppHdr"));
    assert!(stdout.contains("warning: data.creditor.name: "));

    let out = common::clearway()
        .args(["adapt", "--profile"])
        .arg(fixtures.join("profiles/fednow_bank.toml"))
        .arg(fixtures.join("events/transfer.return_requested/invalid_uetr.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UETR-V4"));
}

#[test]
fn zero_amounts_and_illegal_characters_are_refused() {
    let profile = Profile::load(&common::fixtures().join("profiles/fednow_bank.toml")).unwrap();
    let text = std::fs::read_to_string(
        common::fixtures().join("events/transfer.requested/edge_jpy_fednow.json"),
    )
    .unwrap()
    .replace("\"125000\"", "\"0\"")
    .replace("Order 7781", "Order \\u0007 \\uFFFF");
    let event = Event::from_json(&text).unwrap();
    let refusal = adapters::adapt(&event, &profile).unwrap_err();
    assert_eq!(
        refusal.reasons,
        [
            "data.amount: must be greater than zero",
            "data.remittance: control characters are not allowed",
        ]
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const IBANS: &[&str] = &[
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
        "GB29NWBK60161331926819",
        "GB82WEST12345698765432",
    ];

    fn party(name: &str, account: usize, town: &str) -> serde_json::Value {
        let account = match IBANS.get(account) {
            Some(iban) => json!({"iban": iban}),
            None => json!({"other": format!("ACC{account}")}),
        };
        json!({"name": name, "address": {"town_name": town, "country": "DE"},
            "account": account, "agent_bic": "EXSEDEFFXXX"})
    }

    #[allow(clippy::too_many_arguments)]
    fn event_json(
        event_type: &str,
        id: u32,
        minors: &[u64],
        currency: &str,
        names: &[String],
        e2e: &str,
        account: usize,
        remittance: Option<&str>,
    ) -> String {
        let amount = |minor: u64| {
            let value = adapters::money::minor_to_string(
                minor,
                iso20022::money::Currency::parse(currency).unwrap(),
            );
            json!({"value": value, "currency": currency})
        };
        let name = |i: usize| names[i % names.len()].clone();
        let data = match event_type {
            "transfer.requested" => json!({"payment_id": "p", "end_to_end_id": e2e,
                "amount": amount(minors[0]), "debtor": party(&name(0), account, &name(1)),
                "creditor": party(&name(1), account + 1, "Berlin"), "remittance": remittance}),
            "transfer.cancel_requested" => json!({"payment_id": "p",
                "original_event_id": format!("evt-orig-{id}"), "original_end_to_end_id": e2e,
                "amount": amount(minors[0]), "reason": "DUPL"}),
            "transfer.return_requested" => json!({"payment_id": "p",
                "original_msg_id": format!("BANK-{id}"), "original_end_to_end_id": e2e,
                "original_uetr": adapters::outbound::iso_common::uetr(&id.to_string(), None),
                "amount": amount(minors[0]), "reason": "AC04"}),
            _ => json!({"batch_id": "b", "debtor": party(&name(0), account, "Berlin"),
                "payouts": minors.iter().enumerate().map(|(i, m)| json!({
                    "payment_id": format!("p{i}"), "end_to_end_id": format!("{e2e:.28}-{i}"),
                    "amount": amount(*m), "creditor": party(&name(i + 1), account + i, "Köln"),
                    "remittance": remittance})).collect::<Vec<_>>()}),
        };
        let mut data = data;
        if let Some(map) = data.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
        json!({"schema": "clearway.event.v1", "event_id": format!("evt-prop-{id}"),
            "type": event_type, "occurred_at": "2026-11-25T10:15:30+01:00", "bank": "x",
            "data": data})
        .to_string()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// A valid ISO 20022 event with one JSON value replaced by noise is refused or mapped,
        /// never a panic.
        #[test]
        fn mutated_iso_events_never_panic(
            file in prop::sample::select(vec![
                "transfer.requested/edge_non_latin_max_lengths.json",
                "transfer.cancel_requested/typical.json",
                "transfer.return_requested/typical.json",
                "payout.batch_requested/typical.json",
            ]),
            index in 0usize..64,
            noise in prop::sample::select(vec![
                "\"\"", "\"x\"", "-1", "0", "1e999", "null", "[]", "{}", "\"\\u0000\"",
                "\"99999999999999999999.999\"", "\"0.00\"", "\"\\uFFFF\"", "\" \"",
            ]),
        ) {
            let text = std::fs::read_to_string(common::fixtures().join("events").join(file)).unwrap();
            let mut parts: Vec<String> = text.split(": ").map(str::to_owned).collect();
            let n = 1 + index % (parts.len() - 1);
            let end = parts[n].find([',', '\n']).unwrap_or(parts[n].len());
            parts[n] = format!("{noise}{}", &parts[n][end..]);
            if let Ok(event) = Event::from_json(&parts.join(": ")) {
                for profile in iso_profiles() {
                    if let Ok(out) = adapters::adapt(&event, &profile) {
                        prop_assert!(!out.wire.is_empty());
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn random_valid_events_give_valid_messages(
            id in 0u32..1_000_000,
            minors in prop::collection::vec(1u64..100_000_000_000, 1..12),
            currency in prop::sample::select(vec!["EUR", "USD", "JPY", "GBP"]),
            names in prop::collection::vec("[A-Za-z0-9 .,'&_äöüßéÆŁЖщΘλ山田-]{1,180}", 1..4),
            e2e in "[A-Za-z0-9][A-Za-z0-9/?:().,'+-]{0,34}",
            account in 0usize..6,
            remittance in prop::option::of("[ -~äöü]{1,200}"),
            event_type in prop::sample::select(vec![
                "transfer.requested",
                "transfer.cancel_requested",
                "transfer.return_requested",
                "payout.batch_requested",
            ]),
        ) {
            // names must keep something after trimming; all-space names are refused by design
            prop_assume!(names.iter().all(|n| !n.trim().is_empty()));
            let text = event_json(event_type, id, &minors, currency, &names, &e2e, account,
                remittance.as_deref().filter(|r| !r.trim().is_empty()));
            for profile in iso_profiles() {
                let mut event = Event::from_json(&text).unwrap();
                if profile.planned_message(event.event_type).is_none() {
                    continue;
                }
                event.bank = profile.id.clone();
                match adapters::adapt(&event, &profile) {
                    Ok(out) => {
                        // what left passed levels 1–3; check again from the bytes alone
                        let pack = profile.rule_pack.as_deref()
                            .map(|p| iso20022::rules::RulePack::shipped(p).unwrap());
                        let options = iso20022::validate::Options {
                            pack: pack.as_ref(),
                            ..Default::default()
                        };
                        let report = iso20022::validate::validate_bytes(&out.wire, &options).unwrap();
                        prop_assert!(report.is_valid(), "{:?}", report.violations);
                        let xml = String::from_utf8(out.wire).unwrap();
                        let count = if event_type == "payout.batch_requested" { minors.len() } else { 1 };
                        let expected = if event_type == "transfer.cancel_requested" {
                            "<Undrlyg><TxInf>".to_owned() // camt.056 counts nothing
                        } else {
                            format!("<NbOfTxs>{count}</NbOfTxs>")
                        };
                        prop_assert!(xml.contains(&expected), "{}", expected);
                    }
                    Err(refusal) => {
                        // documented: a pack allows only its currencies
                        prop_assert!(currency != "EUR" && profile.rule_pack.is_some(),
                            "{}: {:?}", profile.id, refusal.reasons);
                        for reason in &refusal.reasons {
                            prop_assert!(DOCUMENTED_REFUSALS.iter().any(|r| reason.contains(r)),
                                "{}: {reason}", profile.id);
                        }
                    }
                }
            }
        }
    }
}
