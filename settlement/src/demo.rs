//! The bookkeeping of `clearway demo`: what the generator promised ([`Expected`]), what the
//! store ([`AuditFacts`]) and the banks' journals ([`JournalEntry`]) hold at the end, and the
//! check between them ([`check`]), which counts lost and doubled effects:
//!
//! - **lost** = unique valid events without their effect (no inbox row, a dead letter, or no
//!   outbox row carrying the event) + outbox messages their bank never received (journal);
//! - **doubled** = events with more than one outbox row + messages a bank received twice as
//!   non-duplicates (a re-send the bank deduped is journaled `duplicate: true` and is fine) +
//!   transitions applied twice for one cause.
//!
//! [`check`] is a pure function of the three, so it is tested on synthetic facts; [`Probe`] is
//! the demo's window on the running system (queue depths, store activity), on a runtime of its
//! own so the CLI stays synchronous. Nothing here starts or stops a process.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use adapters::Profile;
use adapters::generate::{LineKind, Spec, stream};
use serde::{Deserialize, Serialize};

use crate::banksim::JournalEntry;
use crate::banksim::journal::mask_card_numbers;
use crate::broker::{self, AmqpUrl, BankId, BrokerError, Connection, QueueDepth, Topology};
use crate::store::{self, Activity, AuditFacts, Store};

/// What the generated stream must produce, from the generator's own counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Lines published (unique + duplicates + conflicts).
    pub lines: usize,
    /// Unique valid events.
    pub unique: usize,
    /// Exact re-sends.
    pub duplicates: usize,
    /// Lines reusing an event id with another payload.
    pub conflicts: usize,
    /// Unique events per type.
    pub by_type: BTreeMap<String, usize>,
    /// Message type → how many the unique events must produce.
    pub messages: BTreeMap<String, usize>,
    /// The ids of the unique events.
    pub event_ids: BTreeSet<String>,
}

/// Generates the demo's events: the JSON lines (the wire: they hold card numbers) and what
/// they must produce.
pub fn generate(spec: &Spec, profiles: &[Profile]) -> Result<(Vec<u8>, Expected), DemoError> {
    let mut lines = stream(spec, profiles);
    let mut jsonl = Vec::new();
    let mut expected = Expected::default();
    for line in lines.by_ref() {
        if let LineKind::Unique(_) = line.kind {
            let envelope: EventId = serde_json::from_str(&line.text)
                .map_err(|e| DemoError::Generated(format!("line {}: {e}", expected.lines + 1)))?;
            expected.event_ids.insert(envelope.event_id);
        }
        jsonl.extend_from_slice(line.text.as_bytes());
        jsonl.push(b'\n');
        expected.lines += 1;
    }
    let c = lines.counts();
    expected.unique = c.unique;
    expected.duplicates = c.duplicates;
    expected.conflicts = c.conflicts;
    expected.by_type = c.by_type.clone();
    expected.messages = c.expected_messages.clone();
    if expected.event_ids.len() != expected.unique {
        return Err(DemoError::Generated(format!(
            "{} unique lines carry {} distinct event ids",
            expected.unique,
            expected.event_ids.len()
        )));
    }
    Ok((jsonl, expected))
}

#[derive(Deserialize)]
struct EventId {
    event_id: String,
}

/// Why the demo's bookkeeping failed (not an invariant: those are in the [`Report`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The generator produced something the demo cannot read (a bug).
    #[error("generated events: {0}")]
    Generated(String),
    /// A journal does not read (path, line and why).
    #[error("journal {path}: {problem}")]
    Journal { path: String, problem: String },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The broker failed.
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

/// Reads a bank simulator's journal without taking it over: a missing file is empty, and a last
/// line cut short by a kill (no newline) is left out, as the simulator itself does on reopening.
pub fn read_journal(path: &Path) -> Result<Vec<JournalEntry>, DemoError> {
    let fail = |problem: String| DemoError::Journal {
        path: path.display().to_string(),
        problem,
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(fail(e.to_string())),
    };
    let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let mut entries = Vec::new();
    for (i, line) in bytes
        .get(..whole)
        .unwrap_or_default()
        .split(|b| *b == b'\n')
        .enumerate()
    {
        if line.is_empty() {
            continue;
        }
        entries
            .push(serde_json::from_slice(line).map_err(|e| fail(format!("line {}: {e}", i + 1)))?);
    }
    Ok(entries)
}

/// The bank a `clearway.bank.<id>.out` routing key goes to.
fn bank_of(routing_key: &str) -> &str {
    let tail = routing_key.strip_suffix(".out").unwrap_or(routing_key);
    tail.rsplit_once(".bank.").map_or(tail, |(_, id)| id)
}

