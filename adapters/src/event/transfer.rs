//! Data of the ISO 20022 events (`transfer.*`, `payout.*`). Their outbound mappings are
//! `crate::outbound::{pacs008, pain001, camt056, pacs004}`.

use serde::{Deserialize, Serialize};

use crate::money::AmountField;

/// A structured postal address (CBPR+ requires town and country in structured form).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    /// `StrtNm`.
    #[serde(default)]
    pub street_name: Option<String>,
    /// `BldgNb`.
    #[serde(default)]
    pub building_number: Option<String>,
    /// `PstCd`.
    #[serde(default)]
    pub post_code: Option<String>,
    /// `TwnNm`.
    pub town_name: String,
    /// `Ctry`, ISO 3166 alpha-2.
    pub country: String,
}

/// A debtor or creditor: name, address, account and agent.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// `Nm`.
    pub name: String,
    /// `PstlAdr`.
    #[serde(default)]
    pub address: Option<PostalAddress>,
    /// `Acct/Id/IBAN` or `Acct/Id/Othr/Id`.
    pub account: Account,
    /// The party's bank: `DbtrAgt`/`CdtrAgt` BIC.
    pub agent_bic: String,
}

/// An account: an IBAN or another identifier.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// IBAN, when the market uses them.
    #[serde(default)]
    pub iban: Option<String>,
    /// Other identifier (e.g. a US account number), when not.
    #[serde(default)]
    pub other: Option<String>,
}

/// `transfer.requested`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRequested {
    /// The wallet's payment id.
    pub payment_id: String,
    /// `EndToEndId`.
    pub end_to_end_id: String,
    /// `IntrBkSttlmAmt` / `InstdAmt`.
    pub amount: AmountField,
    /// `Dbtr`.
    pub debtor: Party,
    /// `Cdtr`.
    pub creditor: Party,
    /// `RmtInf/Ustrd`.
    #[serde(default)]
    pub remittance: Option<String>,
}

/// `transfer.cancel_requested`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TransferCancelRequested {
    /// The wallet's payment id.
    pub payment_id: String,
    /// The `transfer.requested` event being recalled.
    pub original_event_id: String,
    /// `OrgnlEndToEndId`.
    pub original_end_to_end_id: String,
    /// The amount of the original.
    pub amount: AmountField,
    /// `CxlRsnInf/Rsn/Cd` (ExternalCancellationReason1Code, e.g. `DUPL`, `CUST`).
    pub reason: String,
    /// Our BIC as the agent that instructed the original (`Assgnr`, BAH `Fr`); when absent,
    /// the profile's BIC (the bank was the debtor agent itself).
    #[serde(default)]
    pub instructing_agent_bic: Option<String>,
}

/// `transfer.return_requested`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TransferReturnRequested {
    /// The wallet's payment id.
    pub payment_id: String,
    /// `OrgnlMsgId` of the pacs.008 we received.
    pub original_msg_id: String,
    /// `OrgnlEndToEndId`.
    pub original_end_to_end_id: String,
    /// `OrgnlUETR`.
    #[serde(default)]
    pub original_uetr: Option<String>,
    /// `RtrdIntrBkSttlmAmt`.
    pub amount: AmountField,
    /// `RtrRsnInf/Rsn/Cd` (ExternalReturnReason1Code, e.g. `AC04`).
    pub reason: String,
    /// `OrgnlGrpInf/OrgnlMsgNmId`: the version of the message we received; when absent, the
    /// profile's `credit_transfer` version.
    #[serde(default)]
    pub original_message_type: Option<String>,
    /// Our BIC as the returning agent (`InstgAgt`, BAH `Fr`); when absent, the profile's BIC.
    #[serde(default)]
    pub instructing_agent_bic: Option<String>,
}

/// `payout.batch_requested`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PayoutBatchRequested {
    /// The wallet's batch id.
    pub batch_id: String,
    /// The one debtor.
    pub debtor: Party,
    /// The payouts, each with its own creditor.
    pub payouts: Vec<Payout>,
}

/// One transaction of a payout batch.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Payout {
    /// The wallet's payment id.
    pub payment_id: String,
    /// `EndToEndId`.
    pub end_to_end_id: String,
    /// The amount.
    pub amount: AmountField,
    /// `Cdtr`.
    pub creditor: Party,
    /// `RmtInf/Ustrd`.
    #[serde(default)]
    pub remittance: Option<String>,
}
