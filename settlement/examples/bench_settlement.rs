//! The settlement benchmark of issue 6: each figure of ours beside its ceiling, measured in the
//! same run on the same quorum queue, on a SQLite file (WAL) and on a fresh PostgreSQL database.
//!
//! Per backend, in this order:
//!   1. ceiling: bare lapin consume (prefetch 300, one multiple-ack per 200) of M generated
//!      wallet events (`adapters::generate` lines as bodies) from the events queue;
//!   2. ours: `Consumer<Ingest>` with the real store (inbox + items + transitions + outbox in
//!      one transaction per batch, then one multiple-ack) on the same queue refilled with the
//!      same M events;
//!   3. latency: L fresh events published at half of (2)'s rate by a paced publisher, each with
//!      its publish time in a header; the handler notes the time its batch committed;
//!      p50/p99/max of (commit − publish);
//!   4. ceiling: bare lapin publish with confirms (≤ 1,000 in flight) of the outbox's payloads
//!      to a quorum queue; ours: `Relay<Store>` draining those same outbox rows (every row the
//!      ingest wrote, re-pointed at the bench queue) from the real store.
//!
//! `cargo run --release -p clearway-settlement --example bench_settlement -- [M] [--latency L]
//! [--seed S] [--backend sqlite|postgres]…` (defaults: M = 50,000, L = M / 2, seed 7, both
//! backends) or `scripts/bench-settlement`. Reads `CLEARWAY_AMQP_URL` and
//! `CLEARWAY_TEST_PG_URL` (the role needs CREATEDB: the database `cw_bench_<pid>` is created
//! and dropped here). Queues live under the prefix `bench.settle.<pid>` and are deleted at the
//! end. Nothing here asserts a timing; it asserts counts (every delivery acked, every outbox
//! row published).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::float_arithmetic,
    clippy::panic
)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use lapin::{
    BasicProperties,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
        ConfirmSelectOptions, QueuePurgeOptions,
    },
    types::{AMQPValue, FieldTable},
};
use settlement::broker::{
    self, AmqpUrl, BankId, CancellationToken, Consumer, ConsumerConfig, Relay, RelayConfig,
    Topology,
};
use settlement::flow::{Disposition, Handler, Incoming, Outbox, OutboxRow, Prepared, Transient};
use settlement::ingest::{Ingest, load_profiles};
use settlement::store::{Store, Summary};

/// The header carrying the publish time (nanoseconds since the bench started).
const SENT_HEADER: &str = "x-bench-sent-ns";
/// Publisher confirms in flight, for the bare publisher and the fill.
const IN_FLIGHT_MAX: usize = 1000;
/// The bare consumer's prefetch and multiple-ack stride (the consumer's defaults).
const PREFETCH: u16 = 300;
const ACK_EVERY: usize = 200;

