//! `clearway run` and `clearway status`: the service that wires the store, the profiles, the
//! broker, the consumers, the relay and the metrics together, and the snapshot that reports on
//! them. It decides nothing about clearing ([`crate::ingest`] does) and adds no broker logic of
//! its own ([`crate::broker`] does): it starts things in order, watches them, bridges their
//! counters into [`Metrics`], and stops them in order.
//!
//! Start: profiles (checked against the topology's queue names), the store (migrated), one
//! broker connection that declares the topology and later polls queue depths, the metrics
//! server, one `Consumer` per consumed queue (events and every bank's `.in`), one `Relay`.
//! Stop (SIGTERM, SIGINT, or a consumer that fails): consumers finish their batch (commit, then
//! ack) and close; then the relay, the poller and the metrics server stop, and the store closes.
//! A SIGKILL at any moment loses nothing: unacked deliveries come back and the inbox absorbs what
//! had committed; unpublished outbox rows are published by the next relay.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use adapters::event::EventType;
use adapters::profile::Profile;
use serde::Serialize;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::broker::{
    self, BankId, BrokerError, Consumer, ConsumerConfig, MetricsSnapshot, Relay, RelayConfig,
    RelaySnapshot, Topology,
};
use crate::config::Settings;
use crate::flow::{
    DeadReason, Disposition, Handler, Incoming, Outbox, OutboxRow, Prepared, Transient,
};
use crate::ingest::{Ingest, load_profiles};
use crate::metrics::{self, InLabel, Metrics, QueueLabel, ReasonLabel, TypeLabel};
use crate::store::{self, Store, Summary};

/// Why the service could not start, or stopped with an error. Each names what it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A profile does not load (the profile loader names the file and key).
    #[error("profiles in {dir}: {message}")]
    Profiles { dir: String, message: String },
    /// A profile's queues are not where the topology puts them.
    #[error(
        "profile {profile}: queues.{key} is {found:?}, but topology_prefix puts it at {expected:?}"
    )]
    ProfileQueue {
        profile: String,
        key: &'static str,
        found: String,
        expected: String,
    },
    /// The database could not be opened or migrated.
    #[error("database {url}: {source}")]
    Store {
        url: String,
        #[source]
        source: store::Error,
    },
    /// The broker could not be reached or refused the topology.
    #[error("broker: {0}")]
    Broker(#[from] BrokerError),
    /// `/metrics` could not listen.
    #[error("metrics address {addr}: {source}")]
    Metrics {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// The tokio runtime did not start.
    #[error("starting the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl ServiceError {
    /// Whether the configuration or the profiles are at fault (exit 3) rather than the system.
    pub fn is_refused_input(&self) -> bool {
        matches!(
            self,
            ServiceError::Profiles { .. } | ServiceError::ProfileQueue { .. }
        )
    }
}

/// What a run did, summed over its consumers and its relay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    pub consumed: MetricsSnapshot,
    pub relayed: RelaySnapshot,
}

/// Loads the profiles and checks that their queues are the topology's; returns the bank ids.
pub fn load_banks(dir: &Path, topology: &Topology) -> Result<Vec<Profile>, ServiceError> {
    let profiles = load_profiles(dir).map_err(|e| ServiceError::Profiles {
        dir: dir.display().to_string(),
        message: e.to_string(),
    })?;
    for profile in &profiles {
        let bank = BankId::parse(&profile.id).map_err(|e| ServiceError::Profiles {
            dir: dir.display().to_string(),
            message: e.to_string(),
        })?;
        let expected = [
            (
                "outbound",
                &profile.queues.outbound,
                topology.bank_out(&bank),
            ),
            ("inbound", &profile.queues.inbound, topology.bank_in(&bank)),
        ];
        for (key, found, expected) in expected {
            if *found != expected {
                return Err(ServiceError::ProfileQueue {
                    profile: profile.id.clone(),
                    key,
                    found: found.clone(),
                    expected,
                });
            }
        }
    }
    Ok(profiles)
}

/// Attempts at opening the store before giving up.
const STORE_OPEN_ATTEMPTS: u32 = 5;