/// The parts of `lost`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lost {
    /// Unique events with no inbox row, a dead-letter outcome, or no outbox row.
    pub events_without_effect: usize,
    /// Outbox messages absent from their bank's journal (unpublished ones included).
    pub messages_never_received: usize,
}

/// The parts of `doubled`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doubled {
    /// Events that have more than one outbox row (one per extra row).
    pub events_applied_twice: usize,
    /// Messages a bank journaled more than once as not a duplicate (one per extra entry).
    pub messages_received_twice: usize,
    /// `(item, cause, input)` applied more than once (one per group).
    pub transitions_applied_twice: usize,
}

/// The demo's figures and its verdict; `summary.json` holds this (plus a `run` section).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Lines published.
    pub events: usize,
    /// Distinct event ids recorded by the inbox.
    pub unique_events: usize,
    /// Unique events per type (the generator's count).
    pub events_by_type: BTreeMap<String, usize>,
    /// Outbox messages per message type.
    pub messages_by_type: BTreeMap<String, usize>,
    /// Items.
    pub items: i64,
    /// Items per state, states with none left out.
    pub items_by_final_state: BTreeMap<String, i64>,
    /// Lines published that left no row: exact re-sends the inbox absorbed.
    pub duplicates_absorbed: usize,
    /// Distinct conflicting reuses of an event id, dead-lettered.
    pub conflicts_dead_lettered: usize,
    /// Distinct dead-lettered messages per reason, all queues.
    pub dead_letters_by_reason: BTreeMap<String, i64>,
    /// Distinct messages the banks journaled.
    pub bank_messages_received: usize,
    /// The first invariant: must be 0.
    pub lost: usize,
    /// Its parts.
    pub lost_detail: Lost,
    /// The second invariant: must be 0.
    pub doubled: usize,
    /// Its parts.
    pub doubled_detail: Doubled,
    /// Counts that disagree with the generator, one sentence each; must be empty.
    pub mismatches: Vec<String>,
    /// Up to 10 ids (event ids, message ids: never card data) behind a lost or doubled count.
    pub examples: Vec<String>,
}

impl Report {
    /// Lost 0, doubled 0, and every count as the generator said.
    pub fn passed(&self) -> bool {
        self.lost == 0 && self.doubled == 0 && self.mismatches.is_empty()
    }
}

const EXAMPLES_MAX: usize = 10;

