//! pacs.004 (payment return, .001.09 and .001.10): our payment came back. One `returned` event
//! per `TxInf`, naming the original by `OrgnlMsgId`, `OrgnlEndToEndId`, `OrgnlTxId` and
//! `OrgnlUETR`, with the returned amount (`RtrdIntrBkSttlmAmt`) and the return reasons.

use iso20022::model::payment_return::PaymentReturn;

use super::{Ctx, InboundError, UNSPECIFIED, reasons};
use crate::status::{Reference, Status, StatusEvent};

pub(super) fn events(ctx: &Ctx<'_>, m: &PaymentReturn) -> Result<Vec<StatusEvent>, InboundError> {
    if m.tx_inf.is_empty() {
        return Err(ctx.error(&[("TxInf", None)], "no TxInf: nothing is returned"));
    }
    let mut out = Vec::with_capacity(m.tx_inf.len());
    for (i, tx) in m.tx_inf.iter().enumerate() {
        let at = ("TxInf", Some(i));
        // the transaction's own OrgnlGrpInf, else the message-level one
        let group = tx.orgnl_grp_inf.as_ref().or(m.orgnl_grp_inf.as_ref());
        let reference = Reference {
            message_type: group
                .and_then(|g| g.orgnl_msg_nm_id.clone())
                .unwrap_or_else(|| UNSPECIFIED.to_owned()),
            msg_id: group.map(|g| g.orgnl_msg_id.as_str().to_owned()),
            instr_id: tx.orgnl_instr_id.as_ref().map(|x| x.as_str().to_owned()),
            end_to_end_id: tx
                .orgnl_end_to_end_id
                .as_ref()
                .map(|x| x.as_str().to_owned()),
            tx_id: tx.orgnl_tx_id.as_ref().map(|x| x.as_str().to_owned()),
            uetr: ctx.uetr(tx.orgnl_uetr.as_ref(), &[at, ("OrgnlUETR", None)])?,
            ..Reference::default()
        };
        let mut event = ctx.event(&format!("tx{}", i + 1), reference, Status::Returned);
        event.amount = Some(ctx.amount(
            &tx.rtrd_intr_bk_sttlm_amt,
            &[at, ("RtrdIntrBkSttlmAmt", None)],
        )?);
        event.reasons = reasons(&tx.rtr_rsn_inf);
        event.settlement_date = match (&tx.intr_bk_sttlm_dt, &m.grp_hdr.intr_bk_sttlm_dt) {
            (Some(d), _) => Some(ctx.date(d.as_str(), &[at, ("IntrBkSttlmDt", None)])?),
            (None, Some(d)) => {
                Some(ctx.date(d.as_str(), &[("GrpHdr", None), ("IntrBkSttlmDt", None)])?)
            }
            (None, None) => None,
        };
        event.bank_reference = tx.rtr_id.clone();
        out.push(event);
    }
    Ok(out)
}
