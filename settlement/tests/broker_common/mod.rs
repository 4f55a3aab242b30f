//! What the broker tests share: a unique topology per test on the real RabbitMQ
//! (`CLEARWAY_AMQP_URL`), test doubles of OUR traits (`Handler`, `Outbox`) that count in a
//! mutex, and a few raw lapin helpers to publish and read queues directly.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, unreachable_pub)]

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lapin::{
    BasicProperties,
    options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions},
    types::{AMQPValue, FieldTable},
};
use settlement::broker::{self, AmqpUrl, BankId, Topology};
use settlement::flow::{Disposition, Handler, Incoming, Outbox, OutboxRow, Transient};

pub struct Env {
    pub url: AmqpUrl,
    pub topology: Topology,
    pub bank: BankId,
    pub prefix: String,
    pub conn: broker::Connection,
    raw: lapin::Connection,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Env {
    pub async fn start() -> Env {
        let url = AmqpUrl::from_env().unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let prefix = format!(
            "test.{}.{nanos}.{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let topology = Topology::with_prefix(&prefix);
        let bank = BankId::parse("b1").unwrap();
        let conn = broker::connect(&url, &format!("{prefix} setup"))
            .await
            .unwrap();
        topology
            .declare(&conn, std::slice::from_ref(&bank))
            .await
            .unwrap();
        let raw = lapin::Connection::connect(
            &std::env::var("CLEARWAY_AMQP_URL")
                .unwrap_or_else(|_| broker::DEFAULT_AMQP_URL.to_owned()),
            lapin::ConnectionProperties::default(),
        )
        .await
        .unwrap();
        Env {
            url,
            topology,
            bank,
            prefix,
            conn,
            raw,
        }
    }

    pub fn bank_in(&self) -> String {
        self.topology.bank_in(&self.bank)
    }

    pub fn bank_out(&self) -> String {
        self.topology.bank_out(&self.bank)
    }

    /// Publishes `n` messages `m0`, `m1`, … to `queue` through the default exchange, confirmed.
    pub async fn publish_n(&self, queue: &str, n: usize) {
        let channel = self.raw.create_channel().await.unwrap();
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .unwrap();
        for i in 0..n {
            let mut headers = FieldTable::default();
            headers.insert(
                "x-test".into(),
                AMQPValue::LongString(format!("h{i}").into()),
            );
            channel
                .basic_publish(
                    "".into(),
                    queue.into(),
                    BasicPublishOptions {
                        mandatory: true,
                        immediate: false,
                    },
                    format!("{{\"n\":{i}}}").as_bytes(),
                    BasicProperties::default()
                        .with_message_id(format!("m{i}").into())
                        .with_delivery_mode(2)
                        .with_headers(headers),
                )
                .await
                .unwrap();
        }
        let returned = channel.wait_for_confirms().await.unwrap();
        assert!(returned.is_empty(), "unroutable test publishes");
        channel.close(200, "done".into()).await.unwrap();
    }

    /// Takes every ready message off `queue` (basic.get, acked): (message_id, headers, body).
    pub async fn drain(&self, queue: &str) -> Vec<(String, BTreeMap<String, String>, Vec<u8>)> {
        let channel = self.raw.create_channel().await.unwrap();
        let mut out = Vec::new();
        while let Some(message) = channel
            .basic_get(queue.into(), BasicGetOptions::default())
            .await
            .unwrap()
        {
            let props = &message.delivery.properties;
            let id = props
                .message_id()
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            let mut headers = BTreeMap::new();
            if let Some(table) = props.headers() {
                for (k, v) in table {
                    if let AMQPValue::LongString(s) = v {
                        headers.insert(
                            k.as_str().to_owned(),
                            String::from_utf8_lossy(s.as_bytes()).into_owned(),
                        );
                    }
                }
            }
            message
                .delivery
                .acker
                .ack(BasicAckOptions::default())
                .await
                .unwrap();
            out.push((id, headers, message.delivery.data.clone()));
        }
        channel.close(200, "done".into()).await.unwrap();
        out
    }

    /// Ready messages in `queue` (passive declare through the library).
    pub async fn depth(&self, queue: &str) -> Option<u32> {
        broker::queue_depths(&self.conn, &[queue.to_owned()])
            .await
            .unwrap()
            .first()
            .and_then(|d| d.messages)
    }

    /// Polls `depth` until it equals `want`, with a deadline.
    pub async fn wait_depth(&self, queue: &str, want: u32) {
        eventually(Duration::from_secs(15), || async {
            self.depth(queue).await == Some(want)
        })
        .await;
    }

    pub async fn cleanup(self, extra_banks: &[BankId]) {
        let mut banks = vec![self.bank.clone()];
        banks.extend_from_slice(extra_banks);
        self.topology.delete(&self.conn, &banks).await.unwrap();
        self.conn.close().await;
        let _ = self.raw.close(200, "done".into()).await;
    }
}

/// Polls `check` every 20 ms until it is true; fails the test after `deadline`.
pub async fn eventually<F, Fut>(deadline: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < end,
            "condition not reached within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A `Handler` test double: records every batch; fails the first `fail_first` calls with
/// `Transient`; dead-letters what `dead` says; can hold its first call until released.
pub struct Recorder {
    pub batches: Mutex<Vec<Vec<Incoming>>>,
    pub calls: AtomicU64,
    pub fail_first: u64,
    pub dead: fn(&Incoming) -> Option<Disposition>,
    pub hold_first: Option<tokio::sync::Semaphore>,
    pub delay: Duration,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            batches: Mutex::default(),
            calls: AtomicU64::new(0),
            fail_first: 0,
            dead: |_| None,
            hold_first: None,
            delay: Duration::ZERO,
        }
    }
}

impl Recorder {
    /// Message ids of every batch that was handled successfully, in order.
    pub fn applied_ids(&self) -> Vec<String> {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .flatten()
            .map(|i| i.message_id.clone().unwrap_or_default())
            .collect()
    }

