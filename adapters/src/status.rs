//! `clearway.status.v1`: what the bank answered, as a JSON event naming the original message
//! (STAN and RRN for cards; the settlement store resolves them to the event and payment).
//! Card numbers appear masked only.

use serde::Serialize;

/// The one status schema version this code writes.
pub const STATUS_V1: &str = "clearway.status.v1";

/// A status event.
#[derive(Debug, Clone, Serialize)]
pub struct StatusEvent {
    /// Always [`STATUS_V1`].
    pub schema: &'static str,
    /// Derived from the answer itself (type, STAN, RRN), so a redelivered answer has the same id.
    pub status_id: String,
    /// The profile it came from.
    pub bank: String,
    /// The answer's type, e.g. `0110`.
    pub message_type: String,
    /// What it answers.
    pub in_reply_to: Reference,
    /// `approved`, `declined`.
    pub status: crate::de39::Outcome,
    /// DE 39 and what the table says about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
    /// DE 38.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_code: Option<String>,
    /// DE 4 and DE 49.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<crate::money::AmountField>,
    /// DE 2, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pan_masked: Option<String>,
}

/// The message an answer refers to.
#[derive(Debug, Clone, Serialize)]
pub struct Reference {
    /// The request's type (`0100` for a `0110`).
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