/// Compares the store's facts and the journals (bank id → entries) with what was published.
pub fn check(
    expected: &Expected,
    facts: &AuditFacts,
    journals: &BTreeMap<String, Vec<JournalEntry>>,
    events_queue: &str,
) -> Report {
    let mut examples = Vec::new();
    let mut example = |text: String| {
        if examples.len() < EXAMPLES_MAX {
            examples.push(text);
        }
    };
    let mut outbox_by_event: BTreeMap<&str, usize> = BTreeMap::new();
    let mut messages_by_type: BTreeMap<String, usize> = BTreeMap::new();
    for row in &facts.outbox {
        *outbox_by_event.entry(row.event_id.as_str()).or_default() += 1;
        *messages_by_type
            .entry(row.message_type.clone())
            .or_default() += 1;
    }

    let mut lost = Lost::default();
    for id in &expected.event_ids {
        let recorded = facts
            .inbox_events
            .get(id)
            .is_some_and(|outcome| !outcome.starts_with("dead:"));
        if !recorded || !outbox_by_event.contains_key(id.as_str()) {
            lost.events_without_effect += 1;
            example(format!("lost event {id}"));
        }
    }
    // What each bank received: message id → entries not flagged duplicate.
    let mut received: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut doubled = Doubled::default();
    for (bank, entries) in journals {
        let fresh = received.entry(bank.as_str()).or_default();
        for entry in entries {
            let n = fresh.entry(entry.message_id.as_str()).or_default();
            if !entry.duplicate {
                *n += 1;
                if *n == 2 {
                    example(format!("{bank} received {} twice", entry.message_id));
                }
            }
        }
        doubled.messages_received_twice +=
            fresh.values().map(|n| n.saturating_sub(1)).sum::<usize>();
    }
    for row in &facts.outbox {
        let id = mask_card_numbers(&row.message_id);
        let bank = bank_of(&row.routing_key);
        if !received
            .get(bank)
            .is_some_and(|m| m.contains_key(id.as_str()))
        {
            lost.messages_never_received += 1;
            let state = if row.published {
                "published"
            } else {
                "unpublished"
            };
            example(format!("{bank} never received {id} ({state})"));
        }
    }
    for (event, n) in &outbox_by_event {
        if *n > 1 {
            doubled.events_applied_twice += n - 1;
            example(format!("event {event} has {n} outbox rows"));
        }
    }
    doubled.transitions_applied_twice = facts.transitions_applied_twice.len();
    for (item, cause, input) in &facts.transitions_applied_twice {
        example(format!("item {item}: {input} from {cause} applied twice"));
    }

    let unique_events = facts.inbox_events.len();
    let conflicts = facts
        .dead_letters
        .iter()
        .filter(|((queue, reason), _)| queue == events_queue && reason == "conflict")
        .map(|(_, n)| usize::try_from(*n).unwrap_or(0))
        .sum::<usize>();
    let duplicates_absorbed = expected
        .lines
        .saturating_sub(unique_events)
        .saturating_sub(conflicts);
    let mut dead_letters_by_reason = BTreeMap::new();
    for ((_, reason), n) in &facts.dead_letters {
        *dead_letters_by_reason.entry(reason.clone()).or_default() += n;
    }

    let mut mismatches = Vec::new();
    let mut compare = |what: &str, got: usize, want: usize| {
        if got != want {
            mismatches.push(format!("{what}: {got}, the generator made {want}"));
        }
    };
    compare("unique events recorded", unique_events, expected.unique);
    compare("conflicts dead-lettered", conflicts, expected.conflicts);
    compare(
        "duplicates absorbed",
        duplicates_absorbed,
        expected.duplicates,
    );
    let types: BTreeSet<&String> = messages_by_type
        .keys()
        .chain(expected.messages.keys())
        .collect();
    for t in types {
        let got = messages_by_type.get(t).copied().unwrap_or(0);
        let want = expected.messages.get(t).copied().unwrap_or(0);
        compare(&format!("{t} messages"), got, want);
    }

    let items_by_final_state: BTreeMap<String, i64> = facts
        .items_by_state
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| (s.clone(), *n))
        .collect();
    let report_lost = lost.events_without_effect + lost.messages_never_received;
    let report_doubled = doubled.events_applied_twice
        + doubled.messages_received_twice
        + doubled.transitions_applied_twice;
    Report {
        events: expected.lines,
        unique_events,
        events_by_type: expected.by_type.clone(),
        messages_by_type,
        items: items_by_final_state.values().sum(),
        items_by_final_state,
        duplicates_absorbed,
        conflicts_dead_lettered: conflicts,
        dead_letters_by_reason,
        bank_messages_received: received.values().map(BTreeMap::len).sum(),
        lost: report_lost,
        lost_detail: lost,
        doubled: report_doubled,
        doubled_detail: doubled,
        mismatches,
        examples,
    }
}

/// Creates a fresh PostgreSQL database `name` on the server `server_url` names (dropping one of
/// that name first) and returns its URL: the demo's store for one run.
pub fn create_postgres_database(server_url: &str, name: &str) -> Result<String, DemoError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BrokerError::Runtime)?;
    Ok(runtime.block_on(store::create_database(server_url, name))?)
}

/// Drops the database [`create_postgres_database`] made.
pub fn drop_postgres_database(server_url: &str, name: &str) -> Result<(), DemoError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BrokerError::Runtime)?;
    Ok(runtime.block_on(store::drop_database(server_url, name))?)
}

/// One look at the running system.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Ready messages per queue (`None`: the queue does not exist or the broker did not answer).
    pub queues: Vec<QueueDepth>,
    /// The store's counts.
    pub activity: Activity,
}

impl Snapshot {
    /// Ready messages in every queue but the dead-letter one (nobody consumes it).
    pub fn ready_messages(&self, dead_queue: &str) -> u64 {
        self.queues
            .iter()
            .filter(|q| q.queue != dead_queue)
            .map(|q| u64::from(q.messages.unwrap_or(0)))
            .sum()
    }
}

/// The demo's window on the broker and the store, on a runtime of its own.
pub struct Probe {
    runtime: tokio::runtime::Runtime,
    url: AmqpUrl,
    topology: Topology,
    banks: Vec<BankId>,
    store: Store,
    conn: Option<Connection>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("url", &self.url)
            .field("banks", &self.banks)
            .finish_non_exhaustive()
    }
}

/// The connection name the demo's own connection shows in `rabbitmqctl list_connections`.
pub const PROBE_CONNECTION_NAME: &str = "clearway-demo";

