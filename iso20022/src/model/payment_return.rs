//! pacs.004: payment return (wire versions .001.09 and .001.10 map to this one model).

use super::common::*;

iso_struct! {
    /// One returned transaction.
    pub struct ReturnTx {
        rtr_id: opt String = "RtrId",
        orgnl_grp_inf: opt OriginalGroup = "OrgnlGrpInf",
        orgnl_instr_id: opt InstrId = "OrgnlInstrId",
        orgnl_end_to_end_id: opt EndToEndId = "OrgnlEndToEndId",
        orgnl_tx_id: opt TxId = "OrgnlTxId",
        orgnl_uetr: opt Uetr = "OrgnlUETR",
        orgnl_clr_sys_ref: opt String = "OrgnlClrSysRef",
        orgnl_intr_bk_sttlm_amt: opt ActiveAmount = "OrgnlIntrBkSttlmAmt",
        orgnl_intr_bk_sttlm_dt: opt IsoDate = "OrgnlIntrBkSttlmDt",
        rtrd_intr_bk_sttlm_amt: one ActiveAmount = "RtrdIntrBkSttlmAmt",
        intr_bk_sttlm_dt: opt IsoDate = "IntrBkSttlmDt",
        rtrd_instd_amt: opt ActiveAmount = "RtrdInstdAmt",
        chrg_br: opt ChargeBearer = "ChrgBr",
        instg_agt: opt Agent = "InstgAgt",
        instd_agt: opt Agent = "InstdAgt",
        rtr_rsn_inf: many ReasonInfo = "RtrRsnInf",
        orgnl_tx_ref: opt OriginalTransactionRef = "OrgnlTxRef",
    }
}

iso_struct! {
    /// pacs.004: payment return.
    pub struct PaymentReturn {
        grp_hdr: one GroupHeader = "GrpHdr",
        orgnl_grp_inf: opt OriginalGroup = "OrgnlGrpInf",
        tx_inf: many ReturnTx = "TxInf",
    }
}
