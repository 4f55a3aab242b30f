//! Read-only facts for `clearway demo`'s invariant check ([`crate::demo::check`]): what the
//! inbox recorded for each event, every outbox row with the event and message type it carries,
//! items per state, transitions applied twice for one cause, and dead letters counted once per
//! distinct message. It decides nothing; the checker compares these facts with what the
//! generator promised and what the banks' journals received.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Error, Store};
use crate::lifecycle::State;

/// One outbox row, as the check needs it (no payload: an ISO 8583 body carries the PAN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxFact {
    /// The AMQP `message_id` the relay publishes it with.
    pub message_id: String,
    /// The queue it is routed to (`clearway.bank.<id>.out`).
    pub routing_key: String,
    /// `x-clearway-message-type` (`0100`, `pacs.008.001.08`, …).
    pub message_type: String,
    /// `x-clearway-event`: the event whose effect it is.
    pub event_id: String,
    /// The broker confirmed it.
    pub published: bool,
}

/// Everything the demo's check reads from the store, in one consistent-enough pass (the
/// demo reads it once the service is stopped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFacts {
    /// Inbox rows of wallet events: event id → outcome (`applied`, `recorded`, `dead:<reason>`).
    pub inbox_events: BTreeMap<String, String>,
    /// Inbox rows of every kind.
    pub inbox_rows: i64,
    /// Every outbox row, in id order.
    pub outbox: Vec<OutboxFact>,
    /// Items per state name (every state listed, zero included).
    pub items_by_state: BTreeMap<String, i64>,
    /// Transition rows.
    pub transitions: i64,
    /// `(item, cause key, input)` applied more than once: an effect taken twice.
    pub transitions_applied_twice: Vec<(String, String, String)>,
    /// Distinct dead-lettered messages (a redelivered conflict is dead-lettered again; it is
    /// counted once) per `(queue, reason)`.
    pub dead_letters: BTreeMap<(String, String), i64>,
}

impl AuditFacts {
    /// Reads the facts.
    pub async fn load(store: &Store) -> Result<AuditFacts, Error> {
        let pool = store.pool();
        let mut facts = AuditFacts::default();
        for row in sqlx::query("SELECT key, outcome FROM inbox WHERE key LIKE 'event/%'")
            .fetch_all(pool)
            .await?
        {
            let key: String = row.try_get(0)?;
            let event_id = key.strip_prefix("event/").unwrap_or(&key).to_owned();
            facts.inbox_events.insert(event_id, row.try_get(1)?);
        }
        facts.inbox_rows = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
            .fetch_one(pool)
            .await?;
        for row in sqlx::query(
            "SELECT message_id, routing_key, headers, published_at FROM outbox ORDER BY id",
        )
        .fetch_all(pool)
        .await?
        {
            let headers: String = row.try_get(2)?;
            let headers: BTreeMap<String, String> =
                serde_json::from_str(&headers).map_err(|_| Error::Corrupt {
                    column: "outbox.headers",
                    value: headers.clone(),
                })?;
            let header = |name: &str| headers.get(name).cloned().unwrap_or_default();
            let published: Option<String> = row.try_get(3)?;
            facts.outbox.push(OutboxFact {
                message_id: row.try_get(0)?,
                routing_key: row.try_get(1)?,
                message_type: header("x-clearway-message-type"),
                event_id: header("x-clearway-event"),
                published: published.is_some(),
            });
        }
        facts.items_by_state = State::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        for row in sqlx::query("SELECT state, COUNT(*) FROM items GROUP BY state")
            .fetch_all(pool)
            .await?
        {
            facts
                .items_by_state
                .insert(row.try_get(0)?, row.try_get(1)?);
        }
        facts.transitions = sqlx::query_scalar("SELECT COUNT(*) FROM transitions")
            .fetch_one(pool)
            .await?;
        for row in sqlx::query(
            "SELECT item_id, cause_key, input FROM transitions WHERE applied = 1 \
             GROUP BY item_id, cause_key, input HAVING COUNT(*) > 1 ORDER BY item_id",
        )
        .fetch_all(pool)
        .await?
        {
            facts.transitions_applied_twice.push((
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
            ));
        }
        for row in sqlx::query(
            "SELECT queue, reason, COUNT(*) FROM \
             (SELECT DISTINCT key, queue, reason, payload_masked FROM dead_letters) d \
             GROUP BY queue, reason",
        )
        .fetch_all(pool)
        .await?
        {
            facts
                .dead_letters
                .insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
        }
        Ok(facts)
    }
}

/// What changes while clearing runs: the demo polls it to see progress and quiescence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Inbox rows of wallet events.
    pub inbox_events: i64,
    /// Inbox rows of every kind.
    pub inbox_rows: i64,
    /// Items per state name.
    pub items_by_state: BTreeMap<String, i64>,
    /// Transition rows.
    pub transitions: i64,
    /// Outbox rows not yet confirmed.
    pub outbox_pending: i64,
    /// Outbox rows.
    pub outbox_rows: i64,
    /// Distinct dead-lettered messages that came from `queue` with reason `conflict`.
    pub conflicts_on_events: i64,
    /// Dead-letter rows (redeliveries included).
    pub dead_letter_rows: i64,
}

impl Activity {
    /// Counts, one statement per figure; `events_queue` names the queue wallet events come on.
    pub async fn load(store: &Store, events_queue: &str) -> Result<Activity, Error> {
        let pool = store.pool();
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool);
        let mut a = Activity {
            inbox_events: count("SELECT COUNT(*) FROM inbox WHERE key LIKE 'event/%'").await?,
            inbox_rows: count("SELECT COUNT(*) FROM inbox").await?,
            transitions: count("SELECT COUNT(*) FROM transitions").await?,
            outbox_pending: count("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL").await?,
            outbox_rows: count("SELECT COUNT(*) FROM outbox").await?,
            dead_letter_rows: count("SELECT COUNT(*) FROM dead_letters").await?,
            ..Activity::default()
        };
        a.conflicts_on_events = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT DISTINCT key, payload_masked FROM dead_letters \
             WHERE queue = $1 AND reason = 'conflict') d",
        )
        .bind(events_queue)
        .fetch_one(pool)
        .await?;
        for row in sqlx::query("SELECT state, COUNT(*) FROM items GROUP BY state")
            .fetch_all(pool)
            .await?
        {
            a.items_by_state.insert(row.try_get(0)?, row.try_get(1)?);
        }
        Ok(a)
    }
}
