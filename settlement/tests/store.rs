//! The store, the lifecycle and the transactional ingest against a real SQLite file and a real
//! PostgreSQL database: every scenario runs on both. Assertions count rows and sum amounts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// The scenarios are plain async functions that the `on_both!` tests call, so clippy does not
// see them as tests.

mod common;

use common::{
    Backend, TestDb, approved_0110_for, card_answer, event, event_as, event_text, fixture_event,
};
use settlement::flow::{DeadReason, Disposition, Handler, Incoming, Outbox};
use settlement::store::{ItemFilter, Summary};

const AUTH: &str = "card.authorization_requested/typical.json";
const CAPTURE: &str = "card.capture/typical.json";
const REVERSAL: &str = "card.authorization_reversed/typical.json";
const REFUND: &str = "card.refund/typical.json";

/// One `#[tokio::test]` per backend for each scenario.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::new(super::Backend::Sqlite).await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = super::TestDb::new(super::Backend::Postgres).await;
                    super::$name(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

on_both!(
    duplicate_event_is_absorbed,
    conflicting_reuse_is_dead_lettered,
    poison_is_dead_lettered_once,
    booking_before_acceptance_settles,
    invalid_transition_is_recorded_not_applied,
    duplicates_inside_one_batch,
    outbox_leaves_in_order_per_payment,
    two_relays_never_claim_the_same_row,
    refusals_and_pending_mappings,
    concurrent_handlers_never_double,
    concurrent_answers_apply_once,
    card_data_stays_tokenised,
    unavailable_database_is_transient,
    card_flows_reach_their_ends,
    prepared_head_start_never_doubles,
);

fn dead_reason(d: &Disposition) -> Option<DeadReason> {
    match d {
        Disposition::DeadLetter { reason, .. } => Some(*reason),
        _ => None,
    }
}

async fn duplicate_event_is_absorbed(db: &TestDb) {
    let ingest = db.ingest().await;
    let auth = fixture_event(AUTH);
    assert_eq!(
        ingest.handle(std::slice::from_ref(&auth)).await.unwrap(),
        [Disposition::Applied]
    );
    let mut again = auth.clone();
    again.redelivered = true;
    // A publisher retransmit (redelivered=false) and a broker redelivery look alike to us.
    assert_eq!(
        ingest.handle(&[again, auth.clone()]).await.unwrap(),
        [Disposition::Duplicate, Disposition::Duplicate]
    );
    // Same event with its keys in another order and other spacing: same canonical hash.
    let v: serde_json::Value = serde_json::from_str(&event_text(AUTH)).unwrap();
    let reordered = event(serde_json::to_vec_pretty(&v).unwrap());
    assert_eq!(
        ingest.handle(&[reordered]).await.unwrap(),
        [Disposition::Duplicate]
    );

    assert_eq!(db.count("SELECT COUNT(*) FROM items").await, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM inbox").await, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM transitions").await, 2); // created, sent
    assert_eq!(
        db.count("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM items")
            .await,
        1234
    );
    let items = db.store.list_items(ItemFilter::default()).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (
            items[0].state.as_str(),
            items[0].amount.as_str(),
            items[0].currency.as_str()
        ),
        ("submitted", "12.34", "EUR")
    );
    assert_eq!(items[0].message_ids, ["0100-903777-632909903777-45678901"]);
    // what `clearway items` prints for it (the last column is the time of the change)
    let line = items[0].csv_line();
    assert!(
        line.starts_with(
            "evt-auth-0001,pay-0001,card-acquirer,submitted,12.34,EUR,\
             0100-903777-632909903777-45678901,20"
        ),
        "{line}"
    );
}

async fn conflicting_reuse_is_dead_lettered(db: &TestDb) {
    let ingest = db.ingest().await;
    ingest.handle(&[fixture_event(AUTH)]).await.unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&event_text(AUTH)).unwrap();
    v["data"]["amount"]["value"] = "99.99".into();
    let changed = event(serde_json::to_vec(&v).unwrap());
    let out = ingest.handle(&[changed]).await.unwrap();
    assert_eq!(dead_reason(&out[0]), Some(DeadReason::Conflict), "{out:?}");

    // A bank answer reusing a status id with other bytes: the declined 0110 after the approved.
    let out = ingest
        .handle(&[
            card_answer("0110_approved.hex"),
            card_answer("0110_declined_insufficient_funds.hex"),
        ])
        .await
        .unwrap();
    assert_eq!(out[0], Disposition::Applied);
    assert_eq!(dead_reason(&out[1]), Some(DeadReason::Conflict), "{out:?}");

    assert_eq!(
        db.count("SELECT COUNT(*) FROM dead_letters WHERE reason = 'conflict'")
            .await,
        2
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM items").await, 1);
    assert_eq!(
        db.count("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM items")
            .await,
        1234
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 1);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM items WHERE state = 'accepted'")
            .await,
        1
    );
}

