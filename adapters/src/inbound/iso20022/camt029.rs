//! camt.029 (resolution of investigation): the answer to our cancellation (camt.056) or
//! return request. One event per `CxlDtls/TxInfAndSts`; its `TxCxlSts` decides, else the
//! message's `Sts/Conf`. With no transaction details, one event for the whole case.

use iso20022::model::investigation_resolution::InvestigationResolution;

use super::{Ctx, InboundError, UNSPECIFIED, reasons};
use crate::status::{Reference, StatusEvent};

pub(super) fn events(
    ctx: &Ctx<'_>,
    m: &InvestigationResolution,
) -> Result<Vec<StatusEvent>, InboundError> {
    let conf = m.sts.as_ref().and_then(|s| s.conf.as_ref());
    let conf_steps = [("Sts", None), ("Conf", None)];
    let mut out = Vec::new();
    for (i, details) in m.cxl_dtls.iter().enumerate() {
        for (j, tx) in details.tx_inf_and_sts.iter().enumerate() {
            let at = [("CxlDtls", Some(i)), ("TxInfAndSts", Some(j))];
            let (code, steps) = match (&tx.tx_cxl_sts, conf) {
                (Some(code), _) => (code, vec![at[0], at[1], ("TxCxlSts", None)]),
                (None, Some(code)) => (code, conf_steps.to_vec()),
                (None, None) => {
                    return Err(ctx.error(
                        &[at[0], at[1], ("TxCxlSts", None)],
                        "no TxCxlSts, and no Sts/Conf for the case",
                    ));
                }
            };
            let status = ctx.status_of(code.as_str(), &steps)?;
            let group = tx.orgnl_grp_inf.as_ref();
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
                uetr: ctx.uetr(tx.orgnl_uetr.as_ref(), &[at[0], at[1], ("OrgnlUETR", None)])?,
                ..Reference::default()
            };
            let place = format!("tx{}", out.len() + 1);
            let mut event = ctx.event(&place, reference, status);
            event.iso_status = Some(code.as_str().to_owned());
            event.reasons = reasons(&tx.cxl_sts_rsn_inf);
            event.bank_reference = tx.cxl_sts_id.clone();
            out.push(event);
        }
    }
    if out.is_empty() {
        let Some(code) = conf else {
            return Err(ctx.error(
                &conf_steps,
                "no Sts/Conf and no CxlDtls/TxInfAndSts: the answer has no status",
            ));
        };
        let status = ctx.status_of(code.as_str(), &conf_steps)?;
        let reference = Reference {
            message_type: UNSPECIFIED.to_owned(),
            ..Reference::default()
        };
        let mut event = ctx.event("case", reference, status);
        event.iso_status = Some(code.as_str().to_owned());
        event.bank_reference = Some(m.assgnmt.id.clone());
        out.push(event);
    }
    Ok(out)
}
