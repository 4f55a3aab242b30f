//! `settlement::demo::check` on a real store (SQLite and PostgreSQL): the demo's events, fed
//! through `Ingest` in batches as the consumer would (each batch twice, as after a crash
//! between commit and ack), give the generator's counts; journals built from the outbox then
//! show nothing lost or doubled, and a journal missing a message or holding one twice shows it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use adapters::generate::Spec;
use common::{Backend, TestDb, profiles};
use settlement::banksim::JournalEntry;
use settlement::demo::{self, Expected};
use settlement::flow::Incoming;
use settlement::ingest::EVENTS_QUEUE;
use settlement::store::{Activity, AuditFacts};

fn incoming(line: &[u8]) -> Incoming {
    Incoming {
        queue: EVENTS_QUEUE.into(),
        routing_key: String::new(),
        message_id: None,
        headers: BTreeMap::new(),
        redelivered: false,
        body: line.to_vec(),
    }
}

async fn ingest_all(db: &TestDb, jsonl: &[u8]) {
    let ingest = db.ingest().await;
    let lines: Vec<Incoming> = jsonl
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(incoming)
        .collect();
    for batch in lines.chunks(200) {
        ingest.ingest(batch).await.unwrap();
        ingest.ingest(batch).await.unwrap(); // redelivered whole: absorbed
    }
}

/// Each outbox message received once by its bank.
fn journals_from(facts: &AuditFacts) -> BTreeMap<String, Vec<JournalEntry>> {
    let mut journals: BTreeMap<String, Vec<JournalEntry>> = BTreeMap::new();
    for row in &facts.outbox {
        let bank = row
            .routing_key
            .trim_start_matches("clearway.bank.")
            .trim_end_matches(".out")
            .to_owned();
        let journal = journals.entry(bank).or_default();
        journal.push(JournalEntry {
            seq: journal.len() as u64 + 1,
            message_id: row.message_id.clone(),
            message_type: row.message_type.clone(),
            queue: row.routing_key.clone(),
            duplicate: false,
            at: "2026-11-25T08:00:00Z".into(),
        });
    }
    journals
}

async fn scenario(backend: Backend) {
    let db = TestDb::new(backend).await;
    let (jsonl, expected): (Vec<u8>, Expected) =
        demo::generate(&Spec::new(3, 400), &profiles()).unwrap();
    assert_eq!(expected.unique, 400);
    assert!(expected.duplicates > 0 && expected.conflicts > 0);
    ingest_all(&db, &jsonl).await;

    let activity = Activity::load(&db.store, EVENTS_QUEUE).await.unwrap();
    assert_eq!(activity.inbox_events, 400);
    assert_eq!(activity.conflicts_on_events, expected.conflicts as i64);
    // a conflict delivered again is recorded once (dead letters are keyed by key and hash)
    assert_eq!(activity.dead_letter_rows, activity.conflicts_on_events);
    assert_eq!(activity.outbox_pending, activity.outbox_rows);

    let facts = AuditFacts::load(&db.store).await.unwrap();
    let mut journals = journals_from(&facts);
    let report = demo::check(&expected, &facts, &journals, EVENTS_QUEUE);
    assert!(report.passed(), "{report:#?}");
    assert_eq!(report.unique_events, 400);
    assert_eq!(report.duplicates_absorbed, expected.duplicates);
    assert_eq!(report.conflicts_dead_lettered, expected.conflicts);
    assert_eq!(report.messages_by_type, expected.messages);
    assert_eq!(
        report.items_by_final_state.get("submitted"),
        Some(&report.items)
    );

    // The bank never got one message, and got another one twice.
    let journal = journals.values_mut().next().unwrap();
    let gone = journal.remove(0);
    let twice = journal[0].clone();
    journal.push(twice);
    let report = demo::check(&expected, &facts, &journals, EVENTS_QUEUE);
    assert_eq!((report.lost, report.doubled), (1, 1), "{report:#?}");
    assert!(
        report.examples.iter().any(|e| e.contains(&gone.message_id)),
        "{:?}",
        report.examples
    );
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_on_sqlite() {
    scenario(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_on_postgres() {
    scenario(Backend::Postgres).await;
}
