//! The settlement store: inbox, items, transitions, outbox, dead letters and card tokens in
//! SQLite or PostgreSQL through sqlx's `Any` driver, so one code path and one migration set
//! (`settlement/migrations/`, portable SQL) serve both. This is the only module that imports
//! sqlx; callers get typed rows and a [`Tx`] with one method per batch operation, each a
//! multi-row statement rather than one statement per message.
//!
//! Keys are derived by the application (no SERIAL or AUTOINCREMENT): the outbox id comes from
//! the `sequences` row `outbox`, incremented in the transaction that writes the rows. Two
//! instances never create the same item, inbox row or outbox message: every insert names its
//! primary or unique key with `ON CONFLICT DO NOTHING` and counts what it inserted; a shortfall
//! means another transaction got there first and the batch is retried as a whole
//! ([`Error::Shortfall`], [`Error::Race`], transient), when the inbox then sees the key as a
//! duplicate.

mod admin;
mod audit;
mod outbox;
mod peek;
mod summary;
mod tx;

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions, Executor};

pub use admin::{create_database, database_url_on, drop_database};
pub use audit::{Activity, AuditFacts, OutboxFact};
pub use summary::{ITEMS_CSV_HEADER, ItemFilter, ItemRow, Summary, amount_text};
pub use tx::{
    DeadRow, InboxRow, ItemRecord, NewOutbox, ParkedRow, RefRow, TransitionRow, Tx, Writes,
};

use crate::flow::Transient;

/// The default database of the CLI: `clearway.db` in the current directory.
pub const DEFAULT_URL: &str = "sqlite://clearway.db?mode=rwc";

/// How long a relay instance owns the outbox rows it claimed before another may take them.
pub const OUTBOX_LEASE: Duration = Duration::from_secs(30);

/// Binds per statement, below both SQLite's 32 766 and PostgreSQL's 65 535.
const BINDS_PER_STATEMENT_MAX: usize = 30_000;

/// Which database a store talks to; the SQL differs only in row locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A file, WAL mode, writers serialised by SQLite (`BEGIN IMMEDIATE`).
    Sqlite,
    /// Row locks (`FOR UPDATE`, `SKIP LOCKED`) for several instances on one database.
    Postgres,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL names neither `sqlite:` nor `postgres:`.
    #[error("database URL {0:?}: expected sqlite://… or postgres://…")]
    Url(String),
    /// The database refused or failed (connection, lock, constraint, SQL).
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// Migrating the schema failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Another transaction inserted a key this one meant to insert; retry the batch.
    #[error("concurrent insert of {table} key {key:?}; retry the batch")]
    Race {
        /// The table.
        table: &'static str,
        /// A key that was already there.
        key: String,
    },
    /// Fewer rows were inserted than the batch holds keys: another transaction inserted some
    /// of them first (PostgreSQL, several instances); retry the batch.
    #[error(
        "concurrent insert into {table}: {inserted} of {wanted} keys inserted, the others \
         were there already; retry the batch"
    )]
    Shortfall {
        /// The table.
        table: &'static str,
        /// Distinct keys the batch meant to insert.
        wanted: u64,
        /// Rows inserted.
        inserted: u64,
    },
    /// A stored value does not read back (e.g. an unknown state name).
    #[error("stored {column} value {value:?} is not readable")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// What was there.
        value: String,
    },
}

impl Error {
    /// Whether retrying the same work may succeed: lost races, busy or locked SQLite,
    /// serialization failures and deadlocks, lost connections and pool timeouts.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Race { .. } | Error::Shortfall { .. } => true,
            Error::Sqlx(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Protocol(_) => true,
                sqlx::Error::Database(db) => {
                    let code = db.code().unwrap_or_default();
                    // SQLite: 5 BUSY, 6 LOCKED and their extended codes (517 BUSY_SNAPSHOT, …).
                    // PostgreSQL: class 40 (serialization, deadlock), 08 (connection),
                    // 55P03 (lock not available), 57P0x (shutdown).
                    let sqlite_busy = code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6));
                    sqlite_busy
                        || code.starts_with("40")
                        || code.starts_with("08")
                        || code == "55P03"
                        || code.starts_with("57P0")
                }
                _ => false,
            },
            _ => false,
        }
    }
}

