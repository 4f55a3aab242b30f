//! The internal event model: the envelope `clearway.event.v1`, the same for every event, and
//! the data of each outbound type. Unknown `schema` versions are refused with a clear error,
//! and so are unknown fields inside a known version: nothing is silently dropped.
//!
//! Parsing checks the shape (serde); [`crate::outbound`] checks the meaning (amounts, lengths)
//! and refuses with every reason at once. The JSON Schemas in `adapters/schemas/` document the
//! same shapes; a test keeps both in agreement over `fixtures/events/`.

pub mod card;
pub mod transfer;

use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// The one schema version this code reads.
pub const SCHEMA_V1: &str = "clearway.event.v1";

/// An outbound event type: what the wallet platform asks Clearway to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
pub enum EventType {
    /// A credit transfer → pacs.008 (direct participant) or pain.001 (corporate channel).
    #[serde(rename = "transfer.requested")]
    TransferRequested,
    /// Recall of a transfer we sent → camt.056.
    #[serde(rename = "transfer.cancel_requested")]
    TransferCancelRequested,
    /// Send back funds we received → pacs.004.
    #[serde(rename = "transfer.return_requested")]
    TransferReturnRequested,
    /// Many creditors, one debtor → one pain.001 or pacs.008 with several transactions.
    #[serde(rename = "payout.batch_requested")]
    PayoutBatchRequested,
    /// → 0100 with DE 55.
    #[serde(rename = "card.authorization_requested")]
    CardAuthorizationRequested,
    /// → 0400 with DE 90.
    #[serde(rename = "card.authorization_reversed")]
    CardAuthorizationReversed,
    /// → 0220 (dual message) or 0200 (single message).
    #[serde(rename = "card.capture")]
    CardCapture,
    /// → 0220/0200 with processing code 20.
    #[serde(rename = "card.refund")]
    CardRefund,
    /// → 0500 with batch totals.
    #[serde(rename = "card.batch_closed")]
    CardBatchClosed,
}

impl EventType {
    /// Every type, in listing order.
    pub const ALL: [EventType; 9] = [
        Self::TransferRequested,
        Self::TransferCancelRequested,
        Self::TransferReturnRequested,
        Self::PayoutBatchRequested,
        Self::CardAuthorizationRequested,
        Self::CardAuthorizationReversed,
        Self::CardCapture,
        Self::CardRefund,
        Self::CardBatchClosed,
    ];

