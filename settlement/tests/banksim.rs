//! The bank simulator's pure core: answers for every profile and every outbound message we can
//! produce (card events through `adapters::adapt`; ISO 20022 requests from the shared
//! conformance samples and `fixtures/iso20022/` until the outbound ISO 20022 mappings land),
//! valid, referencing their request and identical across runs; journal dedupe across a
//! restart; end-of-day statements that balance and pass xmllint; the faults planner.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use adapters::{Event, Profile};
use chrono::{DateTime, TimeZone, Utc};
use iso20022::wire::Body;
use proptest::prelude::*;
use settlement::banksim::{
    Answer, Bank, Delivery, Faults, Journal, PerMille, PlannedKind, SimConfig, SimError, Stage,
    answer, plan,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn conformance() -> PathBuf {
    let shared = std::env::var_os("CLEARWAY_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("..").join("shared"));
    shared.join("conformance")
}

fn profiles() -> Vec<Profile> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/profiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Profile::load(p).unwrap()).collect()
}

fn profile(id: &str) -> Profile {
    profiles().into_iter().find(|p| p.id == id).unwrap()
}

fn clock() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap()
}

fn config(seed: u64) -> SimConfig {
    SimConfig::new(seed, clock())
}

/// Every valid card event of `fixtures/events/`, adapted for `profile`.
fn card_requests(profile: &Profile) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for file in files {
            let Ok(mut event) = Event::from_json(&std::fs::read_to_string(&file).unwrap()) else {
                continue;
            };
            event.bank = profile.id.clone();
            if let Ok(out_msg) = adapters::adapt(&event, profile) {
                out.push((file.display().to_string(), out_msg.wire));
            }
        }
    }
    out
}

/// ISO 20022 requests a bank receives: the shared samples of the types Clearway sends.
fn iso_requests() -> Vec<(String, Vec<u8>)> {
    let samples = conformance().join("iso20022/samples");
    let mut out = Vec::new();
    for name in [
        "cbpr_c.105.1.1_pacs.008_AtoB.xml",
        "cbpr_c.53.5_pacs.008_AtoB.xml",
        "fednow_Sc1_Step1_pacs.008.xml",
        "fednow_Var2_StructuredRemit_pacs.008.xml",
        "fednow_PaymentReturn_Sc1_Step2_camt.056.xml",
        "mt2mx_mt192_camt.056_A_D.xml",
        "fednow_PaymentReturn_Sc1_Step4_pacs.004.xml",
        "cbpr_p.2.1.2_pacs.004_CtoB.xml",
    ] {
        out.push((name.to_owned(), std::fs::read(samples.join(name)).unwrap()));
    }
    for rel in [
        "iso20022/ok/pain.001.001.09_single_eur.xml",
        "iso20022/roundtrip/pain.001.001.09_clearway.xml",
    ] {
        out.push((
            rel.to_owned(),
            std::fs::read(root().join("fixtures").join(rel)).unwrap(),
        ));
    }
    out.push(("batch of 4".into(), batch_pacs008(4)));
    out
}

/// A pacs.008 with `n` transactions (a payout batch), from the FedNow sample.
fn batch_pacs008(n: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(
        conformance().join("iso20022/samples/fednow_Sc1_Step1_pacs.008.xml"),
    )
    .unwrap();
    let mut msg = iso20022::read(&text).unwrap();
    let Body::FiCreditTransfer(ct) = &mut msg.document.body else {
        panic!("not a pacs.008");
    };
    ct.grp_hdr.msg_id = iso20022::model::common::MsgId::from("BATCH-0001");
    let tx = ct.cdt_trf_tx_inf.first().unwrap().clone();
    ct.cdt_trf_tx_inf = (0..n)
        .map(|i| {
            let mut t = tx.clone();
            t.pmt_id.end_to_end_id = Some(format!("E2E-BATCH-{i}").as_str().into());
            t.pmt_id.tx_id = Some(format!("TX-BATCH-{i}").as_str().into());
            t.pmt_id.uetr = Some(
                format!("8a562c67-ca16-48ba-b074-65581be6f0{i:02}")
                    .as_str()
                    .into(),
            );
            t.intr_bk_sttlm_amt.value = rust_decimal::Decimal::new(1000 + i as i64, 2);
            t
        })
        .collect();
    ct.grp_hdr.nb_of_txs = Some(n.to_string());
    ct.grp_hdr.ttl_intr_bk_sttlm_amt = None;
    ct.grp_hdr.ctrl_sum = None;
    iso20022::write(&msg).into_bytes()
}

