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

/// How much of an [`Outbound`] a mapping builds: everything, or what a machine sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Detail {
    /// `described` and `hex_masked` too, for the CLI and the snapshots.
    Human,
    /// `wire`, `message_type`, `message_key` and `warnings` only; `described` and
    /// `hex_masked` stay empty. The checks before sending are the same.
    Wire,
}

/// Maps an event to its message for `profile`, with its masked description and hex.
pub fn adapt(event: &Event, profile: &Profile) -> Result<Outbound, Refusal> {
    map(event, profile, Detail::Human)
}

/// Maps an event to its message for `profile` as [`adapt`] does, refusing the same events
/// for the same reasons and writing the same `wire`, but without what only a person reads:
/// `described` and `hex_masked` are empty. For the ingest, which sends and never prints.
pub fn adapt_wire(event: &Event, profile: &Profile) -> Result<Outbound, Refusal> {
    map(event, profile, Detail::Wire)
}

fn map(event: &Event, profile: &Profile, detail: Detail) -> Result<Outbound, Refusal> {
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
        Channel::Iso8583 => card::map(event, profile, detail),
        Channel::Iso20022 => iso20022(event, profile, detail),
    }
}

/// Maps a `transfer.*` or `payout.*` event: the ISO 20022 message follows the profile.
fn iso20022(event: &Event, profile: &Profile, detail: Detail) -> Result<Outbound, Refusal> {
    use crate::event::EventData as D;
    let iso = iso_common::Iso::new(event, profile)?.with_detail(detail);
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

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
    }

    fn sorted(dir: &Path) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        paths
    }

    /// The lean entry point refuses what `adapt` refuses, for the same reasons, and writes the
    /// same bytes, type, key and warnings: over every fixture event and a seeded stream of
    /// generated ones, against every shipped profile.
    #[test]
    fn adapt_wire_is_adapt_without_the_human_forms() {
        let profiles: Vec<Profile> = sorted(&fixtures().join("profiles"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| Profile::load(&p).unwrap())
            .collect();
        let mut texts = Vec::new();
        for dir in sorted(&fixtures().join("events")) {
            if dir.is_dir() {
                for file in sorted(&dir) {
                    if file.extension().is_some_and(|e| e == "json") {
                        texts.push(std::fs::read_to_string(&file).unwrap());
                    }
                }
            }
        }
        let spec = crate::generate::Spec::new(7, 400);
        texts.extend(crate::generate::generate(&spec, &profiles).lines);
        let (mut sent, mut refused) = (0, 0);
        for text in &texts {
            let Ok(event) = Event::from_json(text) else {
                continue;
            };
            for profile in &profiles {
                match (adapt(&event, profile), adapt_wire(&event, profile)) {
                    (Ok(full), Ok(lean)) => {
                        assert_eq!(lean.wire, full.wire, "{}", event.event_id);
                        assert_eq!(lean.message_type, full.message_type);
                        assert_eq!(lean.message_key, full.message_key);
                        assert_eq!(lean.warnings, full.warnings);
                        assert!(lean.described.is_empty() && lean.hex_masked.is_empty());
                        assert!(!full.described.is_empty());
                        sent += 1;
                    }
                    (Err(full), Err(lean)) => {
                        assert_eq!(lean, full, "{}", event.event_id);
                        refused += 1;
                    }
                    (full, lean) => panic!("{}: {full:?} but {lean:?}", event.event_id),
                }
            }
        }
        assert!(sent >= 400 && refused > 0, "{sent} sent, {refused} refused");
    }
}
