//! `transfer.cancel_requested` → camt.056 (FI-to-FI payment cancellation request): the recall
//! of a `transfer.requested` we sent. The original is found by deriving again what it carried:
//! its MsgId and UETR come from `original_event_id` exactly as they did when it was sent, so
//! the bank can match the recall without Clearway storing anything. The assigner is our agent
//! (`instructing_agent_bic`, or the profile's BIC), the assignee the profile's bank.

use iso20022::model::cancellation_request::{
    Assignment, CancellationRequest, CancellationTx, Underlying,
};
use iso20022::model::common::{
    CodeOrProprietary, EndToEndId, MsgId, OriginalGroup, PartyOrAgent, ReasonInfo, Uetr,
};
use iso20022::wire::map::Rest;
use iso20022::wire::{Body, Family};

use super::iso_common::{Iso, agent, amount, max, msg_id, uetr};
use super::{Outbound, Refusal};
use crate::event::transfer::TransferCancelRequested;

fn assigner(bic: &str) -> PartyOrAgent {
    PartyOrAgent {
        pty: None,
        agt: Some(agent(bic)),
        org_id: None,
        fi_id: None,
        rest: Rest::default(),
    }
}

pub(crate) fn map(mut iso: Iso<'_>, d: &TransferCancelRequested) -> Result<Outbound, Refusal> {
    let version = iso.version(&["payment_cancellation"], Family::CancellationRequest);
    let original_type = iso
        .profile
        .messages
        .get("credit_transfer")
        .or_else(|| iso.profile.messages.get("customer_credit_transfer"))
        .cloned();
    let own_msg_id = iso.msg_id();
    let from = d
        .instructing_agent_bic
        .clone()
        .unwrap_or_else(|| iso.profile.bic.clone());
    let _ = iso.bic("data.instructing_agent_bic", &from);
    let original_id = crate::event::EventId::parse(&d.original_event_id);
    if original_id.is_err() {
        iso.refuse(
            "data.original_event_id",
            "1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'",
        );
    }
    let e2e = iso.id(
        "data.original_end_to_end_id",
        &d.original_end_to_end_id,
        max::ID,
    );
    let money = iso.money("data.amount", &d.amount);
    let reason = iso.code("data.reason", &d.reason);
    let tx = CancellationTx {
        cxl_id: Some(own_msg_id.clone()),
        orgnl_grp_inf: Some(OriginalGroup {
            orgnl_msg_id: MsgId(msg_id(&d.original_event_id)),
            orgnl_msg_nm_id: original_type,
            orgnl_cre_dt_tm: None,
            orgnl_nb_of_txs: None,
            orgnl_ctrl_sum: None,
            rest: Rest::default(),
        }),
        orgnl_instr_id: None,
        orgnl_end_to_end_id: Some(EndToEndId(e2e)),
        orgnl_tx_id: None,
        orgnl_uetr: Some(Uetr(uetr(&d.original_event_id, None))),
        orgnl_clr_sys_ref: None,
        orgnl_intr_bk_sttlm_amt: money.map(amount),
        orgnl_intr_bk_sttlm_dt: None,
        cxl_rsn_inf: vec![ReasonInfo {
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
    let body = Body::CancellationRequest(CancellationRequest {
        assgnmt: Assignment {
            id: own_msg_id,
            assgnr: Some(assigner(&from)),
            assgne: Some(assigner(&iso.profile.bic)),
            cre_dt_tm: Some(iso.cre_dt_tm()),
            rest: Rest::default(),
        },
        undrlyg: vec![Underlying {
            tx_inf: vec![tx],
            rest: Rest::default(),
        }],
        rest: Rest::default(),
    });
    iso.finish(version, body, &from)
}