/// The FedNow camt.056 sample, cancelling the first transaction of [`batch_pacs008`].
fn clean_camt056() -> Vec<u8> {
    let text = std::fs::read_to_string(
        conformance().join("iso20022/samples/fednow_PaymentReturn_Sc1_Step2_camt.056.xml"),
    )
    .unwrap();
    let mut msg = iso20022::read(&text).unwrap();
    let Body::CancellationRequest(req) = &mut msg.document.body else {
        panic!("not a camt.056");
    };
    req.assgnmt.id = "CXL-0001".into();
    req.rest.0.retain(|x| x.element.name != "Case");
    for u in &mut req.undrlyg {
        for tx in &mut u.tx_inf {
            if let Some(g) = &mut tx.orgnl_grp_inf {
                g.orgnl_msg_id = "BATCH-0001".into();
            }
            tx.orgnl_end_to_end_id = Some("E2E-BATCH-0".into());
            tx.orgnl_uetr = Some("8a562c67-ca16-48ba-b074-65581be6f000".into());
            for r in &mut tx.cxl_rsn_inf {
                r.addtl_inf.clear();
            }
        }
    }
    iso20022::write(&msg).into_bytes()
}

/// The pain.001 fixture with a debtor IBAN whose digits do not look like a card number.
fn clean_pain001() -> Vec<u8> {
    let text =
        std::fs::read_to_string(root().join("fixtures/iso20022/ok/pain.001.001.09_single_eur.xml"))
            .unwrap();
    let mut msg = iso20022::read(&text).unwrap();
    let Body::CustomerCreditTransferInitiation(ct) = &mut msg.document.body else {
        panic!("not a pain.001");
    };
    for p in &mut ct.pmt_inf {
        if let Some(acct) = &mut p.dbtr_acct {
            acct.id.iban = Some("GB33BUKB20201555555555".into());
        }
    }
    iso20022::write(&msg).into_bytes()
}

/// Schema-level validity of every ISO part.
fn schema_valid(bytes: &[u8]) -> Result<(), String> {
    let options = iso20022::validate::Options {
        schema_only: true,
        ..Default::default()
    };
    let report = iso20022::validate::validate_bytes(bytes, &options).map_err(|e| e.to_string())?;
    if report.is_valid() {
        Ok(())
    } else {
        Err(format!("{:?}", report.violations))
    }
}

/// The original references an ISO 20022 request carries (MsgId, EndToEndIds, UETRs).
fn request_refs(bytes: &[u8]) -> (BTreeSet<String>, BTreeSet<String>) {
    let msg = iso20022::read(std::str::from_utf8(bytes).unwrap()).unwrap();
    let mut ids = BTreeSet::new();
    let mut e2e = BTreeSet::new();
    match &msg.document.body {
        Body::FiCreditTransfer(ct) => {
            ids.insert(ct.grp_hdr.msg_id.0.clone());
            for tx in &ct.cdt_trf_tx_inf {
                e2e.extend(tx.pmt_id.end_to_end_id.iter().map(|e| e.0.clone()));
            }
        }
        Body::CustomerCreditTransferInitiation(ct) => {
            ids.insert(ct.grp_hdr.msg_id.0.clone());
            for p in &ct.pmt_inf {
                for tx in &p.cdt_trf_tx_inf {
                    e2e.extend(tx.pmt_id.end_to_end_id.iter().map(|e| e.0.clone()));
                }
            }
        }
        Body::CancellationRequest(c) => {
            for u in &c.undrlyg {
                for tx in &u.tx_inf {
                    ids.extend(tx.orgnl_grp_inf.iter().map(|g| g.orgnl_msg_id.0.clone()));
                    e2e.extend(tx.orgnl_end_to_end_id.iter().map(|e| e.0.clone()));
                }
            }
        }
        Body::PaymentReturn(r) => {
            ids.insert(r.grp_hdr.msg_id.0.clone());
            for tx in &r.tx_inf {
                e2e.extend(tx.orgnl_end_to_end_id.iter().map(|e| e.0.clone()));
            }
        }
        _ => panic!("not a request"),
    }
    (ids, e2e)
}

