//! The card messages: one module per message, sharing a builder that collects every problem.
//!
//! Ids and times come from the event, never from the clock: DE 11 (STAN) is the FNV-1a hash of
//! `event_id` modulo 10^6, DE 37 (RRN) is `YDDDhh` of `occurred_at` (UTC) followed by the STAN,
//! DE 7 is `occurred_at` in UTC and DE 12/13 are `occurred_at` in the offset the event gave.
//! The same event and profile therefore give the same bytes, and a reversal (DE 90) finds its
//! authorization by deriving the same values again from the original event.

mod authorization;
mod batch;
mod financial;
mod reversal;

use std::borrow::Cow;

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};
use emv::iso8583::{Dialect, Message, Mti, Value};

use super::{Detail, Outbound, Refusal};
use crate::event::card::{Card, ChipData, Terminal};
use crate::event::{Event, EventData};
use crate::money::{AmountField, Money, numeric_code};
use crate::profile::{Iso8583Section, Profile};

/// Maps a `card.*` event.
pub(crate) fn map(event: &Event, profile: &Profile, detail: Detail) -> Result<Outbound, Refusal> {
    let dialect = profile.dialect().ok_or_else(|| {
        Refusal::one("profile: no ISO 8583 dialect (load the profile with Profile::load)")
    })?;
    let section = profile
        .iso8583
        .as_ref()
        .ok_or_else(|| Refusal::one("profile: no [iso8583] section"))?;
    let mut b = Builder::new(dialect, section, event)?;
    b.detail = detail;
    match &event.data {
        EventData::CardAuthorizationRequested(d) => authorization::build(&mut b, d),
        EventData::CardAuthorizationReversed(d) => reversal::build(&mut b, d),
        EventData::CardCapture(d) => financial::capture(&mut b, d),
        EventData::CardRefund(d) => financial::refund(&mut b, d),
        EventData::CardBatchClosed(d) => batch::build(&mut b, d),
        _ => b.refuse("type", "not a card event".into()),
    }
    b.finish()
}

/// The STAN derived from an event id: FNV-1a (64 bit) modulo 1 000 000, six digits.
pub fn stan(event_id: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in event_id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut out = String::with_capacity(6);
    push_digits(&mut out, hash % 1_000_000, 6);
    out
}

/// Appends the last `width` decimal digits of `n`, zero-padded (no `format!` per field).
fn push_digits(out: &mut String, n: u64, width: u32) {
    for k in (0..width).rev() {
        let digit = (n / 10u64.pow(k)) % 10;
        out.push(char::from(b'0' + digit as u8));
    }
}

/// DE 7, `MMDDhhmmss` in UTC.
pub fn transmission(at: &DateTime<FixedOffset>) -> String {
    let utc = at.with_timezone(&Utc);
    let mut out = String::with_capacity(10);
    for part in [
        utc.month(),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
    ] {
        push_digits(&mut out, u64::from(part), 2);
    }
    out
}

/// DE 37: `YDDDhh` (last digit of the year, day of year, hour, UTC) and the STAN.
pub fn rrn(at: &DateTime<FixedOffset>, stan: &str) -> String {
    let utc = at.with_timezone(&Utc);
    format!(
        "{}{:03}{:02}{stan}",
        utc.year().rem_euclid(10),
        utc.ordinal(),
        utc.hour()
    )
}

/// An EMV tag from its hex, as `parse_hex` then `Tag::from_bytes` read it, decoding the usual
/// one to four bytes on the stack rather than into a new vector per tag.
fn tag_of_hex(hex: &str) -> Option<emv::tlv::Tag> {
    let digits = hex.as_bytes();
    let mut bytes = [0u8; 4];
    if digits.len() > 2 * bytes.len() || !digits.len().is_multiple_of(2) {
        return emv::iso8583::parse_hex(hex).and_then(|b| emv::tlv::Tag::from_bytes(&b));
    }
    let nibble = |d: u8| {
        char::from(d)
            .to_digit(16)
            .and_then(|v| u8::try_from(v).ok())
    };
    for (slot, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let (high, low) = (pair.first().copied()?, pair.get(1).copied()?);
        *slot = (nibble(high)? << 4) | nibble(low)?;
    }
    emv::tlv::Tag::from_bytes(bytes.get(..digits.len() / 2)?)
}