impl Probe {
    /// Opens (and migrates) the database at `database_url`; the broker is connected on first
    /// use.
    pub fn open(
        database_url: &str,
        url: AmqpUrl,
        topology: Topology,
        banks: Vec<BankId>,
    ) -> Result<Probe, DemoError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(BrokerError::Runtime)?;
        let store = runtime.block_on(Store::open(database_url))?;
        Ok(Probe {
            runtime,
            url,
            topology,
            banks,
            store,
            conn: None,
        })
    }

    /// Whether the broker accepts a connection now.
    pub fn broker_reachable(&mut self) -> Result<(), BrokerError> {
        self.connect()
    }

    /// Connects unless a live connection is open.
    fn connect(&mut self) -> Result<(), BrokerError> {
        if self.conn.as_ref().is_some_and(|c| !c.is_connected()) {
            self.conn = None;
        }
        if self.conn.is_none() {
            let conn = self
                .runtime
                .block_on(broker::connect(&self.url, PROBE_CONNECTION_NAME))?;
            self.conn = Some(conn);
        }
        Ok(())
    }

    /// Deletes and declares the topology, so a re-run starts with empty queues.
    pub fn reset_topology(&mut self) -> Result<(), BrokerError> {
        self.connect()?;
        let Some(conn) = &self.conn else {
            return Ok(()); // connect() leaves a connection or an error
        };
        let (topology, banks) = (&self.topology, &self.banks);
        self.runtime.block_on(async {
            topology.delete(conn, banks).await?;
            topology.declare(conn, banks).await
        })
    }

    /// Publishes the events (JSON lines) with confirms.
    pub fn publish(&mut self, jsonl: &[u8]) -> Result<usize, DemoError> {
        let report = self
            .runtime
            .block_on(broker::publish_events(&self.url, &self.topology, jsonl))
            .map_err(|e| match e {
                broker::PublishError::Broker(b) => DemoError::Broker(b),
                other => DemoError::Generated(other.to_string()),
            })?;
        Ok(report.published)
    }

    /// Queue depths and store counts. A broker that does not answer leaves the depths unknown
    /// (`None`) and is retried on the next call; a store error is returned.
    pub fn snapshot(&mut self) -> Result<Snapshot, DemoError> {
        let queues = self.topology.all_queues(&self.banks);
        let depths = match (self.connect(), &self.conn) {
            (Ok(()), Some(conn)) => self.runtime.block_on(broker::queue_depths(conn, &queues)),
            (Err(e), _) => Err(e),
            (Ok(()), None) => Ok(Vec::new()),
        };
        let queues = match depths {
            Ok(d) => d,
            Err(_) => {
                self.conn = None;
                queues
                    .into_iter()
                    .map(|queue| QueueDepth {
                        queue,
                        messages: None,
                        consumers: None,
                    })
                    .collect()
            }
        };
        let activity = self
            .runtime
            .block_on(Activity::load(&self.store, &self.topology.events_queue))?;
        Ok(Snapshot { queues, activity })
    }

    /// The facts the final check reads.
    pub fn facts(&self) -> Result<AuditFacts, DemoError> {
        Ok(self.runtime.block_on(AuditFacts::load(&self.store))?)
    }

    /// Closes the broker connection and the store.
    pub fn close(mut self) {
        let conn = self.conn.take();
        let store = self.store.clone();
        self.runtime.block_on(async {
            if let Some(conn) = conn {
                conn.close().await;
            }
            store.close().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OutboxFact;

    fn expected() -> Expected {
        Expected {
            lines: 5,
            unique: 3,
            duplicates: 1,
            conflicts: 1,
            by_type: BTreeMap::from([("transfer.requested".into(), 3)]),
            messages: BTreeMap::from([("pacs.008.001.08".into(), 3)]),
            event_ids: ["e1", "e2", "e3"].map(String::from).into(),
        }
    }

    fn outbox(event: &str, message_id: &str) -> OutboxFact {
        OutboxFact {
            message_id: message_id.into(),
            routing_key: "clearway.bank.sepa-bank.out".into(),
            message_type: "pacs.008.001.08".into(),
            event_id: event.into(),
            published: true,
        }
    }

    fn entry(seq: u64, message_id: &str, duplicate: bool) -> JournalEntry {
        JournalEntry {
            seq,
            message_id: message_id.into(),
            message_type: "pacs.008.001.08".into(),
            queue: "clearway.bank.sepa-bank.out".into(),
            duplicate,
            at: "2026-11-25T07:00:00Z".into(),
        }
    }

    /// A store and journals where every event had exactly one effect.
    fn clean() -> (AuditFacts, BTreeMap<String, Vec<JournalEntry>>) {
        let facts = AuditFacts {
            inbox_events: ["e1", "e2", "e3"]
                .map(|e| (e.to_owned(), "applied".to_owned()))
                .into(),
            inbox_rows: 3,
            outbox: vec![outbox("e1", "m1"), outbox("e2", "m2"), outbox("e3", "m3")],
            items_by_state: BTreeMap::from([("settled".into(), 3), ("rejected".into(), 0)]),
            transitions: 9,
            transitions_applied_twice: vec![],
            dead_letters: BTreeMap::from([(("clearway.events".into(), "conflict".into()), 1)]),
        };
        let journal = vec![
            entry(1, "m1", false),
            entry(2, "m2", false),
            entry(3, "m2", true), // a re-send the bank deduped: not doubled
            entry(4, "m3", false),
        ];
        (facts, BTreeMap::from([("sepa-bank".to_owned(), journal)]))
    }

    #[test]
    fn a_clean_run_passes_with_the_generators_counts() {
        let (facts, journals) = clean();
        let r = check(&expected(), &facts, &journals, "clearway.events");
        assert!(r.passed(), "{r:?}");
        assert_eq!((r.lost, r.doubled), (0, 0));
        assert_eq!(r.unique_events, 3);
        assert_eq!(r.duplicates_absorbed, 1);
        assert_eq!(r.conflicts_dead_lettered, 1);
        assert_eq!(r.items, 3);
        assert_eq!(
            r.items_by_final_state,
            BTreeMap::from([("settled".into(), 3)])
        );
        assert_eq!(r.bank_messages_received, 3);
    }

    #[test]
    fn a_message_the_bank_never_received_and_an_event_without_effect_are_lost() {
        let (mut facts, mut journals) = clean();
        facts.outbox.retain(|o| o.event_id != "e3"); // e3 recorded, no message
        journals
            .values_mut()
            .for_each(|j| j.retain(|e| e.message_id != "m2"));
        let r = check(&expected(), &facts, &journals, "clearway.events");
        assert_eq!(r.lost, 2);
        assert_eq!(
            r.lost_detail,
            Lost {
                events_without_effect: 1,
                messages_never_received: 1
            }
        );
        assert_eq!(r.doubled, 0);
        assert!(!r.passed());
        assert!(
            r.examples.iter().any(|e| e.contains("e3")),
            "{:?}",
            r.examples
        );
        // two messages fewer than the generator expects is a mismatch too
        assert!(
            r.mismatches
                .iter()
                .any(|m| m.starts_with("pacs.008.001.08"))
        );
    }

    #[test]
    fn a_dead_lettered_or_unrecorded_event_is_lost() {
        let (mut facts, journals) = clean();
        facts
            .inbox_events
            .insert("e1".into(), "dead:invalid".into());
        facts.inbox_events.remove("e2");
        let r = check(&expected(), &facts, &journals, "clearway.events");
        assert_eq!(r.lost_detail.events_without_effect, 2);
        assert!(r.mismatches.iter().any(|m| m.starts_with("unique events")));
    }

    #[test]
    fn effects_taken_twice_are_doubled_but_a_deduped_resend_is_not() {
        let (mut facts, mut journals) = clean();
        facts.outbox.push(outbox("e1", "m1-again"));
        journals.values_mut().for_each(|j| {
            j.push(entry(5, "m1-again", false));
            j.push(entry(6, "m3", false)); // received again, not flagged: doubled
        });
        facts.transitions_applied_twice = vec![("i1".into(), "bank/s1".into(), "settled".into())];
        let r = check(&expected(), &facts, &journals, "clearway.events");
        assert_eq!(r.lost, 0);
        assert_eq!(
            r.doubled_detail,
            Doubled {
                events_applied_twice: 1,
                messages_received_twice: 1,
                transitions_applied_twice: 1
            }
        );
        assert_eq!(r.doubled, 3);
        assert!(!r.passed());
    }

    #[test]
    fn journals_read_back_without_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        assert!(read_journal(&path).unwrap().is_empty());
        let mut text = serde_json::to_string(&entry(1, "m1", false)).unwrap();
        text.push('\n');
        text.push_str("{\"seq\":2,\"mess"); // killed mid-write
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read_journal(&path).unwrap(), vec![entry(1, "m1", false)]);
        std::fs::write(&path, "not json\n").unwrap();
        let err = read_journal(&path).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }

    #[test]
    fn routing_keys_name_their_bank() {
        assert_eq!(bank_of("clearway.bank.sepa-bank.out"), "sepa-bank");
        assert_eq!(bank_of("t1.bank.card.acquirer.out"), "card.acquirer");
    }
}
