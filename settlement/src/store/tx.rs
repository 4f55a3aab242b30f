//! One write transaction of the ingest: reads by key list (one statement each) and one
//! [`Writes`] applied with multi-row statements, then commit. Nothing here decides anything.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Any, Row, Transaction};

use super::{Backend, Error, Val, insert_rows, now, params};
use crate::lifecycle::State;

/// A write transaction.
pub struct Tx {
    inner: Transaction<'static, Any>,
    backend: Backend,
    now: String,
}

/// An inbox row: the dedupe key, the payload hash and what became of it.
#[derive(Debug, Clone)]
pub struct InboxRow {
    /// `event/<event_id>`, `bank/<status_id>`, `undecodable/<sha256>`.
    pub key: String,
    /// SHA-256 of the canonical payload, hex.
    pub payload_sha256: String,
    /// `applied`, `recorded`, `dead:<reason>`.
    pub outcome: String,
    /// The queue it came from.
    pub queue: String,
}

/// An item as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRecord {
    /// Payment id, with a leg suffix for refunds and returns.
    pub id: String,
    /// The wallet's payment (or batch) id.
    pub payment_id: String,
    /// The event that created it.
    pub event_id: String,
    /// The profile id.
    pub bank: String,
    /// `transfer`, `payout`, `return`, `card`, `refund`, `batch`.
    pub kind: String,
    /// Where it is.
    pub state: State,
    /// How many transitions it has (the next one gets this number).
    pub seq: i64,
    /// Minor units (negative only for a card batch whose credits win).
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: String,
    /// The outbox message ids sent for it, in order.
    pub message_ids: Vec<String>,
    /// `MsgId` of its first message (ISO 20022).
    pub msg_id: Option<String>,
    /// `EndToEndId`.
    pub end_to_end_id: Option<String>,
    /// `UETR`.
    pub uetr: Option<String>,
    /// DE 11 of its first message.
    pub stan: Option<String>,
    /// DE 37 of its first message.
    pub rrn: Option<String>,
    /// The card token (HMAC of the PAN), never the PAN.
    pub card_token: Option<String>,
}

/// A reference an answer may quote, to its item.
#[derive(Debug, Clone)]
pub struct RefRow {
    /// `card/<bank>/<stan>/<rrn>`, `msg/<bank>/<MsgId>`, `e2e/<bank>/<EndToEndId>`.
    pub reference: String,
    /// The item.
    pub item_id: String,
    /// The message that carried the reference (`0100`, `pacs.008.001.08`, …).
    pub message_type: String,
}

/// One transition, applied or not.
#[derive(Debug, Clone)]
pub struct TransitionRow {
    /// The item.
    pub item_id: String,
    /// Its number within the item.
    pub seq: i64,
    /// `None` when the input created the item.
    pub from: Option<State>,
    /// The state after.
    pub to: State,
    /// The lifecycle input name.
    pub input: String,
    /// The inbox key of the delivery that caused it.
    pub cause_key: String,
    /// Whether it was applied.
    pub applied: bool,
    /// What happened, in a sentence.
    pub note: String,
}

/// A message to publish.
#[derive(Debug, Clone)]
pub struct NewOutbox {
    /// `""` for the default exchange.
    pub exchange: String,
    /// The queue name on the default exchange.
    pub routing_key: String,
    /// The deterministic business id.
    pub message_id: String,
    /// String headers.
    pub headers: BTreeMap<String, String>,
    /// The bytes.
    pub payload: Vec<u8>,
    /// Rows of one key leave in creation order.
    pub ordering_key: String,
}

/// A delivery we could not apply.
#[derive(Debug, Clone)]
pub struct DeadRow {
    /// The inbox key, or `undecodable/<sha256>`.
    pub key: String,
    /// The source queue.
    pub queue: String,
    /// `DeadReason::as_str`.
    pub reason: String,
    /// A sentence, never card data.
    pub detail: String,
    /// The body as delivered; stored masked (see [`super::masked_copy`]).
    pub payload: Vec<u8>,
    /// SHA-256 of the canonical payload, hex: a dead letter is recorded once per key and hash.
    pub payload_sha256: String,
}

