//! Account reporting: statements (camt.053 .001.08 and .001.02) and debit/credit
//! notifications (camt.054): balances, entries, entry details, batches and references.

use super::common::*;

iso_struct! {
    /// A date or a date-time (`Dt` | `DtTm`).
    pub struct DateAndDateTime {
        dt: opt IsoDate = "Dt",
        dt_tm: opt IsoDateTime = "DtTm",
    }
}

iso_struct! {
    /// Balance type: code or proprietary, with optional sub-type kept as given.
    pub struct BalanceType {
        cd_or_prtry: opt CodeOrProprietary = "CdOrPrtry",
    }
}

iso_struct! {
    /// One balance (opening, closing, …).
    pub struct Balance {
        tp: one BalanceType = "Tp",
        amt: one ActiveAmount = "Amt",
        cdt_dbt_ind: one CreditDebit = "CdtDbtInd",
        dt: one DateAndDateTime = "Dt",
    }
}

/// Entry status: a code element (`<Sts><Cd>BOOK</Cd></Sts>`, .001.08) or plain text
/// (`<Sts>BOOK</Sts>`, .001.02).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum EntryStatus {
    /// The .001.08 form.
    Choice(CodeOrProprietary),
    /// The .001.02 form.
    Text(Code),
}

impl crate::wire::map::Xml for EntryStatus {
    fn read(
        el: crate::wire::tree::Node<'_>,
        path: &crate::wire::map::Path<'_>,
    ) -> Result<Self, crate::wire::map::MapError> {
        if !el.has_children() {
            Code::read(el, path).map(EntryStatus::Text)
        } else {
            CodeOrProprietary::read(el, path).map(EntryStatus::Choice)
        }
    }
    fn write(&self, tag: &str, out: &mut String) {
        match self {
            EntryStatus::Choice(c) => c.write(tag, out),
            EntryStatus::Text(t) => t.write(tag, out),
        }
    }
}

iso_struct! {
    /// References of one transaction.
    pub struct References {
        msg_id: opt MsgId = "MsgId",
        acct_svcr_ref: opt String = "AcctSvcrRef",
        pmt_inf_id: opt String = "PmtInfId",
        instr_id: opt InstrId = "InstrId",
        end_to_end_id: opt EndToEndId = "EndToEndId",
        uetr: opt Uetr = "UETR",
        tx_id: opt TxId = "TxId",
    }
}

iso_struct! {
    /// Details of one transaction inside an entry.
    pub struct TransactionDetails {
        refs: opt References = "Refs",
        amt: opt ActiveAmount = "Amt",
        cdt_dbt_ind: opt CreditDebit = "CdtDbtInd",
    }
}

iso_struct! {
    /// A batch inside an entry.
    pub struct Batch {
        msg_id: opt MsgId = "MsgId",
        pmt_inf_id: opt String = "PmtInfId",
        nb_of_txs: opt String = "NbOfTxs",
        ttl_amt: opt ActiveAmount = "TtlAmt",
        cdt_dbt_ind: opt CreditDebit = "CdtDbtInd",
    }
}

iso_struct! {
    /// Entry details: an optional batch and its transactions.
    pub struct EntryDetails {
        btch: opt Batch = "Btch",
        tx_dtls: many TransactionDetails = "TxDtls",
    }
}

iso_struct! {
    /// One entry on the account.
    pub struct Entry {
        ntry_ref: opt String = "NtryRef",
        amt: one ActiveAmount = "Amt",
        cdt_dbt_ind: one CreditDebit = "CdtDbtInd",
        rvsl_ind: opt String = "RvslInd",
        sts: opt EntryStatus = "Sts",
        bookg_dt: opt DateAndDateTime = "BookgDt",
        val_dt: opt DateAndDateTime = "ValDt",
        acct_svcr_ref: opt String = "AcctSvcrRef",
        ntry_dtls: many EntryDetails = "NtryDtls",
        addtl_ntry_inf: opt String = "AddtlNtryInf",
    }
}

iso_struct! {
    /// One account report: a statement (`Stmt`) or a notification (`Ntfctn`).
    pub struct AccountReport {
        id: one String = "Id",
        elctrnc_seq_nb: opt String = "ElctrncSeqNb",
        lgl_seq_nb: opt String = "LglSeqNb",
        cre_dt_tm: opt IsoDateTime = "CreDtTm",
        acct: one Account = "Acct",
        bal: many Balance = "Bal",
        ntry: many Entry = "Ntry",
    }
}

iso_struct! {
    /// camt.053 statement message (`BkToCstmrStmt`).
    pub struct Statement {
        grp_hdr: one GroupHeader = "GrpHdr",
        stmt: many AccountReport = "Stmt",
    }
}

iso_struct! {
    /// camt.054 debit/credit notification message (`BkToCstmrDbtCdtNtfctn`).
    pub struct Notification {
        grp_hdr: one GroupHeader = "GrpHdr",
        ntfctn: many AccountReport = "Ntfctn",
    }
}