/// `Store::open`, retried a few times on a migration failure: two processes that open a fresh
/// SQLite database at once (a `clearway status` beside a starting `clearway run`) both try to
/// create the schema, and the loser fails with "table already exists"; its retry finds the
/// schema in place. Other failures (unreachable, refused credentials) are returned at once.
async fn open_store(url: &str) -> Result<Store, store::Error> {
    let mut attempt = 0;
    loop {
        match Store::open(url).await {
            Err(store::Error::Migrate(error)) if attempt + 1 < STORE_OPEN_ATTEMPTS => {
                attempt += 1;
                tracing::warn!(%error, attempt, "migrating the store failed; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)))
                    .await;
            }
            result => return result,
        }
    }
}

fn bank_ids(profiles: &[Profile]) -> Vec<BankId> {
    // load_banks parsed every id already
    profiles
        .iter()
        .filter_map(|p| BankId::parse(&p.id).ok())
        .collect()
}

/// Runs the service on a multi-threaded runtime of its own until SIGTERM or SIGINT.
pub fn run_blocking(settings: &Settings) -> Result<RunReport, ServiceError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServiceError::Runtime)?;
    runtime.block_on(async {
        let stop = CancellationToken::new();
        let signals = tokio::spawn(stop_on_signal(stop.clone()));
        let result = run(settings, &stop).await;
        signals.abort();
        result
    })
}

async fn stop_on_signal(stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (term, int) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    let (mut term, mut int) = match (term, int) {
        (Ok(term), Ok(int)) => (term, int),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "cannot install the SIGTERM/SIGINT handlers");
            return;
        }
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal = name, "stopping: finishing the batches under way");
    stop.cancel();
}