/// A follow-up event parked until the item it acts on exists (see `settlement/README.md`,
/// Lifecycle).
#[derive(Debug, Clone)]
pub struct ParkedRow {
    /// Its inbox key, `event/<event_id>`.
    pub key: String,
    /// The item it waits for.
    pub item_id: String,
    /// Its event id.
    pub event_id: String,
    /// Its `occurred_at` in UTC, RFC 3339 with nanoseconds, so it sorts as text.
    pub occurred_at: String,
    /// SHA-256 of the canonical payload, hex (as in the inbox).
    pub payload_sha256: String,
    /// The event bytes, sealed by the caller (card events hold a PAN).
    pub body: Vec<u8>,
    /// The queue it came from.
    pub queue: String,
}

/// Everything one batch writes.
#[derive(Debug, Default)]
pub struct Writes {
    /// New inbox rows.
    pub inbox: Vec<InboxRow>,
    /// Items to create.
    pub new_items: Vec<ItemRecord>,
    /// Items that existed and changed (state, seq, message ids).
    pub changed_items: Vec<ItemRecord>,
    /// Transitions to append.
    pub transitions: Vec<TransitionRow>,
    /// References to record (first writer wins).
    pub refs: Vec<RefRow>,
    /// Messages to publish.
    pub outbox: Vec<NewOutbox>,
    /// Dead letters.
    pub dead_letters: Vec<DeadRow>,
    /// Card tokens: token and masked PAN.
    pub card_tokens: Vec<(String, String)>,
    /// Follow-ups to park.
    pub parked: Vec<ParkedRow>,
    /// Parked follow-ups this batch applied (or dead-lettered): their inbox key and new
    /// inbox outcome; their `parked` rows are deleted.
    pub unparked: Vec<(String, String)>,
}

impl Tx {
    pub(super) fn new(inner: Transaction<'static, Any>, backend: Backend) -> Tx {
        Tx {
            inner,
            backend,
            now: now(),
        }
    }

