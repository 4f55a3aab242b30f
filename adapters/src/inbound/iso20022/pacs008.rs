//! An incoming pacs.008 (FI-to-FI customer credit transfer): money received. One `received`
//! event per `CdtTrfTxInf`; `in_reply_to` names the payment itself (this message's `MsgId`, the
//! transaction's `EndToEndId`, `TxId` and `UETR`), so that a later return or booking finds it.

use iso20022::model::credit_transfer::FiCreditTransfer;

use super::{Ctx, InboundError, account_id};
use crate::status::{Reference, Status, StatusEvent};

pub(super) fn events(
    ctx: &Ctx<'_>,
    m: &FiCreditTransfer,
) -> Result<Vec<StatusEvent>, InboundError> {
    if m.cdt_trf_tx_inf.is_empty() {
        return Err(ctx.error(&[("CdtTrfTxInf", None)], "no CdtTrfTxInf: nothing received"));
    }
    let mut out = Vec::with_capacity(m.cdt_trf_tx_inf.len());
    for (i, tx) in m.cdt_trf_tx_inf.iter().enumerate() {
        let at = ("CdtTrfTxInf", Some(i));
        let id = &tx.pmt_id;
        let reference = Reference {
            message_type: ctx.version_id.to_owned(),
            msg_id: Some(m.grp_hdr.msg_id.as_str().to_owned()),
            instr_id: id.instr_id.as_ref().map(|x| x.as_str().to_owned()),
            end_to_end_id: id.end_to_end_id.as_ref().map(|x| x.as_str().to_owned()),
            tx_id: id.tx_id.as_ref().map(|x| x.as_str().to_owned()),
            uetr: ctx.uetr(id.uetr.as_ref(), &[at, ("PmtId", None), ("UETR", None)])?,
            ..Reference::default()
        };
        let mut event = ctx.event(&format!("tx{}", i + 1), reference, Status::Received);
        event.amount = Some(ctx.amount(&tx.intr_bk_sttlm_amt, &[at, ("IntrBkSttlmAmt", None)])?);
        event.settlement_date = match (&tx.intr_bk_sttlm_dt, &m.grp_hdr.intr_bk_sttlm_dt) {
            (Some(d), _) => Some(ctx.date(d.as_str(), &[at, ("IntrBkSttlmDt", None)])?),
            (None, Some(d)) => {
                Some(ctx.date(d.as_str(), &[("GrpHdr", None), ("IntrBkSttlmDt", None)])?)
            }
            (None, None) => None,
        };
        event.debtor_name = tx.dbtr.as_ref().and_then(|d| d.nm.clone());
        event.creditor_account = tx.cdtr_acct.as_ref().and_then(account_id);
        out.push(event);
    }
    Ok(out)
}
