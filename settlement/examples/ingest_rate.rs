//! How fast the ingest applies wallet events: N copies of the typical 0100 event (fresh ids)
//! in batches, on a SQLite file and on PostgreSQL, counted from the first batch to the last
//! commit. `cargo run -p clearway-settlement --example ingest_rate -- [N] [BATCH]`
//! (`DATABASE_URL` picks one backend; default both: a temporary SQLite file and
//! `CLEARWAY_TEST_PG_URL`, in a database `cw_rate_<pid>` created and dropped here, so two runs
//! at once do not meet).
//!
//! Beside the wall time it prints the CPU time per event (Linux: every thread of this process
//! from `/proc/self/task/*/schedstat`, plus on PostgreSQL the server processes of the test
//! database when they run on this machine): on a machine shared with other work the wall
//! time varies with the load, the CPU time much less.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use settlement::flow::{Disposition, Handler, Incoming};
use settlement::ingest::{Ingest, load_profiles};
use settlement::store::Store;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(4000, |a| a.parse().unwrap());
    let batch: usize = args.next().map_or(200, |a| a.parse().unwrap());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let template: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            root.join("fixtures/events/card.authorization_requested/typical.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let events: Vec<Incoming> = (0..n)
        .map(|i| {
            let mut v = template.clone();
            v["event_id"] = format!("evt-rate-{i}").into();
            v["data"]["payment_id"] = format!("pay-rate-{i}").into();
            Incoming {
                queue: "clearway.events".into(),
                routing_key: "card.authorization_requested".into(),
                message_id: None,
                headers: Default::default(),
                redelivered: false,
                body: serde_json::to_vec(&v).unwrap(),
            }
        })
        .collect();
    let profiles = load_profiles(&root.join("fixtures/profiles")).unwrap();

    // Baseline in the same run: parsing and mapping alone (no store), what every delivery costs.
    let profile = profiles.iter().find(|p| p.id == "card-acquirer").unwrap();
    let cpu_started = own_cpu_ns();
    let started = Instant::now();
    for e in &events {
        let event = adapters::Event::from_json(std::str::from_utf8(&e.body).unwrap()).unwrap();
        adapters::adapt(&event, profile).unwrap();
    }
    let ms = started.elapsed().as_millis().max(1);
    let map_cpu = own_cpu_ns().saturating_sub(cpu_started);
    println!(
        "{:>8}: {n} events parsed and mapped: {ms} ms, {} events/s, cpu {} us/event",
        "no store",
        n as u128 * 1000 / ms,
        per_event_us(map_cpu, n)
    );

    let dir = tempfile::tempdir().unwrap();
    let database = format!("cw_rate_{}", std::process::id());
    let mut targets = Vec::new();
    if let Ok(url) = std::env::var("DATABASE_URL") {
        targets.push((url, None));
    } else {
        targets.push((
            format!("sqlite://{}?mode=rwc", dir.path().join("rate.db").display()),
            None,
        ));
        let admin = std::env::var("CLEARWAY_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://clearway:clearway@127.0.0.1:5432/clearway".into());
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
        )))
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&pool)
            .await
            .unwrap();
        let (server, _) = admin.split('?').next().unwrap().rsplit_once('/').unwrap();
        targets.push((format!("{server}/{database}"), Some((pool, admin.clone()))));
    }
    for (url, admin) in targets {
        let store = Store::open(&url).await.unwrap();
        let ingest = Ingest::new(store.clone(), profiles.clone()).await.unwrap();
        let servers = server_pids(admin.as_ref().map(|(pool, _)| pool), &database).await;
        let client_started = own_cpu_ns();
        let server_started: Vec<(u32, u64)> =
            servers.iter().map(|&p| (p, process_cpu_ns(p))).collect();
        let started = Instant::now();
        let mut applied = 0;
        for chunk in events.chunks(batch) {
            let out = ingest.handle(chunk).await.unwrap();
            applied += out.iter().filter(|d| **d == Disposition::Applied).count();
        }
        let ms = started.elapsed().as_millis().max(1);
        let client = own_cpu_ns().saturating_sub(client_started);
        // the server processes there at the end, less what those there at the start had used
        let servers = server_pids(admin.as_ref().map(|(pool, _)| pool), &database).await;
        let server: u64 = servers
            .iter()
            .map(|&p| {
                let before = server_started
                    .iter()
                    .find(|(q, _)| *q == p)
                    .map_or(0, |x| x.1);
                process_cpu_ns(p).saturating_sub(before)
            })
            .sum();
        let cpu = client + server;
        assert_eq!(applied, n);
        let backend = format!("{:?}", store.backend());
        println!(
            "{backend:>8}: {n} events in batches of {batch}: {ms} ms, {} events/s, \
             cpu {} us/event ({} beyond the mapping; this process {}, server {})",
            n as u128 * 1000 / ms,
            per_event_us(cpu, n),
            per_event_us(cpu.saturating_sub(map_cpu), n),
            per_event_us(client, n),
            per_event_us(server, n)
        );
        // The same events again, as after a crash before the acks: all duplicates.
        let started = Instant::now();
        for chunk in events.chunks(batch) {
            let out = ingest.handle(chunk).await.unwrap();
            assert!(out.iter().all(|d| *d == Disposition::Duplicate));
        }
        let ms = started.elapsed().as_millis().max(1);
        println!(
            "{backend:>8}: {n} redelivered events (duplicates): {ms} ms, {} events/s",
            n as u128 * 1000 / ms
        );
        store.close().await;
        if let Some((pool, _)) = admin {
            // An autovacuum worker on the fresh database makes `WITH (FORCE)` fail for a role
            // that may not end it: try again a few times, then say what is left behind.
            let mut result = Ok(());
            for _ in 0..10 {
                result = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                )))
                .execute(&pool)
                .await
                .map(|_| ());
                if result.is_ok() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            if let Err(e) = result {
                eprintln!("database {database} is left behind: {e}");
            }
        }
    }
}

/// CPU time in nanoseconds of the task whose `/proc` folder is `dir` (0 if it cannot be read,
/// e.g. off Linux).
fn on_cpu_ns(dir: &std::path::Path) -> u64 {
    std::fs::read_to_string(dir.join("schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU time in nanoseconds of every thread of this process.
fn own_cpu_ns() -> u64 {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| tasks.flatten().map(|t| on_cpu_ns(&t.path())).sum())
        .unwrap_or(0)
}

/// CPU time in nanoseconds of process `pid` (its main thread: a PostgreSQL backend has one).
fn process_cpu_ns(pid: u32) -> u64 {
    on_cpu_ns(std::path::Path::new(&format!("/proc/{pid}")))
}

/// The server processes serving `database` (none without an admin pool).
async fn server_pids(admin: Option<&sqlx::AnyPool>, database: &str) -> Vec<u32> {
    let Some(pool) = admin else {
        return Vec::new();
    };
    let pids: Vec<i32> = sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = $1")
        .bind(database)
        .fetch_all(pool)
        .await
        .unwrap_or_default();
    pids.into_iter()
        .filter_map(|p| u32::try_from(p).ok())
        .collect()
}

/// `ns` over `n` events in microseconds, one decimal (integer arithmetic: no floats here).
fn per_event_us(ns: u64, n: usize) -> String {
    let tenths = ns / 100 / u64::try_from(n.max(1)).unwrap_or(u64::MAX);
    format!("{}.{}", tenths / 10, tenths % 10)
}
