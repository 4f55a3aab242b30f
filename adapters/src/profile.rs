//! Bank profiles: a bank is a TOML file, not code. [`Profile::from_toml`] denies unknown keys
//! and checks every relationship once (BIC, versions per family, channel sections, time zone,
//! cut-off times), reporting every problem with the key it is about.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::event::EventType;

/// The wire family a bank speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// XML messages (pacs, pain, camt).
    Iso20022,
    /// Card messages.
    Iso8583,
}

/// Whether the acquirer clears with an authorization then an advice (dual) or one financial
/// request (single).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageMode {
    /// 0100 then 0220.
    Dual,
    /// 0200.
    Single,
}

/// How the bank wants the XML wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Envelope {
    /// `Document` alone (or `AppHdr` + `Document` side by side when `bah` is on).
    None,
    /// FedNow's `Message` wrapper around `AppHdr` and `Document`.
    Message,
    /// SWIFT's `DataPDU` wrapper.
    DataPdu,
}

/// How money settles with this bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementMethod {
    /// `INDA`: the instructed agent's account.
    Inda,
    /// `INGA`: the instructing agent's account.
    Inga,
    /// `CLRG`: through the clearing system.
    Clrg,
    /// `COVE`: with a cover payment.
    Cove,
    /// Net settlement of card batches by the scheme.
    SchemeNet,
}

/// Message families a profile names a version for.
const FAMILIES: &[(&str, &[&str])] = &[
    ("credit_transfer", &["pacs.008"]),
    ("customer_credit_transfer", &["pain.001"]),
    ("payment_return", &["pacs.004"]),
    ("payment_cancellation", &["camt.056"]),
    ("cancellation_answer", &["camt.029"]),
    ("payment_status", &["pacs.002"]),
    ("customer_status", &["pain.002"]),
    ("notification", &["camt.054"]),
    ("statement", &["camt.053"]),
    ("business_header", &["head.001"]),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    id: String,
    name: String,
    bic: String,
    channel: Channel,
    currency: String,
    settlement: SettlementMethod,
    #[serde(default)]
    rule_pack: Option<String>,
    #[serde(default)]
    messages: BTreeMap<String, String>,
    #[serde(default)]
    header: Option<Header>,
    #[serde(default)]
    envelope: Option<Envelope>,
    #[serde(default)]
    iso8583: Option<Iso8583Section>,
    queues: Queues,
    cutoff: Cutoff,
}

/// The business application header.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Whether an `AppHdr` goes with every message.
    pub bah: bool,
    /// `BizSvc`, e.g. `swift.cbprplus.02`.
    #[serde(default)]
    pub business_service: Option<String>,
}

/// The ISO 8583 side of a card profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Iso8583Section {
    /// A shipped dialect name (`iso87binary`, …).
    #[serde(default)]
    pub dialect: Option<String>,
    /// Or a dialect file, relative to the profile.
    #[serde(default)]
    pub dialect_file: Option<PathBuf>,
    /// Dual or single message.
    pub mode: MessageMode,
    /// DE 32, acquiring institution id, up to 11 digits.
    pub acquirer_id: String,
    /// DE 19, acquiring institution country, 3 digits (ISO 3166 numeric).
    pub acquirer_country: String,
}

/// Where messages go and come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queues {
    /// Messages to the bank.
    pub outbound: String,
    /// Messages from the bank.
    pub inbound: String,
}

/// Cut-off times in the bank's time zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cutoff {
    /// `HH:MM`, ascending.
    pub times: Vec<String>,
    /// IANA name, e.g. `Europe/Berlin`.
    pub time_zone: String,
}

/// A checked bank profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Id, as events name it in `bank`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// The bank's BIC.
    pub bic: String,
    /// ISO 20022 or ISO 8583.
    pub channel: Channel,
    /// The settlement currency.
    pub currency: iso20022::money::Currency,
    /// How money settles.
    pub settlement: SettlementMethod,
    /// The market rule pack checked before sending: a pack shipped in `iso20022/rules/`.
    pub rule_pack: Option<String>,
    /// Message version per family, e.g. `credit_transfer = "pacs.008.001.08"`.
    pub messages: BTreeMap<String, String>,
    /// The business application header, when used.
    pub header: Option<Header>,
    /// The XML wrapper.
    pub envelope: Envelope,
    /// The card side.
    pub iso8583: Option<Iso8583Section>,
    /// Queue names.
    pub queues: Queues,
    /// Cut-off times.
    pub cutoff: Cutoff,
    /// The cut-off zone, parsed.
    pub time_zone: chrono_tz::Tz,
    /// The ISO 8583 dialect, resolved once when the profile is loaded.
    dialect: Option<emv::iso8583::Dialect>,
}

