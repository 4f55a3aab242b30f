//! camt.029: resolution of investigation (answer to a cancellation request).

use super::cancellation_request::Assignment;
use super::common::*;

iso_struct! {
    /// The investigation status (`Sts`): a confirmation code, or other kept as given.
    pub struct InvestigationStatus {
        conf: opt Code = "Conf",
    }
}

iso_struct! {
    /// Cancellation status of one original transaction.
    pub struct CancellationTxStatus {
        cxl_sts_id: opt String = "CxlStsId",
        orgnl_grp_inf: opt OriginalGroup = "OrgnlGrpInf",
        orgnl_instr_id: opt InstrId = "OrgnlInstrId",
        orgnl_end_to_end_id: opt EndToEndId = "OrgnlEndToEndId",
        orgnl_tx_id: opt TxId = "OrgnlTxId",
        orgnl_clr_sys_ref: opt String = "OrgnlClrSysRef",
        orgnl_uetr: opt Uetr = "OrgnlUETR",
        tx_cxl_sts: opt Code = "TxCxlSts",
        cxl_sts_rsn_inf: many ReasonInfo = "CxlStsRsnInf",
        orgnl_tx_ref: opt OriginalTransactionRef = "OrgnlTxRef",
    }
}

iso_struct! {
    /// Cancellation details (`CxlDtls`).
    pub struct CancellationDetails {
        tx_inf_and_sts: many CancellationTxStatus = "TxInfAndSts",
    }
}

iso_struct! {
    /// camt.029: resolution of investigation.
    pub struct InvestigationResolution {
        assgnmt: one Assignment = "Assgnmt",
        sts: opt InvestigationStatus = "Sts",
        cxl_dtls: many CancellationDetails = "CxlDtls",
    }
}