/// Runs the service until `stop` is cancelled or a consumer fails (see the module docs).
pub async fn run(settings: &Settings, stop: &CancellationToken) -> Result<RunReport, ServiceError> {
    let topology = &settings.topology;
    let name = settings.name.as_str();
    tracing::info!(
        name,
        amqp = %settings.amqp_url,
        database = %settings.database_url_redacted(),
        profiles = %settings.profiles.display(),
        events_queue = %topology.events_queue,
        "starting"
    );
    let profiles = load_banks(&settings.profiles, topology)?;
    let banks = bank_ids(&profiles);
    let store_error = |source| ServiceError::Store {
        url: settings.database_url_redacted(),
        source,
    };
    let store = open_store(&settings.database_url)
        .await
        .map_err(store_error)?;
    let conn = broker::connect(&settings.amqp_url, &format!("{name} control")).await?;
    topology.declare(&conn, &banks).await?;

    let metrics = Metrics::new();
    metrics.set_health("store", true);
    metrics.set_health("broker", true);
    let ingest = Ingest::new(store.clone(), profiles)
        .await
        .map_err(store_error)?
        .with_queue_names(topology.events_queue.clone(), topology.bank_prefix.clone());
    let handler = Arc::new(Metered {
        ingest,
        events_queue: topology.events_queue.clone(),
        metrics: Arc::clone(&metrics),
    });

    let server_stop = CancellationToken::new();
    let server_done = server_stop.clone();
    let (bound, server) = metrics::serve(settings.metrics_addr, Arc::clone(&metrics), async move {
        server_done.cancelled().await;
    })
    .await
    .map_err(|source| ServiceError::Metrics {
        addr: settings.metrics_addr.to_string(),
        source,
    })?;
    tracing::info!(addr = %bound, "serving /metrics and /health");

    // Consumers: one per queue, so each has its own health and its own connection.
    let consumer_stop = stop.child_token();
    let consumed = topology.consumed_queues(&banks);
    let running: Arc<Vec<(String, AtomicBool)>> = Arc::new(
        consumed
            .iter()
            .map(|q| (q.clone(), AtomicBool::new(true)))
            .collect(),
    );
    let mut consumers = JoinSet::new();
    let mut consumer_metrics = Vec::new();
    for (index, queue) in consumed.iter().enumerate() {
        metrics.set_health(&format!("consumer {queue}"), false);
        let consumer = Consumer::new(
            settings.amqp_url.clone(),
            topology.clone(),
            Arc::clone(&handler),
            ConsumerConfig {
                prefetch: settings.prefetch,
                batch_size_max: settings.batch_size_max,
                batch_linger: settings.batch_linger,
                connection_name: format!("{name} consumer"),
                ..ConsumerConfig::default()
            },
        );
        consumer_metrics.push(consumer.metrics());
        let (queue, stop, running) = (queue.clone(), consumer_stop.clone(), Arc::clone(&running));
        consumers.spawn(async move {
            let result = consumer.run(std::slice::from_ref(&queue), &stop).await;
            if let Some((_, alive)) = running.get(index) {
                alive.store(false, Ordering::Relaxed);
            }
            (queue, result)
        });
    }

    let relay_stop = CancellationToken::new();
    let relay = Relay::new(
        settings.amqp_url.clone(),
        Arc::new(MeteredOutbox {
            store: store.clone(),
            metrics: Arc::clone(&metrics),
            types: Mutex::default(),
        }),
        RelayConfig {
            batch_size_max: settings.relay_batch_size_max,
            connection_name: format!("{name} relay"),
            ..RelayConfig::default()
        },
    );
    let relay_metrics = relay.metrics();
    let relay_done = relay_stop.clone();
    let relay_task = tokio::spawn(async move { relay.run(&relay_done).await });

    let poller_stop = CancellationToken::new();
    let poller = tokio::spawn(poll(Poller {
        settings: settings.clone(),
        conn: Some(conn),
        store: store.clone(),
        metrics: Arc::clone(&metrics),
        consumed: consumed.clone(),
        running: Arc::clone(&running),
        stop: poller_stop.clone(),
    }));
    tracing::info!(queues = ?consumed, "consuming");

    // Until stopped, or until a consumer ends by itself (only a bug in a handler does that).
    let mut first_error: Option<ServiceError> = None;
    tokio::select! {
        biased;
        () = stop.cancelled() => {}
        Some(joined) = consumers.join_next() => {
            // The consumers' token is a child of `stop`: one that ended cleanly because a stop
            // arrived meanwhile is not a failure.
            let stopped_cleanly = stop.is_cancelled() && matches!(joined, Ok((_, Ok(()))));
            if !stopped_cleanly {
                first_error = Some(consumer_failure(joined));
            }
        }
    }
    consumer_stop.cancel();
    while let Some(joined) = consumers.join_next().await {
        if let Ok((_, Ok(()))) = joined {
            continue;
        }
        let error = consumer_failure(joined);
        first_error.get_or_insert(error);
    }
    relay_stop.cancel();
    if let Err(join) = relay_task.await {
        tracing::error!(error = %join, "the relay task failed");
    }
    poller_stop.cancel();
    let _ = poller.await;
    server_stop.cancel();
    let _ = server.await;
    store.close().await;

    let mut report = RunReport {
        relayed: relay_metrics.snapshot(),
        ..RunReport::default()
    };
    for m in &consumer_metrics {
        let s = m.snapshot();
        let r = &mut report.consumed;
        r.batches += s.batches;
        r.deliveries += s.deliveries;
        r.redelivered += s.redelivered;
        r.applied += s.applied;
        r.duplicates += s.duplicates;
        r.dead_letters += s.dead_letters;
        r.transient_retries += s.transient_retries;
        r.reconnects += s.reconnects;
        r.watchdog_restarts += s.watchdog_restarts;
    }
    tracing::info!(
        batches = report.consumed.batches,
        deliveries = report.consumed.deliveries,
        applied = report.consumed.applied,
        duplicates = report.consumed.duplicates,
        dead_letters = report.consumed.dead_letters,
        redelivered = report.consumed.redelivered,
        reconnects = report.consumed.reconnects,
        published = report.relayed.published,
        relay_reconnects = report.relayed.reconnects,
        "stopped"
    );
    match first_error {
        Some(error) => Err(error),
        None => Ok(report),
    }
}