/// The original references an answer carries.
fn answer_refs(a: &Answer) -> (BTreeSet<String>, BTreeSet<String>) {
    let msg = iso20022::read(std::str::from_utf8(&a.bytes).unwrap()).unwrap();
    let mut ids = BTreeSet::new();
    let mut e2e = BTreeSet::new();
    match &msg.document.body {
        Body::PaymentStatusReport(r) => {
            ids.extend(
                r.orgnl_grp_inf_and_sts
                    .iter()
                    .map(|g| g.orgnl_msg_id.0.clone()),
            );
            for tx in &r.tx_inf_and_sts {
                e2e.extend(tx.orgnl_end_to_end_id.iter().map(|e| e.0.clone()));
            }
        }
        Body::PaymentReturn(r) => {
            for tx in &r.tx_inf {
                ids.extend(tx.orgnl_grp_inf.iter().map(|g| g.orgnl_msg_id.0.clone()));
                e2e.extend(tx.orgnl_end_to_end_id.iter().map(|e| e.0.clone()));
            }
        }
        Body::InvestigationResolution(r) => {
            for d in &r.cxl_dtls {
                for tx in &d.tx_inf_and_sts {
                    ids.extend(tx.orgnl_grp_inf.iter().map(|g| g.orgnl_msg_id.0.clone()));
                    e2e.extend(tx.orgnl_end_to_end_id.iter().map(|e| e.0.clone()));
                }
            }
        }
        Body::Notification(n) => {
            for r in &n.ntfctn {
                for e in &r.ntry {
                    for d in &e.ntry_dtls {
                        for t in &d.tx_dtls {
                            let refs = t.refs.as_ref().unwrap();
                            ids.extend(refs.msg_id.iter().map(|m| m.0.clone()));
                            e2e.extend(refs.end_to_end_id.iter().map(|m| m.0.clone()));
                        }
                    }
                }
            }
        }
        _ => panic!("{}: not an answer", a.message_type),
    }
    (ids, e2e)
}

/// Rates that exercise every path across a few seeds.
fn busy(seed: u64) -> SimConfig {
    SimConfig {
        reject_rate: PerMille::new(300).unwrap(),
        return_rate: PerMille::new(300).unwrap(),
        cancel_reject_rate: PerMille::new(300).unwrap(),
        ..config(seed)
    }
}

#[test]
fn card_answers_decode_echo_the_request_and_repeat() {
    let mut count = 0;
    for profile in profiles().iter().filter(|p| p.dialect().is_some()) {
        let dialect = profile.dialect().unwrap();
        let requests = card_requests(profile);
        assert!(requests.len() >= 5, "{}: {}", profile.id, requests.len());
        for (name, wire) in &requests {
            for cfg in [config(1), busy(2), busy(3)] {
                let answers = answer(profile, wire, &cfg).unwrap();
                assert_eq!(answers, answer(profile, wire, &cfg).unwrap(), "{name}");
                let [a] = answers.as_slice() else {
                    panic!("{name}: one answer expected")
                };
                let req = emv::iso8583::unpack(dialect, wire).unwrap();
                let resp = emv::iso8583::unpack(dialect, &a.bytes).unwrap();
                let (q, r) = (req.mti(), resp.mti());
                assert_eq!(
                    r.as_str().parse::<u32>().unwrap(),
                    q.as_str().parse::<u32>().unwrap() + 10,
                    "{name}"
                );
                assert_eq!(a.message_type, r.as_str());
                assert_eq!(a.stage, Stage::Immediate);
                for n in [2, 3, 4, 7, 11, 12, 37, 41, 42, 49] {
                    assert_eq!(req.get(n), resp.get(n), "{name}: DE {n}");
                }
                let code = resp.text(39).unwrap().into_owned();
                assert!(
                    ["00", "05", "51"].contains(&code.as_str()),
                    "{name}: {code}"
                );
                if q.as_str() == "0100" || q.as_str() == "0200" {
                    assert_eq!(resp.get(38).is_some(), code == "00", "{name}");
                } else {
                    assert_eq!(code, "00", "{name}");
                }
                if q.as_str() == "0500" {
                    assert_eq!(resp.text(66).unwrap(), "1");
                }
                // The id names the answer, never the card.
                let pan = req.text(2).map(|p| p.into_owned()).unwrap_or_default();
                assert!(a.message_id.starts_with(r.as_str()), "{}", a.message_id);
                if !pan.is_empty() {
                    assert!(!a.message_id.contains(&pan));
                    assert!(!format!("{a:?}").contains(&pan));
                }
                count += 1;
            }
        }
    }
    assert!(count >= 30, "{count}");
}