struct Args {
    events: usize,
    latency_events: usize,
    seed: u64,
    backends: Vec<String>,
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let (mut events, mut latency, mut seed, mut backends) = (50_000, None, 7, Vec::new());
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match arg.as_str() {
            "--latency" => latency = Some(value("--latency").parse().expect("L is a number")),
            "--seed" => seed = value("--seed").parse().expect("S is a number"),
            "--backend" => backends.push(value("--backend")),
            n => events = n.parse().expect("M is a number of events"),
        }
    }
    if backends.is_empty() {
        backends = vec!["sqlite".into(), "postgres".into()];
    }
    for b in &backends {
        assert!(
            b == "sqlite" || b == "postgres",
            "--backend {b}: sqlite or postgres"
        );
    }
    Args {
        events,
        latency_events: latency.unwrap_or(events / 2),
        seed,
        backends,
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

/// A plain lapin connection for the bare loops (the same URL `AmqpUrl::from_env` reads).
async fn raw_connection(name: &str) -> lapin::Connection {
    let url =
        std::env::var("CLEARWAY_AMQP_URL").unwrap_or_else(|_| broker::DEFAULT_AMQP_URL.to_owned());
    let properties = lapin::ConnectionProperties::default().with_connection_name(name.into());
    lapin::Connection::connect(&url, properties).await.unwrap()
}

/// One message to publish: body, `message_id` and string headers.
#[derive(Clone)]
struct Message {
    body: Vec<u8>,
    message_id: String,
    headers: BTreeMap<String, String>,
}

fn properties(m: &Message, sent: Option<i64>) -> BasicProperties {
    let mut table = FieldTable::default();
    for (k, v) in &m.headers {
        table.insert(k.as_str().into(), AMQPValue::LongString(v.as_str().into()));
    }
    if let Some(sent) = sent {
        table.insert(SENT_HEADER.into(), AMQPValue::LongLongInt(sent));
    }
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_message_id(m.message_id.as_str().into())
        .with_headers(table)
}

/// Publishes `messages` to `queue` (default exchange) with confirms, ≤ 1,000 in flight; with
/// `pace = Some((rate, base))` message i leaves no earlier than i / rate seconds after the
/// start and carries its publish time since `base`. Returns the time from first publish to
/// last confirm.
async fn publish(
    queue: String,
    messages: Arc<Vec<Message>>,
    pace: Option<(f64, Instant)>,
) -> Duration {
    let conn = raw_connection("bench-settlement publish").await;
    let channel = conn.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    let mut in_flight = VecDeque::with_capacity(IN_FLIGHT_MAX);
    for (i, m) in messages.iter().enumerate() {
        let sent = if let Some((per_second, base)) = pace {
            let due = start + Duration::from_secs_f64(i as f64 / per_second);
            if tokio::time::Instant::now() < due {
                tokio::time::sleep_until(due).await;
            }
            Some(i64::try_from(base.elapsed().as_nanos()).unwrap())
        } else {
            None
        };
        if in_flight.len() >= IN_FLIGHT_MAX {
            let confirm: lapin::PublisherConfirm = in_flight.pop_front().unwrap();
            assert!(confirm.await.unwrap().is_ack(), "{queue}: nacked");
        }
        let confirm = channel
            .basic_publish(
                "".into(),
                queue.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                &m.body,
                properties(m, sent),
            )
            .await
            .unwrap();
        in_flight.push_back(confirm);
    }
    for confirm in in_flight {
        assert!(confirm.await.unwrap().is_ack(), "{queue}: nacked");
    }
    let elapsed = start.elapsed();
    let _ = channel.close(200, "done".into()).await;
    let _ = conn.close(200, "done".into()).await;
    elapsed
}

/// (1) bare consume of `n` messages: prefetch 300, one multiple-ack per 200.
async fn bare_consume(queue: String, n: usize) -> Duration {
    let conn = raw_connection("bench-settlement bare consume").await;
    let channel = conn.create_channel().await.unwrap();
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await
        .unwrap();
    let start = Instant::now();
    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut seen = 0;
    while let Some(delivery) = consumer.next().await {
        let delivery = delivery.unwrap();
        seen += 1;
        if seen % ACK_EVERY == 0 || seen == n {
            delivery
                .acker
                .ack(BasicAckOptions { multiple: true })
                .await
                .unwrap();
        }
        if seen == n {
            break;
        }
    }
    let elapsed = start.elapsed();
    let _ = channel.close(200, "done".into()).await;
    let _ = conn.close(200, "done".into()).await;
    elapsed
}

/// The real ingest behind the consumer. Two bench-only duties, both outside the timed work of
/// the ingest itself: deliveries of the prefixed events queue are handed over as deliveries of
/// `clearway.events` (the ingest knows wallet events by that queue name), and the commit time
/// of every delivery that carries a publish time is noted.
struct Timed {
    ingest: Ingest,
    base: Instant,
    latencies_ns: Mutex<Vec<u64>>,
    committed: AtomicU64,
    /// Time spent inside `Ingest::commit` (one transaction, commit).
    handle_ns: AtomicU64,
    /// Time spent inside `Ingest::prepare` (decode, map; overlaps the commit before it).
    prepare_ns: AtomicU64,
}

impl Handler for Timed {
    async fn prepare(&self, batch: &[Incoming]) -> Prepared {
        let started = Instant::now();
        let prepared = self.ingest.prepare(batch).await;
        self.prepare_ns
            .fetch_add(nanos(started.elapsed()), Ordering::Relaxed);
        prepared
    }

    async fn commit(
        &self,
        batch: &[Incoming],
        prepared: &mut Prepared,
    ) -> Result<Vec<Disposition>, Transient> {
        let started = Instant::now();
        let out = self.ingest.commit(batch, prepared).await?;
        self.handle_ns
            .fetch_add(nanos(started.elapsed()), Ordering::Relaxed);
        self.committed_now(batch);
        Ok(out)
    }

    async fn handle(&self, batch: &[Incoming]) -> Result<Vec<Disposition>, Transient> {
        let mut prepared = self.prepare(batch).await;
        self.commit(batch, &mut prepared).await
    }
}

impl Timed {
    /// Notes the commit time of every delivery that carries its publish time.
    fn committed_now(&self, batch: &[Incoming]) {
        let now = nanos(self.base.elapsed());
        let mut latencies = self.latencies_ns.lock().unwrap();
        for d in batch {
            if let Some(sent) = d
                .headers
                .get(SENT_HEADER)
                .and_then(|s| s.parse::<u64>().ok())
            {
                latencies.push(now.saturating_sub(sent));
            }
        }
        self.committed
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
    }
}

/// Runs `Consumer<Timed>` on the events queue until `n` deliveries are acked; returns the time
/// and the consumer's counters.
async fn our_consume(
    url: &AmqpUrl,
    topology: &Topology,
    handler: &Arc<Timed>,
    n: usize,
    during: impl std::future::Future<Output = Duration>,
) -> (Duration, broker::MetricsSnapshot) {
    let defaults = ConsumerConfig::default();
    let env_or = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(default)
    };
    // the consumer's defaults, unless BENCH_PREFETCH / BENCH_BATCH say otherwise
    let config = ConsumerConfig {
        connection_name: "bench-settlement consumer".into(),
        prefetch: u16::try_from(env_or("BENCH_PREFETCH", usize::from(defaults.prefetch))).unwrap(),
        batch_size_max: env_or("BENCH_BATCH", defaults.batch_size_max),
        ..defaults
    };
    let consumer = Consumer::new(url.clone(), topology.clone(), Arc::clone(handler), config);
    let metrics = consumer.metrics();
    let stop = CancellationToken::new();
    let start = Instant::now();
    let task = {
        let stop = stop.clone();
        let queues = vec![topology.events_queue.clone()];
        tokio::spawn(async move { consumer.run(&queues, &stop).await })
    };
    during.await;
    while metrics.snapshot().deliveries < n as u64 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = start.elapsed();
    stop.cancel();
    task.await.unwrap().unwrap();
    (elapsed, metrics.snapshot())
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The store as the relay's outbox, with the time spent in its calls noted. The relay makes
/// them on a lane of their own while it publishes, so these shares overlap the publishing.
struct TimedOutbox {
    store: Store,
    claim_ns: AtomicU64,
    mark_ns: AtomicU64,
}

impl Outbox for TimedOutbox {
    async fn pending(&self, limit: usize) -> Result<Vec<OutboxRow>, Transient> {
        let started = Instant::now();
        let rows = self.store.pending(limit).await;
        self.claim_ns
            .fetch_add(nanos(started.elapsed()), Ordering::Relaxed);
        rows
    }

    async fn mark_published(&self, ids: &[i64]) -> Result<(), Transient> {
        let started = Instant::now();
        let done = self.store.mark_published(ids).await;
        self.mark_ns
            .fetch_add(nanos(started.elapsed()), Ordering::Relaxed);
        done
    }

    /// The relay's usual call: the last round's mark and the next round's claim, one
    /// transaction, counted as claim time.
    async fn mark_and_pending(
        &self,
        ids: &[i64],
        limit: usize,
    ) -> Result<Vec<OutboxRow>, Transient> {
        let started = Instant::now();
        let rows = self.store.mark_and_pending(ids, limit).await;
        self.claim_ns
            .fetch_add(nanos(started.elapsed()), Ordering::Relaxed);
        rows
    }
}

/// `Relay<Store>` until `n` rows are published; also returns the time spent claiming and
/// marking in the store. `BENCH_RELAY_BATCH=N` sets the rows per round (the
/// service's `relay_batch_size_max`), otherwise `RelayConfig`'s default.
async fn relay_drain(url: &AmqpUrl, store: &Store, n: usize) -> (Duration, Duration, Duration) {
    let defaults = RelayConfig::default();
    let config = RelayConfig {
        connection_name: "bench-settlement relay".into(),
        batch_size_max: std::env::var("BENCH_RELAY_BATCH")
            .map(|b| b.parse().expect("BENCH_RELAY_BATCH is a number of rows"))
            .unwrap_or(defaults.batch_size_max),
        ..defaults
    };
    let outbox = Arc::new(TimedOutbox {
        store: store.clone(),
        claim_ns: AtomicU64::new(0),
        mark_ns: AtomicU64::new(0),
    });
    let relay = Relay::new(url.clone(), Arc::clone(&outbox), config);
    let metrics = relay.metrics();
    let stop = CancellationToken::new();
    let start = Instant::now();
    let task = {
        let stop = stop.clone();
        tokio::spawn(async move { relay.run(&stop).await })
    };
    while metrics.snapshot().published < n as u64 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = start.elapsed();
    stop.cancel();
    task.await.unwrap().unwrap();
    let s = metrics.snapshot();
    assert_eq!(s.refused, 0, "relay: the broker refused rows");
    (
        elapsed,
        Duration::from_nanos(outbox.claim_ns.load(Ordering::Relaxed)),
        Duration::from_nanos(outbox.mark_ns.load(Ordering::Relaxed)),
    )
}

async fn wait_for_depth(conn: &broker::Connection, queue: &str, n: usize) {
    let queues = [queue.to_owned()];
    loop {
        let depths = broker::queue_depths(conn, &queues).await.unwrap();
        if depths.iter().all(|q| q.messages == Some(n as u32)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn purge(queue: &str) {
    let conn = raw_connection("bench-settlement purge").await;
    let channel = conn.create_channel().await.unwrap();
    channel
        .queue_purge(queue.into(), QueuePurgeOptions::default())
        .await
        .unwrap();
    let _ = conn.close(200, "done".into()).await;
}

fn percentile(sorted: &[u64], p: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (sorted.len() * p).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1e6
}

/// A fresh database: a SQLite file in `dir`, or `cw_bench_<pid>` on the PostgreSQL server.
async fn fresh_database(backend: &str, dir: &std::path::Path) -> (String, Option<sqlx::AnyPool>) {
    sqlx::any::install_default_drivers();
    if backend == "sqlite" {
        return (
            format!("sqlite://{}?mode=rwc", dir.join("bench.db").display()),
            None,
        );
    }
    let admin = std::env::var("CLEARWAY_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://clearway:clearway@127.0.0.1:5432/clearway".into());
    let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
    let name = format!("cw_bench_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&pool)
        .await
        .unwrap();
    let (server, _) = admin.split('?').next().unwrap().rsplit_once('/').unwrap();
    (format!("{server}/{name}"), Some(pool))
}

/// Points every unpublished outbox row at `queue` and reads them back as messages, oldest
/// first (bench-only SQL on a connection of its own).
async fn outbox_to(db_url: &str, queue: &str) -> Vec<Message> {
    let pool = sqlx::AnyPool::connect(db_url).await.unwrap();
    sqlx::query("UPDATE outbox SET routing_key = $1 WHERE published_at IS NULL")
        .bind(queue)
        .execute(&pool)
        .await
        .unwrap();
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT message_id, headers, payload_hex FROM outbox WHERE published_at IS NULL \
         ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.iter()
        .map(|r| Message {
            message_id: r.try_get(0).unwrap(),
            headers: serde_json::from_str(&r.try_get::<String, _>(1).unwrap()).unwrap(),
            body: settlement::store::from_hex(&r.try_get::<String, _>(2).unwrap()).unwrap(),
        })
        .collect()
}

struct Row {
    backend: String,
    consume_bare: f64,
    consume_ours: f64,
    batch_mean: f64,
    paced: f64,
    latency: (f64, f64, f64, usize),
    relay_rows: usize,
    handler_share: f64,
    prepare_share: f64,
    relay_claim_share: f64,
    relay_mark_share: f64,
    publish_bare: f64,
    relay_ours: f64,
    load: (String, String),
}

#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
async fn run_backend(
    backend: &str,
    url: &AmqpUrl,
    topology: &Topology,
    relay_queue: &str,
    throughput: &Arc<Vec<Message>>,
    latency: &Arc<Vec<Message>>,
    profiles: &[adapters::Profile],
    base: Instant,
) -> Row {
    let load_start = loadavg();
    let conn = broker::connect(url, "bench-settlement setup")
        .await
        .unwrap();
    let events_queue = topology.events_queue.clone();
    let m = throughput.len();

    // (1) the ceiling: fill, then bare consume.
    publish(events_queue.clone(), Arc::clone(throughput), None).await;
    wait_for_depth(&conn, &events_queue, m).await;
    let bare = tokio::spawn(bare_consume(events_queue.clone(), m))
        .await
        .unwrap();
    wait_for_depth(&conn, &events_queue, 0).await;

    // (2) ours on a fresh database, the same queue refilled with the same events.
    let dir = tempfile::tempdir().unwrap();
    let (db_url, admin) = fresh_database(backend, dir.path()).await;
    let store = Store::open(&db_url).await.unwrap();
    let handler = Arc::new(Timed {
        ingest: Ingest::new(store.clone(), profiles.to_vec())
            .await
            .unwrap()
            .with_queue_names(topology.events_queue.clone(), topology.bank_prefix.clone()),
        base,
        latencies_ns: Mutex::new(Vec::new()),
        committed: AtomicU64::new(0),
        handle_ns: AtomicU64::new(0),
        prepare_ns: AtomicU64::new(0),
    });
    publish(events_queue.clone(), Arc::clone(throughput), None).await;
    wait_for_depth(&conn, &events_queue, m).await;
    let (ours, counters) = our_consume(url, topology, &handler, m, async { Duration::ZERO }).await;
    wait_for_depth(&conn, &events_queue, 0).await;
    assert_eq!(counters.deliveries, m as u64);
    assert_eq!(
        counters.applied + counters.duplicates + counters.dead_letters,
        m as u64
    );
    let summary = Summary::load(&store).await.unwrap();
    println!(
        "  {backend}: {m} deliveries: {} applied, {} duplicates, {} dead letters; {} inbox \
         rows, {} outbox rows; {} batches",
        counters.applied,
        counters.duplicates,
        counters.dead_letters,
        summary.inbox,
        summary.outbox_pending,
        counters.batches
    );
    let ours_rate = rate(m, ours);
    let handler_share =
        handler.handle_ns.swap(0, Ordering::Relaxed) as f64 / ours.as_secs_f64() / 1e9;
    let prepare_share =
        handler.prepare_ns.swap(0, Ordering::Relaxed) as f64 / ours.as_secs_f64() / 1e9;

    // (3) latency at half of our rate: the consumer runs while the paced publisher sends.
    let paced = ours_rate / 2.0;
    let l = latency.len();
    let before = handler.committed.load(Ordering::Relaxed);
    let publisher = tokio::spawn(publish(
        events_queue.clone(),
        Arc::clone(latency),
        Some((paced, base)),
    ));
    let (_, lat_counters) = our_consume(url, topology, &handler, l, async {
        publisher.await.unwrap()
    })
    .await;
    assert_eq!(lat_counters.deliveries, l as u64);
    assert_eq!(handler.committed.load(Ordering::Relaxed) - before, l as u64);
    let mut lat = std::mem::take(&mut *handler.latencies_ns.lock().unwrap());
    assert_eq!(lat.len(), l, "every paced delivery has its latency");
    lat.sort_unstable();
    let latency_figures = (
        percentile(&lat, 50),
        percentile(&lat, 99),
        lat.last().map_or(f64::NAN, |&x| x as f64 / 1e6),
        l,
    );

    // (4) the relay: every outbox row the ingest wrote, to one quorum queue. Ceiling first.
    let messages = Arc::new(outbox_to(&db_url, relay_queue).await);
    let n = messages.len();
    let bare_publish = tokio::spawn(publish(relay_queue.to_owned(), Arc::clone(&messages), None))
        .await
        .unwrap();
    wait_for_depth(&conn, relay_queue, n).await;
    purge(relay_queue).await;
    wait_for_depth(&conn, relay_queue, 0).await;
    let (relay, claim, mark) = relay_drain(url, &store, n).await;
    wait_for_depth(&conn, relay_queue, n).await;
    let after = Summary::load(&store).await.unwrap();
    assert_eq!(after.outbox_pending, 0, "every outbox row published");
    assert_eq!(after.outbox_published, n as i64);
    purge(relay_queue).await;
    purge(&topology.dead_queue).await;

    drop(handler);
    store.close().await;
    if let Some(pool) = admin {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS cw_bench_{} WITH (FORCE)",
            std::process::id()
        )))
        .execute(&pool)
        .await
        .unwrap();
    }
    conn.close().await;
    Row {
        backend: backend.to_owned(),
        consume_bare: rate(m, bare),
        consume_ours: ours_rate,
        batch_mean: counters.deliveries as f64 / counters.batches.max(1) as f64,
        paced,
        latency: latency_figures,
        relay_rows: n,
        handler_share,
        prepare_share,
        relay_claim_share: claim.as_secs_f64() / relay.as_secs_f64(),
        relay_mark_share: mark.as_secs_f64() / relay.as_secs_f64(),
        publish_bare: rate(n, bare_publish),
        relay_ours: rate(n, relay),
        load: (load_start, loadavg()),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = parse_args();
    let base = Instant::now();
    let load_start = loadavg();
    let url = AmqpUrl::from_env().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let profiles = load_profiles(&root.join("fixtures/profiles")).unwrap();

    // M + L lines of one seeded stream: the first M for throughput, the next L for latency
    // (follow-ups in the second part find their originals from the first).
    let (m, l) = (args.events, args.latency_events);
    let spec = adapters::generate::Spec::new(args.seed, m + l);
    let generated = adapters::generate::generate(&spec, &profiles);
    let messages: Vec<Message> = generated
        .lines
        .into_iter()
        .take(m + l)
        .enumerate()
        .map(|(i, line)| Message {
            body: line.into_bytes(),
            message_id: format!("bench-{i}"),
            headers: BTreeMap::new(),
        })
        .collect();
    let mean_body = messages.iter().map(|m| m.body.len()).sum::<usize>() / messages.len().max(1);
    let throughput = Arc::new(messages[..m].to_vec());
    let latency = Arc::new(messages[m..].to_vec());

    let prefix = format!("bench.settle.{}", std::process::id());
    let topology = Topology::with_prefix(&prefix);
    let relay_bank = BankId::parse("relay").unwrap();
    let banks = [relay_bank.clone()];
    let conn = broker::connect(&url, "bench-settlement topology")
        .await
        .unwrap();
    topology.declare(&conn, &banks).await.unwrap();
    let relay_queue = topology.bank_out(&relay_bank);

    println!(
        "bench_settlement: M = {m} events for throughput, L = {l} for latency (seed {}, \
         adapters::generate, mean body {mean_body} bytes), persistent, quorum queues, \
         prefetch {PREFETCH}, batch/ack {ACK_EVERY}; {url}; load average at start {load_start}",
        args.seed
    );
    let mut rows = Vec::new();
    for backend in &args.backends {
        println!("{backend}: running");
        rows.push(
            run_backend(
                backend,
                &url,
                &topology,
                &relay_queue,
                &throughput,
                &latency,
                &profiles,
                base,
            )
            .await,
        );
    }
    topology.delete(&conn, &banks).await.unwrap();
    conn.close().await;

    println!();
    println!(
        "{:<9} {:<34} {:>13} {:>13} {:>6} {:>7}",
        "backend", "figure", "ceiling", "ours", "ratio", "target"
    );
    for r in &rows {
        println!(
            "{:<9} {:<34} {:>7.0} msg/s {:>7.0} ev/s {:>5.0}% {:>7}",
            r.backend,
            "consume (bare) vs Consumer<Ingest>",
            r.consume_bare,
            r.consume_ours,
            100.0 * r.consume_ours / r.consume_bare,
            ">= 50%"
        );
        println!(
            "{:<9} {:<34} {:>13} {:>13} ms p50 {:.1}, max {:.1} (n = {}, mean batch {:.0})",
            "",
            format!("e2e latency at {:.0} ev/s paced", r.paced),
            "p99",
            format!("{:.1}", r.latency.1),
            r.latency.0,
            r.latency.2,
            r.latency.3,
            r.batch_mean
        );
        println!(
            "{:<9} {:<34} {:>7.0} msg/s {:>6.0} msg/s {:>5.0}% {:>7}",
            "",
            format!("publish (bare) vs Relay<Store> ({})", r.relay_rows),
            r.publish_bare,
            r.relay_ours,
            100.0 * r.relay_ours / r.publish_bare,
            ">= 60%"
        );
        println!(
            "{:<9} time inside Ingest::commit {:.0}% and Ingest::prepare {:.0}% of the consumer \
             run; in the store's claim {:.0}% and mark {:.0}% of the relay run (overlapping its \
             publishing)",
            "",
            100.0 * r.handler_share,
            100.0 * r.prepare_share,
            100.0 * r.relay_claim_share,
            100.0 * r.relay_mark_share
        );
        println!("{:<9} load average {} -> {}", "", r.load.0, r.load.1);
    }
    println!("load average at start {load_start}, at end {}", loadavg());
}