/// Appends `text` left-justified in `width` characters, as `{text:<width$}` does.
fn push_padded(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    for _ in text.chars().count()..width {
        out.push(' ');
    }
}

/// Builds one message, collecting every problem instead of stopping at the first.
pub(crate) struct Builder<'d> {
    dialect: &'d Dialect,
    section: &'d Iso8583Section,
    event: &'d Event,
    message: Message<'static>,
    reasons: Vec<String>,
    warnings: Vec<String>,
    detail: Detail,
}

impl<'d> Builder<'d> {
    fn new(
        dialect: &'d Dialect,
        section: &'d Iso8583Section,
        event: &'d Event,
    ) -> Result<Self, Refusal> {
        // Each mapping sets its own MTI first; this one never leaves the builder.
        let placeholder = Mti::parse("0800").map_err(|e| Refusal::one(e.to_string()))?;
        Ok(Self {
            dialect,
            section,
            event,
            // the largest card message sets about 20 fields
            message: Message::with_capacity(placeholder, 24),
            reasons: Vec::new(),
            warnings: Vec::new(),
            detail: Detail::Human,
        })
    }

    pub(crate) fn refuse(&mut self, path: &str, why: String) {
        self.reasons.push(format!("{path}: {why}"));
    }

    pub(crate) fn mti(&mut self, mti: &str) {
        match Mti::parse(mti) {
            Ok(m) => self.message.set_mti(m),
            Err(e) => self.refuse("MTI", e.to_string()),
        }
    }

    pub(crate) fn mode(&self) -> crate::profile::MessageMode {
        self.section.mode
    }

    /// Sets a text field as is; the dialect checks it in [`Builder::finish`].
    pub(crate) fn set(&mut self, number: u16, text: impl Into<String>) {
        self.message
            .set(number, Value::Text(Cow::Owned(text.into())));
    }

    /// Checks `text` is exactly `width` digits, naming `path` if not, and sets it.
    pub(crate) fn digits(&mut self, number: u16, path: &str, text: &str, width: usize) {
        if text.len() == width && text.bytes().all(|b| b.is_ascii_digit()) {
            self.set(number, text);
        } else {
            self.refuse(path, format!("{width} digits expected"));
        }
    }

    /// Sets a fixed `ans` field padded with spaces; longer text is truncated with a warning.
    pub(crate) fn padded(&mut self, number: u16, path: &str, text: &str, width: usize) {
        let mut field = String::with_capacity(width);
        let text = self.fit(path, text, width);
        push_padded(&mut field, text, width);
        self.set(number, field);
    }