impl From<Error> for Transient {
    /// The handler's contract has one error: anything that failed left nothing committed, and
    /// the broker retries the batch. The message says whether a retry can help.
    fn from(e: Error) -> Transient {
        if e.is_transient() {
            Transient(e.to_string())
        } else {
            Transient(format!("{e} (not expected to pass on retry)"))
        }
    }
}

/// A connection pool with the schema migrated.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Opens sealed outbox payloads; made from the card key on first use.
    sealer: std::sync::Arc<tokio::sync::OnceCell<crate::seal::Sealer>>,
}

impl Store {
    /// Opens `url` (`sqlite://path?mode=rwc` or `postgres://…`) and applies the migrations.
    /// SQLite files run in WAL mode with a 5 s busy timeout.
    pub async fn open(url: &str) -> Result<Store, Error> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::Url(url.to_owned()));
        };
        let options: AnyConnectOptions = url.parse()?;
        let options = options.disable_statement_logging();
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA busy_timeout = 5000").await?;
                            // 64 MiB of page cache per connection (the default is 2 MiB): a
                            // batch inserts at random places in eight indexes.
                            conn.execute("PRAGMA cache_size = -65536").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .connect_with(options)
                    .await?
            }
        };
        sqlx::migrate!().run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            sealer: std::sync::Arc::default(),
        })
    }

    /// Opens the database `DATABASE_URL` names, by default [`DEFAULT_URL`].
    pub async fn from_env() -> Result<Store, Error> {
        Store::open(&database_url()).await
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, so a reader never has to
    /// upgrade its lock (which fails at once in WAL mode instead of waiting).
    pub async fn begin(&self) -> Result<Tx, Error> {
        let inner = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx::new(inner, self.backend))
    }

    /// The key card tokens are made with: `CLEARWAY_PAN_KEY` when set, else a secret this store
    /// generated once (32 bytes from the operating system) and kept in `secrets`.
    pub async fn pan_key(&self) -> Result<Vec<u8>, Error> {
        if let Some(key) = std::env::var_os("CLEARWAY_PAN_KEY").filter(|k| !k.is_empty()) {
            return Ok(key.as_encoded_bytes().to_vec());
        }
        let fresh = random_hex_32().map_err(|e| Error::Corrupt {
            column: "secrets.value",
            value: format!("cannot read /dev/urandom: {e}"),
        })?;
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO secrets (name, value) VALUES ('pan_key', $1) ON CONFLICT DO NOTHING",
        )
        .bind(fresh)
        .execute(&mut *tx.conn())
        .await?;
        let stored: String = sqlx::query_scalar("SELECT value FROM secrets WHERE name = 'pan_key'")
            .fetch_one(&mut *tx.conn())
            .await?;
        tx.commit().await?;
        from_hex(&stored).ok_or(Error::Corrupt {
            column: "secrets.value",
            value: "(not hex)".into(),
        })
    }

    /// The sealer of outbox payloads (see [`crate::seal`]).
    pub async fn sealer(&self) -> Result<&crate::seal::Sealer, Error> {
        self.sealer
            .get_or_try_init(|| async { Ok(crate::seal::Sealer::new(&self.pan_key().await?)) })
            .await
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// `DATABASE_URL`, else [`DEFAULT_URL`] (the SQLite file `clearway.db` in the current
/// directory).
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// 32 random bytes as hex: the one non-deterministic value of the store, a secret by design.
fn random_hex_32() -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(to_hex(&bytes))
}

/// The current time as stored: UTC, RFC 3339, milliseconds, so text order is time order.
pub(crate) fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// `now() + d`, in the same format.
pub(crate) fn now_plus(d: Duration) -> String {
    let d = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero());
    (chrono::Utc::now() + d)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Uppercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    out
}

/// Bytes of hex text (either case); `None` if it is not hex.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Some((nibble(*hi)? << 4) | nibble(*lo)?),
            _ => None,
        })
        .collect()
}

