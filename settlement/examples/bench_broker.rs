//! Broker throughput, each figure beside its ceiling measured in the same run on the same kind
//! of queue (quorum, persistent 300-byte messages):
//!   (c) bare lapin publish with confirms, ≤ 1,000 in flight            — the relay's ceiling
//!   (d) `broker::Relay` draining an in-memory `Outbox`
//!   (a) bare lapin consume, prefetch 300, one multiple-ack per 200     — the consumer's ceiling
//!   (b) `broker::Consumer` with a no-op `Handler` (the store plugs in here later)
//!
//! `cargo run --release -p clearway-settlement --example bench_broker -- [MESSAGES [ROUNDS]]`
//! (default 50,000 and 2; the order of the pairs alternates by round), against
//! `CLEARWAY_AMQP_URL`. Queues are created under a unique prefix and deleted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_arithmetic)]

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use lapin::{
    BasicProperties,
    options::{
        BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
        ConfirmSelectOptions,
    },
    types::FieldTable,
};
use settlement::broker::{
    self, AmqpUrl, BankId, CancellationToken, Consumer, ConsumerConfig, Relay, RelayConfig,
    Topology,
};
use settlement::flow::{Disposition, Handler, Incoming, Outbox, OutboxRow, Transient};

const BODY_BYTES: usize = 300;

fn body(i: usize) -> Vec<u8> {
    let mut body = format!("{{\"event_id\":\"bench-{i}\",\"pad\":\"").into_bytes();
    body.resize(BODY_BYTES - 2, b'x');
    body.extend_from_slice(b"\"}");
    body
}

/// A plain lapin connection for the bare loops (not timed).
async fn raw_connection() -> lapin::Connection {
    let url =
        std::env::var("CLEARWAY_AMQP_URL").unwrap_or_else(|_| broker::DEFAULT_AMQP_URL.to_owned());
    lapin::Connection::connect(&url, lapin::ConnectionProperties::default())
        .await
        .unwrap()
}

/// Runs a bare loop in a task of its own, as our consumer and relay run, so that both sides of
/// each pair are scheduled alike (the `main` future runs outside the worker threads).
async fn spawned<F: Future<Output = Duration> + Send + 'static>(f: F) -> Duration {
    tokio::spawn(f).await.unwrap()
}

/// (c) publish `n` messages to `queue` with confirms, ≤ 1,000 in flight.
async fn bare_publish(queue: String, n: usize) -> Duration {
    let raw = raw_connection().await;
    let queue = queue.as_str();
    let channel = raw.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    let bodies: Vec<Vec<u8>> = (0..n).map(body).collect();
    let start = Instant::now();
    let mut in_flight = VecDeque::new();
    for (i, payload) in bodies.iter().enumerate() {
        if in_flight.len() >= 1000 {
            let confirm: lapin::PublisherConfirm = in_flight.pop_front().unwrap();
            assert!(confirm.await.unwrap().is_ack());
        }
        let confirm = channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                payload,
                BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_message_id(format!("bench-{i}").into()),
            )
            .await
            .unwrap();
        in_flight.push_back(confirm);
    }
    for confirm in in_flight {
        assert!(confirm.await.unwrap().is_ack());
    }
    let elapsed = start.elapsed();
    channel.close(200, "done".into()).await.unwrap();
    let _ = raw.close(200, "done".into()).await;
    elapsed
}

