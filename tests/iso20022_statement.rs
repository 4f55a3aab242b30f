//! camt.053/054 streaming: the public samples (entry counts and balance verdicts checked by hand),
//! envelopes and prefixes, error fixtures, generated statements (schema-valid with xmllint,
//! balanced, deterministic) and properties (no panic, no hang on any input).

#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)] // test helpers, not only #[test] fns

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use iso20022::generate::{Camt053Options, write_camt053};
use iso20022::statement::{
    BalanceRule, CreditDebit, EntryStatus, ErrorKind, MessageKind, StatementEvent, StatementReader,
    Violation,
};
use proptest::prelude::*;

/// Per statement: id, entries, verdict.
#[derive(Debug, PartialEq)]
struct Seen {
    id: String,
    entries: u64,
    passed: bool,
    rule_applied: bool,
}

fn stream(bytes: &[u8]) -> (Vec<StatementEvent>, Option<MessageKind>) {
    let mut reader = StatementReader::new(bytes);
    let events = reader
        .by_ref()
        .collect::<Result<Vec<_>, _>>()
        .expect("the statement streams");
    (events, reader.kind())
}

fn verdicts(events: &[StatementEvent]) -> Vec<Seen> {
    events
        .iter()
        .filter_map(|e| match e {
            StatementEvent::StatementEnd(c) => Some(Seen {
                id: c.statement_id.clone(),
                entries: c.entries,
                passed: c.passed(),
                rule_applied: matches!(c.rule, BalanceRule::Checked { .. }),
            }),
            _ => None,
        })
        .collect()
}

fn seen(id: &str, entries: u64, passed: bool, rule_applied: bool) -> Seen {
    Seen {
        id: id.into(),
        entries,
        passed,
        rule_applied,
    }
}

/// Every camt.053/054 sample of the conformance set, with what reading it by hand gives.
#[test]
fn conformance_samples_stream_with_hand_checked_verdicts() {
    let dir = common::conformance().join("iso20022/samples");
    #[rustfmt::skip]
    let table: Vec<(&str, MessageKind, Vec<Seen>)> = vec![
        // Swift envelope + AppHdr, prefixed elements. OPBD 10 DBIT, two debits 2460 → CLBD 2470 DBIT.
        ("cbpr_c.105.1.1_camt.053_BtoA.xml", MessageKind::Camt053, vec![seen("100-01", 2, true, true)]),
        ("cbpr_c.105.2.1_camt.053_BtoA.xml", MessageKind::Camt053, vec![seen("100-01", 1, true, true)]),
        ("cbpr_c.107.1.1_camt.053_BtoA.xml", MessageKind::Camt053, vec![seen("Stmnt-100-01", 1, true, true)]),
        // MT950 translated: OPBD 3723495 CRDT, nine debits 13629.87 → CLBD 3709865.13.
        ("mt2mx_mt950_camt.053_A_B.xml", MessageKind::Camt053, vec![seen("123456", 9, true, true)]),
        // camt.053.001.02, two statements: 18.15 + 8.85 = 27.00, then 27.00 − 7.00 = 20.00.
        ("genkgo_camt053.v2.multi.statement.xml", MessageKind::Camt053, vec![
            seen("253EURNL26VAYB8060476890", 1, true, true),
            seen("254EURNL26VAYB8060476890", 1, true, true),
        ]),
        // The known bad one: 18.15 CRDT + 8.85 = 27.00 CRDT, but CLBD says 27.00 DBIT.
        ("genkgo_camt053.v8.xml", MessageKind::Camt053, vec![seen("253EURNL26VAYB8060476890", 1, false, true)]),
        // camt.053.001.02 with OPBD, PRCD and CLBD: 10000.00 + 23075.00 − 9430.17 = 23644.83.
        ("moov_FI_camt_053_sample.xml", MessageKind::Camt053, vec![seen("BANKSTMTID0972009", 10, true, true)]),
        // Notifications carry no balances: the rule does not apply, nothing contradicts.
        ("fednow_Sc1_Step5_camt.054.xml", MessageKind::Camt054, vec![seen("FedNowServiceApplicationRef001", 1, true, false)]),
        ("mt2mx_mt900_camt.054_A_B.xml", MessageKind::Camt054, vec![seen("C11126A1378", 1, true, false)]),
        ("genkgo_camt054.v8.xml", MessageKind::Camt054, vec![seen("AAAASESS-FP-ACCR001", 1, true, false)]),
        ("genkgo_camt054.v8-with-UETR.xml", MessageKind::Camt054, vec![seen("AAAASESS-FP-ACCR001", 1, true, false)]),
    ];
    // The table covers every camt.053/054 sample there is.
    let mut listed: Vec<&str> = table.iter().map(|(f, _, _)| *f).collect();
    listed.sort_unstable();
    let mut present: Vec<String> = fs::read_dir(&dir)
        .expect("samples dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| {
            n.contains("camt.053")
                || n.contains("camt.054")
                || n.contains("camt053")
                || n.contains("camt054")
                || n.contains("camt_053")
        })
        .collect();
    present.sort_unstable();
    assert_eq!(
        listed, present,
        "a camt.053/054 sample is missing from the table"
    );

    for (file, kind, expected) in table {
        let bytes = fs::read(dir.join(file)).expect("sample readable");
        let (events, read_kind) = stream(&bytes);
        assert_eq!(read_kind, Some(kind), "{file}");
        assert_eq!(verdicts(&events), expected, "{file}");
    }
}