    /// `text` cut to `width` characters (printable ASCII only), with a warning when cut.
    fn fit<'t>(&mut self, path: &str, text: &'t str, width: usize) -> &'t str {
        if !text.bytes().all(|b| (0x20..0x7F).contains(&b)) {
            self.refuse(path, "printable ASCII only on the ISO 8583 wire".into());
            return "";
        }
        if text.len() > width {
            self.warnings.push(format!(
                "{path}: {} characters truncated to {width}",
                text.len()
            ));
        }
        // printable ASCII: one byte per character
        text.get(..width).unwrap_or(text)
    }

    pub(crate) fn money(&mut self, path: &str, amount: &AmountField) -> Option<Money> {
        match amount.check() {
            Ok(money) => Some(money),
            Err(e) => {
                self.refuse(path, e.to_string());
                None
            }
        }
    }

    /// DE 4 and DE 49.
    pub(crate) fn amount(&mut self, amount: &AmountField) {
        if let Some(money) = self.money("data.amount", amount) {
            self.amount12(4, "data.amount", money.minor);
            if let Some(code) = numeric_code(money.currency) {
                self.set(49, code);
            }
        }
    }

    pub(crate) fn amount12(&mut self, number: u16, path: &str, minor: u64) {
        self.amount_n(number, path, minor, 12);
    }

    pub(crate) fn amount_n(&mut self, number: u16, path: &str, minor: u64, width: usize) {
        let text = format!("{minor:0width$}");
        if text.len() > width {
            self.refuse(path, format!("does not fit {width} digits"));
        } else {
            self.set(number, text);
        }
    }

    /// DE 7, 11, 12, 13 and 37 from the event itself.
    pub(crate) fn trace(&mut self) {
        let at = self.event.occurred_at;
        let stan = stan(self.event.event_id.as_str());
        self.set(7, transmission(&at));
        // DE 12 and 13 in the offset the event gave (`Timelike` on a `DateTime` is local)
        let mut time = String::with_capacity(6);
        for part in [at.hour(), at.minute(), at.second()] {
            push_digits(&mut time, u64::from(part), 2);
        }
        self.set(12, time);
        let mut date = String::with_capacity(4);
        for part in [at.month(), at.day()] {
            push_digits(&mut date, u64::from(part), 2);
        }
        self.set(13, date);
        self.set(37, rrn(&at, &stan));
        self.set(11, stan);
    }

    /// DE 19 and DE 32 from the profile.
    pub(crate) fn acquirer(&mut self) {
        self.set(19, self.section.acquirer_country.clone());
        self.set(32, self.section.acquirer_id.clone());
    }

    pub(crate) fn acquirer_id_11(&self) -> String {
        format!("{:0>11}", self.section.acquirer_id)
    }

    /// DE 2, 14, 22, 23.
    pub(crate) fn card(&mut self, card: &Card) {
        self.set(2, card.pan.0.expose());
        self.digits(14, "data.card.expiry", &card.expiry, 4);
        self.digits(22, "data.card.entry_mode", &card.entry_mode, 3);
        if let Some(seq) = &card.sequence_number {
            self.digits(23, "data.card.sequence_number", seq, 3);
        }
    }

    /// DE 18, 41, 42, 43 (name 23, city 13, two spaces, country 2: the 1987 layout).
    pub(crate) fn terminal(&mut self, t: &Terminal) {
        self.digits(18, "data.terminal.mcc", &t.mcc, 4);
        if t.terminal_id.is_empty() || t.terminal_id.len() > 8 {
            self.refuse("data.terminal.terminal_id", "1 to 8 characters".into());
        } else {
            self.padded(41, "data.terminal.terminal_id", &t.terminal_id, 8);
        }
        if t.merchant_id.is_empty() || t.merchant_id.len() > 15 {
            self.refuse("data.terminal.merchant_id", "1 to 15 characters".into());
        } else {
            self.padded(42, "data.terminal.merchant_id", &t.merchant_id, 15);
        }
        if t.country.len() != 2 || !t.country.bytes().all(|b| b.is_ascii_uppercase()) {
            self.refuse("data.terminal.country", "ISO 3166 alpha-2 expected".into());
        }
        let name = self.fit("data.terminal.merchant_name", &t.merchant_name, 23);
        let city = self.fit("data.terminal.city", &t.city, 13);
        let mut de43 = String::with_capacity(40);
        push_padded(&mut de43, name, 23);
        push_padded(&mut de43, city, 13);
        de43.push_str("  ");
        push_padded(&mut de43, &t.country, 2);
        self.set(43, de43);
    }

    /// DE 55 from the event's EMV objects (tag hex → value hex), BER-TLV in tag order.
    pub(crate) fn chip(&mut self, emv_data: &ChipData) {
        if emv_data.is_empty() {
            return;
        }
        let mut objects = Vec::new();
        for (tag, value) in &emv_data.0 {
            let path = || format!("data.emv.{tag}");
            let parsed_tag = tag_of_hex(tag).filter(|t| !t.is_constructed());
            let Some(parsed_tag) = parsed_tag else {
                self.refuse(&path(), "not a primitive BER-TLV tag in hex".into());
                continue;
            };
            // The error names the tag only: a 5A or 57 value is card data.
            let Some(bytes) = emv::iso8583::parse_hex(value) else {
                self.refuse(&path(), "value is not hex".into());
                continue;
            };
            objects.push(emv::tlv::TlvBuf::primitive(parsed_tag, bytes));
        }
        let mut wire = Vec::new();
        emv::tlv::encode_into(&objects, &mut wire);
        let is_binary = self.dialect.field(55).is_some_and(|s| s.is_binary());
        let value = if is_binary {
            Value::Bytes(Cow::Owned(wire))
        } else {
            Value::Text(Cow::Owned(emv::iso8583::to_hex(&wire)))
        };
        self.message.set(55, value);
    }

    /// Checks every field against the dialect (one problem per field, all of them), then packs.
    fn finish(self) -> Result<Outbound, Refusal> {
        // A message packs whole only when each of its fields packs alone, so the field-by-field
        // pass (which names every problem, not only the first) runs only when something failed.
        let whole = if self.reasons.is_empty() {
            emv::iso8583::pack(self.dialect, &self.message).ok()
        } else {
            None
        };
        let wire = match whole {
            Some(wire) => wire,
            None => self.refusal()?,
        };
        let text = |n: u16| self.message.text(n).unwrap_or_default().into_owned();
        let message_key = format!(
            "{}-{}-{}-{}",
            self.message.mti().as_str(),
            text(11),
            text(37),
            self.section.acquirer_id
        );
        let (hex_masked, described) = match self.detail {
            Detail::Human => {
                let mut hex_masker = self.message.masker(self.dialect);
                if let Some(pan) = self.message.text(2) {
                    // ASCII dialects carry the PAN as characters: hide their hex too.
                    hex_masker.add_pan(&emv::iso8583::to_hex(pan.as_bytes()));
                }
                (
                    hex_masker.mask(&emv::iso8583::to_hex(&wire)).into_owned(),
                    self.message.describe(self.dialect).to_string(),
                )
            }
            Detail::Wire => (String::new(), String::new()),
        };
        Ok(Outbound {
            message_key,
            hex_masked,
            message_type: self.message.mti().as_str().to_owned(),
            described,
            wire,
            warnings: self.warnings,
        })
    }

    /// Every reason the message cannot be sent, card data masked: one per field that does not
    /// pack alone, or else the whole message's packing error (then the wire, were it to pack,
    /// so that this never refuses a sendable message).
    fn refusal(&self) -> Result<Vec<u8>, Refusal> {
        let mut reasons = self.reasons.clone();
        let masker = self.message.masker(self.dialect);
        for (number, value) in self.message.fields() {
            let mut single = Message::new(self.message.mti());
            single.set(number, value.clone());
            if let Err(e) = emv::iso8583::pack(self.dialect, &single) {
                reasons.push(masker.mask(&e.to_string()).into_owned());
            }
        }
        if !reasons.is_empty() {
            return Err(Refusal { reasons });
        }
        emv::iso8583::pack(self.dialect, &self.message)
            .map_err(|e| Refusal::one(masker.mask(&e.to_string()).into_owned()))
    }
}

