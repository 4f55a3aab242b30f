//! Level 2 (business rules the XSD cannot state) and level 3 (market rule packs), both observers
//! of the validator's single event pass. Each sees the element names from the ISO part's root
//! down (`names`), and at an element's end its text and `Ccy` attribute; it reports findings
//! that the validator attaches to the current element path.
//!
//! It reads no files: the reference tables (ISO 4217, ISO 3166, IBAN lengths) and the shipped
//! packs are compiled in.

mod business;
mod pack;
mod tables;

pub use business::{Business, check_amount, check_bic, check_iban, check_uetr};
pub use pack::RulePack;

use crate::envelope::MessageId;

/// A problem found by a rule: a stable rule id and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Rule id, e.g. `IBAN-CHECKSUM`.
    pub rule: &'static str,
    /// The sentence.
    pub message: String,
}

impl Finding {
    /// A finding.
    pub fn new(rule: &'static str, message: String) -> Self {
        Self { rule, message }
    }
}

/// Level 2 and (optionally) level 3 for one ISO part.
#[derive(Debug)]
pub struct Observer<'p> {
    business: Option<Business>,
    pack: Option<pack::PackState<'p>>,
}

impl<'p> Observer<'p> {
    /// Observer for a part of message type `message`; `schema_only` turns every rule off.
    pub fn new(message: MessageId, schema_only: bool, pack: Option<&'p RulePack>) -> Self {
        if schema_only {
            return Self {
                business: None,
                pack: None,
            };
        }
        Self {
            business: Some(Business::new(message)),
            pack: pack.map(pack::PackState::new),
        }
    }

    /// An element starts; `names` runs from the part root to it.
    pub fn start(&mut self, names: &[String]) {
        if let Some(b) = self.business.as_mut() {
            b.start(names);
        }
        if let Some(p) = self.pack.as_mut() {
            p.start(names);
        }
    }

    /// An element ends with this text (empty for element-only content) and `Ccy`.
    pub fn end(&mut self, names: &[String], text: &str, ccy: Option<&str>, out: &mut Vec<Finding>) {
        if let Some(b) = self.business.as_mut() {
            b.end(names, text, ccy, out);
        }
        if let Some(p) = self.pack.as_mut() {
            p.end(names, text, ccy, out);
        }
    }
}