async fn poison_is_dead_lettered_once(db: &TestDb) {
    let ingest = db.ingest().await;
    let poison = event(&b"{\"schema\": \"clearway.event.v1\", \"event_id\": "[..]);
    let not_utf8 = event(&[0xff, 0xfe, 0x00][..]);
    let truncated = Incoming {
        body: card_answer("0110_approved.hex").body[..30].to_vec(),
        ..card_answer("0110_approved.hex")
    };
    let out = ingest
        .handle(&[poison.clone(), not_utf8, truncated.clone()])
        .await
        .unwrap();
    for d in &out {
        assert_eq!(dead_reason(d), Some(DeadReason::Decode), "{out:?}");
    }
    match &out[0] {
        Disposition::DeadLetter { detail, .. } => assert!(detail.contains("not JSON"), "{detail}"),
        other => panic!("{other:?}"),
    }
    // Redelivered poison is a duplicate: it went to the dead-letter exchange once.
    let out = ingest.handle(&[poison, truncated]).await.unwrap();
    assert_eq!(out, [Disposition::Duplicate, Disposition::Duplicate]);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM dead_letters WHERE reason = 'decode'")
            .await,
        3
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM inbox WHERE outcome = 'dead:decode'")
            .await,
        3
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM items").await, 0);
    // A known event id with a bad body is recorded under that id.
    let mut v: serde_json::Value = serde_json::from_str(&event_text(AUTH)).unwrap();
    v["data"]["card"]["pan"] = "476173900101001X".into(); // not digits
    let out = ingest
        .handle(&[event(serde_json::to_vec(&v).unwrap())])
        .await
        .unwrap();
    match &out[0] {
        Disposition::DeadLetter { reason, detail } => {
            assert_eq!(*reason, DeadReason::Decode);
            assert!(!detail.contains("476173900101001"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        db.count("SELECT COUNT(*) FROM inbox WHERE key = 'event/evt-auth-0001'")
            .await,
        1
    );
}

async fn booking_before_acceptance_settles(db: &TestDb) {
    let ingest = db.ingest().await;
    // auth then capture (dual message: the capture is an input on the authorized payment)
    let out = ingest
        .handle(&[fixture_event(AUTH), fixture_event(CAPTURE)])
        .await
        .unwrap();
    assert_eq!(out, [Disposition::Applied, Disposition::Applied]);
    // the capture's 0230 arrives before the authorization's 0110
    let out = ingest
        .handle(&[card_answer("0230_capture_accepted.hex")])
        .await
        .unwrap();
    assert_eq!(out, [Disposition::Applied]);
    let out = ingest
        .handle(&[card_answer("0110_approved.hex")])
        .await
        .unwrap();
    assert_eq!(out, [Disposition::Applied]);
    let settled = db
        .store
        .list_items(ItemFilter {
            state: Some(settlement::lifecycle::State::Settled),
        })
        .await
        .unwrap();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].message_ids.len(), 2);
    let late = db
        .texts("SELECT note FROM transitions WHERE applied = 0 ORDER BY seq")
        .await;
    assert_eq!(late, ["late: accepted after settled, no effect"]);
    assert_eq!(db.count("SELECT COUNT(*) FROM transitions").await, 5); // created, sent, capture, settled, late
    assert_eq!(
        db.count("SELECT COUNT(*) FROM inbox WHERE outcome = 'recorded'")
            .await,
        1
    );
}

async fn invalid_transition_is_recorded_not_applied(db: &TestDb) {
    let ingest = db.ingest().await;
    ingest
        .handle(&[
            fixture_event(AUTH),
            fixture_event(CAPTURE),
            card_answer("0230_capture_accepted.hex"),
        ])
        .await
        .unwrap();
    // a reversal of a settled payment: recorded, not applied, no 0400 sent
    let out = ingest.handle(&[fixture_event(REVERSAL)]).await.unwrap();
    assert_eq!(out, [Disposition::Applied]);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM items WHERE state = 'settled'")
            .await,
        1
    );
    let notes = db
        .texts("SELECT note FROM transitions WHERE applied = 0")
        .await;
    assert_eq!(
        notes,
        ["invalid: reversal_requested in settled, not applied"]
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 2); // 0100, 0220
    // the reversal answer has no item reference (no 0400 was sent): unmapped
    let out = ingest
        .handle(&[card_answer("0410_reversal_accepted.hex")])
        .await
        .unwrap();
    assert_eq!(dead_reason(&out[0]), Some(DeadReason::Unmapped), "{out:?}");
    let summary = Summary::load(&db.store).await.unwrap();
    assert_eq!(summary.items_by_state["settled"], 1);
    assert_eq!(summary.outbox_pending, 2);
    assert_eq!(summary.dead_letters_by_reason["unmapped"], 1);
    assert_eq!(summary.inbox, 5);
    assert_eq!(
        summary.to_string(),
        "inbox: 5 deliveries recorded\nitems: settled 1\noutbox: 2 pending, 0 published\n\
         dead letters: unmapped 1\nparked: 0 follow-ups wait for their item\n"
    );
}

