//! The relay's side of the outbox: claim the head row of each ordering key that nobody else
//! holds, and mark rows published once the broker confirmed them.
//!
//! A claim is a lease (`claimed_until`): a relay that dies before confirming loses its rows
//! after [`super::OUTBOX_LEASE`] and another instance takes them (the receiver deduplicates by
//! `message_id`). On PostgreSQL the claim selects with `FOR UPDATE SKIP LOCKED` in a short
//! transaction, so two relays never claim the same row; on SQLite `BEGIN IMMEDIATE` already
//! serialises the claim.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Backend, Error, Store, Val, from_hex, now, now_plus};
use crate::flow::{Outbox, OutboxRow, Transient};

impl Store {
    /// Claims up to `limit` publishable rows: unpublished, unclaimed (or lease run out), and
    /// with no unpublished row of the same ordering key before them. Oldest first.
    ///
    /// The scan starts at the oldest unpublished id (rows before it are all published, so
    /// the result is the same): without that bound it walked the primary key from id 1 through
    /// every published row, reading each one (on SQLite past its payload, to `published_at`),
    /// and each claim cost more than the one before.
    pub async fn claim_outbox(&self, limit: usize) -> Result<Vec<OutboxRow>, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // SQLite would take MIN(id) from the primary-key index and read every published row
        // on the way; the partial index holds only the unpublished ones.
        let unpublished = match self.backend {
            Backend::Postgres => "outbox f",
            Backend::Sqlite => "outbox f INDEXED BY outbox_unpublished",
        };
        let sql = format!(
            "SELECT id, exchange, routing_key, message_id, headers, payload_hex, ordering_key \
             FROM outbox o WHERE o.published_at IS NULL \
             AND o.id >= (SELECT MIN(f.id) FROM {unpublished} WHERE f.published_at IS NULL) \
             AND (o.claimed_until IS NULL OR o.claimed_until < $1) \
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.ordering_key = o.ordering_key \
                             AND p.published_at IS NULL AND p.id < o.id) \
             ORDER BY o.id LIMIT $2{lock}"
        );
        // the key first: it may take a write of its own (the store's first use of the card key)
        let sealer = self.sealer().await?.clone();
        let mut tx = self.begin().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now())
            .bind(limit)
            .fetch_all(&mut *tx.conn())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let headers: String = row.try_get("headers")?;
            let payload: String = row.try_get("payload_hex")?;
            out.push(OutboxRow {
                id: row.try_get("id")?,
                exchange: row.try_get("exchange")?,
                routing_key: row.try_get("routing_key")?,
                message_id: row.try_get("message_id")?,
                headers: serde_json::from_str::<BTreeMap<String, String>>(&headers).map_err(
                    |_| Error::Corrupt {
                        column: "outbox.headers",
                        value: headers.clone(),
                    },
                )?,
                payload: {
                    let message_id: String = row.try_get("message_id")?;
                    let stored = from_hex(&payload).ok_or(Error::Corrupt {
                        column: "outbox.payload_hex",
                        value: "(not hex)".into(),
                    })?;
                    sealer
                        .open(&message_id, stored)
                        .map_err(|e| Error::Corrupt {
                            column: "outbox.payload_hex",
                            value: e.to_string(),
                        })?
                },
                ordering_key: row.try_get("ordering_key")?,
            });
        }
        if !out.is_empty() {
            let sql = format!(
                "UPDATE outbox SET claimed_until = {} WHERE id IN ({})",
                super::params(self.backend, 1, 1),
                super::params(self.backend, 2, out.len())
            );
            let mut values = vec![Val::Text(now_plus(super::OUTBOX_LEASE))];
            values.extend(out.iter().map(|r| Val::Int(r.id)));
            super::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &values)
                .execute(&mut *tx.conn())
                .await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Marks rows published; the lease is cleared.
    pub async fn mark_outbox_published(&self, ids: &[i64]) -> Result<(), Error> {
        for chunk in ids.chunks(super::BINDS_PER_STATEMENT_MAX) {
            let sql = format!(
                "UPDATE outbox SET published_at = {}, claimed_until = NULL WHERE id IN ({})",
                super::params(self.backend, 1, 1),
                super::params(self.backend, 2, chunk.len())
            );
            let mut values = vec![Val::Text(now())];
            values.extend(chunk.iter().map(|id| Val::Int(*id)));
            super::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &values)
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }
}

impl Outbox for Store {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxRow>, Transient> {
        self.claim_outbox(limit).await.map_err(Transient::from)
    }

    async fn mark_published(&self, ids: &[i64]) -> Result<(), Transient> {
        self.mark_outbox_published(ids)
            .await
            .map_err(Transient::from)
    }
}
