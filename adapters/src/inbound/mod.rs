//! Bank message → `clearway.status.v1`. ISO 8583 answers (0110, 0210, 0230, 0410, 0510) are
//! approved or declined by DE 39 through the table in [`crate::de39`]; the ISO 20022 answers
//! (pacs.002, pacs.004, camt.029, camt.054) plug in beside as one module each.

use emv::iso8583::{Dialect, unpack};

use crate::de39::{Outcome, Table};
use crate::money::{AmountField, from_numeric, minor_to_string};
use crate::profile::Profile;
use crate::status::{Reference, Response, STATUS_V1, StatusEvent};

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
    Ok(StatusEvent {
        schema: STATUS_V1,
        status_id: format!(
            "{}-{mti}-{}-{}",
            profile.id,
            stan.as_deref().unwrap_or("nostan"),
            rrn.as_deref().unwrap_or("norrn")
        ),
        bank: profile.id.clone(),
        message_type: mti,
        in_reply_to: Reference {
            message_type: request.to_owned(),
            stan,
            rrn,
            transmitted: text(7),
        },
        status,
        response: Some(response),
        approval_code: text(38),
        amount,
        pan_masked: text(2).map(|p| emv::card::mask_pan(&p)),
    })
}
