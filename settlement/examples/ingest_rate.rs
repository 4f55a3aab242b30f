//! How fast the ingest applies wallet events: N copies of the typical 0100 event (fresh ids)
//! in batches, on a SQLite file and on PostgreSQL, counted from the first batch to the last
//! commit. `cargo run -p clearway-settlement --example ingest_rate -- [N] [BATCH]`
//! (`DATABASE_URL` picks one backend; default both: a temporary SQLite file and
//! `CLEARWAY_TEST_PG_URL`, in a database `cw_rate` created and dropped here).
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
    let started = Instant::now();
    for e in &events {
        let event = adapters::Event::from_json(std::str::from_utf8(&e.body).unwrap()).unwrap();
        adapters::adapt(&event, profile).unwrap();
    }
    let ms = started.elapsed().as_millis().max(1);
    println!(
        "{:>8}: {n} events parsed and mapped: {ms} ms, {} events/s",
        "no store",
        n as u128 * 1000 / ms
    );

    let dir = tempfile::tempdir().unwrap();
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
        sqlx::query("DROP DATABASE IF EXISTS cw_rate WITH (FORCE)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("CREATE DATABASE cw_rate")
            .execute(&pool)
            .await
            .unwrap();
        let (server, _) = admin.split('?').next().unwrap().rsplit_once('/').unwrap();
        targets.push((format!("{server}/cw_rate"), Some((pool, admin.clone()))));
    }
    for (url, admin) in targets {
        let store = Store::open(&url).await.unwrap();
        let ingest = Ingest::new(store.clone(), profiles.clone()).await.unwrap();
        let started = Instant::now();
        let mut applied = 0;
        for chunk in events.chunks(batch) {
            let out = ingest.handle(chunk).await.unwrap();
            applied += out.iter().filter(|d| **d == Disposition::Applied).count();
        }
        let ms = started.elapsed().as_millis().max(1);
        assert_eq!(applied, n);
        let backend = format!("{:?}", store.backend());
        println!(
            "{backend:>8}: {n} events in batches of {batch}: {ms} ms, {} events/s",
            n as u128 * 1000 / ms
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
            sqlx::query("DROP DATABASE IF EXISTS cw_rate WITH (FORCE)")
                .execute(&pool)
                .await
                .unwrap();
        }
    }
}