async fn duplicates_inside_one_batch(db: &TestDb) {
    let ingest = db.ingest().await;
    let a = event(event_as(AUTH, "evt-a", "pay-a"));
    let b = event(event_as(AUTH, "evt-b", "pay-b"));
    let mut a_changed: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    a_changed["data"]["amount"]["value"] = "1.00".into();
    let a_changed = event(serde_json::to_vec(&a_changed).unwrap());
    let out = ingest
        .handle(&[a.clone(), b.clone(), a.clone(), a_changed, b])
        .await
        .unwrap();
    assert_eq!(out[0], Disposition::Applied);
    assert_eq!(out[1], Disposition::Applied);
    assert_eq!(out[2], Disposition::Duplicate);
    assert_eq!(dead_reason(&out[3]), Some(DeadReason::Conflict));
    assert_eq!(out[4], Disposition::Duplicate);
    // a second event for the same payment creates no second item
    let c = event(event_as(AUTH, "evt-c", "pay-a"));
    let out = ingest.handle(&[c]).await.unwrap();
    assert_eq!(dead_reason(&out[0]), Some(DeadReason::Conflict), "{out:?}");
    assert_eq!(db.count("SELECT COUNT(*) FROM items").await, 2);
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 2);
    assert_eq!(
        db.count("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM items")
            .await,
        2 * 1234
    );
}

async fn outbox_leaves_in_order_per_payment(db: &TestDb) {
    let ingest = db.ingest().await;
    // pay-0001: 0100, then 0220 (capture), then the refund's 0220; pay-x: one 0100
    let other = event(event_as(AUTH, "evt-x", "pay-x"));
    ingest.handle(&[fixture_event(AUTH), other]).await.unwrap();
    ingest
        .handle(&[card_answer("0110_approved.hex"), fixture_event(CAPTURE)])
        .await
        .unwrap();
    ingest.handle(&[fixture_event(REFUND)]).await.unwrap();
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 4);

    let mut order: Vec<(String, String)> = Vec::new();
    for round in 0..10 {
        let rows = db.store.pending(100).await.unwrap();
        if rows.is_empty() {
            break;
        }
        // never two rows of one payment in one claim, and a claimed row is not handed out again
        let mut keys: Vec<&str> = rows.iter().map(|r| r.ordering_key.as_str()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), rows.len(), "round {round}");
        assert!(
            db.store.pending(100).await.unwrap().is_empty(),
            "round {round}"
        );
        for r in &rows {
            assert_eq!(r.routing_key, "clearway.bank.card-acquirer.out");
            assert_eq!(r.headers["x-clearway-payment"], r.ordering_key);
            order.push((r.ordering_key.clone(), r.message_id.clone()));
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        db.store.mark_published(&ids).await.unwrap();
    }
    let pay1: Vec<&str> = order
        .iter()
        .filter(|(k, _)| k == "pay-0001")
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(
        pay1,
        [
            "0100-903777-632909903777-45678901",
            "0220-125885-632917125885-45678901",
            "0220-610850-633008610850-45678901",
        ]
    );
    assert_eq!(order.len(), 4);
    let summary = Summary::load(&db.store).await.unwrap();
    assert_eq!((summary.outbox_pending, summary.outbox_published), (0, 4));
}

