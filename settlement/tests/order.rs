//! Per-payment order under redelivery and several instances: follow-ups that arrive before
//! their item park and apply with it, so any delivery order (and any split into batches, on
//! one handler or two) ends in the state of the in-order run; a redelivered dead letter is
//! recorded once. Every scenario runs on a real SQLite file and a real PostgreSQL database;
//! assertions compare counted rows and summed amounts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestDb, event, event_text, fixture_event, profiles};
use settlement::flow::{DeadReason, Disposition, Handler, Incoming};
use settlement::ingest::Ingest;

const AUTH: &str = "card.authorization_requested/typical.json";
const CAPTURE: &str = "card.capture/typical.json";
const REVERSAL: &str = "card.authorization_reversed/typical.json";

/// One `#[tokio::test]` per backend for each scenario; the scenario opens its own databases.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both!(
    reversed_stream_ends_as_in_order,
    capture_before_authorization_parks,
    parked_duplicates_and_conflicts,
    redelivered_dead_letters_are_recorded_once,
);

/// What must not depend on the delivery order: items (id, state, amount), outbox message ids,
/// dead letters by reason, inbox outcomes, transitions, parked rows.
#[derive(Debug, PartialEq, Eq)]
struct EndState {
    items: Vec<String>,
    outbox: Vec<String>,
    dead_letters: Vec<String>,
    inbox: Vec<String>,
    transitions: i64,
    parked: i64,
    amount_minor: i64,
}

/// Panics with what differs, line by line.
#[track_caller]
fn assert_same(actual: &EndState, expected: &EndState, context: &str) {
    if actual == expected {
        return;
    }
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|x| !b.contains(x)).cloned().collect()
    };
    let mut report = Vec::new();
    for (name, a, e) in [
        ("items", &actual.items, &expected.items),
        ("outbox", &actual.outbox, &expected.outbox),
        ("dead_letters", &actual.dead_letters, &expected.dead_letters),
        ("inbox", &actual.inbox, &expected.inbox),
    ] {
        if a != e {
            report.push(format!(
                "{name}: only here {:?}; only in order {:?}",
                only(a, e),
                only(e, a)
            ));
        }
    }
    report.push(format!(
        "transitions {} vs {}, parked {} vs {}, amount {} vs {}",
        actual.transitions,
        expected.transitions,
        actual.parked,
        expected.parked,
        actual.amount_minor,
        expected.amount_minor
    ));
    panic!(
        "{context}: end state differs from the in-order run:\n{}",
        report.join("\n")
    );
}

async fn end_state(db: &TestDb) -> EndState {
    EndState {
        items: db
            .texts(
                "SELECT id || ' ' || state || ' ' || CAST(amount_minor AS TEXT) FROM items \
                 ORDER BY id",
            )
            .await,
        outbox: db
            .texts("SELECT message_id FROM outbox ORDER BY message_id")
            .await,
        dead_letters: db
            .texts(
                "SELECT reason || ' ' || CAST(COUNT(*) AS TEXT) FROM dead_letters \
                 GROUP BY reason ORDER BY reason",
            )
            .await,
        inbox: db
            .texts(
                "SELECT outcome || ' ' || CAST(COUNT(*) AS TEXT) FROM inbox \
                 GROUP BY outcome ORDER BY outcome",
            )
            .await,
        transitions: db.count("SELECT COUNT(*) FROM transitions").await,
        parked: db.count("SELECT COUNT(*) FROM parked").await,
        amount_minor: db
            .count("SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM items")
            .await,
    }
}

/// A generated stream without conflicts (a conflict that overtakes its original would become
/// the original): `events` unique events plus about 5 % exact duplicates.
fn stream(seed: u64, events: usize) -> Vec<Incoming> {
    let mut spec = adapters::generate::Spec::new(seed, events);
    spec.conflicts = 0;
    adapters::generate::generate(&spec, &profiles())
        .lines
        .into_iter()
        .map(event)
        .collect()
}

/// Feeds `deliveries` in batches of these sizes (cycled), retrying a transient failure as the
/// broker does.
async fn feed(ingest: &Ingest, deliveries: &[Incoming], sizes: &[usize]) -> Vec<Disposition> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut size = sizes.iter().cycle();
    while at < deliveries.len() {
        let n = (*size.next().unwrap()).max(1).min(deliveries.len() - at);
        let batch = &deliveries[at..at + n];
        let mut retries = 0;
        loop {
            match ingest.handle(batch).await {
                Ok(d) => {
                    out.extend(d);
                    break;
                }
                Err(transient) => {
                    retries += 1;
                    assert!(retries < 1000, "{transient}");
                    tokio::task::yield_now().await;
                }
            }
        }
        at += n;
    }
    out
}

async fn in_order(backend: Backend, deliveries: &[Incoming]) -> EndState {
    let db = TestDb::new(backend).await;
    feed(&db.ingest().await, deliveries, &[20]).await;
    let state = end_state(&db).await;
    db.finish().await;
    state
}

