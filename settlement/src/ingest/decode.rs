//! Bytes to a keyed delivery: the dedupe key, the SHA-256 of the canonical payload, and the
//! decoded body (an event's JSON, the status events of a bank answer, or why it is dead).

use adapters::event::{Event, EventId};
use adapters::status::StatusEvent;
use sha2::{Digest, Sha256};

use super::plan::EventPlan;
use super::{Ingest, read_answer};
use crate::flow::{DeadReason, Incoming};
use crate::store;

impl Ingest {
    pub(super) fn decode(&self, d: &Incoming) -> Decoded {
        if d.queue == self.events_queue {
            return self.decode_event(&d.body);
        }
        let bank = d
            .queue
            .strip_prefix(self.bank_prefix.as_str())
            .and_then(|rest| rest.strip_suffix(".in"));
        let hash = sha256_hex(&d.body);
        let Some(bank) = bank else {
            return Decoded::dead(
                Some(format!("undecodable/{hash}")),
                hash,
                DeadReason::Decode,
                format!(
                    "queue {:?} is neither {} nor {}<id>.in",
                    d.queue, self.events_queue, self.bank_prefix
                ),
            );
        };
        let Some(profile) = self.profiles.get(bank) else {
            return Decoded::dead(
                None,
                hash,
                DeadReason::Unmapped,
                format!("no profile {bank:?} for queue {}", d.queue),
            );
        };
        match read_answer(profile, &d.body) {
            Ok(statuses) => match statuses.first() {
                Some(first) => Decoded {
                    key: Some(format!("bank/{}", first.status_id)),
                    hash,
                    body: Body::Answers(statuses),
                },
                None => Decoded::dead(
                    Some(format!("undecodable/{hash}")),
                    hash,
                    DeadReason::Decode,
                    "the bank message holds no status".into(),
                ),
            },
            // Undecodable bytes are recorded under their hash, so a redelivery is a duplicate.
            Err((DeadReason::Decode, detail)) => Decoded::dead(
                Some(format!("undecodable/{hash}")),
                hash,
                DeadReason::Decode,
                detail,
            ),
            // Not recorded in the inbox: the same message may be readable once support lands.
            Err((reason, detail)) => Decoded::dead(None, hash, reason, detail),
        }
    }

    pub(super) fn decode_event(&self, body: &[u8]) -> Decoded {
        let text = match std::str::from_utf8(body) {
            Ok(text) => text,
            Err(e) => {
                let hash = sha256_hex(body);
                return Decoded::dead(
                    Some(format!("undecodable/{hash}")),
                    hash,
                    DeadReason::Decode,
                    format!("event: not UTF-8 at byte {}", e.valid_up_to()),
                );
            }
        };
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let hash = sha256_hex(body);
                return Decoded::dead(
                    Some(format!("undecodable/{hash}")),
                    hash,
                    DeadReason::Decode,
                    format!("event: not JSON ({e})"),
                );
            }
        };
        let mut canonical = Vec::with_capacity(text.len());
        canonical_json(&value, &mut canonical);
        let hash = sha256_hex(&canonical);
        let key = value
            .get("event_id")
            .and_then(serde_json::Value::as_str)
            .filter(|id| EventId::parse(id).is_ok())
            .map_or_else(|| format!("undecodable/{hash}"), |id| format!("event/{id}"));
        Decoded {
            key: Some(key),
            hash,
            body: Body::Json(Box::new(value)),
        }
    }

    /// A fresh event's body (JSON, checked by `decode_event`) to its plan or a dead letter.
    pub(super) fn read_event(&self, body: &[u8]) -> Body {
        let text = String::from_utf8_lossy(body);
        match Event::from_json(&text) {
            Ok(event) => Body::Event(self.plan(&event).map(Box::new)),
            Err(e) => Body::Dead(DeadReason::Decode, format!("event: {e}")),
        }
    }

    /// [`Ingest::read_event`] for a body `decode_event` has already parsed: the JSON is read
    /// once per delivery, to hash it and then as the event.
    pub(super) fn read_event_value(&self, value: serde_json::Value) -> Body {
        match Event::from_value(value) {
            Ok(event) => Body::Event(self.plan(&event).map(Box::new)),
            Err(e) => Body::Dead(DeadReason::Decode, format!("event: {e}")),
        }
    }
}

/// One delivery, decoded.
#[derive(Debug)]
pub(super) struct Decoded {
    pub(super) key: Option<String>,
    pub(super) hash: String,
    pub(super) body: Body,
}

#[derive(Debug)]
pub(super) enum Body {
    /// JSON with an event key, parsed but not yet read as an event (duplicates never are).
    Json(Box<serde_json::Value>),
    /// An event mapped to its plan.
    Event(Result<Box<EventPlan>, (DeadReason, String)>),
    Answers(Vec<StatusEvent>),
    Dead(DeadReason, String),
}

impl Decoded {
    pub(super) fn dead(
        key: Option<String>,
        hash: String,
        reason: DeadReason,
        detail: String,
    ) -> Decoded {
        Decoded {
            key,
            hash,
            body: Body::Dead(reason, detail),
        }
    }
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    store::to_hex(&Sha256::digest(bytes)).to_ascii_lowercase()
}

/// JSON with object keys sorted at every level and no insignificant whitespace: two events
/// that differ only in key order or spacing hash the same. Keys and scalars are written by
/// serde_json's compact serializer straight into `out` (the same bytes as `Value::to_string`,
/// so hashes already in an inbox stay valid), without a `String` per key and per value.
pub(super) fn canonical_json(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                compact(k, out);
                out.push(b':');
                canonical_json(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical_json(v, out);
            }
            out.push(b']');
        }
        other => compact(other, out),
    }
}

/// Writes a string or scalar in compact JSON. Writing into a `Vec` cannot fail and strings,
/// numbers, booleans and null always serialize, so there is no error to report.
fn compact<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    let written = serde_json::to_writer(&mut *out, value);
    debug_assert!(written.is_ok(), "compact JSON of a scalar");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_ignores_key_order_and_spacing() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": [1, {"y":2,"x":1}], "a": "é"}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a":"é","b":[1,{"x":1,"y":2}]}"#).unwrap();
        let (mut ca, mut cb) = (Vec::new(), Vec::new());
        canonical_json(&a, &mut ca);
        canonical_json(&b, &mut cb);
        assert_eq!(ca, cb);
        assert_eq!(ca, r#"{"a":"é","b":[1,{"x":1,"y":2}]}"#.as_bytes());
    }

    #[test]
    fn canonical_form_is_the_compact_display_of_its_parts() {
        // Hashes stored in an inbox were made with `Value::to_string` for keys and scalars.
        let v: serde_json::Value = serde_json::from_str(
            r#"{"q":"a\"b\\c\u0001\n","n":-1.5e3,"t":true,"z":null,"u":18446744073709551615}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        canonical_json(&v, &mut out);
        let map = v.as_object().unwrap();
        let mut keys: Vec<_> = map.keys().collect();
        keys.sort();
        let expected: Vec<String> = keys
            .iter()
            .map(|k| {
                let key = serde_json::Value::String((*k).clone()).to_string();
                format!("{key}:{}", map[k.as_str()])
            })
            .collect();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{{{}}}", expected.join(","))
        );
    }
}
