//! Reads outside any transaction, for work that only gets a head start from them (the ingest
//! maps the events the inbox does not hold yet while the batch before commits).

use std::collections::BTreeSet;

use sqlx::Row;

use super::{BINDS_PER_STATEMENT_MAX, Error, Store};

impl Store {
    /// Which of `keys` the inbox holds, read from a pooled connection without a transaction
    /// (SQLite in WAL mode reads beside the writer). Rows are never deleted, so a key found
    /// stays found; a key not found may still arrive before the caller's own transaction.
    pub async fn inbox_keys_seen(&self, keys: &[String]) -> Result<BTreeSet<String>, Error> {
        let mut found = BTreeSet::new();
        for chunk in keys.chunks(BINDS_PER_STATEMENT_MAX) {
            for row in super::tx::inbox_lookup(self.backend, chunk)
                .fetch_all(&self.pool)
                .await?
            {
                found.insert(row.try_get(0)?);
            }
        }
        Ok(found)
    }
}
