//! What the ISO 20022 mappings share: derived ids and times, text rules (SEPA transliteration,
//! truncation), parties and amounts in the `iso20022` model, and [`Iso::finish`], which wraps
//! the document in the profile's envelope and header, writes it and validates it (levels 1–3
//! with the profile's rule pack) before anything leaves.
//!
//! Derived values, all from the event (never the clock or a random source):
//! - MsgId: `CW` + the first 12 bytes of SHA-256(`msgid:` + event_id) in upper-case hex
//!   (26 characters); TxId of transaction n (1-based): MsgId + `-` + n.
//! - UETR: the first 16 bytes of SHA-256(`uetr:` + event_id) for a single transfer, or of
//!   SHA-256(`uetr:` + event_id + `/` + n) for transaction n of a batch, with the version nibble
//!   set to 4 and the variant bits to `10`: a UUID v4 in form, stable across re-sends.
//! - CreDtTm (and the BAH `CreDt`): `occurred_at` as the event gave it (its offset, whole
//!   seconds); settlement and execution dates: the date of `occurred_at` in that offset.
//!
//! Text rules: identifiers (EndToEndId, references, codes) are never altered: outside the
//! character set, empty or too long, they are refused. Free text (names, address parts,
//! remittance) is transliterated with `data/transliteration.toml` when the profile's pack is
//! listed there, then cut at the tighter of its XSD maximum and the pack's maximum, on a
//! character boundary, and trimmed; each change is a warning naming the field.

use std::fmt;

use chrono::{Datelike, SecondsFormat};
use iso20022::model::common as m;
use iso20022::rules::RulePack;
use iso20022::wire::map::Rest;
use iso20022::wire::tree::Element;
use iso20022::wire::{self, Body, Document, EnvelopeKind, Family, Header, ISO_NS_PREFIX, Version};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::transliterate::Table;
use super::{Detail, Outbound, Refusal};
use crate::event::transfer::{Account, Party, PostalAddress};
use crate::event::{Event, EventData};
use crate::money::{AmountField, Money};
use crate::profile::{Envelope, Profile, SettlementMethod};

/// The `Message` wrapper's namespace. FedNow's own wrapper schema is not shipped, so the
/// wrapper is written in this Clearway namespace (the validator recognises it by local name).
pub const MESSAGE_WRAPPER_NS: &str = "urn:clearway:fednow:message";

/// XSD maximum lengths of the free-text elements Clearway writes (PostalAddress24,
/// PartyIdentification135 and RemittanceInformation16 in pacs.008.001.08, pain.001.001.09).
pub mod max {
    /// `Nm`: Max140Text.
    pub const NAME: usize = 140;
    /// `StrtNm`: Max70Text.
    pub const STREET: usize = 70;
    /// `BldgNb`: Max16Text.
    pub const BUILDING: usize = 16;
    /// `PstCd`: Max16Text.
    pub const POST_CODE: usize = 16;
    /// `TwnNm`: Max35Text.
    pub const TOWN: usize = 35;
    /// `Ustrd`: Max140Text.
    pub const REMITTANCE: usize = 140;
    /// Identifiers: Max35Text.
    pub const ID: usize = 35;
}

fn sha256(parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

/// Appends `bytes` as hex digits from `digits` (upper- or lower-case), with no allocation.
fn push_hex(out: &mut String, bytes: &[u8], digits: &[u8; 16]) {
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(digits[usize::from(nibble)]));
        }
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// The MsgId of the message an event becomes.
pub fn msg_id(event_id: &str) -> String {
    let h = sha256(&["msgid:", event_id]);
    let mut out = String::with_capacity(26);
    out.push_str("CW");
    push_hex(&mut out, h.get(..12).unwrap_or_default(), HEX_UPPER);
    out
}

/// The UETR of a single transfer (`index` None) or of transaction `index` (1-based) of a batch.
pub fn uetr(event_id: &str, index: Option<usize>) -> String {
    let h = match index {
        None => sha256(&["uetr:", event_id]),
        Some(i) => sha256(&["uetr:", event_id, "/", &i.to_string()]),
    };
    let mut b = [0u8; 16];
    b.copy_from_slice(h.get(..16).unwrap_or(&[0; 16]));
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // variant 10
    let mut out = String::with_capacity(36);
    for (k, group) in [0..4, 4..6, 6..8, 8..10, 10..16].into_iter().enumerate() {
        if k > 0 {
            out.push('-');
        }
        push_hex(&mut out, b.get(group).unwrap_or_default(), HEX_LOWER);
    }
    out
}

