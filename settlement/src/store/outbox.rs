//! The relay's side of the outbox: claim the head row of each ordering key that nobody else
//! holds, and mark rows published once the broker confirmed them.
//!
//! A claim is a lease (a row of `outbox_leases`): a relay that dies before confirming loses
//! its rows after [`super::OUTBOX_LEASE`] and another instance takes them (the receiver
//! deduplicates by `message_id`). On PostgreSQL the claim selects with `FOR UPDATE SKIP LOCKED`
//! in a short transaction, and the lease insert leaves a running lease alone, so two relays
//! never claim the same row; on SQLite `BEGIN IMMEDIATE` already serialises the claim. The
//! relay marks one round's rows in the transaction that claims the next
//! ([`Store::mark_and_claim_outbox`]).

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Backend, Error, Store, now, now_plus};
use crate::flow::{Outbox, OutboxRow, Transient};

impl Store {
    /// Claims up to `limit` publishable rows: unpublished, unclaimed (or lease run out), and
    /// with no unpublished row of the same ordering key before them. Oldest first.
    pub async fn claim_outbox(&self, limit: usize) -> Result<Vec<OutboxRow>, Error> {
        self.mark_and_claim_outbox(&[], limit).await
    }

    /// Marks `published` (rows the broker confirmed) and then claims as [`Store::claim_outbox`]
    /// does, in one transaction: one commit where two calls take two (on SQLite each commit is
    /// an fsync). The claim sees the marks, so the row behind a marked one can be claimed at
    /// once. On an error nothing is marked and nothing claimed.
    ///
    /// The claim leases the rows it selects in one statement (`INSERT INTO outbox_leases …
    /// RETURNING id`: a narrow row, where a lease in the outbox row rewrote its payload too)
    /// and then reads them. It walks the unpublished rows in id order through the partial
    /// index `outbox_pending` and keeps the head row of each ordering key (the key's smallest
    /// unpublished id, from `outbox_unpublished`), so it reads about `limit` rows plus the
    /// blocked ones among them, never the published ones, and stops at `limit`.
    pub async fn mark_and_claim_outbox(
        &self,
        published: &[i64],
        limit: usize,
    ) -> Result<Vec<OutboxRow>, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // SQLite is told the indexes; PostgreSQL is kept from the plan its estimates favour
        // while most rows are unpublished (read them all, then sort: 460 ms a claim of 1,000
        // among 19,412 pending rows, against 27 ms for the ordered walk), and it locks.
        let (pending, head, lock) = match self.backend {
            Backend::Postgres => ("outbox o", "outbox p", " FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => (
                "outbox o INDEXED BY outbox_pending",
                "outbox p INDEXED BY outbox_unpublished",
                "",
            ),
        };
        // Lease the head rows not leased by anyone: an id whose lease is still running is
        // left alone (`ON CONFLICT … WHERE`), so of two claims racing for a row, one gets it.
        let lease = format!(
            "INSERT INTO outbox_leases (id, claimed_until) \
             SELECT o.id, $1 FROM {pending} WHERE o.published_at IS NULL \
             AND (o.claimed_until IS NULL OR o.claimed_until < $2) \
             AND NOT EXISTS (SELECT 1 FROM outbox_leases l WHERE l.id = o.id \
                             AND l.claimed_until >= $2) \
             AND o.id = (SELECT MIN(p.id) FROM {head} WHERE p.ordering_key = o.ordering_key \
                         AND p.published_at IS NULL) \
             ORDER BY o.id LIMIT $3{lock} \
             ON CONFLICT (id) DO UPDATE SET claimed_until = excluded.claimed_until \
             WHERE outbox_leases.claimed_until < $2 \
             RETURNING id"
        );
        // the key first: it may take a write of its own (the store's first use of the card key)
        let sealer = self.sealer().await?.clone();
        let mut tx = self.begin().await?;
        if self.backend == Backend::Postgres {
            // for this transaction only (`is_local`)
            sqlx::query(
                "SELECT set_config('enable_seqscan', 'off', true), \
                 set_config('enable_bitmapscan', 'off', true), \
                 set_config('enable_sort', 'off', true)",
            )
            .execute(&mut *tx.conn())
            .await?;
        }
        mark_in(&mut tx, self.backend, published).await?;
        let leased: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(lease))
            .bind(now_plus(super::OUTBOX_LEASE))
            .bind(now())
            .bind(limit)
            .fetch_all(&mut *tx.conn())
            .await?;
        let mut rows = Vec::with_capacity(leased.len());
        for chunk in leased.chunks(super::BINDS_PER_STATEMENT_MAX) {
            let sql = format!(
                "SELECT id, exchange, routing_key, message_id, headers, payload_hex, ordering_key \
                 FROM outbox WHERE id IN ({})",
                super::params(self.backend, 1, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            rows.extend(query.fetch_all(&mut *tx.conn()).await?);
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(decode(row, &sealer)?);
        }
        tx.commit().await?;
        // neither RETURNING nor IN gives an order; the relay wants the outbox's
        out.sort_unstable_by_key(|r| r.id);
        Ok(out)
    }

    /// Marks rows published and drops their leases.
    pub async fn mark_outbox_published(&self, ids: &[i64]) -> Result<(), Error> {
        let mut tx = self.begin().await?;
        mark_in(&mut tx, self.backend, ids).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Marks `ids` published and drops their leases, inside `tx`.
async fn mark_in(tx: &mut super::Tx, backend: Backend, ids: &[i64]) -> Result<(), Error> {
    for chunk in ids.chunks(super::BINDS_PER_STATEMENT_MAX) {
        mark_chunk(backend, chunk).execute(&mut *tx.conn()).await?;
        release_chunk(backend, chunk)
            .execute(&mut *tx.conn())
            .await?;
    }
    Ok(())
}

/// `UPDATE … SET published_at` for one chunk of ids (at most `BINDS_PER_STATEMENT_MAX`).
fn mark_chunk(
    backend: Backend,
    ids: &[i64],
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let sql = format!(
        "UPDATE outbox SET published_at = {}, claimed_until = NULL WHERE id IN ({})",
        super::params(backend, 1, 1),
        super::params(backend, 2, ids.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now());
    for id in ids {
        query = query.bind(*id);
    }
    query
}

/// `DELETE` of the leases of one chunk of ids (published rows need none).
fn release_chunk(
    backend: Backend,
    ids: &[i64],
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let sql = format!(
        "DELETE FROM outbox_leases WHERE id IN ({})",
        super::params(backend, 1, ids.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    query
}

/// One claimed row as the relay publishes it: headers parsed, payload opened.
fn decode(row: &sqlx::any::AnyRow, sealer: &crate::seal::Sealer) -> Result<OutboxRow, Error> {
    // borrowed: the row owns the text already, and the payload's hex is ~2 KB a row
    let headers: &str = row.try_get("headers")?;
    let payload: &str = row.try_get("payload_hex")?;
    let message_id: String = row.try_get("message_id")?;
    let headers =
        serde_json::from_str::<BTreeMap<String, String>>(headers).map_err(|_| Error::Corrupt {
            column: "outbox.headers",
            value: headers.to_owned(),
        })?;
    let stored = payload_from_hex(payload).ok_or(Error::Corrupt {
        column: "outbox.payload_hex",
        value: "(not hex)".into(),
    })?;
    let payload = sealer
        .open(&message_id, stored)
        .map_err(|e| Error::Corrupt {
            column: "outbox.payload_hex",
            value: e.to_string(),
        })?;
    Ok(OutboxRow {
        id: row.try_get("id")?,
        exchange: row.try_get("exchange")?,
        routing_key: row.try_get("routing_key")?,
        message_id,
        headers,
        payload,
        ordering_key: row.try_get("ordering_key")?,
    })
}

/// The stored payload's bytes: `store::from_hex` by table into a buffer of the right size. The
/// claim decodes about 2 KB of hex a row, and collecting per-pair `Option`s (the buffer grown
/// as it goes) was the largest item of the relay's profile outside the databases.
fn payload_from_hex(text: &str) -> Option<Vec<u8>> {
    const NOT_HEX: u8 = 0xFF;
    const NIBBLES: [u8; 256] = {
        let mut table = [NOT_HEX; 256];
        let mut i = 0;
        while i < 10 {
            table[b'0' as usize + i] = i as u8;
            i += 1;
        }
        let mut i = 0;
        while i < 6 {
            table[b'a' as usize + i] = 10 + i as u8;
            table[b'A' as usize + i] = 10 + i as u8;
            i += 1;
        }
        table
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 2);
    for pair in bytes.chunks_exact(2) {
        let [hi, lo] = pair else { return None };
        let (hi, lo) = (NIBBLES[usize::from(*hi)], NIBBLES[usize::from(*lo)]);
        if (hi | lo) & 0xF0 != 0 {
            return None;
        }
        out.push((hi << 4) | lo);
    }
    Some(out)
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

    async fn mark_and_pending(
        &self,
        ids: &[i64],
        limit: usize,
    ) -> Result<Vec<OutboxRow>, Transient> {
        self.mark_and_claim_outbox(ids, limit)
            .await
            .map_err(Transient::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_hex_reads_as_store_from_hex_does() {
        let all: Vec<u8> = (0..=255).collect();
        let upper = super::super::to_hex(&all);
        assert_eq!(payload_from_hex(&upper), Some(all.clone()));
        assert_eq!(payload_from_hex(&upper.to_lowercase()), Some(all));
        for bad in ["0", "0G", "g0", "0 ", "é0", "12345"] {
            assert_eq!(payload_from_hex(bad), None, "{bad:?}");
            assert_eq!(super::super::from_hex(bad), None, "{bad:?}");
        }
        assert_eq!(payload_from_hex(""), Some(Vec::new()));
    }
}
