//! A fresh database per test on the real servers: a SQLite file in a temporary folder, or a
//! PostgreSQL database `cw_test_<pid>_<n>` created through `CLEARWAY_TEST_PG_URL` (default
//! `postgres://clearway:clearway@127.0.0.1:5432/clearway`) and dropped by `finish`.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use adapters::profile::Profile;
use settlement::flow::Incoming;
use settlement::ingest::{Ingest, load_profiles};
use settlement::store::Store;
use sqlx::AnyPool;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub url: String,
    pub store: Store,
    /// A separate pool the tests count rows with.
    pub pool: AnyPool,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>, // (admin url, database name)
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

pub fn pg_admin_url() -> String {
    std::env::var("CLEARWAY_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://clearway:clearway@127.0.0.1:5432/clearway".into())
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        sqlx::any::install_default_drivers();
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("store.db").display()
                );
                let store = Store::open(&url).await.unwrap();
                let pool = AnyPool::connect(&url).await.unwrap();
                TestDb {
                    url,
                    store,
                    pool,
                    _dir: Some(dir),
                    pg: None,
                }
            }
            Backend::Postgres => {
                let admin = pg_admin_url();
                let name = format!(
                    "cw_test_{}_{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::SeqCst)
                );
                let admin_pool = AnyPool::connect(&admin).await.unwrap();
                drop_stale(&admin_pool).await;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&admin_pool)
                .await
                .unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin_pool)
                    .await
                    .unwrap();
                admin_pool.close().await;
                let base = admin.split('?').next().unwrap();
                let (server, _) = base.rsplit_once('/').unwrap();
                let url = format!("{server}/{name}");
                let store = Store::open(&url).await.unwrap();
                let pool = AnyPool::connect(&url).await.unwrap();
                TestDb {
                    url,
                    store,
                    pool,
                    _dir: None,
                    pg: Some((admin, name)),
                }
            }
        }
    }

    /// Closes the pools and drops the PostgreSQL database.
    pub async fn finish(self) {
        self.store.close().await;
        self.pool.close().await;
        if let Some((admin, name)) = self.pg {
            let admin_pool = AnyPool::connect(&admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin_pool)
            .await
            .unwrap();
            admin_pool.close().await;
        }
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    pub async fn texts(&self, sql: &str) -> Vec<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    pub async fn ingest(&self) -> Ingest {
        Ingest::new(self.store.clone(), profiles()).await.unwrap()
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn profiles() -> Vec<Profile> {
    load_profiles(&root().join("fixtures/profiles")).unwrap()
}

/// A fixture event's text, e.g. `card.capture/typical.json`.
pub fn event_text(name: &str) -> String {
    std::fs::read_to_string(root().join("fixtures/events").join(name)).unwrap()
}

/// A fixture event with its `event_id` and `data.payment_id` replaced.
pub fn event_as(name: &str, event_id: &str, payment_id: &str) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(&event_text(name)).unwrap();
    v["event_id"] = event_id.into();
    v["data"]["payment_id"] = payment_id.into();
    serde_json::to_vec(&v).unwrap()
}

pub fn event(body: impl Into<Vec<u8>>) -> Incoming {
    Incoming {
        queue: "clearway.events".into(),
        routing_key: "card.authorization_requested".into(),
        message_id: None,
        headers: Default::default(),
        redelivered: false,
        body: body.into(),
    }
}

/// A fixture event as a delivery.
pub fn fixture_event(name: &str) -> Incoming {
    event(event_text(name))
}

/// An ISO 8583 answer from `fixtures/inbound/iso8583/iso87binary/ok/` on the card acquirer's
/// inbound queue.
pub fn card_answer(file: &str) -> Incoming {
    let text = std::fs::read_to_string(
        root()
            .join("fixtures/inbound/iso8583/iso87binary/ok")
            .join(file),
    )
    .unwrap();
    let bytes = settlement::store::from_hex(
        &text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>(),
    )
    .unwrap();
    Incoming {
        queue: "clearway.bank.card-acquirer.in".into(),
        routing_key: "clearway.bank.card-acquirer.in".into(),
        message_id: None,
        headers: Default::default(),
        redelivered: false,
        body: bytes,
    }
}

/// Drops the databases of earlier test runs whose process is gone (a failed test skips its
/// `finish`). A database of a live process is left alone: it may be another run's.
async fn drop_stale(admin: &AnyPool) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(datname AS TEXT) FROM pg_database WHERE datname LIKE 'cw_test_%'",
    )
    .fetch_all(admin)
    .await
    .unwrap();
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        if pid.is_empty() || std::path::Path::new("/proc").join(pid).exists() {
            continue;
        }
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(admin)
        .await
        {
            eprintln!("stale test database {name} not dropped: {e}");
        }
    }
}

/// The fixture `0110_approved.hex` re-addressed to the authorization of `event_id` (the STAN
/// and RRN the acquirer mapping derives from it), on the card acquirer's inbound queue.
pub fn approved_0110_for(event_id: &str, occurred_at: &str) -> Incoming {
    use std::borrow::Cow;
    let fixture = card_answer("0110_approved.hex");
    let dialect = emv::iso8583::Dialect::shipped("iso87binary").unwrap();
    let mut message = emv::iso8583::unpack(&dialect, &fixture.body)
        .unwrap()
        .into_owned();
    let at = chrono::DateTime::parse_from_rfc3339(occurred_at).unwrap();
    let stan = adapters::outbound::card::stan(event_id);
    let rrn = adapters::outbound::card::rrn(&at, &stan);
    message.set(11, emv::iso8583::Value::Text(Cow::Owned(stan)));
    message.set(37, emv::iso8583::Value::Text(Cow::Owned(rrn)));
    Incoming {
        body: emv::iso8583::pack(&dialect, &message).unwrap(),
        ..fixture
    }
}