/// The whole stream reversed, in one batch and in batches of 7: every follow-up comes before
/// its original, and the end state is the in-order one.
async fn reversed_stream_ends_as_in_order(backend: Backend) {
    let deliveries = stream(12, 150);
    let expected = in_order(backend, &deliveries).await;
    assert!(expected.items.len() > 100, "{expected:?}");
    assert_eq!(expected.parked, 0);
    let reversed: Vec<Incoming> = deliveries.iter().rev().cloned().collect();
    for sizes in [&[reversed.len()][..], &[7]] {
        let db = TestDb::new(backend).await;
        feed(&db.ingest().await, &reversed, sizes).await;
        assert_same(
            &end_state(&db).await,
            &expected,
            &format!("batches of {sizes:?}"),
        );
        db.finish().await;
    }
}

/// A capture with no authorization parks (dual-message profile); the authorization
/// applies it, in the same transaction; the end state is the in-order one.
async fn capture_before_authorization_parks(backend: Backend) {
    let natural = [fixture_event(AUTH), fixture_event(CAPTURE)];
    let expected = in_order(backend, &natural).await;
    assert_eq!(expected.outbox.len(), 2, "{expected:?}"); // 0100 and 0220

    let db = TestDb::new(backend).await;
    let ingest = db.ingest().await;
    let out = ingest.handle(&[fixture_event(CAPTURE)]).await.unwrap();
    assert_eq!(out, [Disposition::Applied]);
    assert_eq!(db.count("SELECT COUNT(*) FROM items").await, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM parked").await, 1);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM inbox WHERE outcome = 'parked'")
            .await,
        1
    );
    // the card number is sealed in the parked row, as in the outbox
    let pan = serde_json::from_str::<serde_json::Value>(&event_text(CAPTURE)).unwrap()["data"]
        ["card"]["pan"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = db.texts("SELECT body_sealed_hex FROM parked").await;
    let hex_pan: String = pan.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!body[0].to_ascii_lowercase().contains(&hex_pan));
    let summary = settlement::store::Summary::load(&db.store).await.unwrap();
    assert_eq!(summary.parked, 1);

    let out = ingest.handle(&[fixture_event(AUTH)]).await.unwrap();
    assert_eq!(out, [Disposition::Applied]);
    assert_same(
        &end_state(&db).await,
        &expected,
        "capture then authorization",
    );
    db.finish().await;

    // The single-message profile waits for the authorization as well.
    let db = TestDb::new(backend).await;
    let mut v: serde_json::Value = serde_json::from_str(&event_text(CAPTURE)).unwrap();
    v["bank"] = "card-acquirer-single".into();
    let out = db
        .ingest()
        .await
        .handle(&[event(serde_json::to_vec(&v).unwrap())])
        .await
        .unwrap();
    assert_eq!(out, [Disposition::Applied], "{out:?}");
    assert_eq!(db.count("SELECT COUNT(*) FROM items").await, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM parked").await, 1);
    db.finish().await;
}