#[test]
fn every_authorization_is_declined_at_a_full_reject_rate() {
    let profile = profile("card-acquirer");
    let cfg = SimConfig {
        reject_rate: PerMille::ALL,
        ..config(7)
    };
    let dialect = profile.dialect().unwrap();
    for (name, wire) in card_requests(&profile) {
        let req = emv::iso8583::unpack(dialect, &wire).unwrap();
        let [a] = answer(&profile, &wire, &cfg).unwrap().try_into().unwrap();
        let resp = emv::iso8583::unpack(dialect, &a.bytes).unwrap();
        let declines = req.mti().as_str() == "0100";
        let code = resp.text(39).unwrap().into_owned();
        assert_eq!(code != "00", declines, "{name}: {code}");
    }
}

#[test]
fn iso20022_answers_validate_reference_their_request_and_repeat() {
    let mut kinds = BTreeSet::new();
    let mut count = 0;
    for profile in profiles().iter().filter(|p| p.dialect().is_none()) {
        for (name, request) in iso_requests() {
            for seed in 0..6 {
                let cfg = busy(seed);
                let answers = answer(profile, &request, &cfg)
                    .unwrap_or_else(|e| panic!("{} × {name}: {e}", profile.id));
                assert!(!answers.is_empty(), "{name}");
                assert_eq!(answers, answer(profile, &request, &cfg).unwrap(), "{name}");
                let (ids, e2e) = request_refs(&request);
                for a in &answers {
                    schema_valid(&a.bytes).unwrap_or_else(|e| {
                        panic!("{} × {name}: {}: {e}", profile.id, a.message_type)
                    });
                    assert!(a.message_id.starts_with("SIM") && a.message_id.len() == 35);
                    let (a_ids, a_e2e) = answer_refs(a);
                    assert!(a_ids.is_subset(&ids), "{name}: {a_ids:?} ⊄ {ids:?}");
                    assert!(
                        !a_e2e.is_empty() && a_e2e.is_subset(&e2e),
                        "{name}: {a_e2e:?}"
                    );
                    let msg = iso20022::read(std::str::from_utf8(&a.bytes).unwrap()).unwrap();
                    assert_eq!(
                        msg.header.is_some(),
                        profile.header.as_ref().is_some_and(|h| h.bah)
                    );
                    let status = match &msg.document.body {
                        Body::PaymentStatusReport(r) => {
                            r.tx_inf_and_sts[0].tx_sts.as_ref().unwrap().0.clone()
                        }
                        Body::InvestigationResolution(r) => {
                            r.sts.as_ref().unwrap().conf.as_ref().unwrap().0.clone()
                        }
                        _ => String::new(),
                    };
                    kinds.insert(format!("{} {status}", &a.message_type[..8]));
                    count += 1;
                }
                let ids: BTreeSet<&str> = answers.iter().map(|a| a.message_id.as_str()).collect();
                assert_eq!(ids.len(), answers.len(), "{name}: answer ids repeat");
            }
        }
    }
    for k in [
        "pacs.002 ACCP",
        "pacs.002 ACSC",
        "pacs.002 RJCT",
        "camt.054 ",
        "pacs.004 ",
        "camt.029 CNCL",
        "camt.029 RJCR",
    ] {
        assert!(kinds.contains(k), "{k} never answered: {kinds:?}");
    }
    assert!(count > 200, "{count}");
}

