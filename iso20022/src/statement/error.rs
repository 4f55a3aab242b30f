//! Errors of the statement reader: each names the element path and the byte offset.

/// A statement that cannot be read. Paths are element local names joined by `/`, e.g.
/// `Document/BkToCstmrStmt/Stmt/Ntry/Amt`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The content of an element is wrong or missing.
    #[error("{path}: {kind} at byte {offset}")]
    Content {
        /// Where.
        path: String,
        /// Byte offset in the input near the problem.
        offset: u64,
        /// What.
        kind: ErrorKind,
    },
    /// The XML itself is broken (or the reader failed).
    #[error("{path}: XML error at byte {offset}: {source}")]
    Xml {
        /// The element being read.
        path: String,
        /// Byte offset of the error.
        offset: u64,
        /// quick-xml's error.
        source: quick_xml::Error,
    },
}

impl Error {
    /// The byte offset the error names.
    pub fn offset(&self) -> u64 {
        match self {
            Error::Content { offset, .. } | Error::Xml { offset, .. } => *offset,
        }
    }

    /// The kind, when the content (not the XML) is wrong.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            Error::Content { kind, .. } => Some(*kind),
            Error::Xml { .. } => None,
        }
    }
}

/// What is wrong with the content, small enough to match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No camt.053 `BkToCstmrStmt` or camt.054 `BkToCstmrDbtCdtNtfctn` in an ISO 20022 namespace.
    #[error("not a camt.053 or camt.054 document")]
    NotAStatement,
    /// The input ends inside a statement.
    #[error("input ends inside the statement")]
    Truncated,
    /// An amount is not a decimal number.
    #[error("amount is not a decimal number")]
    BadAmount,
    /// An amount is negative (ISO 20022 amounts are unsigned; the sign is `CdtDbtInd`).
    #[error("amount is negative")]
    NegativeAmount,
    /// `Ccy` is not three capital letters.
    #[error("currency is not an ISO 4217 code")]
    BadCurrency,
    /// `CdtDbtInd` is neither CRDT nor DBIT.
    #[error("credit/debit indicator is neither CRDT nor DBIT")]
    BadCreditDebit,
    /// A count is not a non-negative integer.
    #[error("count is not a number")]
    BadCount,
    /// A balance or entry lacks its amount.
    #[error("amount missing")]
    MissingAmount,
    /// A balance or entry lacks `CdtDbtInd`.
    #[error("credit/debit indicator missing")]
    MissingCreditDebit,
    /// A balance lacks its type code.
    #[error("balance type missing")]
    MissingBalanceType,
}
