//! pacs.002 (FI-to-FI payment status report): one status event per `TxInfAndSts`, or per
//! `OrgnlGrpInfAndSts` when the report carries no transactions. A transaction without its own
//! `TxSts` takes the status (and, having none of its own, the reasons) of its group, which
//! ISO 20022 allows when the whole group has one status.

use iso20022::model::payment_status::{OriginalGroupStatus, PaymentStatusReport};

use super::{Ctx, InboundError, UNSPECIFIED, reasons};
use crate::status::{Reference, StatusEvent};

/// Group statuses that say "some": a transaction cannot take them as its own.
const PARTIAL: [&str; 2] = ["PART", "PATC"];

pub(super) fn events(
    ctx: &Ctx<'_>,
    m: &PaymentStatusReport,
) -> Result<Vec<StatusEvent>, InboundError> {
    if m.tx_inf_and_sts.is_empty() {
        if m.orgnl_grp_inf_and_sts.is_empty() {
            return Err(ctx.error(
                &[],
                "neither OrgnlGrpInfAndSts nor TxInfAndSts: the report has no status",
            ));
        }
        return m
            .orgnl_grp_inf_and_sts
            .iter()
            .enumerate()
            .map(|(i, group)| group_event(ctx, i, group))
            .collect();
    }
    let mut out = Vec::with_capacity(m.tx_inf_and_sts.len());
    for (i, tx) in m.tx_inf_and_sts.iter().enumerate() {
        let at = ("TxInfAndSts", Some(i));
        let orgnl_msg_id = tx.orgnl_grp_inf.as_ref().map(|g| &g.orgnl_msg_id);
        // the group this transaction belongs to: named by OrgnlMsgId, or the only one
        let groups = &m.orgnl_grp_inf_and_sts;
        let group_at = orgnl_msg_id
            .and_then(|id| groups.iter().position(|g| &g.orgnl_msg_id == id))
            .or((groups.len() == 1).then_some(0));
        let group = group_at.and_then(|g| groups.get(g));
        let (code, steps, inherited) = match (&tx.tx_sts, group.and_then(|g| g.grp_sts.as_ref())) {
            (Some(code), _) => (code, vec![at, ("TxSts", None)], false),
            (None, Some(code)) if PARTIAL.contains(&code.as_str()) => {
                return Err(ctx.error(
                    &[at, ("TxSts", None)],
                    format!("no TxSts, and the group status {code} does not say which transactions it covers"),
                ));
            }
            (None, Some(code)) => (
                code,
                vec![("OrgnlGrpInfAndSts", group_at), ("GrpSts", None)],
                true,
            ),
            (None, None) => {
                return Err(ctx.error(
                    &[at, ("TxSts", None)],
                    "no TxSts, and no group status (GrpSts) to take it from",
                ));
            }
        };
        let status = ctx.status_of(code.as_str(), &steps)?;
        let reference = Reference {
            message_type: tx
                .orgnl_grp_inf
                .as_ref()
                .and_then(|g| g.orgnl_msg_nm_id.clone())
                .or_else(|| group.and_then(|g| g.orgnl_msg_nm_id.clone()))
                .unwrap_or_else(|| UNSPECIFIED.to_owned()),
            msg_id: orgnl_msg_id
                .or(group.map(|g| &g.orgnl_msg_id))
                .map(|id| id.as_str().to_owned()),
            instr_id: tx.orgnl_instr_id.as_ref().map(|x| x.as_str().to_owned()),
            end_to_end_id: tx
                .orgnl_end_to_end_id
                .as_ref()
                .map(|x| x.as_str().to_owned()),
            tx_id: tx.orgnl_tx_id.as_ref().map(|x| x.as_str().to_owned()),
            uetr: ctx.uetr(tx.orgnl_uetr.as_ref(), &[at, ("OrgnlUETR", None)])?,
            ..Reference::default()
        };
        let mut event = ctx.event(&format!("tx{}", i + 1), reference, status);
        event.iso_status = Some(code.as_str().to_owned());
        event.reasons = reasons(&tx.sts_rsn_inf);
        if event.reasons.is_empty()
            && inherited
            && let Some(group) = group
        {
            event.reasons = reasons(&group.sts_rsn_inf);
        }
        if let Some(ref_tx) = &tx.orgnl_tx_ref
            && let Some(amount) = &ref_tx.intr_bk_sttlm_amt
        {
            event.amount = Some(ctx.amount(
                amount,
                &[at, ("OrgnlTxRef", None), ("IntrBkSttlmAmt", None)],
            )?);
            if let Some(date) = &ref_tx.intr_bk_sttlm_dt {
                event.settlement_date = Some(ctx.date(
                    date.as_str(),
                    &[at, ("OrgnlTxRef", None), ("IntrBkSttlmDt", None)],
                )?);
            }
        }
        event.bank_reference = tx
            .sts_id
            .clone()
            .or_else(|| tx.acct_svcr_ref.clone())
            .or_else(|| tx.clr_sys_ref.clone());
        out.push(event);
    }
    Ok(out)
}

fn group_event(
    ctx: &Ctx<'_>,
    i: usize,
    group: &OriginalGroupStatus,
) -> Result<StatusEvent, InboundError> {
    let at = ("OrgnlGrpInfAndSts", Some(i));
    let Some(code) = &group.grp_sts else {
        return Err(ctx.error(
            &[at, ("GrpSts", None)],
            "no GrpSts, and no TxInfAndSts: the report has no status",
        ));
    };
    let status = ctx.status_of(code.as_str(), &[at, ("GrpSts", None)])?;
    let reference = Reference {
        message_type: group
            .orgnl_msg_nm_id
            .clone()
            .unwrap_or_else(|| UNSPECIFIED.to_owned()),
        msg_id: Some(group.orgnl_msg_id.as_str().to_owned()),
        ..Reference::default()
    };
    let mut event = ctx.event(&format!("grp{}", i + 1), reference, status);
    event.iso_status = Some(code.as_str().to_owned());
    event.reasons = reasons(&group.sts_rsn_inf);
    Ok(event)
}