/// What is wrong with a profile: the file, then every problem with its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The TOML does not parse or has an unknown or missing key.
    #[error("{file}: {message}")]
    Syntax {
        /// The profile's name or path.
        file: String,
        /// toml's message, which names the key and the line.
        message: String,
    },
    /// Keys with values that do not hold together.
    #[error("{file}: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The profile's name or path.
        file: String,
        /// Every problem found.
        problems: Vec<KeyProblem>,
    },
    /// The dialect file could not be read or checked.
    #[error("{file}: iso8583.dialect: {message}")]
    Dialect {
        /// The profile's name or path.
        file: String,
        /// Why.
        message: String,
    },
    /// The profile file could not be read.
    #[error("{file}: {message}")]
    Io {
        /// The path.
        file: String,
        /// Why.
        message: String,
    },
}

/// One problem of a profile: the key and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem {
    /// Dotted key, e.g. `cutoff.time_zone`.
    pub key: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)
    }
}

fn is_bic(bic: &str) -> bool {
    let b = bic.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b.iter().take(6).all(u8::is_ascii_uppercase)
        && b.iter()
            .skip(6)
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn is_version(version: &str, prefixes: &[&str]) -> bool {
    // `pacs.008.001.08`: family prefix, then `.NNN.NN`
    prefixes.iter().any(|p| {
        version.strip_prefix(p).is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('.').collect();
            matches!(parts.as_slice(), ["", a, b] if a.len() == 3 && b.len() == 2
                && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()))
        })
    })
}

fn is_hhmm(text: &str) -> bool {
    chrono::NaiveTime::parse_from_str(text, "%H:%M").is_ok() && text.len() == 5
}

impl Profile {
    /// Parses and checks a profile; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Profile, ProfileError> {
        let raw: ProfileFile = toml::from_str(text).map_err(|e| ProfileError::Syntax {
            file: file.to_owned(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let mut problems = Vec::new();
        let mut bad = |key: &str, problem: String| {
            problems.push(KeyProblem {
                key: key.to_owned(),
                problem,
            });
        };
        if raw.id.is_empty()
            || !raw
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            bad("id", "lowercase letters, digits and '-' only".into());
        }
        if !is_bic(&raw.bic) {
            bad(
                "bic",
                format!("{:?} is not a BIC (8 or 11 characters)", raw.bic),
            );
        }
        let currency = crate::money::currency(&raw.currency);
        if let Err(e) = &currency {
            bad("currency", e.to_string());
        }
        for (family, version) in &raw.messages {
            match FAMILIES.iter().find(|(f, _)| f == family) {
                None => bad(
                    &format!("messages.{family}"),
                    format!(
                        "unknown message family (known: {})",
                        FAMILIES
                            .iter()
                            .map(|(f, _)| *f)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Some((_, prefixes)) if !is_version(version, prefixes) => bad(
                    &format!("messages.{family}"),
                    format!("{version:?} is not a {} version", prefixes.join("/")),
                ),
                Some(_) => {}
            }
        }
        match (raw.channel, &raw.iso8583) {
            (Channel::Iso8583, None) => {
                bad(
                    "iso8583",
                    "an iso8583 channel needs an [iso8583] section".into(),
                );
            }
            (Channel::Iso20022, Some(_)) => {
                bad(
                    "iso8583",
                    "an iso20022 channel has no [iso8583] section".into(),
                );
            }
            (Channel::Iso20022, None) if raw.messages.is_empty() => {
                bad(
                    "messages",
                    "an iso20022 channel names its message versions".into(),
                );
            }
            _ => {}
        }
        let mut dialect = None;
        if let Some(section) = &raw.iso8583 {
            match (&section.dialect, &section.dialect_file) {
                (Some(name), None) => match emv::iso8583::Dialect::shipped(name) {
                    Ok(d) => dialect = Some(d),
                    Err(e) => bad("iso8583.dialect", e.to_string()),
                },
                (None, Some(_)) => {}
                _ => bad(
                    "iso8583.dialect",
                    "give exactly one of `dialect` (shipped name) or `dialect_file`".into(),
                ),
            }
            let digits = |s: &str, range: std::ops::RangeInclusive<usize>| {
                range.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
            };
            if !digits(&section.acquirer_id, 1..=11) {
                bad("iso8583.acquirer_id", "1 to 11 digits".into());
            }
            if !digits(&section.acquirer_country, 3..=3) {
                bad(
                    "iso8583.acquirer_country",
                    "3 digits (ISO 3166 numeric)".into(),
                );
            }
        }
        if let Some(pack) = &raw.rule_pack
            && !iso20022::rules::RulePack::shipped_names().contains(&pack.as_str())
        {
            bad(
                "rule_pack",
                format!(
                    "{pack:?} is not a shipped rule pack ({})",
                    iso20022::rules::RulePack::shipped_names().join(", ")
                ),
            );
        }
        if let Some(header) = &raw.header
            && header.bah
            && header.business_service.is_none()
        {
            bad("header.business_service", "required when bah = true".into());
        }
        let time_zone = raw.cutoff.time_zone.parse::<chrono_tz::Tz>();
        if time_zone.is_err() {
            bad(
                "cutoff.time_zone",
                format!("{:?} is not an IANA time zone", raw.cutoff.time_zone),
            );
        }
        for (i, time) in raw.cutoff.times.iter().enumerate() {
            if !is_hhmm(time) {
                bad(
                    &format!("cutoff.times[{i}]"),
                    format!("{time:?} is not HH:MM"),
                );
            }
        }
        if !raw.cutoff.times.windows(2).all(|w| w.first() < w.get(1)) {
            bad("cutoff.times", "times must be ascending".into());
        }
        for (key, queue) in [
            ("queues.outbound", &raw.queues.outbound),
            ("queues.inbound", &raw.queues.inbound),
        ] {
            if queue.is_empty() || queue.len() > 255 {
                bad(key, "1 to 255 characters (AMQP short string)".into());
            }
        }
        match (currency, time_zone) {
            (Ok(currency), Ok(time_zone)) if problems.is_empty() => Ok(Profile {
                id: raw.id,
                name: raw.name,
                bic: raw.bic,
                channel: raw.channel,
                currency,
                settlement: raw.settlement,
                rule_pack: raw.rule_pack,
                messages: raw.messages,
                header: raw.header,
                envelope: raw.envelope.unwrap_or(Envelope::None),
                iso8583: raw.iso8583,
                queues: raw.queues,
                cutoff: raw.cutoff,
                time_zone,
                dialect,
            }),
            _ => Err(ProfileError::Invalid {
                file: file.to_owned(),
                problems,
            }),
        }
    }

    /// Reads and checks a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Io {
            file: file.clone(),
            message: e.to_string(),
        })?;
        let mut profile = Profile::from_toml(&file, &text)?;
        // A dialect file is read once, here, relative to the profile's folder.
        if let Some(section) = profile.iso8583.as_mut()
            && let Some(dialect_file) = section.dialect_file.as_mut()
        {
            if dialect_file.is_relative() {
                *dialect_file = path.parent().unwrap_or(Path::new(".")).join(&*dialect_file);
            }
            let fail = |message: String| ProfileError::Dialect {
                file: file.clone(),
                message,
            };
            let text = std::fs::read_to_string(&*dialect_file)
                .map_err(|e| fail(format!("{}: {e}", dialect_file.display())))?;
            let name = dialect_file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("dialect");
            let dialect =
                emv::iso8583::Dialect::from_toml(name, &text).map_err(|e| fail(e.to_string()))?;
            profile.dialect = Some(dialect);
        }
        Ok(profile)
    }