/// A field path such as `data.payouts[2].creditor.address.town_name`, joined with `.` only
/// when it is printed: most fields are fine, so most paths are never formatted.
#[derive(Clone, Copy)]
pub(crate) struct At<'p> {
    parent: Option<&'p At<'p>>,
    name: &'p str,
}

impl<'p> At<'p> {
    /// A path of one segment (which may itself hold dots).
    pub(crate) fn root(name: &'p str) -> Self {
        Self { parent: None, name }
    }

    /// `self.name`.
    pub(crate) fn field(&'p self, name: &'p str) -> At<'p> {
        At {
            parent: Some(self),
            name,
        }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            write!(f, "{parent}.")?;
        }
        f.write_str(self.name)
    }
}

/// Builds one ISO 20022 message, collecting every problem instead of stopping at the first.
pub(crate) struct Iso<'a> {
    pub event: &'a Event,
    pub profile: &'a Profile,
    pack: Option<&'static RulePack>,
    table: Option<&'static Table>,
    /// Derived once: every mapping and `finish` need it.
    msg_id: String,
    reasons: Vec<String>,
    warnings: Vec<String>,
    detail: Detail,
}

impl<'a> Iso<'a> {
    pub(crate) fn new(event: &'a Event, profile: &'a Profile) -> Result<Self, Refusal> {
        let pack = profile
            .rule_pack
            .as_deref()
            .map(RulePack::shipped_static)
            .transpose()
            .map_err(|e| Refusal::one(format!("profile.rule_pack: {e}")))?;
        let table = match &profile.rule_pack {
            Some(name) => {
                let table = Table::shipped().map_err(Refusal::one)?;
                table.packs.iter().any(|p| p == name).then_some(table)
            }
            None => None,
        };
        Ok(Self {
            event,
            profile,
            pack,
            table,
            msg_id: msg_id(event.event_id.as_str()),
            reasons: Vec::new(),
            warnings: Vec::new(),
            detail: Detail::Human,
        })
    }

    /// Whether `finish` also fills `described` (the XML again, for people).
    pub(crate) fn with_detail(mut self, detail: Detail) -> Self {
        self.detail = detail;
        self
    }

    pub(crate) fn refuse(&mut self, path: impl fmt::Display, why: impl Into<String>) {
        self.reasons.push(format!("{path}: {}", why.into()));
    }

    pub(crate) fn msg_id(&self) -> String {
        self.msg_id.clone()
    }

    pub(crate) fn cre_dt_tm(&self) -> m::IsoDateTime {
        m::IsoDateTime(
            self.event
                .occurred_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        )
    }

    pub(crate) fn date(&self) -> m::IsoDate {
        let date = self.event.occurred_at.date_naive();
        let year = date.year();
        if !(0..=9999).contains(&year) {
            // chrono writes a sign and more digits outside four-digit years; keep its form
            return m::IsoDate(date.format("%Y-%m-%d").to_string());
        }
        let mut out = String::with_capacity(10);
        for (value, width, separator) in [
            (year.unsigned_abs(), 4, Some('-')),
            (date.month(), 2, Some('-')),
            (date.day(), 2, None),
        ] {
            for k in (0..width).rev() {
                let digit = (value / 10u32.pow(k)) % 10;
                out.push(char::from_digit(digit, 10).unwrap_or('0'));
            }
            out.extend(separator);
        }
        m::IsoDate(out)
    }

    /// The message version the profile names for `family` (a key of `messages`).
    pub(crate) fn version(&mut self, families: &[&str], expected: Family) -> Option<Version> {
        let profile = self.profile;
        let Some((family, id)) = families
            .iter()
            .find_map(|f| profile.messages.get(*f).map(|v| (*f, v.as_str())))
        else {
            self.refuse(
                "profile.messages",
                format!("names no version for {}", families.join(" or ")),
            );
            return None;
        };
        match Version::from_id(id) {
            Some(v) if v.family() == expected => Some(v),
            _ => {
                self.refuse(
                    format!("profile.messages.{family}"),
                    format!("{id} is not a version Clearway writes"),
                );
                None
            }
        }
    }