/// The original event's STAN and DE 7, derived again as they were when it was sent.
pub(crate) fn original_trace(
    b: &mut Builder<'_>,
    path: &str,
    event_id: &str,
    occurred_at: &str,
) -> Option<(String, String)> {
    match DateTime::parse_from_rfc3339(occurred_at) {
        Ok(at) => Some((stan(event_id), transmission(&at))),
        Err(e) => {
            b.refuse(
                &format!("{path}.occurred_at"),
                format!("not RFC 3339 ({e})"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable() {
        assert_eq!(stan("evt-1"), stan("evt-1"));
        assert_ne!(stan("evt-1"), stan("evt-2"));
        let at = DateTime::parse_from_rfc3339("2026-11-25T10:15:30+01:00").unwrap();
        assert_eq!(transmission(&at), "1125091530");
        assert_eq!(rrn(&at, "000042"), "632909000042");
    }

    /// The stack decoding reads every tag text as `parse_hex` then `Tag::from_bytes` does.
    #[test]
    fn tags_decode_as_parse_hex_reads_them() {
        for hex in [
            "",
            "5A",
            "5a",
            "9F26",
            "9f1A",
            "DF8101",
            "9F",
            "9F2",
            "9FZZ",
            "0x5A",
            "FFFFFFFF",
            "9F8181810",
            "9F81818101",
            "5A5A",
            " 5A",
            "\u{e9}5",
        ] {
            let expected = emv::iso8583::parse_hex(hex).and_then(|b| emv::tlv::Tag::from_bytes(&b));
            assert_eq!(tag_of_hex(hex), expected, "{hex:?}");
        }
    }
}
