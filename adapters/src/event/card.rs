//! Data of the `card.*` events. The PAN is an [`emv::card::Pan`] from the moment it is read:
//! `Debug`, `Display` and `Serialize` show it masked; only the ISO 8583 packer sees the digits.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::money::AmountField;

/// A card number read from an event: masked everywhere but on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct CardPan(pub emv::card::Pan);

impl<'de> Deserialize<'de> for CardPan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        // The error names the rule, never the digits.
        emv::card::Pan::parse(&text)
            .map(CardPan)
            .map_err(|e| serde::de::Error::custom(format!("card.pan: {e}")))
    }
}

/// Serialises masked: a status event or a log line never carries the digits.
impl Serialize for CardPan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.masked())
    }
}

impl fmt::Debug for CardPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// EMV data objects for DE 55: tag (hex) → value (hex). `Debug` and `Serialize` hide the
/// values of the tags the EMV dictionary marks sensitive (5A PAN, 57 track 2 equivalent, …),
/// so an event printed for a log never carries them.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ChipData(pub BTreeMap<String, String>);

impl ChipData {
    fn shown(&self) -> BTreeMap<&str, String> {
        let dictionary = emv::tlv::dictionary::Dictionary::shipped();
        self.0
            .iter()
            .map(|(tag, value)| {
                let sensitive = emv::iso8583::parse_hex(tag)
                    .and_then(|b| emv::tlv::Tag::from_bytes(&b))
                    .is_none_or(|t| dictionary.is_sensitive(t));
                let shown = if sensitive {
                    format!("<{} hex digits masked>", value.len())
                } else {
                    value.clone()
                };
                (tag.as_str(), shown)
            })
            .collect()
    }

    /// Whether there are no objects.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ChipData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.shown()).finish()
    }
}

impl Serialize for ChipData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.shown().serialize(s)
    }
}

/// The card as the terminal read it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// DE 2.
    pub pan: CardPan,
    /// DE 14, `YYMM`.
    pub expiry: String,
    /// DE 23, card sequence number (EMV tag 5F34), 3 digits.
    #[serde(default)]
    pub sequence_number: Option<String>,
    /// DE 22, point-of-service entry mode, 3 digits (e.g. `051` chip, `071` contactless).
    pub entry_mode: String,
}

/// The terminal and the merchant: DE 18, 41, 42, 43.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Terminal {
    /// DE 41, up to 8 characters.
    pub terminal_id: String,
    /// DE 42, up to 15 characters.
    pub merchant_id: String,
    /// DE 43 positions 1-23 (longer names are truncated with a warning).
    pub merchant_name: String,
    /// DE 43 positions 24-36.
    pub city: String,
    /// DE 43 positions 39-40, ISO 3166 alpha-2.
    pub country: String,
    /// DE 18, merchant category code (ISO 18245), 4 digits.
    pub mcc: String,
}

/// A reference to an earlier card event, from which its STAN, RRN and transmission time are
/// derived again (they were derived from it in the first place).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OriginalEvent {
    /// The earlier event's `event_id`.
    pub event_id: String,
    /// The earlier event's `occurred_at`.
    pub occurred_at: String,
}

/// `card.authorization_requested`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationRequested {
    /// The wallet's payment id, echoed in status events.
    pub payment_id: String,
    /// DE 4 and DE 49.
    pub amount: AmountField,
    /// The card.
    pub card: Card,
    /// The terminal and merchant.
    pub terminal: Terminal,
    /// EMV data objects for DE 55: tag (hex) → value (hex), encoded in tag order.
    #[serde(default)]
    pub emv: ChipData,
}

/// `card.authorization_reversed`: undo an authorization (0400 with DE 90).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationReversed {
    /// The wallet's payment id.
    pub payment_id: String,
    /// The amount reversed (DE 4).
    pub amount: AmountField,
    /// The card.
    pub card: Card,
    /// The terminal and merchant.
    pub terminal: Terminal,
    /// The `card.authorization_requested` event this reverses.
    pub original: OriginalEvent,
}

/// `card.capture`: the amount to clear for an authorized payment.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    /// The wallet's payment id.
    pub payment_id: String,
    /// DE 4 and DE 49.
    pub amount: AmountField,
    /// The card.
    pub card: Card,
    /// The terminal and merchant.
    pub terminal: Terminal,
    /// The authorization this captures, with the issuer's approval code (DE 38).
    pub authorization: AuthorizationRef,
    /// EMV data for DE 55 (single-message acquirers usually want it).
    #[serde(default)]
    pub emv: ChipData,
}

/// An earlier authorization and what the issuer answered.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationRef {
    /// The `card.authorization_requested` event.
    pub event_id: String,
    /// Its `occurred_at`.
    pub occurred_at: String,
    /// DE 38, 6 characters.
    pub approval_code: String,
}

/// `card.refund`: money back to the card (processing code 20).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    /// The wallet's payment id.
    pub payment_id: String,
    /// DE 4 and DE 49.
    pub amount: AmountField,
    /// The card.
    pub card: Card,
    /// The terminal and merchant.
    pub terminal: Terminal,
    /// The capture being refunded, if the wallet knows it.
    #[serde(default)]
    pub original: Option<OriginalEvent>,
}

/// `card.batch_closed`: the totals of a closed terminal batch (0500).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BatchClosed {
    /// The wallet's batch id.
    pub batch_id: String,
    /// DE 50, the settlement currency of every total.
    pub currency: String,
    /// DE 15, settlement date `MMDD`.
    pub settlement_date: String,
    /// DE 74 and 86.
    pub credits: Total,
    /// DE 75 and 87.
    pub credit_reversals: Total,
    /// DE 76 and 88.
    pub debits: Total,
    /// DE 77 and 89.
    pub debit_reversals: Total,
    /// DE 81, authorizations in the batch.
    #[serde(default)]
    pub authorizations: u64,
    /// The net the wallet computed, checked against the totals before DE 97 is written:
    /// `(debits − debit reversals) − (credits − credit reversals)`, negative when credits win.
    pub net: String,
}

/// A count and an amount (decimal string in the batch currency).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Total {
    /// How many.
    pub count: u64,
    /// Their sum.
    pub amount: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_serialize_never_show_card_data() {
        let card: Card = serde_json::from_str(
            r#"{"pan":"4761739001010010","expiry":"2812","entry_mode":"051"}"#,
        )
        .unwrap();
        let chip: ChipData =
            serde_json::from_str(r#"{"5A":"4761739001010010","9F27":"80"}"#).unwrap();
        for text in [
            format!("{card:?} {chip:?}"),
            serde_json::to_string(&card).unwrap(),
            serde_json::to_string(&chip).unwrap(),
        ] {
            assert!(!text.contains("4761739001010010"), "{text}");
            assert!(
                text.contains("476173******0010") || text.contains("9F27"),
                "{text}"
            );
        }
    }
}
