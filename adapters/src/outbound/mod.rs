//! Event + profile → the wire message. One module per outbound message: the card messages
//! live in [`card`] (0100, 0400, 0200/0220, 0500); the ISO 20022 ones beside it: `pacs008`
//! and `pain001` (transfers and payout batches), `camt056` (recalls), `pacs004` (returns),
//! sharing [`iso_common`] (derived ids, text rules, envelope, validation before sending) and
//! [`transliterate`] (the SEPA character set as data).
//!
//! Every mapping is deterministic (ids and times derive from `event_id` and `occurred_at`,
//! never from the clock) and refuses with every reason rather than sending half-right.

mod camt056;
pub mod card;
pub mod iso_common;
mod pacs004;
mod pacs008;
mod pain001;
pub mod transliterate;

use std::fmt;

use crate::event::{Event, EventType};
use crate::profile::{Channel, Profile};

/// A message ready for the wire, with its printable masked form.
#[derive(Clone)]
pub struct Outbound {
    /// `0100`, `pacs.008.001.08`, …
    pub message_type: String,
    /// The business identity of the message, stable across re-sends (the AMQP `message_id`):
    /// `MTI-STAN-RRN-acquirer` for cards, MsgId for ISO 20022.
    pub message_key: String,
    /// The bytes to send: the one place card data is in the clear.
    pub wire: Vec<u8>,
    /// The wire as uppercase hex with card numbers masked (as BCD digits and as ASCII hex).
    pub hex_masked: String,
    /// The decoded form, card data masked.
    pub described: String,
    /// Truncations and other documented adjustments, masked.
    pub warnings: Vec<String>,
}

/// Debug never shows the wire bytes (they hold the PAN).
impl fmt::Debug for Outbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbound")
            .field("message_type", &self.message_type)
            .field("message_key", &self.message_key)
            .field("wire_len", &self.wire.len())
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// Why an event cannot become a message: every reason found, each naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", reasons.join("; "))]
pub struct Refusal {
    /// One sentence per problem, e.g. `data.amount: amount 1.234 has more decimals than EUR allows (2)`.
    pub reasons: Vec<String>,
}

impl Refusal {
    /// A refusal with one reason.
    pub fn one(reason: impl Into<String>) -> Self {
        Self {
            reasons: vec![reason.into()],
        }
    }
}

/// Maps an event to its message for `profile`.
pub fn adapt(event: &Event, profile: &Profile) -> Result<Outbound, Refusal> {
    let mut reasons = Vec::new();
    if event.bank != profile.id {
        reasons.push(format!(
            "bank: the event is for {:?}, the profile is {:?}",
            event.bank, profile.id
        ));
    }
    let t = event.event_type;
    let fits = match profile.channel {
        Channel::Iso8583 => t.is_card(),
        Channel::Iso20022 => !t.is_card(),
    };
    if !fits {
        reasons.push(format!(
            "type: {t} cannot travel on profile {:?} ({:?} channel)",
            profile.id, profile.channel
        ));
    }
    if !reasons.is_empty() {
        return Err(Refusal { reasons });
    }
    match profile.channel {
        Channel::Iso8583 => card::map(event, profile),
        Channel::Iso20022 => iso20022(event, profile),
    }
}

/// Maps a `transfer.*` or `payout.*` event: the ISO 20022 message follows the profile.
fn iso20022(event: &Event, profile: &Profile) -> Result<Outbound, Refusal> {
    use crate::event::EventData as D;
    let iso = iso_common::Iso::new(event, profile)?;
    if let Some(credit) = iso_common::Credit::of(event) {
        // a direct participant sends pacs.008; a corporate channel initiates with pain.001
        return if profile.messages.contains_key("credit_transfer") {
            pacs008::map(iso, &credit)
        } else {
            pain001::map(iso, &credit)
        };
    }
    match &event.data {
        D::TransferCancelRequested(d) => camt056::map(iso, d),
        D::TransferReturnRequested(d) => pacs004::map(iso, d),
        _ => Err(Refusal::one(format!(
            "type: {} has no ISO 20022 mapping",
            event.event_type
        ))),
    }
}

/// Whether the mapping of `event_type` for `profile` is built (for `--list`).
pub fn is_built(event_type: EventType, profile: &Profile) -> bool {
    match profile.channel {
        Channel::Iso8583 => event_type.is_card(),
        Channel::Iso20022 => !event_type.is_card(),
    }
}
