//! `transfer.return_requested` → pacs.004 (payment return) in the profile's version
//! (`messages.payment_return`: .001.09 for SEPA/CBPR+, .001.10 for FedNow): funds we received
//! go back. It names the original by the bank's MsgId, EndToEndId and UETR as the event gives
//! them; the returning agent is ours (`instructing_agent_bic`, or the profile's BIC), the
//! instructed agent the profile's bank. Charges `SLEV`, settlement date the date of
//! `occurred_at`.

use iso20022::model::common::{
    ChargeBearer, CodeOrProprietary, EndToEndId, GroupHeader, MsgId, OriginalGroup, ReasonInfo,
    Uetr,
};
use iso20022::model::payment_return::{PaymentReturn, ReturnTx};
use iso20022::wire::map::Rest;
use iso20022::wire::{Body, Family};

use super::iso_common::{Iso, agent, amount, control_sum, max};
use super::{Outbound, Refusal};
use crate::event::transfer::TransferReturnRequested;

pub(crate) fn map(mut iso: Iso<'_>, d: &TransferReturnRequested) -> Result<Outbound, Refusal> {
    let version = iso.version(&["payment_return"], Family::PaymentReturn);
    let msg_id = iso.msg_id();
    let from = d
        .instructing_agent_bic
        .clone()
        .unwrap_or_else(|| iso.profile.bic.clone());
    let instg_agt = iso.bic("data.instructing_agent_bic", &from);
    let original_msg_id = iso.id("data.original_msg_id", &d.original_msg_id, max::ID);
    let original_type = d
        .original_message_type
        .clone()
        .or_else(|| iso.profile.messages.get("credit_transfer").cloned());
    let Some(original_type) = original_type else {
        iso.refuse(
            "data.original_message_type",
            "required when the profile names no credit_transfer version",
        );
        return iso.finish(None, Body::PaymentReturn(empty()), &from);
    };
    let original_type = iso.id("data.original_message_type", &original_type, max::ID);
    let e2e = iso.id(
        "data.original_end_to_end_id",
        &d.original_end_to_end_id,
        max::ID,
    );
    // the UUID v4 form of `original_uetr` is checked by validation (UETR-V4)
    let money = iso.money("data.amount", &d.amount);
    let reason = iso.code("data.reason", &d.reason);
    let Some(money) = money else {
        return iso.finish(None, Body::PaymentReturn(empty()), &from);
    };
    let tx = ReturnTx {
        rtr_id: Some(msg_id.clone()),
        orgnl_grp_inf: Some(OriginalGroup {
            orgnl_msg_id: MsgId(original_msg_id),
            orgnl_msg_nm_id: Some(original_type),
            orgnl_cre_dt_tm: None,
            orgnl_nb_of_txs: None,
            orgnl_ctrl_sum: None,
            rest: Rest::default(),
        }),
        orgnl_instr_id: None,
        orgnl_end_to_end_id: Some(EndToEndId(e2e)),
        orgnl_tx_id: None,
        orgnl_uetr: d.original_uetr.clone().map(Uetr),
        orgnl_clr_sys_ref: None,
        orgnl_intr_bk_sttlm_amt: None,
        orgnl_intr_bk_sttlm_dt: None,
        rtrd_intr_bk_sttlm_amt: amount(money),
        intr_bk_sttlm_dt: Some(iso.date()),
        rtrd_instd_amt: None,
        chrg_br: Some(ChargeBearer::FollowingServiceLevel),
        instg_agt: Some(instg_agt),
        instd_agt: Some(agent(&iso.profile.bic)),
        rtr_rsn_inf: vec![ReasonInfo {
            orgtr: None,
            rsn: Some(CodeOrProprietary {
                cd: Some(reason),
                prtry: None,
                rest: Rest::default(),
            }),
            addtl_inf: Vec::new(),
            rest: Rest::default(),
        }],
        orgnl_tx_ref: None,
        rest: Rest::default(),
    };
    let sttlm_inf = iso.settlement();
    let body = Body::PaymentReturn(PaymentReturn {
        grp_hdr: GroupHeader {
            msg_id: MsgId(msg_id),
            cre_dt_tm: Some(iso.cre_dt_tm()),
            nb_of_txs: Some("1".into()),
            ctrl_sum: Some(control_sum(&[money])),
            initg_pty: None,
            ttl_intr_bk_sttlm_amt: None,
            intr_bk_sttlm_dt: None,
            sttlm_inf: Some(sttlm_inf),
            instg_agt: None,
            instd_agt: None,
            rest: Rest::default(),
        },
        orgnl_grp_inf: None,
        tx_inf: vec![tx],
        rest: Rest::default(),
    });
    iso.finish(version, body, &from)
}

fn empty() -> PaymentReturn {
    PaymentReturn {
        grp_hdr: GroupHeader {
            msg_id: MsgId(String::new()),
            cre_dt_tm: None,
            nb_of_txs: None,
            ctrl_sum: None,
            initg_pty: None,
            ttl_intr_bk_sttlm_amt: None,
            intr_bk_sttlm_dt: None,
            sttlm_inf: None,
            instg_agt: None,
            instd_agt: None,
            rest: Rest::default(),
        },
        orgnl_grp_inf: None,
        tx_inf: Vec::new(),
        rest: Rest::default(),
    }
}