    /// `SttlmInf/SttlmMtd` from the profile.
    pub(crate) fn settlement(&mut self) -> m::SettlementInfo {
        let code = match self.profile.settlement {
            SettlementMethod::Inda => "INDA",
            SettlementMethod::Inga => "INGA",
            SettlementMethod::Clrg => "CLRG",
            SettlementMethod::Cove => "COVE",
            SettlementMethod::SchemeNet => {
                self.refuse(
                    "profile.settlement",
                    "scheme_net is a card settlement, not an ISO 20022 method",
                );
                "CLRG"
            }
        };
        m::SettlementInfo {
            sttlm_mtd: m::Code(code.into()),
            sttlm_acct: None,
            clr_sys: None,
            rest: Rest::default(),
        }
    }

    /// An identifier carried unchanged: 1 to `max` characters, in the pack's set if any.
    pub(crate) fn id(&mut self, path: impl fmt::Display, text: &str, max: usize) -> String {
        let len = text.chars().count();
        if len == 0 || len > max {
            self.refuse(path, format!("1 to {max} characters (this has {len})"));
        } else if text.trim() != text {
            self.refuse(path, "no leading or trailing spaces");
        } else if let Some(t) = self.table
            && !text.chars().all(|c| t.allows(c))
        {
            self.refuse(
                path,
                "characters outside the SEPA set: an identifier is never transliterated",
            );
        } else if text.chars().any(|c| c.is_control() || !is_xml_char(c)) {
            self.refuse(path, "control characters are not allowed");
        }
        text.to_owned()
    }

