//! `transfer.requested` and `payout.batch_requested` → pain.001 (customer credit transfer
//! initiation), for a corporate-channel profile (`messages.customer_credit_transfer`): we are
//! the bank's customer. One `PmtInf` for the one debtor with one `CdtTrfTxInf` per transfer or
//! payout; NbOfTxs and CtrlSum in both `GrpHdr` and `PmtInf`; the initiating party is the
//! debtor; the requested execution date is the date of `occurred_at`.

use iso20022::model::common::{ChargeBearer, Code, GroupHeader, MsgId, Party, PaymentId, Uetr};
use iso20022::model::credit_transfer::{
    CustomerCreditTransferInitiation, DateOrDateTime, InitiationTx, InstructedAmount,
    PaymentInformation,
};
use iso20022::wire::map::Rest;
use iso20022::wire::{Body, Family};

use super::iso_common::{Credit, Iso, amount, control_sum};
use super::{Outbound, Refusal};

pub(crate) fn map(mut iso: Iso<'_>, credit: &Credit<'_>) -> Result<Outbound, Refusal> {
    let version = iso.version(
        &["customer_credit_transfer"],
        Family::CustomerCreditTransferInitiation,
    );
    let msg_id = iso.msg_id();
    let debtor = credit.debtor(&mut iso);
    let mut txs = Vec::with_capacity(credit.lines.len());
    let mut amounts = Vec::with_capacity(credit.lines.len());
    for (_, line) in credit.lines(&mut iso) {
        amounts.push(line.money);
        txs.push(InitiationTx {
            pmt_id: PaymentId {
                instr_id: None,
                end_to_end_id: Some(line.end_to_end_id),
                tx_id: None,
                uetr: Some(Uetr(line.uetr)),
                rest: Rest::default(),
            },
            amt: InstructedAmount {
                instd_amt: Some(amount(line.money)),
                rest: Rest::default(),
            },
            chrg_br: None,
            cdtr_agt: Some(line.creditor.agent),
            cdtr: Some(line.creditor.party),
            cdtr_acct: Some(line.creditor.account),
            rmt_inf: line.remittance,
            rest: Rest::default(),
        });
    }
    let count = txs.len().to_string();
    let sum = control_sum(&amounts);
    let initiating = Party {
        nm: debtor.party.nm.clone(),
        pstl_adr: None,
        ctry_of_res: None,
        rest: Rest::default(),
    };
    let body = Body::CustomerCreditTransferInitiation(CustomerCreditTransferInitiation {
        grp_hdr: GroupHeader {
            msg_id: MsgId(msg_id.clone()),
            cre_dt_tm: Some(iso.cre_dt_tm()),
            nb_of_txs: Some(count.clone()),
            ctrl_sum: Some(sum),
            initg_pty: Some(initiating),
            ttl_intr_bk_sttlm_amt: None,
            intr_bk_sttlm_dt: None,
            sttlm_inf: None,
            instg_agt: None,
            instd_agt: None,
            rest: Rest::default(),
        },
        pmt_inf: vec![PaymentInformation {
            pmt_inf_id: msg_id,
            pmt_mtd: Code("TRF".into()),
            nb_of_txs: Some(count),
            ctrl_sum: Some(sum),
            reqd_exctn_dt: Some(DateOrDateTime {
                dt: Some(iso.date()),
                dt_tm: None,
                rest: Rest::default(),
            }),
            dbtr: Some(debtor.party),
            dbtr_acct: Some(debtor.account),
            dbtr_agt: Some(debtor.agent),
            chrg_br: Some(ChargeBearer::FollowingServiceLevel),
            cdt_trf_tx_inf: txs,
            rest: Rest::default(),
        }],
        rest: Rest::default(),
    });
    let from = credit.debtor_bic().to_owned();
    iso.finish(version, body, &from)
}