fn consumer_failure(
    joined: Result<(String, Result<(), BrokerError>), tokio::task::JoinError>,
) -> ServiceError {
    let error = match joined {
        Ok((_, Err(error))) => error,
        Ok((queue, Ok(()))) => BrokerError::Task {
            task: format!("consumer {queue}"),
            detail: "ended while the service was running".to_owned(),
        },
        Err(join) => BrokerError::Task {
            task: "consumer".to_owned(),
            detail: join.to_string(),
        },
    };
    tracing::error!(%error, "a consumer failed; stopping");
    ServiceError::Broker(error)
}

/// The handler the consumers call: [`Ingest`], counted into [`Metrics`] once a batch committed.
struct Metered {
    ingest: Ingest,
    events_queue: String,
    metrics: Arc<Metrics>,
}

impl Metered {
    /// The type label of a delivery: the event type (the routing key) on the events queue, the
    /// `x-clearway-message-type` header on a bank queue; `unknown` for anything else, so a
    /// stranger's routing keys cannot grow the label set.
    fn type_of(&self, incoming: &Incoming) -> String {
        if incoming.queue == self.events_queue {
            return EventType::ALL
                .iter()
                .find(|t| t.as_str() == incoming.routing_key)
                .map_or("unknown", |t| t.as_str())
                .to_owned();
        }
        incoming
            .headers
            .get("x-clearway-message-type")
            .filter(|t| {
                (1..=40).contains(&t.len())
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
            })
            .cloned()
            .unwrap_or_else(|| "unknown".to_owned())
    }
}

impl Handler for Metered {
    async fn prepare(&self, batch: &[Incoming]) -> Prepared {
        self.ingest.prepare(batch).await
    }

    async fn commit(
        &self,
        batch: &[Incoming],
        prepared: &mut Prepared,
    ) -> Result<Vec<Disposition>, Transient> {
        let started = Instant::now();
        let dispositions = self.ingest.commit(batch, prepared).await?;
        Ok(self.count(batch, dispositions, started))
    }

    async fn handle(&self, batch: &[Incoming]) -> Result<Vec<Disposition>, Transient> {
        let started = Instant::now();
        let dispositions = self.ingest.handle(batch).await?;
        Ok(self.count(batch, dispositions, started))
    }
}

impl Metered {
    /// Counts a committed batch: commit latency, batch size, messages in by type, duplicates,
    /// conflicts and dead letters by reason.
    fn count(
        &self,
        batch: &[Incoming],
        dispositions: Vec<Disposition>,
        started: Instant,
    ) -> Vec<Disposition> {
        let m = &self.metrics;
        m.commit_seconds.observe(started.elapsed().as_secs_f64());
        m.batch_size
            .observe(f64::from(u32::try_from(batch.len()).unwrap_or(u32::MAX)));
        for (incoming, disposition) in batch.iter().zip(&dispositions) {
            m.messages_in
                .get_or_create(&InLabel {
                    queue: incoming.queue.clone(),
                    r#type: self.type_of(incoming),
                })
                .inc();
            match disposition {
                Disposition::Applied => {}
                // no new effect; its dead-letter publish was repeated
                Disposition::Duplicate | Disposition::DeadLetterAgain { .. } => {
                    m.duplicates.inc();
                }
                Disposition::DeadLetter { reason, .. } => {
                    if *reason == DeadReason::Conflict {
                        m.conflicts.inc();
                    }
                    m.dead_letters
                        .get_or_create(&ReasonLabel {
                            reason: reason.as_str().to_owned(),
                        })
                        .inc();
                }
            }
        }
        dispositions
    }
}

/// The relay's outbox: the store, with messages out counted by type once confirmed.
struct MeteredOutbox {
    store: Store,
    metrics: Arc<Metrics>,
    /// Row id → message type, for the rows handed to the relay and not yet marked.
    types: Mutex<HashMap<i64, String>>,
}

/// Rows remembered for `messages_out` at most; past it the map starts over (a row claimed and
/// never marked, because another instance took it over, must not grow it forever).
const TYPES_REMEMBERED_MAX: usize = 100_000;