/// The copy of a dead-lettered body the store keeps: its text if it is UTF-8 without NUL (which
/// PostgreSQL text cannot hold), else its hex, with
/// every run of 13 or more digits reduced to its first 6 and last 4 (`*` between). A card number
/// inside a longer run (BCD in hex, DE 2 after its length prefix) is hidden too; amounts and ids
/// that long are masked as well, which costs nothing here: the broker carries the body unchanged
/// to `clearway.dlx`, and this copy is for reading, not for replay.
pub fn masked_copy(body: &[u8]) -> String {
    let text = match std::str::from_utf8(body) {
        Ok(text) if !text.contains('\0') => text.to_owned(),
        _ => to_hex(body),
    };
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let n = run.len(); // ASCII digits: bytes are characters
        if n >= 13 {
            out.push_str(run.get(..6).unwrap_or_default());
            out.extend(std::iter::repeat_n('*', n - 10));
            out.push_str(run.get(n - 4..).unwrap_or_default());
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A value to bind in a multi-row statement. `Str` and `OptStr` borrow from the rows being
/// written, so a batch binds its text without copying it first.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    Text(String),
    Str(&'a str),
    OptStr(Option<&'a str>),
    Int(i64),
}

/// `(…),(…)`: `rows` tuples of `cols` placeholders, numbered from `start + 1`.
///
/// PostgreSQL needs `$n`. SQLite gets anonymous `?`: it keeps named and numbered parameters
/// (`$n`, `?n`) in a list it searches linearly per parameter, which made a 1,000-row insert
/// (18,000 parameters) spend 70 % of its time in `sqlite3VListNumToName` (perf, debug build).
/// Binds are therefore always in the order the placeholders appear in the text.
fn placeholders(backend: Backend, rows: usize, cols: usize, start: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        out.push('(');
        out.push_str(&params(backend, start + r * cols + 1, cols));
        out.push(')');
    }
    out
}

/// `$first,…` (PostgreSQL) or `?,…` (SQLite) for `n` values.
fn params(backend: Backend, first: usize, n: usize) -> String {
    let mut out = String::with_capacity(n * 6);
    for i in first..first + n {
        if i > first {
            out.push(',');
        }
        match backend {
            Backend::Postgres => {
                out.push('$');
                out.push_str(&i.to_string());
            }
            Backend::Sqlite => out.push('?'),
        }
    }
    out
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    values: impl IntoIterator<Item = &'q Val<'q>>,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for v in values {
        query = match v {
            Val::Text(t) => query.bind(t.as_str()),
            Val::Str(t) => query.bind(*t),
            Val::OptStr(t) => query.bind(*t),
            Val::Int(i) => query.bind(*i),
        };
    }
    query
}

/// `{head} VALUES (…),(…) {tail}` per chunk of rows; returns how many rows were inserted.
///
/// No `RETURNING`: through the `Any` driver every returned row is a row object of its own (on
/// SQLite one message across the worker thread's channel), which cost more than the insert
/// itself. A batch learns of a lost race from the count instead (see `race` in `tx.rs`).
/// The SQL text depends only on the row count, so a batch of the usual size finds its
/// statement prepared in sqlx's per-connection cache.
pub(crate) async fn insert_rows(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    head: &str,
    cols: usize,
    rows: &[Vec<Val<'_>>],
    tail: &str,
) -> Result<u64, sqlx::Error> {
    let mut inserted = 0;
    let per_chunk = (BINDS_PER_STATEMENT_MAX / cols.max(1)).max(1);
    for chunk in rows.chunks(per_chunk) {
        let sql = format!(
            "{head} VALUES {} {tail}",
            placeholders(backend, chunk.len(), cols, 0)
        );
        let query = bind_all(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            chunk.iter().flatten(),
        );
        inserted += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_from_one() {
        assert_eq!(placeholders(Backend::Postgres, 2, 2, 0), "($1,$2),($3,$4)");
        assert_eq!(placeholders(Backend::Sqlite, 2, 2, 0), "(?,?),(?,?)");
        assert_eq!(params(Backend::Postgres, 2, 3), "$2,$3,$4");
        assert_eq!(
            from_hex(&to_hex(&[0, 0xAB, 0xFF])),
            Some(vec![0, 0xAB, 0xFF])
        );
        assert_eq!(from_hex("0G"), None);
    }

    #[test]
    fn masked_copies_keep_no_card_number() {
        assert_eq!(
            masked_copy(br#"{"pan":"4761739001010010","n":123}"#),
            r#"{"pan":"476173******0010","n":123}"#
        );
        // binary: the hex, where BCD digits of DE 2 run together with their neighbours
        let copy = masked_copy(&[
            0xff, 0x16, 0x47, 0x61, 0x73, 0x90, 0x01, 0x01, 0x00, 0x10, 0x00,
        ]);
        assert_eq!(copy, "FF164761**********1000");
        assert!(!copy.contains("4761739001010010"));
    }
}
