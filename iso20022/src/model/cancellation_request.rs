//! camt.056: FI-to-FI payment cancellation request.

use super::common::*;

iso_struct! {
    /// Case assignment (`Assgnmt`), shared with camt.029.
    pub struct Assignment {
        id: one String = "Id",
        assgnr: opt PartyOrAgent = "Assgnr",
        assgne: opt PartyOrAgent = "Assgne",
        cre_dt_tm: opt IsoDateTime = "CreDtTm",
    }
}

iso_struct! {
    /// One transaction whose cancellation is requested.
    pub struct CancellationTx {
        cxl_id: opt String = "CxlId",
        orgnl_grp_inf: opt OriginalGroup = "OrgnlGrpInf",
        orgnl_instr_id: opt InstrId = "OrgnlInstrId",
        orgnl_end_to_end_id: opt EndToEndId = "OrgnlEndToEndId",
        orgnl_tx_id: opt TxId = "OrgnlTxId",
        orgnl_uetr: opt Uetr = "OrgnlUETR",
        orgnl_clr_sys_ref: opt String = "OrgnlClrSysRef",
        orgnl_intr_bk_sttlm_amt: opt ActiveAmount = "OrgnlIntrBkSttlmAmt",
        orgnl_intr_bk_sttlm_dt: opt IsoDate = "OrgnlIntrBkSttlmDt",
        cxl_rsn_inf: many ReasonInfo = "CxlRsnInf",
        orgnl_tx_ref: opt OriginalTransactionRef = "OrgnlTxRef",
    }
}

iso_struct! {
    /// The underlying transactions (`Undrlyg`).
    pub struct Underlying {
        tx_inf: many CancellationTx = "TxInf",
    }
}

iso_struct! {
    /// camt.056: cancellation request.
    pub struct CancellationRequest {
        assgnmt: one Assignment = "Assgnmt",
        undrlyg: many Underlying = "Undrlyg",
    }
}