/// (a) consume `n` messages from `queue`: prefetch 300, one multiple-ack per 200.
async fn bare_consume(queue: String, n: usize) -> Duration {
    let raw = raw_connection().await;
    let queue = queue.as_str();
    let channel = raw.create_channel().await.unwrap();
    channel
        .basic_qos(300, BasicQosOptions::default())
        .await
        .unwrap();
    let start = Instant::now();
    let mut consumer = channel
        .basic_consume(
            queue.into(),
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
        if seen % 200 == 0 || seen == n {
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
    channel.close(200, "done".into()).await.unwrap();
    let _ = raw.close(200, "done".into()).await;
    elapsed
}

/// (b) a handler that applies everything and counts.
struct NoOp {
    seen: AtomicUsize,
}

impl Handler for NoOp {
    fn handle(
        &self,
        batch: &[Incoming],
    ) -> impl Future<Output = Result<Vec<Disposition>, Transient>> + Send {
        self.seen.fetch_add(batch.len(), Ordering::Relaxed);
        let out = vec![Disposition::Applied; batch.len()];
        async move { Ok(out) }
    }
}

/// (d) an outbox in memory: a cursor over rows, one ordering key per row.
struct MemoryOutbox {
    rows: Vec<OutboxRow>,
    published: Mutex<Vec<bool>>,
    cursor: AtomicUsize,
    marked: AtomicU64,
}

impl Outbox for MemoryOutbox {
    fn pending(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, Transient>> + Send {
        let published = self.published.lock().unwrap();
        let mut at = self.cursor.load(Ordering::Relaxed);
        while published.get(at).copied() == Some(true) {
            at += 1;
        }
        self.cursor.store(at, Ordering::Relaxed);
        let rows: Vec<OutboxRow> = (at..self.rows.len())
            .filter(|&i| published.get(i).copied() == Some(false))
            .take(limit)
            .filter_map(|i| self.rows.get(i).cloned())
            .collect();
        async move { Ok(rows) }
    }

    fn mark_published(&self, ids: &[i64]) -> impl Future<Output = Result<(), Transient>> + Send {
        let mut published = self.published.lock().unwrap();
        for &id in ids {
            if let Some(flag) = usize::try_from(id).ok().and_then(|i| published.get_mut(i)) {
                *flag = true;
            }
        }
        self.marked.fetch_add(ids.len() as u64, Ordering::Relaxed);
        async { Ok(()) }
    }
}

async fn wait_until(mut done: impl FnMut() -> bool) {
    while !done() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

/// (d) our relay drains `n` rows to `queue`.
async fn relay_publish(url: &AmqpUrl, queue: &str, n: usize) -> Duration {
    let rows = (0..n)
        .map(|i| OutboxRow {
            id: i as i64,
            exchange: String::new(),
            routing_key: queue.to_owned(),
            message_id: format!("bench-{i}"),
            headers: BTreeMap::new(),
            payload: body(i),
            ordering_key: format!("pay-{i}"),
        })
        .collect();
    let outbox = Arc::new(MemoryOutbox {
        rows,
        published: Mutex::new(vec![false; n]),
        cursor: AtomicUsize::new(0),
        marked: AtomicU64::new(0),
    });
    let relay = Relay::new(url.clone(), Arc::clone(&outbox), RelayConfig::default());
    let stop = CancellationToken::new();
    let start = Instant::now();
    let task = {
        let stop = stop.clone();
        tokio::spawn(async move { relay.run(&stop).await })
    };
    wait_until(|| outbox.marked.load(Ordering::Relaxed) >= n as u64).await;
    let elapsed = start.elapsed();
    stop.cancel();
    task.await.unwrap().unwrap();
    elapsed
}

/// (b) our consumer takes `n` messages off `queue`; also returns the mean batch size.
async fn our_consume(url: &AmqpUrl, topology: &Topology, queue: &str, n: usize) -> (Duration, f64) {
    let handler = Arc::new(NoOp {
        seen: AtomicUsize::new(0),
    });
    let consumer = Consumer::new(
        url.clone(),
        topology.clone(),
        handler,
        ConsumerConfig::default(),
    );
    let metrics = consumer.metrics();
    let stop = CancellationToken::new();
    let start = Instant::now();
    let task = {
        let stop = stop.clone();
        let queues = vec![queue.to_owned()];
        tokio::spawn(async move { consumer.run(&queues, &stop).await })
    };
    wait_until(|| metrics.snapshot().deliveries >= n as u64).await;
    let elapsed = start.elapsed();
    stop.cancel();
    task.await.unwrap().unwrap();
    let snapshot = metrics.snapshot();
    (
        elapsed,
        snapshot.deliveries as f64 / snapshot.batches.max(1) as f64,
    )
}

async fn wait_for_depth(conn: &broker::Connection, queues: &[String], n: usize) {
    loop {
        let depths = broker::queue_depths(conn, queues).await.unwrap();
        if depths.iter().all(|q| q.messages == Some(n as u32)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(50_000, |a| a.parse().expect("MESSAGES is a number"));
    let rounds: usize = std::env::args()
        .nth(2)
        .map_or(2, |a| a.parse().expect("ROUNDS is a number"));
    let url = AmqpUrl::from_env().unwrap();
    let prefix = format!("bench.{}", std::process::id());
    let topology = Topology::with_prefix(&prefix);
    let (bare, ours) = (
        BankId::parse("bare").unwrap(),
        BankId::parse("ours").unwrap(),
    );
    let banks = [bare.clone(), ours.clone()];
    let conn = broker::connect(&url, "bench setup").await.unwrap();
    topology.declare(&conn, &banks).await.unwrap();
    let (bare_q, ours_q) = (topology.bank_out(&bare), topology.bank_out(&ours));
    let both = [bare_q.clone(), ours_q.clone()];
    println!(
        "{n} persistent {BODY_BYTES}-byte messages per measurement, quorum queues, {rounds} rounds \
         (order alternates), {url}"
    );
    println!(
        "round  (a) bare consume  (b) Consumer      b/a  batch  (c) bare publish  (d) Relay     d/c"
    );
    for round in 0..rounds {
        // Fill both queues: (c) the bare queue, (d) ours; alternate which goes first.
        let (c, d) = if round % 2 == 0 {
            let c = spawned(bare_publish(bare_q.clone(), n)).await;
            (c, relay_publish(&url, &ours_q, n).await)
        } else {
            let d = relay_publish(&url, &ours_q, n).await;
            (spawned(bare_publish(bare_q.clone(), n)).await, d)
        };
        wait_for_depth(&conn, &both, n).await;
        let (a, (b, batch)) = if round % 2 == 0 {
            let a = spawned(bare_consume(bare_q.clone(), n)).await;
            (a, our_consume(&url, &topology, &ours_q, n).await)
        } else {
            let b = our_consume(&url, &topology, &ours_q, n).await;
            (spawned(bare_consume(bare_q.clone(), n)).await, b)
        };
        wait_for_depth(&conn, &both, 0).await;
        println!(
            "{round:>5}  {:>10.0} msg/s  {:>9.0} msg/s  {:>5.0}%  {batch:>5.0}  {:>10.0} msg/s  {:>7.0} msg/s  {:>4.0}%",
            rate(n, a),
            rate(n, b),
            100.0 * a.as_secs_f64() / b.as_secs_f64(),
            rate(n, c),
            rate(n, d),
            100.0 * c.as_secs_f64() / d.as_secs_f64(),
        );
    }

    topology.delete(&conn, &banks).await.unwrap();
    conn.close().await;
}