impl Outbox for MeteredOutbox {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxRow>, Transient> {
        let rows = self.store.pending(limit).await?;
        self.claimed(&rows);
        Ok(rows)
    }

    async fn mark_published(&self, ids: &[i64]) -> Result<(), Transient> {
        self.store.mark_published(ids).await?;
        self.marked(ids);
        Ok(())
    }

    /// The store's one-transaction form (one commit per relay round instead of two).
    async fn mark_and_pending(
        &self,
        ids: &[i64],
        limit: usize,
    ) -> Result<Vec<OutboxRow>, Transient> {
        let rows = self.store.mark_and_pending(ids, limit).await?;
        self.marked(ids);
        self.claimed(&rows);
        Ok(rows)
    }
}

impl MeteredOutbox {
    /// Remembers the message type of rows handed to the relay.
    fn claimed(&self, rows: &[OutboxRow]) {
        let mut types = self.types.lock().unwrap_or_else(PoisonError::into_inner);
        if types.len() + rows.len() > TYPES_REMEMBERED_MAX {
            types.clear();
        }
        for row in rows {
            let kind = row
                .headers
                .get("x-clearway-message-type")
                .cloned()
                .unwrap_or_else(|| "unknown".to_owned());
            types.insert(row.id, kind);
        }
    }

    /// Counts rows marked published by their message type.
    fn marked(&self, ids: &[i64]) {
        let mut types = self.types.lock().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            let kind = types.remove(id).unwrap_or_else(|| "unknown".to_owned());
            self.metrics
                .messages_out
                .get_or_create(&TypeLabel { r#type: kind })
                .inc();
        }
    }
}

struct Poller {
    settings: Settings,
    conn: Option<broker::Connection>,
    store: Store,
    metrics: Arc<Metrics>,
    consumed: Vec<String>,
    running: Arc<Vec<(String, AtomicBool)>>,
    stop: CancellationToken,
}

/// Every `lag_poll`: queue depths → `consumer_lag` and the broker and consumer checks; the
/// outbox → `outbox_pending` and the store check. Logs only when a check changes.
async fn poll(mut p: Poller) {
    // As `run` set them: a consumer is down until the broker shows it registered, which is
    // not news; every later change is logged.
    let mut was: BTreeMap<String, bool> = p
        .running
        .iter()
        .map(|(queue, _)| (format!("consumer {queue}"), false))
        .chain([("store".to_owned(), true), ("broker".to_owned(), true)])
        .collect();
    let name = format!("{} control", p.settings.name);
    loop {
        let mut checks: Vec<(String, bool)> = Vec::new();
        if p.conn.as_ref().is_none_or(|c| !c.is_connected()) {
            p.conn = broker::connect(&p.settings.amqp_url, &name).await.ok();
        }
        let depths = match &p.conn {
            Some(conn) => broker::queue_depths(conn, &p.consumed).await.ok(),
            None => None,
        };
        checks.push(("broker".to_owned(), depths.is_some()));
        if depths.is_none() {
            p.conn = None;
        }
        for (queue, alive) in p.running.iter() {
            let depth = depths
                .as_ref()
                .and_then(|ds| ds.iter().find(|d| d.queue == *queue));
            if let Some(messages) = depth.and_then(|d| d.messages) {
                p.metrics
                    .consumer_lag
                    .get_or_create(&QueueLabel {
                        queue: queue.clone(),
                    })
                    .set(i64::from(messages));
            }
            let consuming = depth.and_then(|d| d.consumers).is_some_and(|n| n > 0);
            checks.push((
                format!("consumer {queue}"),
                alive.load(Ordering::Relaxed) && consuming,
            ));
        }
        match Summary::load(&p.store).await {
            Ok(summary) => {
                p.metrics.outbox_pending.set(summary.outbox_pending);
                checks.push(("store".to_owned(), true));
            }
            Err(error) => {
                tracing::warn!(%error, "store check failed");
                checks.push(("store".to_owned(), false));
            }
        }
        for (check, up) in checks {
            p.metrics.set_health(&check, up);
            if was.insert(check.clone(), up) != Some(up) {
                if up {
                    tracing::info!(check, "up");
                } else {
                    tracing::warn!(check, "down");
                }
            }
        }
        if broker::sleep_or_stop(p.settings.lag_poll, &p.stop).await {
            break;
        }
    }
    if let Some(conn) = p.conn {
        conn.close().await;
    }
}

/// One queue in `clearway status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueStatus {
    pub queue: String,
    /// Ready messages; `None`: the queue does not exist.
    pub messages: Option<u32>,
    pub consumers: Option<u32>,
}