    /// The ISO 8583 dialect of a card profile: shipped, or read from its file by
    /// [`Profile::load`] (a profile parsed with [`Profile::from_toml`] that names a dialect
    /// file has none until loaded).
    pub fn dialect(&self) -> Option<&emv::iso8583::Dialect> {
        self.dialect.as_ref()
    }

    /// The message (type and version) this profile plans for an event type, if any.
    pub fn planned_message(&self, event_type: EventType) -> Option<String> {
        use EventType as T;
        match (self.channel, event_type) {
            (Channel::Iso8583, t) if t.is_card() => {
                let mode = self.iso8583.as_ref().map(|s| s.mode);
                let mti = match (t, mode) {
                    (T::CardAuthorizationRequested, _) => "0100",
                    (T::CardAuthorizationReversed, _) => "0400",
                    (T::CardCapture | T::CardRefund, Some(MessageMode::Single)) => "0200",
                    (T::CardCapture | T::CardRefund, _) => "0220",
                    _ => "0500",
                };
                Some(mti.to_owned())
            }
            (Channel::Iso20022, T::TransferRequested | T::PayoutBatchRequested) => self
                .messages
                .get("credit_transfer")
                .or_else(|| self.messages.get("customer_credit_transfer"))
                .cloned(),
            (Channel::Iso20022, T::TransferCancelRequested) => {
                self.messages.get("payment_cancellation").cloned()
            }
            (Channel::Iso20022, T::TransferReturnRequested) => {
                self.messages.get("payment_return").cloned()
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARD: &str = r#"
id = "acq"
name = "Acquirer"
bic = "EXACDEFFXXX"
channel = "iso8583"
currency = "EUR"
settlement = "scheme_net"
iso8583 = { dialect = "iso87binary", mode = "dual", acquirer_id = "123456", acquirer_country = "276" }
queues = { outbound = "o", inbound = "i" }
cutoff = { times = ["22:00"], time_zone = "Europe/Berlin" }
"#;

    #[test]
    fn every_problem_names_its_key() {
        assert!(Profile::from_toml("t", CARD).is_ok());
        let bad = CARD
            .replace("EXACDEFFXXX", "bad")
            .replace("Europe/Berlin", "Europe/Nowhere")
            .replace("22:00", "25:00");
        let e = Profile::from_toml("t", &bad).unwrap_err().to_string();
        for key in ["bic", "cutoff.time_zone", "cutoff.times[0]"] {
            assert!(e.contains(key), "{e}");
        }
        let e = Profile::from_toml("t", &format!("rule_pack = \"moon\"\n{CARD}")).unwrap_err();
        assert!(e.to_string().contains("rule_pack"), "{e}");
        let e = Profile::from_toml("t", &format!("{CARD}\ncolour = 1")).unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
    }
}