/// A parked event redelivered is a duplicate (also once applied); the same key with another
/// payload is a conflict; a reversal before its authorization parks and reverses it.
async fn parked_duplicates_and_conflicts(backend: Backend) {
    let expected = in_order(backend, &[fixture_event(AUTH), fixture_event(REVERSAL)]).await;
    assert_eq!(expected.outbox.len(), 2, "{expected:?}"); // 0100 and 0400

    let db = TestDb::new(backend).await;
    let ingest = db.ingest().await;
    let out = ingest
        .handle(&[fixture_event(REVERSAL), fixture_event(REVERSAL)])
        .await
        .unwrap();
    assert_eq!(out, [Disposition::Applied, Disposition::Duplicate]);
    let out = ingest.handle(&[fixture_event(REVERSAL)]).await.unwrap();
    assert_eq!(out, [Disposition::Duplicate]);
    let mut v: serde_json::Value = serde_json::from_str(&event_text(REVERSAL)).unwrap();
    v["occurred_at"] = "2026-11-25T23:59:59Z".into();
    let changed = event(serde_json::to_vec(&v).unwrap());
    let out = ingest.handle(std::slice::from_ref(&changed)).await.unwrap();
    assert!(
        matches!(
            out[0],
            Disposition::DeadLetter {
                reason: DeadReason::Conflict,
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM parked").await, 1);

    let out = ingest
        .handle(&[fixture_event(AUTH), fixture_event(REVERSAL), changed])
        .await
        .unwrap();
    assert_eq!(
        out,
        [
            Disposition::Applied,
            Disposition::Duplicate,
            Disposition::Duplicate
        ]
    );
    let mut actual = end_state(&db).await;
    assert_eq!(actual.dead_letters, ["conflict 1"]);
    actual.dead_letters.clear();
    assert_same(&actual, &expected, "reversal before authorization");
    db.finish().await;
}

/// A conflict and an unkeyed poison delivered three times each (redelivered after a crash, or
/// three copies in one batch): one dead-letter row each, the later deliveries duplicates.
async fn redelivered_dead_letters_are_recorded_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let ingest = db.ingest().await;
    ingest.handle(&[fixture_event(AUTH)]).await.unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&event_text(AUTH)).unwrap();
    v["data"]["amount"]["value"] = "99.99".into();
    let conflict = event(serde_json::to_vec(&v).unwrap());
    let poison = Incoming {
        queue: "clearway.bank.nobody.in".into(),
        ..event(&b"\x00\x01"[..])
    };
    let dead = |d: &Disposition| matches!(d, Disposition::DeadLetter { .. });
    let out = ingest
        .handle(&[conflict.clone(), poison.clone()])
        .await
        .unwrap();
    assert!(out.iter().all(dead), "{out:?}");
    for _ in 0..2 {
        let out = ingest
            .handle(&[conflict.clone(), poison.clone()])
            .await
            .unwrap();
        assert_eq!(out, [Disposition::Duplicate, Disposition::Duplicate]);
    }
    assert_eq!(db.count("SELECT COUNT(*) FROM dead_letters").await, 2);

    // Flagged `redelivered` by the broker: the attempt before may have died between its commit
    // and the dead-letter publish, so both go to the dead queue again (still one row each), and
    // an applied event redelivered stays a plain duplicate.
    let flagged = |i: &Incoming| Incoming {
        redelivered: true,
        ..i.clone()
    };
    let out = ingest
        .handle(&[
            flagged(&conflict),
            flagged(&poison),
            flagged(&fixture_event(AUTH)),
        ])
        .await
        .unwrap();
    assert!(
        matches!(
            &out[0],
            Disposition::DeadLetterAgain {
                reason: DeadReason::Conflict,
                ..
            }
        ),
        "{out:?}"
    );
    assert!(
        matches!(
            &out[1],
            Disposition::DeadLetterAgain {
                reason: DeadReason::Unmapped | DeadReason::Decode,
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(out[2], Disposition::Duplicate);
    assert_eq!(db.count("SELECT COUNT(*) FROM dead_letters").await, 2);

    // Three copies inside one batch, on a fresh database.
    let db2 = TestDb::new(backend).await;
    let ingest = db2.ingest().await;
    ingest.handle(&[fixture_event(AUTH)]).await.unwrap();
    let out = ingest
        .handle(&[conflict.clone(), conflict.clone(), conflict])
        .await
        .unwrap();
    assert!(dead(&out[0]), "{out:?}");
    assert_eq!(out[1..], [Disposition::Duplicate, Disposition::Duplicate]);
    assert_eq!(
        db2.count("SELECT COUNT(*) FROM dead_letters WHERE reason = 'conflict'")
            .await,
        1
    );
    db2.finish().await;
    db.finish().await;
}

/// Two handlers on one PostgreSQL database, one taking the stream's batches in order and the
/// other in reverse, at the same time: every event is delivered twice, follow-ups often before
/// their originals and on the other instance, and the end state is the in-order one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handlers_interleaved_end_as_in_order() {
    let deliveries = stream(34, 200);
    let expected = in_order(Backend::Postgres, &deliveries).await;
    let db = TestDb::new(Backend::Postgres).await;
    let one = std::sync::Arc::new(db.ingest().await);
    let two = std::sync::Arc::new(db.ingest().await);
    let forward = deliveries.clone();
    let backward: Vec<Incoming> = deliveries
        .chunks(15)
        .rev()
        .flat_map(|c| c.iter().cloned())
        .collect();
    let a = tokio::spawn({
        let one = one.clone();
        async move { feed(&one, &forward, &[15]).await }
    });
    let b = tokio::spawn({
        let two = two.clone();
        async move { feed(&two, &backward, &[15]).await }
    });
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(a.len() + b.len(), 2 * deliveries.len());
    assert_same(&end_state(&db).await, &expected, "two handlers");
    db.finish().await;
}

mod property {
    use proptest::prelude::*;

    use super::common::{Backend, TestDb};
    use super::{end_state, feed, in_order, stream};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

        /// A generated stream shuffled and cut into random batches ends as the in-order run.
        #[test]
        fn any_order_ends_as_in_order(
            shuffle_seed in any::<u64>(),
            sizes in proptest::collection::vec(1..40usize, 1..8),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let deliveries = stream(56, 200);
                let expected = in_order(Backend::Sqlite, &deliveries).await;
                // Fisher-Yates driven by a splitmix64 sequence from the case's seed
                let mut shuffled = deliveries.clone();
                let mut state = shuffle_seed;
                for i in (1..shuffled.len()).rev() {
                    state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    z ^= z >> 31;
                    let j = usize::try_from(z % (i as u64 + 1)).unwrap();
                    shuffled.swap(i, j);
                }
                let db = TestDb::new(Backend::Sqlite).await;
                feed(&db.ingest().await, &shuffled, &sizes).await;
                super::assert_same(&end_state(&db).await, &expected, &format!("batches {sizes:?}"));
                db.finish().await;
            });
        }
    }
}