    /// A code such as a reason: 1 to 4 upper-case letters or digits.
    pub(crate) fn code(&mut self, path: impl fmt::Display, text: &str) -> m::Code {
        if text.is_empty()
            || text.len() > 4
            || !text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            self.refuse(path, "a code of 1 to 4 upper-case letters or digits");
        }
        m::Code(text.to_owned())
    }

    /// Free text: transliterated (SEPA), cut to the XSD/pack maximum, trimmed; warnings for
    /// each change. Refused when nothing is left or it holds control characters.
    pub(crate) fn text(
        &mut self,
        path: impl fmt::Display,
        text: &str,
        element: &str,
        xsd_max: usize,
    ) -> String {
        if text
            .chars()
            .any(|c| (c.is_control() && c != '\t') || !is_xml_char(c))
        {
            self.refuse(path, "control characters are not allowed");
            return String::new();
        }
        let mut out = std::borrow::Cow::Borrowed(text);
        if let Some(table) = self.table
            && !text.chars().all(|c| table.allows(c))
        {
            let t = table.apply(text);
            if !t.substitutions.is_empty() {
                self.warnings.push(format!(
                    "{path}: transliterated to the SEPA character set ({})",
                    t.substitutions.join(", ")
                ));
            }
            out = std::borrow::Cow::Owned(t.text);
        }
        let pack_max = self.pack.and_then(|p| p.max_length(element));
        let limit = pack_max.map_or(xsd_max, |p| p.min(xsd_max));
        // At most `limit` characters when the text has no more bytes than that.
        let len = if out.len() <= limit {
            0
        } else {
            out.chars().count()
        };
        if len > limit {
            out = std::borrow::Cow::Owned(out.chars().take(limit).collect());
            self.warnings.push(format!(
                "{path}: {len} characters truncated to {limit} ({element} maximum)"
            ));
        }
        let trimmed = out.trim();
        if trimmed.is_empty() {
            self.refuse(path, "empty (after transliteration and trimming)");
        }
        trimmed.to_owned()
    }

    /// A positive amount: every ISO 20022 amount Clearway sends moves money.
    pub(crate) fn money(&mut self, path: impl fmt::Display, amount: &AmountField) -> Option<Money> {
        match amount.check() {
            Ok(money) if money.minor == 0 => {
                self.refuse(path, "must be greater than zero");
                None
            }
            Ok(money) => Some(money),
            Err(e) => {
                self.refuse(path, e.to_string());
                None
            }
        }
    }

    /// An agent by BIC. The BIC rules (shape, country) are checked once, by validation of the
    /// written message, which names the element.
    pub(crate) fn bic(&mut self, path: impl fmt::Display, bic: &str) -> m::Agent {
        if bic.is_empty() {
            self.refuse(path, "a BIC is required");
        }
        agent(bic)
    }

    pub(crate) fn party(&mut self, path: At<'_>, party: &Party) -> m::Party {
        let nm = self.text(path.field("name"), &party.name, "Nm", max::NAME);
        let pstl_adr = party
            .address
            .as_ref()
            .map(|a| Box::new(self.address(path.field("address"), a)));
        m::Party {
            nm: Some(nm),
            pstl_adr,
            ctry_of_res: None,
            rest: Rest::default(),
        }
    }

    fn address(&mut self, path: At<'_>, a: &PostalAddress) -> m::PostalAddress {
        let mut opt = |field: &str, value: &Option<String>, element: &str, max: usize| {
            value
                .as_ref()
                .map(|v| self.text(path.field(field), v, element, max))
        };
        let strt_nm = opt("street_name", &a.street_name, "StrtNm", max::STREET);
        let bldg_nb = opt(
            "building_number",
            &a.building_number,
            "BldgNb",
            max::BUILDING,
        );
        let pst_cd = opt("post_code", &a.post_code, "PstCd", max::POST_CODE);
        let twn_nm = self.text(path.field("town_name"), &a.town_name, "TwnNm", max::TOWN);
        if a.country.len() != 2 || !a.country.bytes().all(|b| b.is_ascii_uppercase()) {
            self.refuse(path.field("country"), "ISO 3166 alpha-2 expected");
        }
        m::PostalAddress {
            dept: None,
            sub_dept: None,
            strt_nm,
            bldg_nb,
            bldg_nm: None,
            flr: None,
            pst_bx: None,
            room: None,
            pst_cd,
            twn_nm: Some(twn_nm),
            twn_lctn_nm: None,
            dstrct_nm: None,
            ctry_sub_dvsn: None,
            ctry: Some(m::Country(a.country.clone())),
            adr_line: Vec::new(),
            rest: Rest::default(),
        }
    }

    /// Party, account and agent of an event party.
    pub(crate) fn side(&mut self, path: At<'_>, party: &Party) -> Side {
        Side {
            party: self.party(path, party),
            account: self.account(path.field("account"), &party.account),
            agent: self.bic(path.field("agent_bic"), &party.agent_bic),
        }
    }

    pub(crate) fn account(&mut self, path: At<'_>, account: &Account) -> m::Account {
        let id = match (&account.iban, &account.other) {
            // checksum and length: checked by validation (IBAN-CHECKSUM, IBAN-LENGTH)
            (Some(iban), None) => m::AccountId {
                iban: Some(m::Iban(iban.clone())),
                othr: None,
                rest: Rest::default(),
            },
            (None, Some(other)) => {
                let id = self.id(path.field("other"), other, 34);
                m::AccountId {
                    iban: None,
                    othr: Some(m::OtherAccountId {
                        id,
                        rest: Rest::default(),
                    }),
                    rest: Rest::default(),
                }
            }
            _ => {
                self.refuse(path, "give exactly one of iban or other");
                m::AccountId {
                    iban: None,
                    othr: None,
                    rest: Rest::default(),
                }
            }
        };
        m::Account {
            id,
            ccy: None,
            nm: None,
            rest: Rest::default(),
        }
    }

    pub(crate) fn remittance(&mut self, path: At<'_>, text: Option<&str>) -> Option<m::Remittance> {
        text.map(|t| m::Remittance {
            ustrd: vec![self.text(path, t, "Ustrd", max::REMITTANCE)],
            strd: Vec::new(),
            rest: Rest::default(),
        })
    }

    /// Wraps the document in the profile's envelope (and BAH from `from_bic` to the profile's
    /// BIC when the profile asks for one), writes it, validates it, and returns it, or every
    /// reason it cannot be sent.
    pub(crate) fn finish(
        mut self,
        version: Option<Version>,
        body: Body,
        from_bic: &str,
    ) -> Result<Outbound, Refusal> {
        let msg_id = self.msg_id();
        let bah = self.profile.header.as_ref().filter(|h| h.bah);
        let header_version = match bah {
            Some(_) => self.version(&["business_header"], Family::Header),
            None => None,
        };
        let envelope = match (self.profile.envelope, bah.is_some()) {
            (Envelope::None, false) => Some(wire::Envelope::bare()),
            (Envelope::None, true) => Some(wire::Envelope {
                kind: EnvelopeKind::AppHdrDocument,
                roots: vec![
                    Element::new(ISO_NS_PREFIX, "AppHdr"),
                    Element::new(ISO_NS_PREFIX, "Document"),
                ],
            }),
            (Envelope::Message, with_header) => {
                let mut wrapper = Element::new(MESSAGE_WRAPPER_NS, "Message");
                if with_header {
                    wrapper.children.push(Element::new(ISO_NS_PREFIX, "AppHdr"));
                }
                wrapper
                    .children
                    .push(Element::new(ISO_NS_PREFIX, "Document"));
                Some(wire::Envelope {
                    kind: EnvelopeKind::Message,
                    roots: vec![wrapper],
                })
            }
            (Envelope::DataPdu, _) => {
                self.refuse("profile.envelope", "the DataPDU wrapper is not written yet");
                None
            }
        };
        let (Some(version), Some(envelope), true) = (version, envelope, self.reasons.is_empty())
        else {
            if self.reasons.is_empty() {
                self.reasons
                    .push("profile: no message version to write".into());
            }
            return Err(Refusal {
                reasons: self.reasons,
            });
        };
        let header = match (bah, header_version) {
            (Some(h), Some(hv)) => Some(Header {
                version: hv,
                app_hdr: iso20022::model::header::AppHeader {
                    fr: fi_party(from_bic),
                    to: fi_party(&self.profile.bic),
                    biz_msg_idr: msg_id.clone(),
                    msg_def_idr: version.id().to_owned(),
                    biz_svc: h.business_service.clone(),
                    cre_dt: self.cre_dt_tm(),
                    cpy_dplct: None,
                    pssbl_dplct: None,
                    prty: None,
                    rest: Rest::default(),
                },
                attrs: Vec::new(),
            }),
            _ => None,
        };
        let message = wire::Message {
            envelope,
            header,
            document: Document {
                version,
                body,
                attrs: Vec::new(),
            },
        };
        let xml = wire::write(&message);
        let options = iso20022::validate::Options {
            pack: self.pack,
            ..iso20022::validate::Options::default()
        };
        match iso20022::validate::validate_str(&xml, &options) {
            Ok(report) if report.is_valid() => {}
            Ok(report) => {
                return Err(Refusal {
                    reasons: report
                        .violations
                        .iter()
                        .map(|v| format!("{}: {}: {}", v.path, v.rule, v.message))
                        .collect(),
                });
            }
            Err(e) => {
                return Err(Refusal::one(format!("{}: {}: {e}", e.path(), e.rule())));
            }
        }
        Ok(Outbound {
            message_type: version.id().to_owned(),
            message_key: msg_id,
            hex_masked: String::new(),
            described: match self.detail {
                Detail::Human => xml.clone(),
                Detail::Wire => String::new(),
            },
            wire: xml.into_bytes(),
            warnings: self.warnings,
        })
    }
}

