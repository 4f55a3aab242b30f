//! Property tests: for generated pacs.008 and pacs.002 models, `read(write(m)) == m` and the
//! written Document is valid against its official XSD (xmllint). Few cases (32) because each
//! runs one xmllint process.

// Test helpers outside #[test] fns fail loudly on broken fixtures, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use iso20022::model::common::*;
use iso20022::model::credit_transfer::{CreditTransferTx, FiCreditTransfer};
use iso20022::model::payment_status::{PaymentStatusReport, TransactionStatus};
use iso20022::wire::map::Rest;
use iso20022::wire::{Body, Document, Envelope, Message, Version};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn text35() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 &<>'/.-]{0,33}[A-Za-z0-9]"
}

fn bic() -> impl Strategy<Value = Bic> {
    "[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?".prop_map(Bic)
}

fn uetr() -> impl Strategy<Value = Uetr> {
    "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}".prop_map(Uetr)
}

fn date() -> impl Strategy<Value = String> {
    (2000u32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
}

fn date_time() -> impl Strategy<Value = IsoDateTime> {
    (
        date(),
        0u32..24,
        0u32..60,
        prop_oneof![Just(""), Just("Z"), Just("+01:00"), Just("-04:00")],
    )
        .prop_map(|(d, h, m, z)| IsoDateTime(format!("{d}T{h:02}:{m:02}:00{z}")))
}

fn amount() -> impl Strategy<Value = ActiveAmount> {
    (
        0i64..1_000_000_000_000,
        0u32..6,
        prop_oneof![Just("EUR"), Just("JPY"), Just("BHD"), Just("USD")],
    )
        .prop_map(|(n, scale, ccy)| ActiveAmount {
            value: Decimal::new(n, scale),
            ccy: CurrencyCode(ccy.into()),
        })
}

fn agent() -> impl Strategy<Value = Agent> {
    (bic(), proptest::option::of(text35())).prop_map(|(b, nm)| Agent {
        fin_instn_id: FinancialInstitution {
            bic: None,
            bicfi: Some(b),
            clr_sys_mmb_id: None,
            lei: None,
            nm,
            pstl_adr: None,
            rest: Rest::default(),
        },
        rest: Rest::default(),
    })
}

fn address() -> impl Strategy<Value = PostalAddress> {
    (
        proptest::option::of(text35()),
        text35(),
        "[A-Z]{2}",
        proptest::collection::vec(text35(), 0..3),
    )
        .prop_map(|(strt, twn, ctry, lines)| PostalAddress {
            dept: None,
            sub_dept: None,
            strt_nm: strt,
            bldg_nb: None,
            bldg_nm: None,
            flr: None,
            pst_bx: None,
            room: None,
            pst_cd: None,
            twn_nm: Some(twn),
            twn_lctn_nm: None,
            dstrct_nm: None,
            ctry_sub_dvsn: None,
            ctry: Some(Country(ctry)),
            adr_line: lines.into_iter().take(2).collect(),
            rest: Rest::default(),
        })
}

fn party() -> impl Strategy<Value = Party> {
    (text35(), proptest::option::of(address())).prop_map(|(nm, adr)| Party {
        nm: Some(nm),
        pstl_adr: adr.map(Box::new),
        ctry_of_res: None,
        rest: Rest::default(),
    })
}

fn account() -> impl Strategy<Value = Account> {
    prop_oneof![
        "[A-Z]{2}[0-9]{2}[A-Z0-9]{10,20}".prop_map(|s| AccountId {
            iban: Some(Iban(s)),
            othr: None,
            rest: Rest::default()
        }),
        // Othr/Id is Max34Text.
        "[A-Za-z0-9][A-Za-z0-9 &<>'/.-]{0,32}[A-Za-z0-9]".prop_map(|s| AccountId {
            iban: None,
            othr: Some(OtherAccountId {
                id: s,
                rest: Rest::default()
            }),
            rest: Rest::default()
        }),
    ]
    .prop_map(|id| Account {
        id,
        ccy: None,
        nm: None,
        rest: Rest::default(),
    })
}

fn charge_bearer() -> impl Strategy<Value = ChargeBearer> {
    prop_oneof![
        Just(ChargeBearer::Debtor),
        Just(ChargeBearer::Creditor),
        Just(ChargeBearer::Shared),
        Just(ChargeBearer::FollowingServiceLevel)
    ]
}

fn credit_transfer_tx() -> impl Strategy<Value = CreditTransferTx> {
    (
        (
            proptest::option::of(text35()),
            text35(),
            proptest::option::of(uetr()),
        ),
        amount(),
        proptest::option::of(date()),
        charge_bearer(),
        (party(), proptest::option::of(account()), agent()),
        (agent(), party(), proptest::option::of(account())),
        proptest::collection::vec(text35(), 0..2),
    )
        .prop_map(
            |(
                (instr, e2e, uetr),
                amt,
                dt,
                chrg,
                (dbtr, dbtr_acct, dbtr_agt),
                (cdtr_agt, cdtr, cdtr_acct),
                ustrd,
            )| {
                CreditTransferTx {
                    pmt_id: PaymentId {
                        instr_id: instr.map(InstrId),
                        end_to_end_id: Some(EndToEndId(e2e)),
                        tx_id: None,
                        uetr,
                        rest: Rest::default(),
                    },
                    intr_bk_sttlm_amt: amt,
                    intr_bk_sttlm_dt: dt.map(IsoDate),
                    instd_amt: None,
                    xchg_rate: None,
                    chrg_br: Some(chrg),
                    instg_agt: None,
                    instd_agt: None,
                    dbtr: Some(dbtr),
                    dbtr_acct,
                    dbtr_agt: Some(dbtr_agt),
                    cdtr_agt: Some(cdtr_agt),
                    cdtr: Some(cdtr),
                    cdtr_acct,
                    rmt_inf: if ustrd.is_empty() {
                        None
                    } else {
                        Some(Remittance {
                            ustrd: ustrd.into_iter().take(1).collect(),
                            strd: vec![],
                            rest: Rest::default(),
                        })
                    },
                    rest: Rest::default(),
                }
            },
        )
}

fn group_header(nb: Option<usize>) -> impl Strategy<Value = GroupHeader> {
    (
        text35(),
        date_time(),
        proptest::option::of(agent()),
        proptest::option::of(agent()),
    )
        .prop_map(move |(id, dt, instg, instd)| GroupHeader {
            msg_id: MsgId(id),
            cre_dt_tm: Some(dt),
            nb_of_txs: nb.map(|n| n.to_string()),
            ctrl_sum: None,
            initg_pty: None,
            ttl_intr_bk_sttlm_amt: None,
            intr_bk_sttlm_dt: None,
            sttlm_inf: nb.map(|_| SettlementInfo {
                sttlm_mtd: Code("INDA".into()),
                sttlm_acct: None,
                clr_sys: None,
                rest: Rest::default(),
            }),
            instg_agt: instg,
            instd_agt: instd,
            rest: Rest::default(),
        })
}

fn pacs008() -> impl Strategy<Value = Body> {
    proptest::collection::vec(credit_transfer_tx(), 1..3).prop_flat_map(|txs| {
        let n = txs.len();
        group_header(Some(n)).prop_map(move |grp_hdr| {
            Body::FiCreditTransfer(FiCreditTransfer {
                grp_hdr,
                cdt_trf_tx_inf: txs.clone(),
                rest: Rest::default(),
            })
        })
    })
}

fn tx_status() -> impl Strategy<Value = TransactionStatus> {
    (
        proptest::option::of(text35()),
        proptest::option::of(text35()),
        proptest::option::of(uetr()),
        prop_oneof![Just("ACCP"), Just("ACSC"), Just("RJCT"), Just("PDNG")],
        proptest::option::of((
            "[A-Z]{2}[0-9]{2}",
            proptest::collection::vec(text35(), 0..2),
        )),
    )
        .prop_map(|(sts_id, e2e, uetr, sts, reason)| TransactionStatus {
            sts_id,
            orgnl_grp_inf: None,
            orgnl_instr_id: None,
            orgnl_end_to_end_id: e2e.map(EndToEndId),
            orgnl_tx_id: None,
            orgnl_uetr: uetr,
            tx_sts: Some(Code(sts.into())),
            sts_rsn_inf: reason
                .into_iter()
                .map(|(cd, inf)| ReasonInfo {
                    orgtr: None,
                    rsn: Some(CodeOrProprietary {
                        cd: Some(Code(cd)),
                        prtry: None,
                        rest: Rest::default(),
                    }),
                    addtl_inf: inf,
                    rest: Rest::default(),
                })
                .collect(),
            accptnc_dt_tm: None,
            acct_svcr_ref: None,
            clr_sys_ref: None,
            instg_agt: None,
            instd_agt: None,
            orgnl_tx_ref: None,
            rest: Rest::default(),
        })
}

fn pacs002() -> impl Strategy<Value = Body> {
    (
        group_header(None),
        proptest::collection::vec(tx_status(), 0..3),
    )
        .prop_map(|(grp_hdr, txs)| {
            Body::PaymentStatusReport(PaymentStatusReport {
                grp_hdr,
                orgnl_grp_inf_and_sts: vec![],
                tx_inf_and_sts: txs,
                rest: Rest::default(),
            })
        })
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn xmllint(doc: &str, version: &str) -> Result<(), String> {
    let xsd = common::root()
        .join("iso20022")
        .join("schemas")
        .join(format!("{version}.xsd"));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let file =
        std::env::temp_dir().join(format!("clearway-h5-prop-{}-{n}.xml", std::process::id()));
    std::fs::write(&file, doc).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&xsd)
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&file);
    let out = out.map_err(|e| format!("xmllint: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn check(version: &str, body: Body) -> Result<(), TestCaseError> {
    let Some(version) = Version::from_id(version) else {
        return Err(TestCaseError::fail("unknown version"));
    };
    let msg = Message {
        envelope: Envelope::bare(),
        header: None,
        document: Document {
            version,
            body,
            attrs: vec![],
        },
    };
    let out = iso20022::write(&msg);
    let back = iso20022::read(&out).map_err(|e| TestCaseError::fail(format!("{e}\n{out}")))?;
    prop_assert_eq!(&back, &msg);
    prop_assert_eq!(iso20022::write(&back), out.clone());
    xmllint(&out, version.id()).map_err(|e| TestCaseError::fail(format!("{e}\n{out}")))?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn pacs008_write_then_read_is_identity_and_xsd_valid(body in pacs008()) {
        check("pacs.008.001.08", body)?;
    }

    #[test]
    fn pacs002_write_then_read_is_identity_and_xsd_valid(body in pacs002()) {
        check("pacs.002.001.10", body)?;
    }
}