/// Two relays claim at the same moment: each row goes to exactly one of them.
async fn two_relays_never_claim_the_same_row(db: &TestDb) {
    let ingest = db.ingest().await;
    let events: Vec<Incoming> = (0..50)
        .map(|i| event(event_as(AUTH, &format!("evt-r-{i}"), &format!("pay-r-{i}"))))
        .collect();
    ingest.handle(&events).await.unwrap();
    let (a, b) = (db.store.clone(), db.store.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { a.pending(30).await.unwrap() }),
        tokio::spawn(async move { b.pending(30).await.unwrap() }),
    );
    let mut ids: Vec<i64> = ra
        .unwrap()
        .iter()
        .chain(&rb.unwrap())
        .map(|r| r.id)
        .collect();
    let claimed = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), claimed, "a row was claimed twice");
    assert_eq!(claimed, 50); // 30 + 20, in whichever order the two got there
    assert!(db.store.pending(30).await.unwrap().is_empty());
}

async fn refusals_and_pending_mappings(db: &TestDb) {
    let ingest = db.ingest().await;
    let out = ingest
        .handle(&[
            // an ISO 20022 transfer: applied
            fixture_event("transfer.requested/typical.json"),
            // refused by the card mapping with every reason: invalid
            fixture_event("card.capture/invalid_approval_code.json"),
            // a bank we have no profile for
            event(event_as(AUTH, "evt-nobank", "pay-nobank")).with_bank("no-such-bank"),
            // the cancellation of that transfer, in the same batch: applied
            fixture_event("transfer.cancel_requested/typical.json"),
            // JSON on a bank's inbound queue: not an ISO 20022 message
            Incoming {
                queue: "clearway.bank.sepa-bank.in".into(),
                ..fixture_event(AUTH)
            },
            // the same bytes again, on a queue we do not read: the same poison, absorbed
            Incoming {
                queue: "clearway.other".into(),
                ..fixture_event(AUTH)
            },
        ])
        .await
        .unwrap();
    let reasons: Vec<_> = out.iter().map(dead_reason).collect();
    assert_eq!(
        reasons,
        [
            None,
            Some(DeadReason::Invalid),
            Some(DeadReason::Unmapped),
            None,
            Some(DeadReason::Decode),
            None,
        ],
        "{out:?}"
    );
    match &out[4] {
        Disposition::DeadLetter { detail, .. } => {
            assert!(detail.starts_with("ISO 20022: XML"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    // the transfer's item, cancelled-requested by the second event: one item, two messages
    assert_eq!(db.count("SELECT COUNT(*) FROM items").await, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 2);
    assert_eq!(db.count("SELECT COUNT(*) FROM dead_letters").await, 3);
}

/// Two handlers on one database, overlapping batches, retried on transient failure as the
/// broker does: every event becomes exactly one item and one outbox row.
async fn concurrent_handlers_never_double(db: &TestDb) {
    let one = std::sync::Arc::new(db.ingest().await);
    let two = std::sync::Arc::new(db.ingest().await);
    let events: Vec<Incoming> = (0..120)
        .map(|i| event(event_as(AUTH, &format!("evt-c-{i}"), &format!("pay-c-{i}"))))
        .collect();
    let run = |handler: std::sync::Arc<settlement::ingest::Ingest>,
               range: std::ops::Range<usize>| {
        let events = events.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            let mut retries = 0;
            for chunk in events[range].chunks(20) {
                loop {
                    match handler.handle(chunk).await {
                        Ok(d) => {
                            outcomes.extend(d);
                            break;
                        }
                        Err(transient) => {
                            retries += 1;
                            assert!(retries < 1000, "{transient}");
                            eprintln!("retry: {transient}");
                            tokio::task::yield_now().await;
                        }
                    }
                }
            }
            outcomes
        })
    };
    // Half a batch apart, so most batches of one handler meet keys the other holds uncommitted.
    let (a, b) = tokio::join!(run(one.clone(), 0..120), run(two.clone(), 10..120));
    let (a, b) = (a.unwrap(), b.unwrap());
    let applied = a
        .iter()
        .chain(&b)
        .filter(|d| **d == Disposition::Applied)
        .count();
    let duplicates = a
        .iter()
        .chain(&b)
        .filter(|d| **d == Disposition::Duplicate)
        .count();
    assert_eq!((applied, duplicates), (120, 110), "{a:?} {b:?}");
    assert_eq!(db.count("SELECT COUNT(*) FROM items").await, 120);
    assert_eq!(db.count("SELECT COUNT(DISTINCT id) FROM items").await, 120);
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 120);
    assert_eq!(db.count("SELECT COUNT(DISTINCT id) FROM outbox").await, 120);
    assert_eq!(db.count("SELECT COUNT(*) FROM inbox").await, 120);
    assert_eq!(db.count("SELECT COUNT(*) FROM transitions").await, 240);
    assert_eq!(
        db.count("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM items")
            .await,
        120 * 1234
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM dead_letters").await, 0);
}

/// Three handlers take overlapping ranges of the same answers: each item moves once.
async fn concurrent_answers_apply_once(db: &TestDb) {
    let first = db.ingest().await;
    let auths: Vec<Incoming> = (0..60)
        .map(|i| event(event_as(AUTH, &format!("evt-q-{i}"), &format!("pay-q-{i}"))))
        .collect();
    for chunk in auths.chunks(30) {
        let out = first.handle(chunk).await.unwrap();
        assert!(out.iter().all(|d| *d == Disposition::Applied), "{out:?}");
    }
    let answers: std::sync::Arc<Vec<Incoming>> = std::sync::Arc::new(
        (0..60)
            .map(|i| approved_0110_for(&format!("evt-q-{i}"), "2026-11-25T10:15:30+01:00"))
            .collect(),
    );
    let mut tasks = Vec::new();
    for start in [0, 5, 10] {
        let handler = db.ingest().await;
        let answers = answers.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for chunk in answers[start..].chunks(10) {
                let mut retries = 0;
                loop {
                    match handler.handle(chunk).await {
                        Ok(d) => break out.extend(d),
                        Err(e) => {
                            retries += 1;
                            assert!(retries < 1000, "{e}");
                            tokio::task::yield_now().await;
                        }
                    }
                }
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let applied = all.iter().filter(|d| **d == Disposition::Applied).count();
    assert_eq!(applied, 60, "{all:?}");
    assert_eq!(all.len() - applied, 55 + 50, "{all:?}"); // the rest are duplicates
    assert_eq!(
        db.count("SELECT COUNT(*) FROM items WHERE state = 'accepted'")
            .await,
        60
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM transitions").await, 180);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM transitions WHERE applied = 0")
            .await,
        0
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM inbox").await, 120);
}

async fn card_data_stays_tokenised(db: &TestDb) {
    let ingest = db.ingest().await;
    ingest
        .handle(&[
            fixture_event(AUTH),
            fixture_event(CAPTURE),
            fixture_event(REFUND),
        ])
        .await
        .unwrap();
    assert_eq!(db.count("SELECT COUNT(*) FROM card_tokens").await, 1);
    let masked = db.texts("SELECT masked FROM card_tokens").await;
    assert_eq!(masked, ["476173******0010"]);
    let tokens = db.texts("SELECT DISTINCT card_token FROM items").await;
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].len(), 64);
    // A dead-lettered card event (the same id with another amount) keeps a masked copy.
    let mut v: serde_json::Value = serde_json::from_str(&event_text(AUTH)).unwrap();
    v["data"]["amount"]["value"] = "1.00".into();
    let out = ingest
        .handle(&[event(serde_json::to_vec(&v).unwrap())])
        .await
        .unwrap();
    assert_eq!(dead_reason(&out[0]), Some(DeadReason::Conflict));
    let copies = db.texts("SELECT payload_masked FROM dead_letters").await;
    assert_eq!(copies.len(), 1);
    assert!(copies[0].contains("476173******0010"), "{}", copies[0]);
    // The PAN is in the clear nowhere in the database: the outbox payloads (the wire) are
    // sealed, and the relay's claim opens them.
    for hex in db.texts("SELECT payload_hex FROM outbox").await {
        let bytes = settlement::store::from_hex(&hex).unwrap();
        assert!(bytes.starts_with(b"CWSEAL1:"), "an unsealed outbox payload");
        assert!(!hex.contains("4761739001010010"));
        assert!(!bytes.windows(16).any(|w| w == b"4761739001010010"));
    }
    let claimed = db.store.claim_outbox(100).await.unwrap();
    assert!(!claimed.is_empty());
    assert!(
        claimed
            .iter()
            .all(|r| !r.payload.starts_with(b"CWSEAL1:") && r.payload.len() > 20),
        "the claim hands the relay the opened wire bytes"
    );
    for sql in [
        "SELECT key || detail || payload_masked FROM dead_letters",
        "SELECT id || payment_id || event_id || kind || state || message_ids || COALESCE(card_token, '') FROM items",
        "SELECT token || masked FROM card_tokens",
        "SELECT item_id || input || note FROM transitions",
        "SELECT key || outcome FROM inbox",
        "SELECT ref || item_id FROM refs",
    ] {
        for text in db.texts(sql).await {
            assert!(!text.contains("4761739001010010"), "{sql}: {text}");
        }
    }
}

trait WithBank {
    fn with_bank(self, bank: &str) -> Self;
}

impl WithBank for Incoming {
    fn with_bank(mut self, bank: &str) -> Incoming {
        let mut v: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
        v["bank"] = bank.into();
        self.body = serde_json::to_vec(&v).unwrap();
        self
    }
}

mod property {
    use proptest::prelude::*;

    use super::common::{Backend, TestDb, event_text};
    use settlement::flow::{Disposition, Handler, Incoming};

    fn queue() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just("clearway.events"),
            Just("clearway.bank.card-acquirer.in"),
            Just("clearway.bank.sepa-bank.in"),
            Just("clearway.bank.nobody.in"),
            Just("elsewhere"),
        ]
    }

    /// A fixture event with a few bytes overwritten, or arbitrary bytes.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        let fixture = event_text("card.authorization_requested/typical.json").into_bytes();
        let len = fixture.len();
        prop_oneof![
            proptest::collection::vec((0..len, any::<u8>()), 0..4).prop_map(move |edits| {
                let mut body = fixture.clone();
                for (at, byte) in edits {
                    body[at] = byte;
                }
                body
            }),
            proptest::collection::vec(any::<u8>(), 0..300),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Any batch of any bodies on any queue: one disposition each, no error, no panic,
        /// and every delivery that is not applied or a duplicate is a recorded dead letter.
        #[test]
        fn any_delivery_gets_a_disposition(batch in proptest::collection::vec((queue(), body()), 1..6)) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                let db = TestDb::new(Backend::Sqlite).await;
                let ingest = db.ingest().await;
                let deliveries: Vec<Incoming> = batch
                    .iter()
                    .map(|(queue, body)| Incoming {
                        queue: (*queue).into(),
                        routing_key: String::new(),
                        message_id: None,
                        headers: Default::default(),
                        redelivered: false,
                        body: body.clone(),
                    })
                    .collect();
                let out = ingest.handle(&deliveries).await.unwrap();
                assert_eq!(out.len(), deliveries.len());
                let dead = out.iter().filter(|d| matches!(d, Disposition::DeadLetter { .. })).count();
                assert_eq!(db.count("SELECT COUNT(*) FROM dead_letters").await, dead as i64);
                // a replay changes nothing: all duplicates or (unkeyed) dead letters again
                let again = ingest.handle(&deliveries).await.unwrap();
                assert!(!again.contains(&Disposition::Applied), "{again:?}");
                db.finish().await;
            });
        }
    }
}