#[test]
fn genkgo_v8_closing_balance_has_the_wrong_sign() {
    let path = common::conformance().join("iso20022/samples/genkgo_camt053.v8.xml");
    let (events, _) = stream(&fs::read(path).expect("sample"));
    let Some(StatementEvent::StatementEnd(check)) = events.last() else {
        panic!("no end")
    };
    assert_eq!(check.violations.len(), 1, "{check}");
    let Some(Violation::ClosingBalance { expected, stated }) = check.violations.first() else {
        panic!("{check}")
    };
    assert_eq!(
        (expected.to_string(), stated.to_string()),
        ("27.00".into(), "-27.00".into())
    );
}

#[test]
fn moov_sample_batch_and_details() {
    let path = common::conformance().join("iso20022/samples/moov_FI_camt_053_sample.xml");
    let (events, _) = stream(&fs::read(path).expect("sample"));
    let entries: Vec<_> = events
        .iter()
        .filter_map(|e| {
            if let StatementEvent::Entry(e) = e {
                Some(e)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(entries.len(), 10);
    assert!(entries.iter().all(|e| e.status == EntryStatus::Booked));
    assert_eq!(entries.iter().map(|e| e.details.len()).sum::<usize>(), 12);
}

#[test]
fn envelope_and_prefix_fixture() {
    let path =
        common::fixtures().join("iso20022/statements/ok/fednow_message_prefixed_camt054.xml");
    let (events, kind) = stream(&fs::read(path).expect("fixture"));
    assert_eq!(kind, Some(MessageKind::Camt054));
    let entry = events
        .iter()
        .find_map(|e| {
            if let StatementEvent::Entry(e) = e {
                Some(e)
            } else {
                None
            }
        })
        .expect("one entry");
    assert_eq!(entry.amount.to_string(), "1250.75");
    let tx = entry.details.first().expect("one TxDtls");
    assert_eq!(
        tx.uetr.as_deref(),
        Some("8a562c67-ca16-48ba-b074-65581be6f001")
    );
    let cp = tx.counterparty(CreditDebit::Credit).expect("debtor");
    assert_eq!(cp.name.as_deref(), Some("Smith & Sons"));
}

/// Each err/ fixture fails with its path and offset; none panics.
#[test]
fn error_fixtures() {
    insta::glob!("../fixtures", "iso20022/statements/err/*.xml", |path| {
        let bytes = fs::read(path).expect("fixture");
        let err = StatementReader::new(bytes.as_slice())
            .find_map(Result::err)
            .expect("an err/ fixture is refused");
        insta::assert_snapshot!(err.to_string());
    });
}

#[test]
fn error_kinds_are_matchable() {
    let dir = common::fixtures().join("iso20022/statements/err");
    let kind = |f: &str| {
        let bytes = fs::read(dir.join(f)).expect("fixture");
        StatementReader::new(bytes.as_slice())
            .find_map(Result::err)
            .and_then(|e| e.kind())
    };
    assert_eq!(
        kind("truncated_inside_entry.xml"),
        Some(ErrorKind::Truncated)
    );
    assert_eq!(
        kind("pacs008_not_a_statement.xml"),
        Some(ErrorKind::NotAStatement)
    );
    assert_eq!(
        kind("ntry_negative_amount.xml"),
        Some(ErrorKind::NegativeAmount)
    );
}

/// The streamed events of one small sample (Swift envelope, prefixed, two entries), as Debug text.
#[test]
fn snapshot_of_streamed_events() {
    let path = common::conformance().join("iso20022/samples/cbpr_c.105.1.1_camt.053_BtoA.xml");
    let (events, _) = stream(&fs::read(path).expect("sample"));
    let text = format!("{events:#?}");
    assert_no_card_number(&text);
    insta::assert_snapshot!(text);
}

/// No 13-19 digit Luhn-valid run (a card number) in text that goes to a snapshot.
fn assert_no_card_number(text: &str) {
    for run in text.split(|c: char| !c.is_ascii_digit()) {
        assert!(
            !(13..=19).contains(&run.len()) || !emv::card::luhn_valid(run),
            "a card-number-like run in the snapshot"
        );
    }
}

fn generate(entries: u64, accounts: u32, seed: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let options = Camt053Options {
        entries,
        accounts,
        seed,
    };
    let generated = write_camt053(&options, &mut out).expect("writes to a Vec");
    assert_eq!(
        (generated.entries, generated.statements),
        (entries, accounts)
    );
    out
}

fn xmllint_validates(file: &Path) {
    let schema = common::root().join("iso20022/schemas/camt.053.001.08.xsd");
    let run = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(file)
        .output();
    let output = match run {
        Ok(o) => o,
        Err(e) => panic!("xmllint is needed for this test (apt-get install -y libxml2-utils): {e}"),
    };
    assert!(
        output.status.success(),
        "{} is not schema-valid: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn generated_statements_validate_and_stream_back_balanced() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (entries, accounts, seed) in [(1, 1, 0), (40, 1, 1), (120, 3, 2), (75, 4, 3), (0, 2, 4)] {
        let bytes = generate(entries, accounts, seed);
        let file = dir.path().join(format!("gen_{seed}.xml"));
        fs::write(&file, &bytes).expect("write");
        xmllint_validates(&file);
        let (events, kind) = stream(&bytes);
        assert_eq!(kind, Some(MessageKind::Camt053));
        let seen = verdicts(&events);
        assert_eq!(seen.len(), accounts as usize);
        assert_eq!(seen.iter().map(|s| s.entries).sum::<u64>(), entries);
        for s in &seen {
            assert!(s.passed && s.rule_applied, "seed {seed}: {s:?}");
        }
        // Every entry has its keys; batch entries say how many transactions they hold.
        for e in events.iter().filter_map(|e| {
            if let StatementEvent::Entry(e) = e {
                Some(e)
            } else {
                None
            }
        }) {
            assert!(e.acct_svcr_ref.is_some() && e.value_date.is_some());
            assert_eq!(e.batch.unwrap_or(1), e.details.len() as u64);
            for tx in &e.details {
                assert!(tx.end_to_end_id.is_some() && tx.uetr.is_some() && tx.tx_id.is_some());
                let cp = tx.counterparty(e.credit_debit).expect("counterparty");
                assert!(cp.name.is_some() && cp.bic.is_some() && cp.account.is_some());
            }
            let zero = e.amount - e.amount;
            let sum = e
                .details
                .iter()
                .filter_map(|t| t.amount)
                .fold(zero, |a, b| a + b);
            assert_eq!(sum, e.amount, "the entry is the sum of its transactions");
        }
    }
}

#[test]
fn same_seed_same_bytes() {
    assert_eq!(generate(300, 2, 42), generate(300, 2, 42));
    assert_ne!(generate(300, 2, 42), generate(300, 2, 43));
}

#[test]
fn cli_generate_writes_and_refuses_other_types() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("s.xml");
    let run = common::clearway()
        .args([
            "iso20022",
            "generate",
            "camt.053",
            "--entries",
            "25",
            "--accounts",
            "2",
            "--seed",
            "7",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("25 entries") && stderr.contains("2 accounts"),
        "{stderr}"
    );
    assert_eq!(fs::read(&out).expect("written"), generate(25, 2, 7));
    let refused = common::clearway()
        .args([
            "iso20022",
            "generate",
            "pacs.008",
            "--entries",
            "1",
            "--out",
        ])
        .arg(dir.path().join("p.xml"))
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(3));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any prefix of a valid statement, and any byte flipped in it, gives events or an error:
    /// never a panic or an endless loop.
    #[test]
    fn truncated_or_damaged_input_never_panics(cut in 0usize..4000, flip in 0usize..4000, byte: u8) {
        let mut bytes = generate(3, 1, 5);
        if let Some(b) = bytes.get_mut(flip) { *b = byte; }
        bytes.truncate(cut.min(bytes.len()));
        let mut n = 0usize;
        for item in StatementReader::new(bytes.as_slice()) {
            n += 1;
            prop_assert!(n < 100_000);
            if item.is_err() { break; }
        }
    }

    /// Any size, account count and seed: every statement streams back balanced, all entries there.
    #[test]
    fn any_generated_statement_is_balanced(entries in 0u64..60, accounts in 1u32..5, seed: u64) {
        let bytes = generate(entries, accounts, seed);
        let (events, _) = stream(&bytes);
        let seen = verdicts(&events);
        prop_assert_eq!(seen.len(), accounts as usize);
        prop_assert_eq!(seen.iter().map(|s| s.entries).sum::<u64>(), entries);
        prop_assert!(seen.iter().all(|s| s.passed && s.rule_applied), "{:?}", seen);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for item in StatementReader::new(bytes.as_slice()).take(10_000) {
            if item.is_err() { break; }
        }
    }
}

/// A summary that disagrees with the entries is reported field by field, with the statement id.
#[test]
fn wrong_txs_summary_and_closing_balance_are_violations() {
    let text = String::from_utf8(generate(10, 1, 3)).expect("utf-8");
    let damaged = text
        .replacen(
            "<NbOfNtries>10</NbOfNtries>",
            "<NbOfNtries>11</NbOfNtries>",
            1,
        )
        .replacen(
            "<Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">",
            "<Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">1",
            1,
        );
    let (events, _) = stream(damaged.as_bytes());
    let Some(StatementEvent::StatementEnd(check)) = events.last() else {
        panic!("no end")
    };
    assert_eq!(check.statement_id, "STMT-00000-20261124");
    assert!(
        matches!(
            check.violations.first(),
            Some(Violation::ClosingBalance { .. })
        ),
        "{check}"
    );
    assert!(
        check.violations.contains(&Violation::SummaryCount {
            field: "TtlNtries/NbOfNtries",
            stated: 11,
            counted: 10
        }),
        "{check}"
    );
}