    /// The name on the wire, e.g. `card.capture`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TransferRequested => "transfer.requested",
            Self::TransferCancelRequested => "transfer.cancel_requested",
            Self::TransferReturnRequested => "transfer.return_requested",
            Self::PayoutBatchRequested => "payout.batch_requested",
            Self::CardAuthorizationRequested => "card.authorization_requested",
            Self::CardAuthorizationReversed => "card.authorization_reversed",
            Self::CardCapture => "card.capture",
            Self::CardRefund => "card.refund",
            Self::CardBatchClosed => "card.batch_closed",
        }
    }

    /// The type of a name, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether the type travels as ISO 8583 (else ISO 20022).
    pub fn is_card(self) -> bool {
        self.as_str().starts_with("card.")
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The envelope exactly as it travels; `data` is read once the type is known.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope {
    schema: String,
    event_id: String,
    #[serde(rename = "type")]
    event_type: String,
    occurred_at: String,
    bank: String,
    data: serde_json::Value,
}

/// A parsed event: the envelope and the data of its type.
#[derive(Debug, Clone)]
pub struct Event {
    /// The idempotency key: every id Clearway derives (STAN, RRN, MsgId, UETR) comes from it.
    pub event_id: EventId,
    /// The type.
    pub event_type: EventType,
    /// When it happened, with the offset the platform gave (its local time for DE 12/13).
    pub occurred_at: DateTime<FixedOffset>,
    /// The profile id of the bank this event goes to.
    pub bank: String,
    /// The data.
    pub data: EventData,
}

/// The idempotency key of an event: 1 to 64 characters of `A-Za-z0-9._:-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct EventId(String);

impl EventId {
    /// Checks the characters and the length.
    pub fn parse(text: &str) -> Result<Self, EventError> {
        let ok = (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(EventError::Field {
                path: "event_id".into(),
                problem: "1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'".into(),
            })
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The data of each event type.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EventData {
    /// `transfer.requested`.
    TransferRequested(transfer::TransferRequested),
    /// `transfer.cancel_requested`.
    TransferCancelRequested(transfer::TransferCancelRequested),
    /// `transfer.return_requested`.
    TransferReturnRequested(transfer::TransferReturnRequested),
    /// `payout.batch_requested`.
    PayoutBatchRequested(transfer::PayoutBatchRequested),
    /// `card.authorization_requested`.
    CardAuthorizationRequested(card::AuthorizationRequested),
    /// `card.authorization_reversed`.
    CardAuthorizationReversed(card::AuthorizationReversed),
    /// `card.capture`.
    CardCapture(card::Capture),
    /// `card.refund`.
    CardRefund(card::Refund),
    /// `card.batch_closed`.
    CardBatchClosed(card::BatchClosed),
}

/// Why an event is refused before any mapping. Never holds card data: serde's messages for
/// our types name fields and expectations, and [`emv::card::Pan`] refuses without echoing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// Not JSON, or not an object.
    #[error("not a JSON event: {0}")]
    Json(String),
    /// A `schema` other than the one this code reads.
    #[error("schema {found:?} is not supported (this version reads {SCHEMA_V1:?})")]
    UnknownSchema {
        /// What the event said.
        found: String,
    },
    /// A `type` that is not an outbound event type.
    #[error("type {0:?} is not an outbound event type")]
    UnknownType(String),
    /// The envelope or the data does not have the shape of its type.
    #[error("{path}: {problem}")]
    Field {
        /// `envelope`, `event_id`, `occurred_at`, or `data` (serde adds the position).
        path: String,
        /// What is wrong.
        problem: String,
    },
}

impl Event {
    /// Parses an event: envelope, schema version, type, then the data of that type.
    pub fn from_json(text: &str) -> Result<Event, EventError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| EventError::Json(e.to_string()))?;
        Self::from_value(value)
    }

    /// Reads an event from JSON already parsed (the ingest parses each body once, to hash it),
    /// with the checks and errors of [`Event::from_json`].
    pub fn from_value(value: serde_json::Value) -> Result<Event, EventError> {
        let Some(object) = value.as_object() else {
            return Err(EventError::Json("the event is not a JSON object".into()));
        };
        // The version decides how to read the rest, so it is checked before anything else.
        match object.get("schema").and_then(serde_json::Value::as_str) {
            Some(SCHEMA_V1) => {}
            Some(other) => {
                return Err(EventError::UnknownSchema {
                    found: other.to_owned(),
                });
            }
            None => {
                return Err(EventError::Field {
                    path: "schema".into(),
                    problem: "missing (expected \"clearway.event.v1\")".into(),
                });
            }
        }
        let raw: RawEnvelope = serde_json::from_value(value).map_err(|e| EventError::Field {
            path: "envelope".into(),
            problem: e.to_string(),
        })?;
        debug_assert_eq!(raw.schema, SCHEMA_V1);
        let event_type = EventType::from_name(&raw.event_type)
            .ok_or_else(|| EventError::UnknownType(raw.event_type.clone()))?;
        let occurred_at =
            DateTime::parse_from_rfc3339(&raw.occurred_at).map_err(|e| EventError::Field {
                path: "occurred_at".into(),
                problem: format!("not an RFC 3339 date-time ({e})"),
            })?;
        let event_id = EventId::parse(&raw.event_id)?;
        let data = parse_data(event_type, raw.data)?;
        Ok(Event {
            event_id,
            event_type,
            occurred_at,
            bank: raw.bank,
            data,
        })
    }
}

fn parse_data(event_type: EventType, data: serde_json::Value) -> Result<EventData, EventError> {
    fn read<T: serde::de::DeserializeOwned>(data: serde_json::Value) -> Result<T, EventError> {
        serde_json::from_value(data).map_err(|e| EventError::Field {
            path: "data".into(),
            problem: e.to_string(),
        })
    }
    Ok(match event_type {
        EventType::TransferRequested => EventData::TransferRequested(read(data)?),
        EventType::TransferCancelRequested => EventData::TransferCancelRequested(read(data)?),
        EventType::TransferReturnRequested => EventData::TransferReturnRequested(read(data)?),
        EventType::PayoutBatchRequested => EventData::PayoutBatchRequested(read(data)?),
        EventType::CardAuthorizationRequested => EventData::CardAuthorizationRequested(read(data)?),
        EventType::CardAuthorizationReversed => EventData::CardAuthorizationReversed(read(data)?),
        EventType::CardCapture => EventData::CardCapture(read(data)?),
        EventType::CardRefund => EventData::CardRefund(read(data)?),
        EventType::CardBatchClosed => EventData::CardBatchClosed(read(data)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schema_and_fields_are_refused() {
        let e = Event::from_json(r#"{"schema":"clearway.event.v2"}"#).unwrap_err();
        assert!(e.to_string().contains("clearway.event.v2"), "{e}");
        let e = Event::from_json(
            r#"{"schema":"clearway.event.v1","event_id":"e1","type":"card.capture",
            "occurred_at":"2026-11-25T10:00:00Z","bank":"b","data":{},"extra":1}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `extra`"), "{e}");
        let e = Event::from_json(
            r#"{"schema":"clearway.event.v1","event_id":"e1","type":"card.nope",
            "occurred_at":"2026-11-25T10:00:00Z","bank":"b","data":{}}"#,
        )
        .unwrap_err();
        assert_eq!(e, EventError::UnknownType("card.nope".into()));
    }
}