/// With the database out of reach the handler says transient (the broker retries and never
/// acks) and nothing is committed.
async fn unavailable_database_is_transient(db: &TestDb) {
    let ingest = db.ingest().await;
    db.store.close().await;
    let err = ingest.handle(&[fixture_event(AUTH)]).await.unwrap_err();
    assert!(err.to_string().starts_with("transient: "), "{err}");
    assert_eq!(db.count("SELECT COUNT(*) FROM inbox").await, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 0);
}

/// Authorization then reversal ends Reversed; a closed batch and its 0510 end Settled with the
/// net as its amount; a declined authorization ends Rejected.
async fn card_flows_reach_their_ends(db: &TestDb) {
    let ingest = db.ingest().await;
    let out = ingest
        .handle(&[
            fixture_event(AUTH),
            card_answer("0110_approved.hex"),
            fixture_event(REVERSAL),
            card_answer("0410_reversal_accepted.hex"),
            fixture_event("card.batch_closed/typical.json"),
            card_answer("0510_batch_in_balance.hex"),
        ])
        .await
        .unwrap();
    assert!(out.iter().all(|d| *d == Disposition::Applied), "{out:?}");
    let items = db.store.list_items(ItemFilter::default()).await.unwrap();
    let summary: Vec<(&str, &str, &str, usize)> = items
        .iter()
        .map(|i| {
            (
                i.item_id.as_str(),
                i.state.as_str(),
                i.amount.as_str(),
                i.message_ids.len(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("batch-20261125", "settled", "2423.41", 1),
            ("pay-0001", "reversed", "12.34", 2),
        ]
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 3); // 0100, 0400, 0500
    assert_eq!(
        db.count("SELECT COUNT(*) FROM transitions WHERE applied = 0")
            .await,
        0
    );

    // another payment, declined
    let other = event(event_as(AUTH, "evt-auth-0001", "pay-0001"));
    assert_eq!(
        ingest.handle(&[other]).await.unwrap(),
        [Disposition::Duplicate]
    );
    let db2 = TestDb::new(if db.url.starts_with("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    })
    .await;
    let ingest2 = db2.ingest().await;
    let out = ingest2
        .handle(&[
            fixture_event(AUTH),
            card_answer("0110_declined_insufficient_funds.hex"),
        ])
        .await
        .unwrap();
    assert_eq!(out, [Disposition::Applied, Disposition::Applied]);
    assert_eq!(
        db2.count("SELECT COUNT(*) FROM items WHERE state = 'rejected'")
            .await,
        1
    );
    db2.finish().await;
}

/// The consumer prepares batch k+1 while batch k commits, and another instance may commit the
/// same events in between: a preparation is only a head start. Whatever it mapped, the commit
/// decides by the inbox under its own lock; a retried commit over the same preparation too.
async fn prepared_head_start_never_doubles(db: &TestDb) {
    let ingest = db.ingest().await;
    let other = db.ingest().await;
    let auth = fixture_event(AUTH);
    let capture = fixture_event(CAPTURE);
    let batch = [auth.clone(), capture.clone(), auth.clone()];

    // prepared while nothing is in the inbox: the authorization is mapped ahead
    let mut early = ingest.prepare(&batch).await;
    // meanwhile another instance commits the authorization and the capture
    assert_eq!(
        other
            .handle(&[auth.clone(), capture.clone()])
            .await
            .unwrap(),
        [Disposition::Applied, Disposition::Applied]
    );
    // the commit over the stale preparation absorbs all three
    assert_eq!(
        ingest.commit(&batch, &mut early).await.unwrap(),
        [
            Disposition::Duplicate,
            Disposition::Duplicate,
            Disposition::Duplicate
        ]
    );
    // and committing the same preparation again changes nothing either
    assert_eq!(
        ingest.commit(&batch, &mut early).await.unwrap(),
        [
            Disposition::Duplicate,
            Disposition::Duplicate,
            Disposition::Duplicate
        ]
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM items").await, 1);
    assert_eq!(db.count("SELECT COUNT(*) FROM inbox").await, 2);
    assert_eq!(db.count("SELECT COUNT(*) FROM outbox").await, 2); // 0100, then the capture

    // a preparation that saw the key already (nothing mapped ahead) still commits fresh
    // events it did not map: the reversal arrives in a batch prepared before it was known
    let reversal = fixture_event(REVERSAL);
    let mut late = ingest.prepare(std::slice::from_ref(&reversal)).await;
    assert_eq!(
        ingest
            .commit(std::slice::from_ref(&reversal), &mut late)
            .await
            .unwrap(),
        [Disposition::Applied]
    );
    // a preparation made for another batch is not trusted: the commit starts from the bytes
    let mut foreign = ingest.prepare(&batch).await;
    let refund = fixture_event(REFUND);
    assert_eq!(
        ingest
            .commit(std::slice::from_ref(&refund), &mut foreign)
            .await
            .unwrap(),
        [Disposition::Applied]
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM inbox").await, 4);
}