#[test]
fn payment_returns_follow_the_profile_version() {
    let request = std::fs::read(
        conformance().join("iso20022/samples/fednow_PaymentReturn_Sc1_Step2_camt.056.xml"),
    )
    .unwrap();
    for (id, version) in [
        ("fednow-bank", "pacs.004.001.10"),
        ("sepa-bank", "pacs.004.001.09"),
    ] {
        let answers = answer(&profile(id), &request, &config(1)).unwrap();
        let types: Vec<&str> = answers.iter().map(|a| a.message_type.as_str()).collect();
        assert_eq!(types, ["camt.029.001.09", version], "{id}");
        let text = std::str::from_utf8(&answers[1].bytes).unwrap();
        assert!(text.contains("<OrgnlUETR>8a562c67-ca16-48ba-b074-65581be6f011</OrgnlUETR>"));
        assert!(text.contains("<OrgnlEndToEndId>Scenario01EtoEId001</OrgnlEndToEndId>"));
    }
}

#[test]
fn unreadable_requests_are_errors_not_panics() {
    for profile in profiles() {
        for junk in [
            &b""[..],
            b"\x00\x01\x02",
            b"<Document/>",
            b"0100garbage",
            b"\xff\xfe<",
        ] {
            let err = answer(&profile, junk, &config(1)).unwrap_err();
            assert!(!err.to_string().is_empty());
        }
    }
    // An answer is not a request.
    let profile = profile("sepa-bank");
    let status =
        std::fs::read(conformance().join("iso20022/samples/cbpr_p.2.5.1_pacs.002_BtoA.xml"))
            .unwrap();
    assert!(matches!(
        answer(&profile, &status, &config(1)),
        Err(SimError::Unanswered(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_input_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), seed in any::<u64>()) {
        for profile in profiles() {
            let _ = answer(&profile, &bytes, &busy(seed));
        }
    }
}

#[test]
fn the_journal_dedupes_and_continues_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let profile = profile("card-acquirer");
    let requests = card_requests(&profile);
    let (_, first) = &requests[0];
    let mut bank = Bank::new(profile.clone(), config(1), Journal::open(&path).unwrap());
    let delivery = |body: &'static [u8], id: &'static str| Delivery {
        queue: "clearway.out.card-acquirer",
        message_id: Some(id),
        body,
    };
    let body: &'static [u8] = Box::leak(first.clone().into_boxed_slice());
    let r1 = bank.receive(delivery(body, "0100-000001-1")).unwrap();
    assert!(!r1.entry.duplicate && r1.answers.len() == 1 && r1.entry.seq == 1);
    let r2 = bank.receive(delivery(body, "0100-000001-1")).unwrap();
    assert!(r2.entry.duplicate && r2.answers.is_empty() && r2.entry.seq == 2);
    let bad = bank.receive(delivery(b"\x01\x02", "garbage-1")).unwrap();
    assert!(bad.error.is_some() && bad.answers.is_empty());
    assert_eq!(bad.entry.message_type, "unreadable");
    drop(bank);
    // A crash mid-line leaves a torn last line: reopening cuts it away.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut f, b"{\"seq\":4,\"mess").unwrap();
    drop(f);
    let mut bank = Bank::new(profile.clone(), config(1), Journal::open(&path).unwrap());
    assert_eq!(bank.journal().entries().len(), 3);
    let r3 = bank.receive(delivery(body, "0100-000001-1")).unwrap();
    assert!(r3.entry.duplicate && r3.answers.is_empty());
    assert_eq!(r3.entry.seq, 4);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 4);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in [
            "seq",
            "message_id",
            "message_type",
            "queue",
            "duplicate",
            "at",
        ] {
            assert!(v.get(key).is_some(), "{line}");
        }
    }
    // No card number in the journal, even if a message id carried one.
    let mut journal = Journal::in_memory();
    let e = journal
        .record("x-4111111111111111-y", "0100", "q", "t")
        .unwrap();
    assert_eq!(e.message_id, "x-411111******1111-y");
    let pan = emv::iso8583::unpack(profile.dialect().unwrap(), first)
        .unwrap()
        .text(2)
        .unwrap()
        .into_owned();
    assert!(!text.contains(&pan));
}