    pub(super) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.inner
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), Error> {
        self.inner.commit().await?;
        Ok(())
    }

    /// The payload hash of each key already in the inbox.
    pub async fn inbox_hashes(
        &mut self,
        keys: &[String],
    ) -> Result<BTreeMap<String, String>, Error> {
        let mut found = BTreeMap::new();
        for chunk in keys.chunks(super::BINDS_PER_STATEMENT_MAX) {
            let q = inbox_lookup(self.backend, chunk);
            for row in q.fetch_all(&mut *self.inner).await? {
                found.insert(row.try_get(0)?, row.try_get(1)?);
            }
        }
        Ok(found)
    }

    /// The item and request type of each known reference.
    pub async fn refs(
        &mut self,
        references: &[String],
    ) -> Result<BTreeMap<String, (String, String)>, Error> {
        let mut found = BTreeMap::new();
        for chunk in references.chunks(super::BINDS_PER_STATEMENT_MAX) {
            let sql = format!(
                "SELECT ref, item_id, message_type FROM refs WHERE ref IN ({})",
                params(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for row in q.fetch_all(&mut *self.inner).await? {
                found.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
            }
        }
        Ok(found)
    }

    /// The items with these ids, locked until commit on PostgreSQL (in id order, so two
    /// batches lock in the same order).
    pub async fn items(&mut self, ids: &[String]) -> Result<BTreeMap<String, ItemRecord>, Error> {
        let mut found = BTreeMap::new();
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        for chunk in ids.chunks(super::BINDS_PER_STATEMENT_MAX) {
            let sql = format!(
                "SELECT id, payment_id, event_id, bank, kind, state, seq, amount_minor, currency, \
                 message_ids, msg_id, end_to_end_id, uetr, stan, rrn, card_token \
                 FROM items WHERE id IN ({}) ORDER BY id{lock}",
                params(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for row in q.fetch_all(&mut *self.inner).await? {
                let item = item_from_row(&row)?;
                found.insert(item.id.clone(), item);
            }
        }
        Ok(found)
    }

    /// Serialises the transactions that touch these item ids (PostgreSQL: transaction-level
    /// advisory locks on their hashes, taken in hash order; SQLite serialises writers anyway).
    /// Taken before items and parked rows are read, so a follow-up that parks and the event
    /// that creates its item never decide at the same time on two instances.
    pub async fn lock_items(&mut self, ids: &[String]) -> Result<(), Error> {
        if self.backend != Backend::Postgres || ids.is_empty() {
            return Ok(());
        }
        for chunk in ids.chunks(super::BINDS_PER_STATEMENT_MAX) {
            let sql = format!(
                "SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT \
                 hashtext(column1) AS h FROM (VALUES {}) AS v ORDER BY h) AS s) AS l",
                super::placeholders(self.backend, chunk.len(), 1, 0)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(k.as_str());
            }
            q.execute(&mut *self.inner).await?;
        }
        Ok(())
    }

    /// The parked follow-ups waiting for these items (bodies still sealed).
    pub async fn parked(&mut self, item_ids: &[String]) -> Result<Vec<ParkedRow>, Error> {
        let mut found = Vec::new();
        for chunk in item_ids.chunks(super::BINDS_PER_STATEMENT_MAX) {
            let sql = format!(
                "SELECT key, item_id, event_id, occurred_at, payload_sha256, body_sealed_hex, \
                 queue FROM parked WHERE item_id IN ({})",
                params(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for row in q.fetch_all(&mut *self.inner).await? {
                let hex: String = row.try_get(5)?;
                let body = super::from_hex(&hex).ok_or(Error::Corrupt {
                    column: "parked.body_sealed_hex",
                    value: hex.chars().take(16).collect(),
                })?;
                found.push(ParkedRow {
                    key: row.try_get(0)?,
                    item_id: row.try_get(1)?,
                    event_id: row.try_get(2)?,
                    occurred_at: row.try_get(3)?,
                    payload_sha256: row.try_get(4)?,
                    body,
                    queue: row.try_get(6)?,
                });
            }
        }
        Ok(found)
    }

    /// The (key, payload hash) pairs among these keys that are dead letters already, with the
    /// reason each was recorded for.
    pub async fn dead_letters_seen(
        &mut self,
        keys: &[String],
    ) -> Result<BTreeMap<(String, String), String>, Error> {
        let mut found = BTreeMap::new();
        for chunk in keys.chunks(super::BINDS_PER_STATEMENT_MAX) {
            let sql = format!(
                "SELECT key, payload_sha256, reason FROM dead_letters WHERE key IN ({}) \
                 AND payload_sha256 IS NOT NULL",
                params(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for row in q.fetch_all(&mut *self.inner).await? {
                found.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
            }
        }
        Ok(found)
    }

    /// Which of these outbox message ids are taken already.
    pub async fn outbox_taken(
        &mut self,
        message_ids: &[String],
    ) -> Result<BTreeSet<String>, Error> {
        let mut found = BTreeSet::new();
        for chunk in message_ids.chunks(super::BINDS_PER_STATEMENT_MAX) {
            let sql = format!(
                "SELECT message_id FROM outbox WHERE message_id IN ({})",
                params(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for row in q.fetch_all(&mut *self.inner).await? {
                found.insert(row.try_get(0)?);
            }
        }
        Ok(found)
    }

    /// Writes a batch: one multi-row statement per table and chunk. Fails with
    /// [`Error::Race`] when another transaction inserted one of our keys first.
    pub async fn write(&mut self, w: &Writes) -> Result<(), Error> {
        let now = self.now.clone();
        let backend = self.backend;
        let conn: &mut sqlx::AnyConnection = &mut self.inner;

        let rows: Vec<Vec<Val>> = w
            .inbox
            .iter()
            .map(|r| {
                vec![
                    Val::Str(&r.key),
                    Val::Str(&r.payload_sha256),
                    Val::Str(&r.outcome),
                    Val::Str(&r.queue),
                    Val::Str(&now),
                ]
            })
            .collect();
        let inserted = insert_rows(
            conn,
            backend,
            "INSERT INTO inbox (key, payload_sha256, outcome, queue, received_at)",
            5,
            &rows,
            "ON CONFLICT DO NOTHING",
        )
        .await?;
        race("inbox", w.inbox.iter().map(|r| &r.key), inserted)?;

        let rows: Vec<Vec<Val>> = w.new_items.iter().map(|i| item_values(i, &now)).collect();
        let inserted = insert_rows(
            conn,
            backend,
            "INSERT INTO items (id, payment_id, event_id, bank, kind, state, seq, amount_minor, \
             currency, message_ids, msg_id, end_to_end_id, uetr, stan, rrn, card_token, \
             created_at, updated_at)",
            18,
            &rows,
            "ON CONFLICT DO NOTHING",
        )
        .await?;
        race("items", w.new_items.iter().map(|r| &r.id), inserted)?;

        // Changed items: one UPDATE … FROM (VALUES …) per chunk; VALUES columns are named
        // column1, column2, … on both SQLite and PostgreSQL.
        for chunk in w.changed_items.chunks(super::BINDS_PER_STATEMENT_MAX / 5) {
            let sql = format!(
                "UPDATE items SET state = v.column2, seq = v.column3, message_ids = v.column4, \
                 updated_at = v.column5 FROM (VALUES {}) AS v WHERE items.id = v.column1",
                super::placeholders(backend, chunk.len(), 5, 0)
            );
            let mut values = Vec::with_capacity(chunk.len() * 5);
            for i in chunk {
                values.push(Val::Str(&i.id));
                values.push(Val::Str(i.state.as_str()));
                values.push(Val::Int(i.seq));
                values.push(Val::Text(ids_json(&i.message_ids)));
                values.push(Val::Str(&now));
            }
            let done = super::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &values)
                .execute(&mut *conn)
                .await?;
            debug_assert_eq!(done.rows_affected(), chunk.len() as u64);
        }

        let rows: Vec<Vec<Val>> = w
            .transitions
            .iter()
            .map(|t| {
                vec![
                    Val::Str(&t.item_id),
                    Val::Int(t.seq),
                    Val::OptStr(t.from.map(State::as_str)),
                    Val::Str(t.to.as_str()),
                    Val::Str(&t.input),
                    Val::Str(&t.cause_key),
                    Val::Int(i64::from(t.applied)),
                    Val::Str(&t.note),
                    Val::Str(&now),
                ]
            })
            .collect();
        insert_rows(
            conn,
            backend,
            "INSERT INTO transitions (item_id, seq, from_state, to_state, input, cause_key, \
             applied, note, at)",
            9,
            &rows,
            "",
        )
        .await?;

        let rows: Vec<Vec<Val>> = w
            .refs
            .iter()
            .map(|r| {
                vec![
                    Val::Str(&r.reference),
                    Val::Str(&r.item_id),
                    Val::Str(&r.message_type),
                ]
            })
            .collect();
        insert_rows(
            conn,
            backend,
            "INSERT INTO refs (ref, item_id, message_type)",
            3,
            &rows,
            "ON CONFLICT DO NOTHING",
        )
        .await?;

        let rows: Vec<Vec<Val>> = w
            .dead_letters
            .iter()
            .map(|d| {
                vec![
                    Val::Str(&d.key),
                    Val::Str(&d.queue),
                    Val::Str(&d.reason),
                    Val::Str(&d.detail),
                    Val::Text(super::masked_copy(&d.payload)),
                    Val::Str(&d.payload_sha256),
                    Val::Str(&now),
                ]
            })
            .collect();
        // Once per key and payload: another instance that recorded the same one first makes
        // this batch retry, and the retry sees it as a duplicate.
        let inserted = insert_rows(
            conn,
            backend,
            "INSERT INTO dead_letters (key, queue, reason, detail, payload_masked, \
             payload_sha256, at)",
            7,
            &rows,
            "ON CONFLICT DO NOTHING",
        )
        .await?;
        let wanted: Vec<String> = w
            .dead_letters
            .iter()
            .map(|d| format!("{} {}", d.key, d.payload_sha256))
            .collect();
        race("dead_letters", wanted.iter(), inserted)?;

        let rows: Vec<Vec<Val>> = w
            .parked
            .iter()
            .map(|p| {
                vec![
                    Val::Text(p.key.clone()),
                    Val::Text(p.item_id.clone()),
                    Val::Text(p.event_id.clone()),
                    Val::Text(p.occurred_at.clone()),
                    Val::Text(p.payload_sha256.clone()),
                    Val::Text(super::to_hex(&p.body)),
                    Val::Text(p.queue.clone()),
                    Val::Text(now.clone()),
                ]
            })
            .collect();
        let inserted = insert_rows(
            conn,
            backend,
            "INSERT INTO parked (key, item_id, event_id, occurred_at, payload_sha256, \
             body_sealed_hex, queue, parked_at)",
            8,
            &rows,
            "ON CONFLICT DO NOTHING",
        )
        .await?;
        race("parked", w.parked.iter().map(|r| &r.key), inserted)?;

        // Un-parked: the rows go, and the inbox says what became of them.
        for chunk in w.unparked.chunks(super::BINDS_PER_STATEMENT_MAX / 2) {
            let sql = format!(
                "DELETE FROM parked WHERE key IN ({})",
                params(backend, 1, chunk.len())
            );
            let keys: Vec<Val> = chunk.iter().map(|(k, _)| Val::Text(k.clone())).collect();
            let done = super::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &keys)
                .execute(&mut *conn)
                .await?;
            if done.rows_affected() != chunk.len() as u64 {
                // another transaction applied them first (it held the item's lock)
                return Err(Error::Race {
                    table: "parked",
                    key: chunk.first().map(|(k, _)| k.clone()).unwrap_or_default(),
                });
            }
            let sql = format!(
                "UPDATE inbox SET outcome = v.column2 FROM (VALUES {}) AS v \
                 WHERE inbox.key = v.column1",
                super::placeholders(backend, chunk.len(), 2, 0)
            );
            let mut values = Vec::with_capacity(chunk.len() * 2);
            for (key, outcome) in chunk {
                values.push(Val::Text(key.clone()));
                values.push(Val::Text(outcome.clone()));
            }
            super::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &values)
                .execute(&mut *conn)
                .await?;
        }

        let rows: Vec<Vec<Val>> = w
            .card_tokens
            .iter()
            .map(|(token, masked)| vec![Val::Str(token), Val::Str(masked), Val::Str(&now)])
            .collect();
        insert_rows(
            conn,
            backend,
            "INSERT INTO card_tokens (token, masked, created_at)",
            3,
            &rows,
            "ON CONFLICT DO NOTHING",
        )
        .await?;
        if !w.outbox.is_empty() {
            // The outbox id: the `outbox` sequence row, taken last of all writes so its row lock (PostgreSQL)
            // is held for the shortest time. Ids therefore follow commit order.
            let count = i64::try_from(w.outbox.len()).unwrap_or(i64::MAX);
            let last: i64 = sqlx::query_scalar(
                "UPDATE sequences SET value = value + $1 WHERE name = 'outbox' RETURNING value",
            )
            .bind(count)
            .fetch_one(&mut *conn)
            .await?;
            let first = last - count + 1;
            let rows: Vec<Vec<Val>> = w
                .outbox
                .iter()
                .zip(first..)
                .map(|(o, id)| {
                    vec![
                        Val::Int(id),
                        Val::Str(&o.exchange),
                        Val::Str(&o.routing_key),
                        Val::Str(&o.message_id),
                        Val::Text(serde_json::to_string(&o.headers).unwrap_or_default()),
                        Val::Text(super::to_hex(&o.payload)),
                        Val::Str(&o.ordering_key),
                        Val::Str(&now),
                    ]
                })
                .collect();
            let inserted = insert_rows(
                conn,
                backend,
                "INSERT INTO outbox (id, exchange, routing_key, message_id, headers, payload_hex, \
                 ordering_key, created_at)",
                8,
                &rows,
                "ON CONFLICT DO NOTHING",
            )
            .await?;
            race("outbox", w.outbox.iter().map(|r| &r.message_id), inserted)?;
        }

        Ok(())
    }
}

/// `key, payload_sha256` of the inbox rows among `keys` (at most `BINDS_PER_STATEMENT_MAX`),
/// in a transaction or outside one (`Store::inbox_keys_seen`).
pub(super) fn inbox_lookup(
    backend: Backend,
    keys: &[String],
) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments> {
    let sql = format!(
        "SELECT key, payload_sha256 FROM inbox WHERE key IN ({})",
        params(backend, 1, keys.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for k in keys {
        q = q.bind(k.as_str());
    }
    q
}

/// Every key we meant to insert must have been inserted. A batch may hold one key twice (two
/// copies of one conflict are two dead letters with the same key and hash), and the second
/// copy is skipped by the first, so the count to reach is that of distinct keys; it falls
/// short exactly when some key was there before this statement (another transaction
/// inserted it).
fn race<'a>(
    table: &'static str,
    wanted: impl Iterator<Item = &'a String>,
    inserted: u64,
) -> Result<(), Error> {
    let wanted = wanted.collect::<BTreeSet<_>>().len() as u64;
    if inserted == wanted {
        Ok(())
    } else {
        Err(Error::Shortfall {
            table,
            wanted,
            inserted,
        })
    }
}

pub(super) fn ids_json(ids: &[String]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

fn item_values<'a>(i: &'a ItemRecord, now: &'a str) -> Vec<Val<'a>> {
    vec![
        Val::Str(&i.id),
        Val::Str(&i.payment_id),
        Val::Str(&i.event_id),
        Val::Str(&i.bank),
        Val::Str(&i.kind),
        Val::Str(i.state.as_str()),
        Val::Int(i.seq),
        Val::Int(i.amount_minor),
        Val::Str(&i.currency),
        Val::Text(ids_json(&i.message_ids)),
        Val::OptStr(i.msg_id.as_deref()),
        Val::OptStr(i.end_to_end_id.as_deref()),
        Val::OptStr(i.uetr.as_deref()),
        Val::OptStr(i.stan.as_deref()),
        Val::OptStr(i.rrn.as_deref()),
        Val::OptStr(i.card_token.as_deref()),
        Val::Str(now),
        Val::Str(now),
    ]
}

pub(super) fn item_from_row(row: &sqlx::any::AnyRow) -> Result<ItemRecord, Error> {
    let state: String = row.try_get("state")?;
    let message_ids: String = row.try_get("message_ids")?;
    Ok(ItemRecord {
        id: row.try_get("id")?,
        payment_id: row.try_get("payment_id")?,
        event_id: row.try_get("event_id")?,
        bank: row.try_get("bank")?,
        kind: row.try_get("kind")?,
        state: State::parse(&state).ok_or(Error::Corrupt {
            column: "items.state",
            value: state,
        })?,
        seq: row.try_get("seq")?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        message_ids: serde_json::from_str(&message_ids).map_err(|_| Error::Corrupt {
            column: "items.message_ids",
            value: message_ids.clone(),
        })?,
        msg_id: row.try_get("msg_id")?,
        end_to_end_id: row.try_get("end_to_end_id")?,
        uetr: row.try_get("uetr")?,
        stan: row.try_get("stan")?,
        rrn: row.try_get("rrn")?,
        card_token: row.try_get("card_token")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn a_batch_passes_when_every_distinct_key_was_inserted() {
        let wanted = keys(&["event/a", "event/b"]);
        assert!(race("inbox", wanted.iter(), 2).is_ok());
        // two copies of one conflict: the second is skipped by the first, as with RETURNING
        let wanted = keys(&["event/a h1", "event/a h1", "event/b h2"]);
        assert!(race("dead_letters", wanted.iter(), 2).is_ok());
        assert!(race("outbox", std::iter::empty(), 0).is_ok());
    }

    #[test]
    fn a_key_that_was_there_already_is_a_transient_shortfall() {
        let wanted = keys(&["event/a", "event/b", "event/b"]);
        let e = race("inbox", wanted.iter(), 1).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Shortfall {
                    table: "inbox",
                    wanted: 2,
                    inserted: 1
                }
            ),
            "{e:?}"
        );
        assert!(e.is_transient());
        assert_eq!(
            e.to_string(),
            "concurrent insert into inbox: 1 of 2 keys inserted, the others were there \
             already; retry the batch"
        );
    }
}
