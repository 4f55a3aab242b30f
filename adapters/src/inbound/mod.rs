//! Bank message → `clearway.status.v1`. [`read`] is the entry point (the CLI's `--inbound` and
//! the settlement consumer call it): it dispatches on the profile's channel. ISO 8583 answers
//! (0110, 0210, 0230, 0410, 0510) are approved or declined by DE 39 through the table in
//! [`crate::de39`] ([`iso8583`]); ISO 20022 answers (pacs.002, pacs.004, camt.029, camt.054 and
//! an incoming pacs.008) are read by one module each under `iso20022/`, their status codes
//! mapped by [`codes`]. One message can give several status events (one per transaction).

pub mod codes;
mod iso20022;

use emv::iso8583::{Dialect, unpack};

use crate::de39::{Outcome, Table};
use crate::money::{AmountField, from_numeric, minor_to_string};
use crate::profile::{Channel, Profile};
use crate::status::{Reference, Response, StatusEvent};

/// Why a bank message cannot become a status event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InboundError {
    /// The bytes do not decode with the profile's dialect (field and offset inside).
    #[error("ISO 8583: {0}")]
    Decode(String),
    /// A message type that is not an answer we read.
    #[error("MTI {0}: not an answer Clearway reads (0110, 0210, 0230, 0410, 0510)")]
    NotAnAnswer(String),
    /// DE 39 missing.
    #[error("field 39: missing, so neither approved nor declined")]
    NoResponseCode,
    /// The profile has no ISO 8583 side.
    #[error("profile {0}: not an ISO 8583 profile")]
    NotCard(String),
    /// Hex text that is not hex.
    #[error("hex input: {problem} at byte {offset}")]
    Hex {
        /// What is wrong.
        problem: &'static str,
        /// Where, in the input.
        offset: usize,
    },
    /// An ISO 20022 message must be UTF-8 text.
    #[error("ISO 20022: input is not UTF-8 at byte {0}")]
    NotUtf8(usize),
    /// The XML does not read as a supported ISO 20022 message (path and offset inside).
    #[error("ISO 20022: {0}")]
    Read(::iso20022::ReadError),
    /// A supported message that is not an answer Clearway reads.
    #[error(
        "{0}: not a message Clearway reads as an answer (pacs.002, pacs.004, camt.029, camt.054, pacs.008)"
    )]
    NotInbound(String),
    /// The message reads, but says something that cannot become a status.
    #[error("{path}: {problem} at byte {offset}")]
    Content {
        /// Element path, e.g. `Document/FIToFIPmtStsRpt/TxInfAndSts[2]/TxSts`.
        path: String,
        /// Byte offset of the element (or of its nearest parent, when it is missing).
        offset: usize,
        /// What is wrong.
        problem: String,
    },
}

/// Reads a bank message with the profile's channel into its status events, in message order.
///
/// ISO 8583: `bytes` is the wire message, or hex text when `hex` is set (never guessed: an
/// ASCII-dialect message is all hex digits too); the answer gives one event. ISO 20022: `bytes` is the XML
/// (any envelope `iso20022::read` knows; `hex` is ignored); it gives one event per transaction.
pub fn read(profile: &Profile, bytes: &[u8], hex: bool) -> Result<Vec<StatusEvent>, InboundError> {
    match profile.channel {
        Channel::Iso8583 => {
            let Some(dialect) = profile.dialect() else {
                return Err(InboundError::NotCard(profile.id.clone()));
            };
            // No guessing: an ISO 8583 ASCII message is all hex digits too (`0510822…`).
            let wire = if hex {
                parse_hex(bytes)?
            } else {
                bytes.to_vec()
            };
            iso8583(profile, dialect, &wire).map(|event| vec![event])
        }
        Channel::Iso20022 => {
            let text =
                std::str::from_utf8(bytes).map_err(|e| InboundError::NotUtf8(e.valid_up_to()))?;
            iso20022::read(profile, text)
        }
    }
}

/// Hex digits, either case, whitespace ignored; the error names the byte offset.
fn parse_hex(text: &[u8]) -> Result<Vec<u8>, InboundError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<(u8, usize)> = None;
    for (offset, b) in text.iter().enumerate() {
        if b.is_ascii_whitespace() {
            continue;
        }
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => {
                return Err(InboundError::Hex {
                    problem: "not a hex digit",
                    offset,
                });
            }
        };
        match high.take() {
            None => high = Some((nibble, offset)),
            Some((h, _)) => out.push((h << 4) | nibble),
        }
    }
    match high {
        Some((_, offset)) => Err(InboundError::Hex {
            problem: "odd number of hex digits: the last one has no pair",
            offset,
        }),
        None if out.is_empty() => Err(InboundError::Hex {
            problem: "no hex digits",
            offset: 0,
        }),
        None => Ok(out),
    }
}

/// Reads an ISO 8583 answer from `wire` with the profile's dialect.
pub fn iso8583(
    profile: &Profile,
    dialect: &Dialect,
    wire: &[u8],
) -> Result<StatusEvent, InboundError> {
    if profile.iso8583.is_none() {
        return Err(InboundError::NotCard(profile.id.clone()));
    }
    let message = unpack(dialect, wire).map_err(|e| InboundError::Decode(e.to_string()))?;
    let mti = message.mti().as_str().to_owned();
    let request = match mti.as_str() {
        "0110" => "0100",
        "0210" => "0200",
        "0230" => "0220",
        "0410" => "0400",
        "0510" => "0500",
        _ => return Err(InboundError::NotAnAnswer(mti)),
    };
    let text = |n: u16| message.text(n).map(|t| t.trim_end().to_owned());
    let de39 = text(39).ok_or(InboundError::NoResponseCode)?;
    let row = Table::shipped().lookup(&de39);
    let status = row.map_or(Outcome::Declined, |r| r.outcome);
    let response = Response {
        meaning: row.map_or_else(
            || "unknown code (not in de39.toml)".into(),
            |r| r.meaning.clone(),
        ),
        iso_reason: row.and_then(|r| r.iso.clone()),
        // an approval needs no reason; a decline without an ISO code says so
        unmapped: status == Outcome::Declined && row.is_none_or(|r| r.unmapped),
        de39,
    };
    let amount = match (text(4), text(49).as_deref().and_then(from_numeric)) {
        (Some(minor), Some(currency)) => minor.parse::<u64>().ok().map(|m| AmountField {
            value: minor_to_string(m, currency),
            currency: currency.as_str().to_owned(),
        }),
        _ => None,
    };
    let stan = text(11);
    let rrn = text(37);
    let status_id = format!(
        "{}-{mti}-{}-{}",
        profile.id,
        stan.as_deref().unwrap_or("nostan"),
        rrn.as_deref().unwrap_or("norrn")
    );
    let in_reply_to = Reference {
        message_type: request.to_owned(),
        stan,
        rrn,
        transmitted: text(7),
        ..Reference::default()
    };
    let mut event = StatusEvent::new(status_id, &profile.id, &mti, in_reply_to, status.into());
    event.response = Some(response);
    event.approval_code = text(38);
    event.amount = amount;
    event.pan_masked = text(2).map(|p| emv::card::mask_pan(&p));
    Ok(event)
}
