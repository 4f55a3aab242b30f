//! camt.054 (bank-to-customer debit/credit notification): entries on our account. One event
//! per transaction detail (`NtryDtls/TxDtls`), or per entry when it has none; a booked entry is
//! `settled`, with its credit/debit side, amount and booking date. A detail without its own
//! amount takes the entry's only when it is the entry's one detail (never split a sum). A
//! reversal entry (`RvslInd`) is refused: what it undoes is for reconciliation to decide.

use iso20022::model::common::CreditDebit as IsoCreditDebit;
use iso20022::model::statement::{DateAndDateTime, EntryStatus, Notification};

use super::{Ctx, InboundError, UNSPECIFIED};
use crate::status::{CreditDebit, Reference, StatusEvent};

pub(super) fn events(ctx: &Ctx<'_>, m: &Notification) -> Result<Vec<StatusEvent>, InboundError> {
    let mut out = Vec::new();
    for (n, report) in m.ntfctn.iter().enumerate() {
        for (e, entry) in report.ntry.iter().enumerate() {
            let at = [("Ntfctn", Some(n)), ("Ntry", Some(e))];
            let sts_steps = [at[0], at[1], ("Sts", None)];
            let code = match &entry.sts {
                Some(EntryStatus::Text(code)) => Some(code.as_str()),
                Some(EntryStatus::Choice(choice)) => choice
                    .cd
                    .as_ref()
                    .map(|c| c.as_str())
                    .or(choice.prtry.as_deref()),
                None => None,
            };
            let Some(code) = code else {
                return Err(ctx.error(&sts_steps, "entry without a status (Sts)"));
            };
            let status = ctx.status_of(code, &sts_steps)?;
            if matches!(entry.rvsl_ind.as_deref().map(str::trim), Some("true" | "1")) {
                // A reversal undoes an earlier booking: not `settled`, and which status it
                // means depends on what it reverses; reconciliation decides, we do not guess.
                return Err(ctx.error(
                    &[at[0], at[1], ("RvslInd", None)],
                    "a reversal entry is not mapped to a status (reconciliation reads it)",
                ));
            }
            let entry_amount = ctx.amount(&entry.amt, &[at[0], at[1], ("Amt", None)])?;
            let booking_date = match entry.bookg_dt.as_ref().and_then(date_text) {
                Some(text) => Some(ctx.date(&text, &[at[0], at[1], ("BookgDt", None)])?),
                None => None,
            };
            let details: Vec<_> = entry
                .ntry_dtls
                .iter()
                .enumerate()
                .flat_map(|(d, dtls)| {
                    dtls.tx_dtls
                        .iter()
                        .enumerate()
                        .map(move |(t, tx)| (d, t, tx))
                })
                .collect();
            let base = |place: String, reference: Reference| {
                let mut event = ctx.event(&place, reference, status);
                event.iso_status = Some(code.to_owned());
                event.credit_debit = Some(side(entry.cdt_dbt_ind));
                event.booking_date = booking_date.clone();
                event.bank_reference = entry
                    .acct_svcr_ref
                    .clone()
                    .or_else(|| entry.ntry_ref.clone());
                event
            };
            if details.is_empty() {
                let reference = Reference {
                    message_type: UNSPECIFIED.to_owned(),
                    ..Reference::default()
                };
                let mut event = base(format!("n{}e{}", n + 1, e + 1), reference);
                event.amount = Some(entry_amount);
                out.push(event);
                continue;
            }
            let only_one = details.len() == 1;
            for (t_all, (d, t, tx)) in details.into_iter().enumerate() {
                let refs = tx.refs.as_ref();
                let text = |f: fn(&iso20022::model::statement::References) -> Option<String>| {
                    refs.and_then(f)
                };
                let reference = Reference {
                    message_type: UNSPECIFIED.to_owned(),
                    msg_id: text(|r| r.msg_id.as_ref().map(|x| x.as_str().to_owned())),
                    instr_id: text(|r| r.instr_id.as_ref().map(|x| x.as_str().to_owned())),
                    end_to_end_id: text(|r| {
                        r.end_to_end_id.as_ref().map(|x| x.as_str().to_owned())
                    }),
                    tx_id: text(|r| r.tx_id.as_ref().map(|x| x.as_str().to_owned())),
                    uetr: ctx.uetr(
                        refs.and_then(|r| r.uetr.as_ref()),
                        &[
                            at[0],
                            at[1],
                            ("NtryDtls", Some(d)),
                            ("TxDtls", Some(t)),
                            ("Refs", None),
                            ("UETR", None),
                        ],
                    )?,
                    ..Reference::default()
                };
                let mut event = base(format!("n{}e{}t{}", n + 1, e + 1, t_all + 1), reference);
                event.amount = match &tx.amt {
                    Some(amount) => Some(ctx.amount(
                        amount,
                        &[
                            at[0],
                            at[1],
                            ("NtryDtls", Some(d)),
                            ("TxDtls", Some(t)),
                            ("Amt", None),
                        ],
                    )?),
                    None if only_one => Some(entry_amount.clone()),
                    None => None,
                };
                if let Some(side_of_tx) = tx.cdt_dbt_ind {
                    event.credit_debit = Some(side(side_of_tx));
                }
                if let Some(r) = refs.and_then(|r| r.acct_svcr_ref.clone()) {
                    event.bank_reference = Some(r);
                }
                out.push(event);
            }
        }
    }
    if out.is_empty() {
        return Err(ctx.error(&[("Ntfctn", None), ("Ntry", None)], "no entry to report"));
    }
    Ok(out)
}

fn side(cdt_dbt: IsoCreditDebit) -> CreditDebit {
    match cdt_dbt {
        IsoCreditDebit::Credit => CreditDebit::Credit,
        IsoCreditDebit::Debit => CreditDebit::Debit,
    }
}

fn date_text(date: &DateAndDateTime) -> Option<String> {
    date.dt
        .as_ref()
        .map(|d| d.0.clone())
        .or_else(|| date.dt_tm.as_ref().map(|d| d.0.clone()))
}