/// A debtor or creditor in the model: party, account, agent.
#[derive(Clone)]
pub(crate) struct Side {
    pub party: m::Party,
    pub account: m::Account,
    pub agent: m::Agent,
}

/// One credit of a transfer or a payout batch, checked.
pub(crate) struct Line {
    pub end_to_end_id: m::EndToEndId,
    pub money: Money,
    pub uetr: String,
    pub creditor: Side,
    pub remittance: Option<m::Remittance>,
}

pub(crate) struct RawLine<'e> {
    path: String,
    end_to_end_id: &'e str,
    amount: &'e AmountField,
    creditor: &'e Party,
    remittance: Option<&'e str>,
}

/// The credits of a `transfer.requested` (one) or a `payout.batch_requested` (one or more),
/// with their one debtor: what pacs.008 and pain.001 are both built from.
pub(crate) struct Credit<'e> {
    debtor: &'e Party,
    pub lines: Vec<RawLine<'e>>,
    batch: bool,
}

/// The largest batch one message carries (NbOfTxs is Max15NumericText; this bound keeps one
/// message within what banks accept in one file and what validation reads quickly).
pub const BATCH_MAX: usize = 10_000;

impl<'e> Credit<'e> {
    /// The credits of a transfer or payout event; `None` for other types.
    pub(crate) fn of(event: &'e Event) -> Option<Credit<'e>> {
        match &event.data {
            EventData::TransferRequested(d) => Some(Credit {
                debtor: &d.debtor,
                lines: vec![RawLine {
                    path: "data".into(),
                    end_to_end_id: &d.end_to_end_id,
                    amount: &d.amount,
                    creditor: &d.creditor,
                    remittance: d.remittance.as_deref(),
                }],
                batch: false,
            }),
            EventData::PayoutBatchRequested(d) => Some(Credit {
                debtor: &d.debtor,
                lines: d
                    .payouts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| RawLine {
                        path: format!("data.payouts[{i}]"),
                        end_to_end_id: &p.end_to_end_id,
                        amount: &p.amount,
                        creditor: &p.creditor,
                        remittance: p.remittance.as_deref(),
                    })
                    .collect(),
                batch: true,
            }),
            _ => None,
        }
    }