    pub fn distinct(&self) -> usize {
        self.applied_ids().into_iter().collect::<HashSet<_>>().len()
    }
}

impl Handler for Recorder {
    fn handle(
        &self,
        batch: &[Incoming],
    ) -> impl Future<Output = Result<Vec<Disposition>, Transient>> + Send {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let batch = batch.to_vec();
        async move {
            if call == 0
                && let Some(gate) = &self.hold_first
            {
                let _permit = gate.acquire().await.unwrap();
            }
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            if call < self.fail_first {
                return Err(Transient(format!("database unavailable (call {call})")));
            }
            let dispositions = batch
                .iter()
                .map(|i| (self.dead)(i).unwrap_or(Disposition::Applied))
                .collect();
            self.batches.lock().unwrap().push(batch);
            Ok(dispositions)
        }
    }
}

/// An `Outbox` test double: rows in memory, `pending` returns the unpublished ones oldest
/// first (so earlier siblings always come before later ones), `mark_published` records ids.
#[derive(Default)]
pub struct MemoryOutbox {
    pub rows: Mutex<Vec<OutboxRow>>,
    pub marked: Mutex<Vec<i64>>,
}

impl MemoryOutbox {
    pub fn with_rows(rows: Vec<OutboxRow>) -> MemoryOutbox {
        MemoryOutbox {
            rows: Mutex::new(rows),
            marked: Mutex::default(),
        }
    }

    pub fn unpublished(&self) -> usize {
        let marked: HashSet<i64> = self.marked.lock().unwrap().iter().copied().collect();
        self.rows
            .lock()
            .unwrap()
            .iter()
            .filter(|r| !marked.contains(&r.id))
            .count()
    }
}

impl Outbox for MemoryOutbox {
    fn pending(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, Transient>> + Send {
        let marked: HashSet<i64> = self.marked.lock().unwrap().iter().copied().collect();
        let rows: Vec<OutboxRow> = self
            .rows
            .lock()
            .unwrap()
            .iter()
            .filter(|r| !marked.contains(&r.id))
            .take(limit)
            .cloned()
            .collect();
        async move { Ok(rows) }
    }

    fn mark_published(&self, ids: &[i64]) -> impl Future<Output = Result<(), Transient>> + Send {
        self.marked.lock().unwrap().extend_from_slice(ids);
        async { Ok(()) }
    }
}

pub fn outbox_row(id: i64, routing_key: &str, key: &str, seq: usize) -> OutboxRow {
    let mut headers = BTreeMap::new();
    headers.insert("x-clearway-payment".to_owned(), key.to_owned());
    headers.insert("x-seq".to_owned(), seq.to_string());
    OutboxRow {
        id,
        exchange: String::new(),
        routing_key: routing_key.to_owned(),
        message_id: format!("msg-{id}"),
        headers,
        payload: format!("<payment key=\"{key}\" seq=\"{seq}\"/>").into_bytes(),
        ordering_key: key.to_owned(),
    }
}

/// Closes, from the broker's side, every connection whose client properties carry `name`.
pub fn close_connections_named(name: &str) -> usize {
    let out = std::process::Command::new("rabbitmqctl")
        .args(["list_connections", "pid", "client_properties", "-q"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout);
    let mut closed = 0;
    for line in listing.lines().filter(|l| l.contains(name)) {
        let pid = line.split('\t').next().unwrap();
        let status = std::process::Command::new("rabbitmqctl")
            .args(["close_connection", pid, "test: closed by the broker", "-q"])
            .status()
            .unwrap();
        assert!(status.success(), "close_connection {pid}");
        closed += 1;
    }
    closed
}

impl Env {
    /// A raw connection for tests that need lapin directly.
    pub fn raw(&self) -> &lapin::Connection {
        &self.raw
    }
}