/// What `clearway status` reports: the broker's queues, then the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub queues: Vec<QueueStatus>,
    #[serde(flatten)]
    pub store: Summary,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = self.queues.iter().map(|q| q.queue.len()).max().unwrap_or(0);
        writeln!(f, "queues (ready messages, consumers):")?;
        for q in &self.queues {
            match (q.messages, q.consumers) {
                (Some(m), Some(c)) => writeln!(f, "  {:width$}  {m:>8}  {c:>3}", q.queue)?,
                _ => writeln!(f, "  {:width$}  missing", q.queue)?,
            }
        }
        write!(f, "{}", self.store)
    }
}

/// The store or the broker could not be read; every message says which, and where.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct Unreachable(pub Vec<String>);

/// The snapshot `clearway status` prints. Profiles that do not load are a [`ServiceError`];
/// an unreachable database or broker is [`StatusError::Unreachable`] naming each.
pub async fn status(settings: &Settings) -> Result<Status, StatusError> {
    let topology = &settings.topology;
    let profiles = load_banks(&settings.profiles, topology)?;
    let banks = bank_ids(&profiles);
    // Connect to both at once: an unreachable database costs its whole wait, which the broker
    // need not add to.
    let database = async {
        let url = settings.database_url_redacted();
        match tokio::time::timeout(STATUS_DATABASE_WAIT, open_store(&settings.database_url)).await {
            Ok(Ok(store)) => {
                let summary = Summary::load(&store).await;
                store.close().await;
                summary.map_err(|e| format!("database {url} unreadable: {e}"))
            }
            Ok(Err(e)) => Err(format!("database {url} unreachable: {e}")),
            Err(_elapsed) => Err(format!(
                "database {url} unreachable: no connection within {STATUS_DATABASE_WAIT:?}"
            )),
        }
    };
    let name = format!("{} status", settings.name);
    let (summary, conn) = tokio::join!(database, broker::connect(&settings.amqp_url, &name));
    // Depths after the database: a row counted published there was confirmed by the broker
    // before, so it is in its queue now (the other order could count it in neither).
    let depths = match conn {
        Ok(conn) => {
            let depths = broker::queue_depths(&conn, &topology.all_queues(&banks)).await;
            conn.close().await;
            depths.map_err(|e| format!("broker {}: {e}", settings.amqp_url))
        }
        Err(e) => Err(format!("broker unreachable: {e}")),
    };
    let problems: Vec<String> = [summary.as_ref().err(), depths.as_ref().err()]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    match (summary, depths) {
        (Ok(store), Ok(depths)) => Ok(Status {
            queues: depths
                .into_iter()
                .map(|d| QueueStatus {
                    queue: d.queue,
                    messages: d.messages,
                    consumers: d.consumers,
                })
                .collect(),
            store,
        }),
        _ => Err(StatusError::Unreachable(Unreachable(problems))),
    }
}

/// How long `clearway status` waits for the database (sqlx retries a refused connection until
/// its pool's 30 s acquire timeout; a status command should answer sooner).
pub const STATUS_DATABASE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why `clearway status` has nothing to show.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Unreachable(Unreachable),
}

/// [`status`] on a runtime of its own (for the CLI).
pub fn status_blocking(settings: &Settings) -> Result<Status, StatusError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| StatusError::Service(ServiceError::Runtime(e)))?;
    runtime.block_on(status(settings))
}
