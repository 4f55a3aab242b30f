//! `clearway.status.v1`: what the bank answered, as a JSON event naming the original message
//! (STAN and RRN for cards; MsgId, EndToEndId, TxId and UETR for ISO 20022: the settlement store
//! resolves them to the event and payment). Card numbers appear masked only.
//!
//! The ISO 8583 answers fill the fields they always did; every field the ISO 20022 answers
//! added is optional and left out when absent, so a card status event reads as before.

use serde::Serialize;

use crate::de39::Outcome;

/// The one status schema version this code writes.
pub const STATUS_V1: &str = "clearway.status.v1";

/// What the answer says happened, one closed list for every inbound message (the mapping from
/// the bank's codes is `adapters/data/iso20022_status.toml` and the DE 39 table; the table in
/// `adapters/README.md` explains each value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A card request went through (DE 39 approves).
    Approved,
    /// A card request did not.
    Declined,
    /// The bank took the payment (ISO `ACTC`, `ACCP`, `ACSP`, …); not settled yet.
    Accepted,
    /// Settlement completed (`ACSC`, or a booked camt.054 entry).
    Settled,
    /// The bank has not decided yet (`PDNG`).
    Pending,
    /// The bank refused the payment (`RJCT`).
    Rejected,
    /// Our payment came back (pacs.004).
    Returned,
    /// Our cancellation request was granted (camt.029 `CNCL`).
    Cancelled,
    /// Our cancellation request was refused (camt.029 `RJCR`).
    CancellationRejected,
    /// Our cancellation request is still open (camt.029 `PDCR`).
    CancellationPending,
    /// Money came in for us (an incoming pacs.008).
    Received,
}

impl Status {
    /// Every value, in schema order.
    pub const ALL: [Status; 11] = [
        Status::Approved,
        Status::Declined,
        Status::Accepted,
        Status::Settled,
        Status::Pending,
        Status::Rejected,
        Status::Returned,
        Status::Cancelled,
        Status::CancellationRejected,
        Status::CancellationPending,
        Status::Received,
    ];

    /// The JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Approved => "approved",
            Status::Declined => "declined",
            Status::Accepted => "accepted",
            Status::Settled => "settled",
            Status::Pending => "pending",
            Status::Rejected => "rejected",
            Status::Returned => "returned",
            Status::Cancelled => "cancelled",
            Status::CancellationRejected => "cancellation_rejected",
            Status::CancellationPending => "cancellation_pending",
            Status::Received => "received",
        }
    }
}

impl From<Outcome> for Status {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Approved => Status::Approved,
            Outcome::Declined => Status::Declined,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status event.
#[derive(Debug, Clone, Serialize)]
pub struct StatusEvent {
    /// Always [`STATUS_V1`].
    pub schema: &'static str,
    /// Derived from the answer itself (type, STAN, RRN; or MsgId and the transaction's place in
    /// the message), so a redelivered answer has the same id.
    pub status_id: String,
    /// The profile it came from.
    pub bank: String,
    /// The answer's type, e.g. `0110` or `pacs.002.001.10`.
    pub message_type: String,
    /// What it answers (for an incoming pacs.008: the payment itself).
    pub in_reply_to: Reference,
    /// What happened.
    pub status: Status,
    /// The ISO 20022 code the status was read from (`TxSts`, `GrpSts`, `Conf`, `TxCxlSts`,
    /// entry `Sts`), as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iso_status: Option<String>,
    /// ISO 20022 reasons (`StsRsnInf`, `RtrRsnInf`, `CxlStsRsnInf`), in message order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// DE 39 and what the table says about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
    /// DE 38.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_code: Option<String>,
    /// DE 4 and DE 49; the returned, booked or received amount for ISO 20022.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<crate::money::AmountField>,
    /// camt.054: whether the entry credits or debits the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_debit: Option<CreditDebit>,
    /// camt.054 `BookgDt` (a date or date-time, as given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_date: Option<String>,
    /// pacs.004 / pacs.008 `IntrBkSttlmDt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement_date: Option<String>,
    /// The bank's own reference for this answer (`StsId`, `RtrId`, `CxlStsId`,
    /// `AcctSvcrRef`, `NtryRef`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_reference: Option<String>,
    /// Incoming pacs.008: `Dbtr/Nm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debtor_name: Option<String>,
    /// Incoming pacs.008: `CdtrAcct` (IBAN or other id), the account to credit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creditor_account: Option<String>,
    /// DE 2, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pan_masked: Option<String>,
}

/// The message an answer refers to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reference {
    /// The request's type (`0100` for a `0110`); for ISO 20022 the original message name as the
    /// answer gives it (`OrgnlMsgNmId`, e.g. `pacs.008.001.08`), or `unspecified`.
    pub message_type: String,
    /// DE 11.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stan: Option<String>,
    /// DE 37.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rrn: Option<String>,
    /// DE 7.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transmitted: Option<String>,
    /// The original `MsgId` (`OrgnlMsgId`, camt.054 `Refs/MsgId`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
    /// The original `InstrId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instr_id: Option<String>,
    /// The original `EndToEndId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<String>,
    /// The original `TxId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<String>,
    /// The original `UETR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uetr: Option<String>,
}

/// One ISO 20022 reason block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `Rsn/Cd`: an external code (`AC04`, `AM04`, `DUPL`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `Rsn/Prtry`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proprietary: Option<String>,
    /// `AddtlInf` lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_info: Vec<String>,
}

/// Credit or debit, for a booked entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CreditDebit {
    /// `CRDT`: money onto the account.
    Credit,
    /// `DBIT`: money off the account.
    Debit,
}

/// DE 39 with its meaning and the ISO 20022 reason it maps to.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    /// The code.
    pub de39: String,
    /// Its meaning, or `unknown code`.
    pub meaning: String,
    /// ExternalStatusReason1Code, when mapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iso_reason: Option<String>,
    /// True for a decline with no ISO reason: the table says none applies, or the code is not
    /// in the table. Never true for an approval.
    pub unmapped: bool,
}

impl StatusEvent {
    /// A status event with the fields every answer has, the rest empty.
    pub fn new(
        status_id: String,
        bank: &str,
        message_type: &str,
        in_reply_to: Reference,
        status: Status,
    ) -> StatusEvent {
        StatusEvent {
            schema: STATUS_V1,
            status_id,
            bank: bank.to_owned(),
            message_type: message_type.to_owned(),
            in_reply_to,
            status,
            iso_status: None,
            reasons: Vec::new(),
            response: None,
            approval_code: None,
            amount: None,
            credit_debit: None,
            booking_date: None,
            settlement_date: None,
            bank_reference: None,
            debtor_name: None,
            creditor_account: None,
            pan_masked: None,
        }
    }
}