    pub(crate) fn debtor_bic(&self) -> &str {
        &self.debtor.agent_bic
    }

    pub(crate) fn debtor(&self, iso: &mut Iso<'_>) -> Side {
        iso.side(At::root("data.debtor"), self.debtor)
    }

    /// The checked lines, numbered from 1. Problems (amounts, ids, a second currency, a
    /// repeated EndToEndId, an empty or oversized batch) are recorded in `iso`.
    pub(crate) fn lines(&self, iso: &mut Iso<'_>) -> Vec<(usize, Line)> {
        if self.lines.is_empty() {
            iso.refuse("data.payouts", "a batch holds at least one payout");
        }
        if self.lines.len() > BATCH_MAX {
            iso.refuse(
                "data.payouts",
                format!(
                    "at most {BATCH_MAX} payouts in one message (this has {})",
                    self.lines.len()
                ),
            );
        }
        let mut out = Vec::with_capacity(self.lines.len());
        let mut currency = None;
        let mut seen = std::collections::HashSet::new();
        let event_id = iso.event.event_id.as_str();
        for (i, raw) in self.lines.iter().enumerate() {
            let n = i + 1;
            let path = At::root(&raw.path);
            let e2e = iso.id(path.field("end_to_end_id"), raw.end_to_end_id, max::ID);
            if !seen.insert(raw.end_to_end_id) {
                iso.refuse(
                    path.field("end_to_end_id"),
                    format!("{e2e:?} repeats an earlier payout's"),
                );
            }
            let money = iso.money(path.field("amount"), raw.amount);
            if let Some(money) = money {
                match currency {
                    None => currency = Some(money.currency),
                    Some(c) if c != money.currency => iso.refuse(
                        path.field("amount.currency"),
                        format!("a batch is in one currency ({c}), not {}", money.currency),
                    ),
                    Some(_) => {}
                }
            }
            let creditor = iso.side(path.field("creditor"), raw.creditor);
            let remittance = iso.remittance(path.field("remittance"), raw.remittance);
            let uetr = uetr(event_id, self.batch.then_some(n));
            if let Some(money) = money {
                out.push((
                    n,
                    Line {
                        end_to_end_id: m::EndToEndId(e2e),
                        money,
                        uetr,
                        creditor,
                        remittance,
                    },
                ));
            }
        }
        out
    }
}

/// Whether XML 1.0 can carry `c` at all (its `Char` production; U+FFFE and U+FFFF are not).
fn is_xml_char(c: char) -> bool {
    !matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// An agent identified by its BIC.
pub(crate) fn agent(bic: &str) -> m::Agent {
    m::Agent {
        fin_instn_id: m::FinancialInstitution {
            bic: None,
            bicfi: Some(m::Bic(bic.to_owned())),
            clr_sys_mmb_id: None,
            lei: None,
            nm: None,
            pstl_adr: None,
            rest: Rest::default(),
        },
        rest: Rest::default(),
    }
}

/// A financial institution as a BAH party (`FIId`) or a camt.056 assigner (`Agt`).
pub(crate) fn fi_party(bic: &str) -> m::PartyOrAgent {
    m::PartyOrAgent {
        pty: None,
        agt: None,
        org_id: None,
        fi_id: Some(agent(bic)),
        rest: Rest::default(),
    }
}

/// An active amount in the model.
pub(crate) fn amount(money: Money) -> m::ActiveAmount {
    m::ActiveAmount {
        value: money.to_decimal(),
        ccy: m::CurrencyCode(money.currency.as_str().to_owned()),
    }
}

/// The sum of amounts of one currency (`CtrlSum`), exact.
pub(crate) fn control_sum(amounts: &[Money]) -> Decimal {
    amounts.iter().map(Money::to_decimal).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_shaped() {
        assert_eq!(msg_id("evt-1"), msg_id("evt-1"));
        assert_ne!(msg_id("evt-1"), msg_id("evt-2"));
        assert_eq!(msg_id("evt-1").len(), 26);
        let u = uetr("evt-1", None);
        assert_eq!(u, uetr("evt-1", None));
        assert_ne!(u, uetr("evt-1", Some(1)));
        assert_eq!(u.len(), 36);
        assert_eq!(u.get(14..15), Some("4"));
        assert!(matches!(u.get(19..20), Some("8" | "9" | "a" | "b")), "{u}");
    }
}
