//! `transfer.requested` and `payout.batch_requested` → pacs.008 (FI-to-FI customer credit
//! transfer), for a profile that is a direct participant (`messages.credit_transfer`). One
//! `CdtTrfTxInf` per transfer or payout; `GrpHdr` carries NbOfTxs, CtrlSum and
//! TtlIntrBkSttlmAmt of the one currency. Charges are `SLEV` (the scheme's rules), the
//! instructing agent is the debtor's agent and the instructed agent the profile's bank, which is
//! also the BAH `To`.

use iso20022::model::common::{ChargeBearer, GroupHeader, PaymentId, Uetr};
use iso20022::model::credit_transfer::{CreditTransferTx, FiCreditTransfer};
use iso20022::wire::map::Rest;
use iso20022::wire::{Body, Family};

use super::iso_common::{Credit, Iso, agent, amount, control_sum};
use super::{Outbound, Refusal};

pub(crate) fn map(mut iso: Iso<'_>, credit: &Credit<'_>) -> Result<Outbound, Refusal> {
    let version = iso.version(&["credit_transfer"], Family::FiCreditTransfer);
    let msg_id = iso.msg_id();
    let date = iso.date();
    let sttlm_inf = iso.settlement();
    let debtor = credit.debtor(&mut iso);
    let instd_agt = agent(&iso.profile.bic);
    let mut txs = Vec::with_capacity(credit.lines.len());
    let mut amounts = Vec::with_capacity(credit.lines.len());
    for (n, line) in credit.lines(&mut iso) {
        amounts.push(line.money);
        txs.push(CreditTransferTx {
            pmt_id: PaymentId {
                instr_id: None,
                end_to_end_id: Some(line.end_to_end_id),
                tx_id: Some(iso20022::model::common::TxId(format!("{msg_id}-{n}"))),
                uetr: Some(Uetr(line.uetr)),
                rest: Rest::default(),
            },
            intr_bk_sttlm_amt: amount(line.money),
            intr_bk_sttlm_dt: Some(date.clone()),
            instd_amt: None,
            xchg_rate: None,
            chrg_br: Some(ChargeBearer::FollowingServiceLevel),
            instg_agt: Some(debtor.agent.clone()),
            instd_agt: Some(instd_agt.clone()),
            dbtr: Some(debtor.party.clone()),
            dbtr_acct: Some(debtor.account.clone()),
            dbtr_agt: Some(debtor.agent.clone()),
            cdtr_agt: Some(line.creditor.agent),
            cdtr: Some(line.creditor.party),
            cdtr_acct: Some(line.creditor.account),
            rmt_inf: line.remittance,
            rest: Rest::default(),
        });
    }
    let total = amounts.first().map(|first| {
        let mut t = amount(*first);
        t.value = control_sum(&amounts);
        t
    });
    let body = Body::FiCreditTransfer(FiCreditTransfer {
        grp_hdr: GroupHeader {
            msg_id: iso20022::model::common::MsgId(msg_id),
            cre_dt_tm: Some(iso.cre_dt_tm()),
            nb_of_txs: Some(txs.len().to_string()),
            ctrl_sum: Some(control_sum(&amounts)),
            initg_pty: None,
            ttl_intr_bk_sttlm_amt: total,
            intr_bk_sttlm_dt: None,
            sttlm_inf: Some(sttlm_inf),
            instg_agt: None,
            instd_agt: None,
            rest: Rest::default(),
        },
        cdt_trf_tx_inf: txs,
        rest: Rest::default(),
    });
    let from = credit.debtor_bic().to_owned();
    iso.finish(version, body, &from)
}
