//! The typed events a statement stream yields.

use std::fmt;

use rust_decimal::Decimal;

use crate::money::Currency;

use super::balance::BalanceCheck;

/// Which message the stream reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// camt.053 `BkToCstmrStmt`: statements (`Stmt`) with balances.
    Camt053,
    /// camt.054 `BkToCstmrDbtCdtNtfctn`: notifications (`Ntfctn`), normally without balances.
    Camt054,
}

/// `CdtDbtInd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CreditDebit {
    /// `CRDT`.
    Credit,
    /// `DBIT`.
    Debit,
}

impl CreditDebit {
    /// Parses `CRDT` or `DBIT`.
    pub fn parse(code: &str) -> Option<CreditDebit> {
        match code {
            "CRDT" => Some(CreditDebit::Credit),
            "DBIT" => Some(CreditDebit::Debit),
            _ => None,
        }
    }

    /// `CRDT` or `DBIT`.
    pub fn code(self) -> &'static str {
        match self {
            CreditDebit::Credit => "CRDT",
            CreditDebit::Debit => "DBIT",
        }
    }
}

impl fmt::Display for CreditDebit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The account a statement is about: `Acct/Id/IBAN` or `Acct/Id/Othr/Id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountId {
    /// An IBAN.
    Iban(String),
    /// Another identification (`Othr/Id`).
    Other(String),
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountId::Iban(s) => write!(f, "IBAN {s}"),
            AccountId::Other(s) => write!(f, "Othr {s}"),
        }
    }
}

/// A balance type code (`Bal/Tp/CdOrPrtry/Cd`, ISO external code list), or a proprietary one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BalanceKind {
    /// Opening booked.
    Opbd,
    /// Previously closed booked (an opening balance under another name).
    Prcd,
    /// Closing booked.
    Clbd,
    /// Closing available.
    Clav,
    /// Opening available.
    Opav,
    /// Interim booked.
    Itbd,
    /// Interim available.
    Itav,
    /// Forward available.
    Fwav,
    /// Any other code, or `Prtry` text.
    Other(String),
}

impl BalanceKind {
    /// Maps a code; unknown codes are kept as [`BalanceKind::Other`].
    pub fn from_code(code: &str) -> BalanceKind {
        match code {
            "OPBD" => BalanceKind::Opbd,
            "PRCD" => BalanceKind::Prcd,
            "CLBD" => BalanceKind::Clbd,
            "CLAV" => BalanceKind::Clav,
            "OPAV" => BalanceKind::Opav,
            "ITBD" => BalanceKind::Itbd,
            "ITAV" => BalanceKind::Itav,
            "FWAV" => BalanceKind::Fwav,
            other => BalanceKind::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for BalanceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BalanceKind::Opbd => "OPBD",
            BalanceKind::Prcd => "PRCD",
            BalanceKind::Clbd => "CLBD",
            BalanceKind::Clav => "CLAV",
            BalanceKind::Opav => "OPAV",
            BalanceKind::Itbd => "ITBD",
            BalanceKind::Itav => "ITAV",
            BalanceKind::Fwav => "FWAV",
            BalanceKind::Other(s) => s,
        })
    }
}

/// An entry's status (`Sts/Cd` in .001.08, `Sts` text in .001.02).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryStatus {
    /// `BOOK`: moves the booked balance.
    Booked,
    /// `PDNG`.
    Pending,
    /// `INFO`.
    Info,
    /// Any other code, or no status at all (empty string).
    Other(String),
}

impl EntryStatus {
    /// Maps a code.
    pub fn from_code(code: &str) -> EntryStatus {
        match code {
            "BOOK" => EntryStatus::Booked,
            "PDNG" => EntryStatus::Pending,
            "INFO" => EntryStatus::Info,
            other => EntryStatus::Other(other.to_owned()),
        }
    }
}

/// A date or date-time exactly as written (`Dt` or `DtTm`), e.g. `2026-11-25`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsoDate(pub String);

/// The statement (or notification) header, yielded before its balances and entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementHeader {
    /// `Stmt/Id` (or `Ntfctn/Id`).
    pub id: String,
    /// `Acct/Id`.
    pub account: Option<AccountId>,
    /// `Acct/Ccy`.
    pub currency: Option<Currency>,
    /// `CreDtTm`.
    pub created: Option<IsoDate>,
}

/// A `Bal` element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    /// `Tp/CdOrPrtry`.
    pub kind: BalanceKind,
    /// `Amt`, never negative; the sign is in `credit_debit`.
    pub amount: Decimal,
    /// `Amt/@Ccy`.
    pub currency: Option<Currency>,
    /// `CdtDbtInd`: a negative balance is DBIT.
    pub credit_debit: CreditDebit,
    /// `Dt/Dt` or `Dt/DtTm`.
    pub date: Option<IsoDate>,
}

/// `BkTxCd`: the ISO domain/family/sub-family, or the proprietary code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BankTxCode {
    /// `Domn/Cd`, e.g. `PMNT`.
    pub domain: Option<String>,
    /// `Domn/Fmly/Cd`, e.g. `RCDT`.
    pub family: Option<String>,
    /// `Domn/Fmly/SubFmlyCd`, e.g. `ESCT`.
    pub sub_family: Option<String>,
    /// `Prtry/Cd`.
    pub proprietary: Option<String>,
}

/// A debtor or creditor as the transaction details name it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Party {
    /// `Nm`.
    pub name: Option<String>,
    /// The account: `…Acct/Id/IBAN` or `…Acct/Id/Othr/Id`.
    pub account: Option<AccountId>,
    /// The agent's `FinInstnId/BICFI` (`BIC` in .001.02).
    pub bic: Option<String>,
}

impl Party {
    fn is_empty(&self) -> bool {
        self.name.is_none() && self.account.is_none() && self.bic.is_none()
    }
}

/// One `TxDtls`: the keys to match a transaction, its amount and its counterparties.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxDetail {
    /// `Refs/EndToEndId`.
    pub end_to_end_id: Option<String>,
    /// `Refs/TxId`.
    pub tx_id: Option<String>,
    /// `Refs/UETR`.
    pub uetr: Option<String>,
    /// `Refs/InstrId`.
    pub instr_id: Option<String>,
    /// `Refs/AcctSvcrRef`.
    pub acct_svcr_ref: Option<String>,
    /// `Amt` (or `AmtDtls/TxAmt/Amt`).
    pub amount: Option<Decimal>,
    /// The currency of `amount`.
    pub currency: Option<Currency>,
    /// `CdtDbtInd`.
    pub credit_debit: Option<CreditDebit>,
    /// `RltdPties/Dbtr`, `DbtrAcct` and `RltdAgts/DbtrAgt`.
    pub debtor: Option<Party>,
    /// `RltdPties/Cdtr`, `CdtrAcct` and `RltdAgts/CdtrAgt`.
    pub creditor: Option<Party>,
    /// `RmtInf/Ustrd` lines, and `RmtInf/Strd/CdtrRefInf/Ref`.
    pub remittance: Vec<String>,
}

impl TxDetail {
    /// The other side of the entry: the debtor of a credit, the creditor of a debit.
    pub fn counterparty(&self, entry: CreditDebit) -> Option<&Party> {
        match entry {
            CreditDebit::Credit => self.debtor.as_ref(),
            CreditDebit::Debit => self.creditor.as_ref(),
        }
    }

    pub(crate) fn tidy(&mut self) {
        if self.debtor.as_ref().is_some_and(Party::is_empty) {
            self.debtor = None;
        }
        if self.creditor.as_ref().is_some_and(Party::is_empty) {
            self.creditor = None;
        }
    }
}

/// An `Ntry`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `NtryRef`.
    pub ntry_ref: Option<String>,
    /// `Amt`, never negative.
    pub amount: Decimal,
    /// `Amt/@Ccy`.
    pub currency: Option<Currency>,
    /// `CdtDbtInd`.
    pub credit_debit: CreditDebit,
    /// `RvslInd` is `true`.
    pub reversal: bool,
    /// `Sts`.
    pub status: EntryStatus,
    /// `BookgDt`.
    pub booking_date: Option<IsoDate>,
    /// `ValDt`.
    pub value_date: Option<IsoDate>,
    /// `AcctSvcrRef`.
    pub acct_svcr_ref: Option<String>,
    /// `BkTxCd`.
    pub bank_tx_code: BankTxCode,
    /// `NtryDtls/Btch/NbOfTxs` of a batch booking.
    pub batch: Option<u64>,
    /// `NtryDtls/TxDtls`, in order.
    pub details: Vec<TxDetail>,
}

/// `TxsSummry`: what the statement says about its own entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxsSummary {
    /// `TtlNtries/NbOfNtries`.
    pub total_entries: Option<u64>,
    /// `TtlNtries/Sum`.
    pub total_sum: Option<Decimal>,
    /// `TtlNtries/TtlNetNtry` (`TtlNetNtryAmt` in .001.02), signed.
    pub net: Option<Decimal>,
    /// `TtlCdtNtries/NbOfNtries`.
    pub credit_entries: Option<u64>,
    /// `TtlCdtNtries/Sum`.
    pub credit_sum: Option<Decimal>,
    /// `TtlDbtNtries/NbOfNtries`.
    pub debit_entries: Option<u64>,
    /// `TtlDbtNtries/Sum`.
    pub debit_sum: Option<Decimal>,
}

/// What [`super::StatementReader`] yields, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatementEvent {
    /// A statement (`Stmt`) or notification (`Ntfctn`) begins.
    Statement(StatementHeader),
    /// A `Bal`.
    Balance(Balance),
    /// The `TxsSummry`.
    TxsSummary(TxsSummary),
    /// An `Ntry`.
    Entry(Box<Entry>),
    /// The statement ended; the balance rule and summary check over what it held.
    StatementEnd(BalanceCheck),
}