fn xmllint(file: &Path) -> Result<(), String> {
    let xsd = root().join("iso20022/schemas/camt.053.001.08.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&xsd)
        .arg(file)
        .output()
        .expect("xmllint is needed (Debian: apt-get install -y libxml2-utils)");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn end_of_day_statements_balance_and_validate() {
    use iso20022::statement::{StatementEvent, StatementReader};
    let dir = tempfile::tempdir().unwrap();
    let mut written = 0;
    for id in ["sepa-bank", "fednow-bank", "corporate-channel"] {
        let profile = profile(id);
        let cfg = SimConfig {
            return_rate: PerMille::new(500).unwrap(),
            ..config(11)
        };
        let mut bank = Bank::new(profile, cfg, Journal::in_memory());
        for day in [24, 25] {
            bank.set_clock(Utc.with_ymd_and_hms(2026, 11, day, 9, 0, 0).unwrap());
            for (i, (_, request)) in iso_requests().into_iter().enumerate() {
                let msg_id = format!("{day}-{i}");
                let r = bank
                    .receive(Delivery {
                        queue: "q",
                        message_id: Some(&msg_id),
                        body: &request,
                    })
                    .unwrap();
                assert!(r.error.is_none(), "{:?}", r.error);
            }
        }
        assert!(!bank.ledger().is_empty());
        // Day 25 repeats day 24's requests under new delivery ids: same MsgIds, so the bank
        // books nothing twice; its statement carries day 24's bookings in the opening balance.
        let mut paths = Vec::new();
        for d in [24, 25] {
            let day = chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
            let out = dir.path().join(id);
            let written = bank.ledger().write_statements(&out, day).unwrap();
            assert!(!written.is_empty());
            let before: Vec<Vec<u8>> = written.iter().map(|p| std::fs::read(p).unwrap()).collect();
            let again = bank.ledger().write_statements(&out, day).unwrap();
            let after: Vec<Vec<u8>> = again.iter().map(|p| std::fs::read(p).unwrap()).collect();
            assert_eq!((written.clone(), before), (again, after), "not repeatable");
            paths.extend(written);
        }
        let mut batch_seen = false;
        for path in &paths {
            xmllint(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let bytes = std::fs::read(path).unwrap();
            schema_valid(&bytes).unwrap();
            let report = iso20022::validate::validate_bytes(&bytes, &Default::default()).unwrap();
            assert!(
                report.is_valid(),
                "{}: {:?}",
                path.display(),
                report.violations
            );
            let mut ended = 0;
            for event in StatementReader::new(&bytes[..]) {
                match event.unwrap() {
                    StatementEvent::StatementEnd(check) => {
                        assert!(check.passed(), "{}: {check:?}", path.display());
                        ended += 1;
                    }
                    StatementEvent::Entry(e) => batch_seen |= e.details.len() > 1,
                    _ => {}
                }
            }
            assert_eq!(ended, 1);
            written += 1;
        }
        if id != "corporate-channel" {
            assert!(
                batch_seen,
                "{id}: the batch of 4 is one entry with 4 TxDtls"
            );
        }
    }
    assert!(written >= 3);
}

fn sample_answers() -> Vec<Answer> {
    let profile = profile("sepa-bank");
    let mut out = Vec::new();
    for (_, request) in iso_requests() {
        out.extend(answer(&profile, &request, &busy(5)).unwrap());
    }
    out
}

fn sorted_ids(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = items.collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn dup_never_loses_an_answer(seed in any::<u64>(), rate in 0u16..=1000) {
        let answers = sample_answers();
        let faults = Faults { dup: PerMille::new(rate).unwrap(), ..Faults::none() };
        let planned = plan(answers.clone(), &faults, seed);
        let originals: Vec<&Answer> = planned.iter().filter(|p| p.kind == PlannedKind::Answer).map(|p| &p.answer).collect();
        prop_assert_eq!(originals, answers.iter().collect::<Vec<_>>());
        for p in planned.iter().filter(|p| p.kind == PlannedKind::Duplicate) {
            prop_assert!(answers.contains(&p.answer));
        }
        prop_assert_eq!(planned.clone(), plan(answers, &faults, seed));
    }

    #[test]
    fn reorder_keeps_the_multiset(seed in any::<u64>(), rate in 0u16..=1000) {
        let answers = sample_answers();
        let faults = Faults { reorder: PerMille::new(rate).unwrap(), ..Faults::none() };
        let planned = plan(answers.clone(), &faults, seed);
        prop_assert_eq!(planned.len(), answers.len());
        prop_assert_eq!(
            sorted_ids(planned.iter().map(|p| p.answer.message_id.clone())),
            sorted_ids(answers.iter().map(|a| a.message_id.clone()))
        );
        // Each answer moves by at most one place.
        for (i, p) in planned.iter().enumerate() {
            let j = answers.iter().position(|a| *a == p.answer).unwrap();
            prop_assert!(i.abs_diff(j) <= 1);
        }
    }

    #[test]
    fn malformed_adds_exactly_the_planned_garbage(seed in any::<u64>(), rate in 0u16..=1000) {
        let answers = sample_answers();
        let faults = Faults { malformed: PerMille::new(rate).unwrap(), ..Faults::none() };
        let planned = plan(answers.clone(), &faults, seed);
        let kept: Vec<&Answer> = planned.iter().filter(|p| p.kind != PlannedKind::Malformed).map(|p| &p.answer).collect();
        prop_assert_eq!(kept, answers.iter().collect::<Vec<_>>());
        let garbage: Vec<&Answer> = planned.iter().filter(|p| p.kind == PlannedKind::Malformed).map(|p| &p.answer).collect();
        if rate == 1000 { prop_assert_eq!(garbage.len(), answers.len()); }
        if rate == 0 { prop_assert!(garbage.is_empty()); }
        let ids: BTreeSet<&str> = planned.iter().map(|p| p.answer.message_id.as_str()).collect();
        prop_assert_eq!(ids.len(), planned.len(), "garbage has its own ids");
        for g in garbage {
            prop_assert_eq!(g.message_type.as_str(), "malformed");
            let text = String::from_utf8_lossy(&g.bytes);
            prop_assert!(iso20022::read(&text).is_err());
        }
    }

    #[test]
    fn delays_stay_within_bounds(seed in any::<u64>(), max in 1u32..10) {
        let answers = sample_answers();
        let faults = Faults { delay: PerMille::ALL, max_delay_ticks: max, ..Faults::none() };
        for p in plan(answers, &faults, seed) {
            prop_assert!((1..=max).contains(&p.delay_ticks));
        }
    }
}

#[test]
fn malformed_card_answers_do_not_unpack() {
    let profile = profile("card-acquirer");
    let dialect = profile.dialect().unwrap();
    let mut answers = Vec::new();
    for (_, wire) in card_requests(&profile) {
        answers.extend(answer(&profile, &wire, &config(3)).unwrap());
    }
    let faults = Faults {
        malformed: PerMille::ALL,
        ..Faults::none()
    };
    let planned = plan(answers.clone(), &faults, 9);
    assert_eq!(planned.len(), 2 * answers.len());
    for p in planned.iter().filter(|p| p.kind == PlannedKind::Malformed) {
        assert!(emv::iso8583::unpack(dialect, &p.answer.bytes).is_err());
    }
}

#[test]
fn faults_parse_from_the_cli_list_and_rates_from_fractions() {
    let f: Faults = "dup,reorder,delay,malformed".parse().unwrap();
    assert!(f.dup.get() > 0 && f.reorder.get() > 0 && f.delay.get() > 0 && f.malformed.get() > 0);
    assert!("dup,nope".parse::<Faults>().is_err());
    assert_eq!("0.05".parse::<PerMille>().unwrap().get(), 50);
    assert_eq!("1".parse::<PerMille>().unwrap(), PerMille::ALL);
    for bad in ["1.5", "-0.1", "0.0005", "x"] {
        assert!(bad.parse::<PerMille>().is_err(), "{bad}");
    }
}

/// Runs the sepa bank over two days of requests, stopping (as a crash would) after `stop_after`
/// deliveries and losing the last journal line when `torn`; then resumes from the files and
/// redelivers everything. Returns the statements of both days.
fn run_with_restart(dir: &Path, stop_after: Option<usize>, torn: bool) -> Vec<(String, Vec<u8>)> {
    use settlement::banksim::Ledger;
    let profile = profile("sepa-bank");
    let cfg = SimConfig {
        return_rate: PerMille::new(400).unwrap(),
        reject_rate: PerMille::new(200).unwrap(),
        ..config(21)
    };
    let (journal, ledger) = (dir.join("journal.jsonl"), dir.join("ledger.jsonl"));
    let open = || {
        Bank::with_ledger(
            profile.clone(),
            cfg.clone(),
            Journal::open(&journal).unwrap(),
            Ledger::open(&ledger, &profile.id, cfg.seed).unwrap(),
        )
    };
    let deliveries: Vec<(u32, String, Vec<u8>)> = [24, 25]
        .into_iter()
        .flat_map(|day| {
            iso_requests()
                .into_iter()
                .enumerate()
                .map(move |(i, (_, body))| (day, format!("{day}-{i}"), body))
        })
        .collect();
    let run = |bank: &mut Bank, items: &[(u32, String, Vec<u8>)]| {
        for (day, id, body) in items {
            bank.set_clock(Utc.with_ymd_and_hms(2026, 11, *day, 9, 0, 0).unwrap());
            bank.receive(Delivery {
                queue: "q",
                message_id: Some(id),
                body,
            })
            .unwrap();
        }
    };
    if let Some(n) = stop_after {
        let mut bank = open();
        run(&mut bank, &deliveries[..n]);
        drop(bank);
        if torn {
            // The crash hit after the bookings, before the journal line was complete.
            let text = std::fs::read_to_string(&journal).unwrap();
            let cut = text.trim_end().rfind('\n').map_or(0, |i| i + 1) + 10;
            std::fs::write(&journal, &text[..cut]).unwrap();
        }
    }
    let mut bank = open();
    run(&mut bank, &deliveries);
    let out = dir.join("statements");
    [24, 25]
        .into_iter()
        .flat_map(|d| {
            let day = chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
            bank.ledger().write_statements(&out, day).unwrap()
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_resumed_run_writes_the_same_statements() {
    let straight = run_with_restart(tempfile::tempdir().unwrap().path(), None, false);
    assert!(!straight.is_empty());
    for (stop, torn) in [(5, false), (13, true), (1, true)] {
        let resumed = run_with_restart(tempfile::tempdir().unwrap().path(), Some(stop), torn);
        assert_eq!(resumed, straight, "stopped after {stop}, torn {torn}");
    }
}

/// One answer per kind, as text: ISO 20022 answers as written, ISO 8583 answers as the masked
/// `describe()` view (never the PAN).
fn shown(profile: &Profile, answers: &[Answer]) -> String {
    let mut out = String::new();
    for a in answers {
        out.push_str(&format!(
            "--- {} {} {:?}\n",
            a.message_type, a.message_id, a.stage
        ));
        match profile.dialect() {
            Some(d) => {
                let m = emv::iso8583::unpack(d, &a.bytes).unwrap();
                out.push_str(&m.describe(d).to_string());
            }
            None => out.push_str(std::str::from_utf8(&a.bytes).unwrap()),
        }
        out.push('\n');
    }
    out
}

#[test]
fn answer_snapshots() {
    let cfg = SimConfig {
        return_rate: PerMille::ALL,
        ..config(42)
    };
    for profile in profiles() {
        // Requests with ids written for these snapshots: the public samples carry long digit
        // runs (dates + routing numbers) that the tidy PAN check cannot tell from a card number.
        let requests: Vec<(String, Vec<u8>)> = match (profile.dialect(), profile.id.as_str()) {
            (Some(_), _) => card_requests(&profile)
                .into_iter()
                .filter(|(name, _)| name.ends_with("typical.json"))
                .collect(),
            (None, "corporate-channel") => vec![("pain.001/clean".into(), clean_pain001())],
            (None, _) => vec![
                ("pacs.008/batch of 2".into(), batch_pacs008(2)),
                ("camt.056/clean".into(), clean_camt056()),
            ],
        };
        let mut text = String::new();
        for (name, request) in requests {
            let short = Path::new(&name)
                .components()
                .rev()
                .take(2)
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>();
            text.push_str(&format!(
                "=== {}\n",
                short.into_iter().rev().collect::<Vec<_>>().join("/")
            ));
            text.push_str(&shown(&profile, &answer(&profile, &request, &cfg).unwrap()));
        }
        insta::assert_snapshot!(format!("answers_{}", profile.id), text);
    }
}
