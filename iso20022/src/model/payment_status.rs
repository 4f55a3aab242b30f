//! pacs.002: FI-to-FI payment status report.

use super::common::*;

iso_struct! {
    /// Status of the original group.
    pub struct OriginalGroupStatus {
        orgnl_msg_id: one MsgId = "OrgnlMsgId",
        orgnl_msg_nm_id: opt String = "OrgnlMsgNmId",
        orgnl_cre_dt_tm: opt IsoDateTime = "OrgnlCreDtTm",
        grp_sts: opt Code = "GrpSts",
        sts_rsn_inf: many ReasonInfo = "StsRsnInf",
    }
}

iso_struct! {
    /// Status of one original transaction.
    pub struct TransactionStatus {
        sts_id: opt String = "StsId",
        orgnl_grp_inf: opt OriginalGroup = "OrgnlGrpInf",
        orgnl_instr_id: opt InstrId = "OrgnlInstrId",
        orgnl_end_to_end_id: opt EndToEndId = "OrgnlEndToEndId",
        orgnl_tx_id: opt TxId = "OrgnlTxId",
        orgnl_uetr: opt Uetr = "OrgnlUETR",
        tx_sts: opt Code = "TxSts",
        sts_rsn_inf: many ReasonInfo = "StsRsnInf",
        accptnc_dt_tm: opt IsoDateTime = "AccptncDtTm",
        acct_svcr_ref: opt String = "AcctSvcrRef",
        clr_sys_ref: opt String = "ClrSysRef",
        instg_agt: opt Agent = "InstgAgt",
        instd_agt: opt Agent = "InstdAgt",
        orgnl_tx_ref: opt OriginalTransactionRef = "OrgnlTxRef",
    }
}

iso_struct! {
    /// pacs.002: payment status report.
    pub struct PaymentStatusReport {
        grp_hdr: one GroupHeader = "GrpHdr",
        orgnl_grp_inf_and_sts: many OriginalGroupStatus = "OrgnlGrpInfAndSts",
        tx_inf_and_sts: many TransactionStatus = "TxInfAndSts",
    }
}
