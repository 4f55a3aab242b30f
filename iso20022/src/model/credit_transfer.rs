//! Credit transfers: the interbank FI-to-FI customer credit transfer (pacs.008) and the
//! customer credit transfer initiation (pain.001), sharing parties, agents and accounts.

use rust_decimal::Decimal;

use super::common::*;

iso_struct! {
    /// One interbank credit transfer (`CdtTrfTxInf` of pacs.008).
    pub struct CreditTransferTx {
        pmt_id: one PaymentId = "PmtId",
        intr_bk_sttlm_amt: one ActiveAmount = "IntrBkSttlmAmt",
        intr_bk_sttlm_dt: opt IsoDate = "IntrBkSttlmDt",
        instd_amt: opt ActiveAmount = "InstdAmt",
        xchg_rate: opt Decimal = "XchgRate",
        chrg_br: opt ChargeBearer = "ChrgBr",
        instg_agt: opt Agent = "InstgAgt",
        instd_agt: opt Agent = "InstdAgt",
        dbtr: opt Party = "Dbtr",
        dbtr_acct: opt Account = "DbtrAcct",
        dbtr_agt: opt Agent = "DbtrAgt",
        cdtr_agt: opt Agent = "CdtrAgt",
        cdtr: opt Party = "Cdtr",
        cdtr_acct: opt Account = "CdtrAcct",
        rmt_inf: opt Remittance = "RmtInf",
    }
}

iso_struct! {
    /// pacs.008: FI-to-FI customer credit transfer.
    pub struct FiCreditTransfer {
        grp_hdr: one GroupHeader = "GrpHdr",
        cdt_trf_tx_inf: many CreditTransferTx = "CdtTrfTxInf",
    }
}

iso_struct! {
    /// The amount of a pain.001 transaction (`Amt`).
    pub struct InstructedAmount {
        instd_amt: opt ActiveAmount = "InstdAmt",
    }
}

iso_struct! {
    /// One transaction of a pain.001 payment information block.
    pub struct InitiationTx {
        pmt_id: one PaymentId = "PmtId",
        amt: one InstructedAmount = "Amt",
        chrg_br: opt ChargeBearer = "ChrgBr",
        cdtr_agt: opt Agent = "CdtrAgt",
        cdtr: opt Party = "Cdtr",
        cdtr_acct: opt Account = "CdtrAcct",
        rmt_inf: opt Remittance = "RmtInf",
    }
}

iso_struct! {
    /// Requested execution date (`ReqdExctnDt`: a date or a date-time).
    pub struct DateOrDateTime {
        dt: opt IsoDate = "Dt",
        dt_tm: opt IsoDateTime = "DtTm",
    }
}

iso_struct! {
    /// A pain.001 payment information block: debtor side and its transactions.
    pub struct PaymentInformation {
        pmt_inf_id: one String = "PmtInfId",
        pmt_mtd: one Code = "PmtMtd",
        nb_of_txs: opt String = "NbOfTxs",
        ctrl_sum: opt Decimal = "CtrlSum",
        reqd_exctn_dt: opt DateOrDateTime = "ReqdExctnDt",
        dbtr: opt Party = "Dbtr",
        dbtr_acct: opt Account = "DbtrAcct",
        dbtr_agt: opt Agent = "DbtrAgt",
        chrg_br: opt ChargeBearer = "ChrgBr",
        cdt_trf_tx_inf: many InitiationTx = "CdtTrfTxInf",
    }
}

iso_struct! {
    /// pain.001: customer credit transfer initiation.
    pub struct CustomerCreditTransferInitiation {
        grp_hdr: one GroupHeader = "GrpHdr",
        pmt_inf: many PaymentInformation = "PmtInf",
    }
}
