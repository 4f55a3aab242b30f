//! Read-only views for the CLI: `clearway items` (one row per item) and the database half of
//! `clearway status` ([`Summary`]). Both have blocking forms that run their own small tokio
//! runtime, so the CLI needs no async code of its own.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use super::{Error, Store};
use crate::lifecycle::State;

/// What `clearway status` prints about the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Inbox rows (deliveries recorded, duplicates not counted twice).
    pub inbox: i64,
    /// Items per state name (every state listed, zero included).
    pub items_by_state: BTreeMap<String, i64>,
    /// Outbox rows not yet confirmed by the broker.
    pub outbox_pending: i64,
    /// Outbox rows published.
    pub outbox_published: i64,
    /// Dead letters per reason.
    pub dead_letters_by_reason: BTreeMap<String, i64>,
    /// Follow-ups parked until their item exists.
    pub parked: i64,
}

/// The lines `clearway status` prints for the database, e.g. `items: settled 3, submitted 1`.
impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |map: &BTreeMap<String, i64>| {
            let parts: Vec<String> = map
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            if parts.is_empty() {
                "none".to_owned()
            } else {
                parts.join(", ")
            }
        };
        writeln!(f, "inbox: {} deliveries recorded", self.inbox)?;
        writeln!(f, "items: {}", list(&self.items_by_state))?;
        writeln!(
            f,
            "outbox: {} pending, {} published",
            self.outbox_pending, self.outbox_published
        )?;
        writeln!(f, "dead letters: {}", list(&self.dead_letters_by_reason))?;
        writeln!(f, "parked: {} follow-ups wait for their item", self.parked)
    }
}

/// Which items `clearway items` lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct ItemFilter {
    /// Only items in this state.
    pub state: Option<State>,
}

/// One line of `clearway items`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemRow {
    /// The event that created the item.
    pub event_id: String,
    /// The wallet's payment id (the item id for plain payments).
    pub payment_id: String,
    /// The item id (payment id and leg).
    pub item_id: String,
    /// The profile id.
    pub bank: String,
    /// The state name.
    pub state: String,
    /// A decimal string with the currency's exponent, e.g. `12.34`.
    pub amount: String,
    /// ISO 4217.
    pub currency: String,
    /// Outbox message ids sent for the item.
    pub message_ids: Vec<String>,
    /// When the item last changed (UTC).
    pub updated_at: String,
}

/// The columns of `clearway items --format csv`.
pub const ITEMS_CSV_HEADER: &str =
    "event_id,payment_id,bank,state,amount,currency,message_ids,updated_at";

impl ItemRow {
    /// One CSV line (no line end) in the order of [`ITEMS_CSV_HEADER`]; message ids are joined
    /// with `;`, and a field holding a comma, quote or line break is quoted.
    pub fn csv_line(&self) -> String {
        let ids = self.message_ids.join(";");
        [
            self.event_id.as_str(),
            &self.payment_id,
            &self.bank,
            &self.state,
            &self.amount,
            &self.currency,
            &ids,
            &self.updated_at,
        ]
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",")
    }
}

fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

impl Summary {
    /// Counts everything in one pass per table.
    pub async fn load(store: &Store) -> Result<Summary, Error> {
        let pool = store.pool();
        let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
            .fetch_one(pool)
            .await?;
        let mut items_by_state: BTreeMap<String, i64> = State::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        for row in sqlx::query("SELECT state, COUNT(*) FROM items GROUP BY state")
            .fetch_all(pool)
            .await?
        {
            items_by_state.insert(row.try_get(0)?, row.try_get(1)?);
        }
        let outbox_pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(pool)
                .await?;
        let outbox_published: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL")
                .fetch_one(pool)
                .await?;
        let mut dead_letters_by_reason = BTreeMap::new();
        for row in sqlx::query("SELECT reason, COUNT(*) FROM dead_letters GROUP BY reason")
            .fetch_all(pool)
            .await?
        {
            dead_letters_by_reason.insert(row.try_get(0)?, row.try_get(1)?);
        }
        let parked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM parked")
            .fetch_one(pool)
            .await?;
        Ok(Summary {
            parked,
            inbox,
            items_by_state,
            outbox_pending,
            outbox_published,
            dead_letters_by_reason,
        })
    }

    /// Opens `url`, counts and closes, on a runtime of its own (for the CLI).
    pub fn load_blocking(url: &str) -> Result<Summary, Error> {
        block_on(async {
            let store = Store::open(url).await?;
            let summary = Summary::load(&store).await;
            store.close().await;
            summary
        })
    }
}

impl Store {
    /// Items in id order, optionally of one state.
    pub async fn list_items(&self, filter: ItemFilter) -> Result<Vec<ItemRow>, Error> {
        let base = "SELECT id, payment_id, event_id, bank, state, amount_minor, currency, \
                    message_ids, updated_at FROM items";
        let rows = match filter.state {
            Some(state) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{base} WHERE state = $1 ORDER BY id"
                )))
                .bind(state.as_str())
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{base} ORDER BY id")))
                    .fetch_all(self.pool())
                    .await?
            }
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let currency: String = row.try_get("currency")?;
            let minor: i64 = row.try_get("amount_minor")?;
            let ids: String = row.try_get("message_ids")?;
            out.push(ItemRow {
                event_id: row.try_get("event_id")?,
                payment_id: row.try_get("payment_id")?,
                item_id: row.try_get("id")?,
                bank: row.try_get("bank")?,
                state: row.try_get("state")?,
                amount: amount_text(minor, &currency),
                message_ids: serde_json::from_str(&ids).map_err(|_| Error::Corrupt {
                    column: "items.message_ids",
                    value: ids.clone(),
                })?,
                currency,
                updated_at: row.try_get("updated_at")?,
            });
        }
        Ok(out)
    }

    /// [`Store::list_items`] on a runtime of its own (for the CLI).
    pub fn list_items_blocking(url: &str, filter: ItemFilter) -> Result<Vec<ItemRow>, Error> {
        block_on(async {
            let store = Store::open(url).await?;
            let items = store.list_items(filter).await;
            store.close().await;
            items
        })
    }
}

/// Minor units as a decimal string with the currency's ISO 4217 exponent (2 when unknown).
pub fn amount_text(minor: i64, currency: &str) -> String {
    let exponent = iso20022::money::Currency::parse(currency).map_or(2, |c| c.exponent());
    rust_decimal::Decimal::from_i128_with_scale(i128::from(minor), u32::from(exponent)).to_string()
}

fn block_on<T>(work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Sqlx(sqlx::Error::Io(e)))?;
    runtime.block_on(work)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_exponent() {
        assert_eq!(amount_text(1234, "EUR"), "12.34");
        assert_eq!(amount_text(500, "JPY"), "500");
        assert_eq!(amount_text(1250, "BHD"), "1.250");
        assert_eq!(amount_text(-5, "EUR"), "-0.05");
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let row = ItemRow {
            event_id: "e1".into(),
            payment_id: "p,1".into(),
            item_id: "p,1".into(),
            bank: "b".into(),
            state: "settled".into(),
            amount: "12.34".into(),
            currency: "EUR".into(),
            message_ids: vec!["m1".into(), "m\"2".into()],
            updated_at: "t".into(),
        };
        assert_eq!(
            row.csv_line(),
            "e1,\"p,1\",b,settled,12.34,EUR,\"m1;m\"\"2\",t"
        );
    }
}
