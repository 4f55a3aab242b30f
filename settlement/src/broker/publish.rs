//! `clearway publish EVENTS.jsonl`: one wallet event per line, published to the events exchange
//! with routing key = the event's `type` and `message_id` = its `event_id`, persistent, with
//! confirms. Only the envelope is read here (the consumer's handler checks the rest); the line's
//! bytes are published unchanged. Every line is checked before the first publish, so a bad file
//! publishes nothing.

use std::fmt;

use super::confirms::{Confirms, Settled, field_table, properties};
use super::{AmqpUrl, BrokerError, Topology, connect};

/// Publishes in flight at once.
const IN_FLIGHT_MAX: usize = 1000;

/// What `publish_events` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishReport {
    /// Events published and confirmed by the broker.
    pub published: usize,
    /// Empty or blank lines skipped.
    pub blank_lines: usize,
}

/// Why a line is not an event envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineProblem {
    /// Not JSON, or not a JSON object; the text is serde_json's, with its column.
    NotJsonObject(String),
    /// `event_id` or `type` is missing, not a string, empty or too long for AMQP.
    Field(&'static str, &'static str),
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineProblem::NotJsonObject(text) => write!(f, "not a JSON object: {text}"),
            LineProblem::Field(field, problem) => write!(f, "`{field}` {problem}"),
        }
    }
}

/// `publish_events` failed: a line was refused (nothing was published), or the broker failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// Input we refuse: line number (from 1) and the byte offset where the line starts.
    #[error("line {line} (byte {offset}): {problem}")]
    Line {
        line: usize,
        offset: usize,
        problem: LineProblem,
    },
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

struct Envelope<'a> {
    event_id: String,
    event_type: String,
    body: &'a [u8],
}

/// Reads the envelopes: every non-blank line must be a JSON object with string `event_id` and
/// `type` (1 to 255 bytes each, the limit of an AMQP short string).
fn envelopes(jsonl: &[u8]) -> Result<(Vec<Envelope<'_>>, usize), PublishError> {
    let mut out = Vec::new();
    let mut blank = 0;
    let mut offset = 0;
    // A final newline ends the last line; it does not start an empty one.
    let text = jsonl.strip_suffix(b"\n").unwrap_or(jsonl);
    if text.is_empty() {
        return Ok((out, usize::from(!jsonl.is_empty())));
    }
    for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line_offset = offset;
        offset += raw.len() + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            blank += 1;
            continue;
        }
        let fail = |problem| PublishError::Line {
            line: index + 1,
            offset: line_offset,
            problem,
        };
        let value: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(line)
            .map_err(|e| fail(LineProblem::NotJsonObject(e.to_string())))?;
        let field = |name: &'static str| match value.get(name) {
            None => Err(fail(LineProblem::Field(name, "is missing"))),
            Some(serde_json::Value::String(s)) if s.is_empty() => {
                Err(fail(LineProblem::Field(name, "is empty")))
            }
            Some(serde_json::Value::String(s)) if s.len() > 255 => {
                Err(fail(LineProblem::Field(name, "is longer than 255 bytes")))
            }
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(fail(LineProblem::Field(name, "is not a string"))),
        };
        out.push(Envelope {
            event_id: field("event_id")?,
            event_type: field("type")?,
            body: line,
        });
    }
    Ok((out, blank))
}

/// Declares the topology's events side (no bank queues), then publishes every line of `jsonl`
/// with confirms. Returns when the broker confirmed them all.
pub async fn publish_events(
    url: &AmqpUrl,
    topology: &Topology,
    jsonl: &[u8],
) -> Result<PublishReport, PublishError> {
    let (events, blank_lines) = envelopes(jsonl)?;
    let conn = connect(url, "clearway-publish").await?;
    let result = async {
        topology.declare(&conn, &[]).await?;
        let mut confirms = Confirms::new(
            conn.channel().await?,
            IN_FLIGHT_MAX,
            std::time::Duration::from_secs(10),
        )
        .await?;
        let no_headers = field_table(&Default::default());
        for (index, event) in events.iter().enumerate() {
            let props = properties(&event.event_id, no_headers.clone())
                .with_content_type("application/json".into());
            confirms
                .publish(
                    index,
                    &topology.events_exchange,
                    &event.event_type,
                    props,
                    event.body,
                )
                .await?;
        }
        confirms.drain().await?;
        let mut published = 0;
        for (index, settled) in confirms.take_settled() {
            match settled {
                Settled::Confirmed => published += 1,
                Settled::Refused(reply) => {
                    let id = events.get(index).map_or("?", |e| e.event_id.as_str());
                    return Err(BrokerError::Refused {
                        target: format!("{} (event {id})", topology.events_exchange),
                        reply,
                    });
                }
            }
        }
        Ok(PublishReport {
            published,
            blank_lines,
        })
    }
    .await;
    conn.close().await;
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> String {
        match envelopes(text.as_bytes()) {
            Err(e) => e.to_string(),
            Ok((events, blank)) => format!("ok {} {blank}", events.len()),
        }
    }

    #[test]
    fn lines_are_checked() {
        #[rustfmt::skip]
        let table = [
            ("{\"event_id\":\"e1\",\"type\":\"transfer.requested\"}\n", "ok 1 0"),
            ("{\"event_id\":\"e1\",\"type\":\"t\"}\n\n  \n{\"event_id\":\"e2\",\"type\":\"t\"}", "ok 2 2"),
            ("{\"event_id\":\"e1\",\"type\":\"t\"}\r\n", "ok 1 0"),
            ("", "ok 0 0"),
            ("{\"event_id\":\"e1\",\"type\":\"t\"}\n[1,2]\n", "line 2 (byte 29): not a JSON object: invalid type: sequence, expected a map at line 1 column 0"),
            ("{\"event_id\":\"e1\"}", "line 1 (byte 0): `type` is missing"),
            ("{\"event_id\":7,\"type\":\"t\"}", "line 1 (byte 0): `event_id` is not a string"),
            ("{\"event_id\":\"\",\"type\":\"t\"}", "line 1 (byte 0): `event_id` is empty"),
            ("\n{\"event_id\":\"e\",\"type\":\"t\"", "line 2 (byte 1): not a JSON object: EOF while parsing an object at line 1 column 26"),
            ("\u{FEFF}x", "line 1 (byte 0): not a JSON object: expected value at line 1 column 1"),
        ];
        for (input, expected) in table {
            assert_eq!(problem(input), expected, "{input:?}");
        }
    }
}
