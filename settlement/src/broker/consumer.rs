//! The batch consumer: deliveries of one queue are gathered into a batch (up to `batch_size_max`,
//! or whatever arrived within `batch_linger` of the first), handed to the `flow::Handler` in one
//! call, and acked with one multiple-ack once the handler returned `Ok` and the batch's dead
//! letters were confirmed by the broker. A `Transient` error retries the same batch with backoff
//! and acks nothing. A lost connection, channel or consumer reconnects with backoff; whatever
//! was delivered but not acked comes back as a redelivery, which the handler's inbox absorbs.
//!
//! One task per queue, each on a connection of its own (three channels: deliveries, dead-letter
//! publishes with confirms, passive declares for the watchdog), so one queue's trouble does not
//! stop the others. The handler is shared.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_lite::StreamExt;
use lapin::{
    message::Delivery,
    options::{
        BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicQosOptions,
        QueueDeclareOptions,
    },
    types::{AMQPValue, FieldTable},
};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::confirms::{Confirms, PERSISTENT, Settled};
use super::{AmqpUrl, BrokerError, Connection, Topology, backoff, connect, sleep_or_stop};
use crate::flow::{Disposition, Handler, Incoming, Prepared};

/// How the consumer batches, retries and watches. `Default` gives the values of the issue.
#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    /// `basic.qos` prefetch per queue (quorum queues cap it at 2,000).
    pub prefetch: u16,
    /// A batch closes at this many deliveries…
    pub batch_size_max: usize,
    /// …or this long after its first delivery arrived.
    pub batch_linger: Duration,
    /// Backoff between handler retries after a `Transient` error: first delay and cap.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// Backoff between reconnects: first delay and cap.
    pub reconnect_initial: Duration,
    pub reconnect_max: Duration,
    /// No delivery for this long while the queue holds ready messages: recreate the consumer.
    pub watchdog_idle: Duration,
    /// Deadline for the broker's confirm of a dead-letter publish.
    pub confirm_timeout: Duration,
    /// Connection name prefix (`<name> <queue>`), shown by `rabbitmqctl list_connections`.
    pub connection_name: String,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            prefetch: 300,
            batch_size_max: 200,
            batch_linger: Duration::from_millis(5),
            retry_initial: Duration::from_millis(50),
            retry_max: Duration::from_secs(5),
            reconnect_initial: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(10),
            watchdog_idle: Duration::from_secs(30),
            confirm_timeout: Duration::from_secs(5),
            connection_name: "clearway-consumer".to_owned(),
        }
    }
}

/// Counters for `/metrics`, shared by every queue task.
#[derive(Debug, Default)]
pub struct ConsumerMetrics {
    batches: AtomicU64,
    deliveries: AtomicU64,
    redelivered: AtomicU64,
    applied: AtomicU64,
    duplicates: AtomicU64,
    dead_letters: AtomicU64,
    transient_retries: AtomicU64,
    reconnects: AtomicU64,
    watchdog_restarts: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Batches committed and acked.
    pub batches: u64,
    /// Deliveries acked (after their batch committed).
    pub deliveries: u64,
    /// Of those, how many the broker flagged as redelivered.
    pub redelivered: u64,
    pub applied: u64,
    pub duplicates: u64,
    pub dead_letters: u64,
    pub transient_retries: u64,
    pub reconnects: u64,
    pub watchdog_restarts: u64,
}

impl ConsumerMetrics {
    pub fn snapshot(&self) -> MetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MetricsSnapshot {
            batches: get(&self.batches),
            deliveries: get(&self.deliveries),
            redelivered: get(&self.redelivered),
            applied: get(&self.applied),
            duplicates: get(&self.duplicates),
            dead_letters: get(&self.dead_letters),
            transient_retries: get(&self.transient_retries),
            reconnects: get(&self.reconnects),
            watchdog_restarts: get(&self.watchdog_restarts),
        }
    }
}

fn bump(counter: &AtomicU64, by: usize) {
    counter.fetch_add(u64::try_from(by).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// Consumes queues into a `Handler`. See the module documentation.
pub struct Consumer<H: Handler> {
    shared: Arc<Shared<H>>,
}

struct Shared<H> {
    url: AmqpUrl,
    topology: Topology,
    handler: Arc<H>,
    config: ConsumerConfig,
    metrics: Arc<ConsumerMetrics>,
}

/// Why a session (one connection) ended without an error.
enum SessionEnd {
    Stopped,
    /// The watchdog found the consumer silent while the queue had messages.
    Restart,
}

/// What became of one batch.
enum BatchEnd {
    Acked,
    /// Stop was requested while the handler kept failing: nothing acked, all redelivered later.
    Abandoned,
}

impl<H: Handler> Consumer<H> {
    pub fn new(
        url: AmqpUrl,
        topology: Topology,
        handler: Arc<H>,
        config: ConsumerConfig,
    ) -> Consumer<H> {
        Consumer {
            shared: Arc::new(Shared {
                url,
                topology,
                handler,
                config,
                metrics: Arc::default(),
            }),
        }
    }

    pub fn metrics(&self) -> Arc<ConsumerMetrics> {
        Arc::clone(&self.shared.metrics)
    }

    /// Consumes `queues` (one task each) until `stop` is cancelled; then every task finishes its
    /// current batch (commit and ack), closes its connection and this returns `Ok`. Connection
    /// trouble is retried forever with backoff; only a handler that breaks its contract ends the
    /// run with an error (the other queues are stopped first). Dropping the future drops every
    /// connection, as a crash would: unacked deliveries come back.
    pub async fn run(
        &self,
        queues: &[String],
        stop: &CancellationToken,
    ) -> Result<(), BrokerError> {
        let stop = stop.child_token();
        let mut tasks = JoinSet::new();
        for queue in queues {
            let (shared, queue, stop) = (Arc::clone(&self.shared), queue.clone(), stop.clone());
            tasks.spawn(async move { consume_queue(&shared, &queue, &stop).await });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            let result = joined.unwrap_or_else(|join| {
                Err(BrokerError::Task {
                    task: "consumer".to_owned(),
                    detail: join.to_string(),
                })
            });
            if let Err(error) = result {
                stop.cancel();
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

async fn consume_queue<H: Handler>(
    shared: &Shared<H>,
    queue: &str,
    stop: &CancellationToken,
) -> Result<(), BrokerError> {
    let config = &shared.config;
    let mut failures = 0u32;
    loop {
        if stop.is_cancelled() {
            return Ok(());
        }
        match session(shared, queue, stop, &mut failures).await {
            Ok(SessionEnd::Stopped) => return Ok(()),
            Ok(SessionEnd::Restart) => {
                bump(&shared.metrics.watchdog_restarts, 1);
                tracing::warn!(
                    queue,
                    "consumer silent while its queue has messages; recreated"
                );
            }
            Err(error @ BrokerError::DispositionCount { .. }) => return Err(error),
            Err(error) => {
                bump(&shared.metrics.reconnects, 1);
                let delay = backoff(config.reconnect_initial, config.reconnect_max, failures);
                tracing::warn!(queue, %error, ?delay, "consumer session ended; reconnecting");
                failures = failures.saturating_add(1);
                if sleep_or_stop(delay, stop).await {
                    return Ok(());
                }
            }
        }
    }
}

/// One connection's life: consume batches until stop, an error or the watchdog.
async fn session<H: Handler>(
    shared: &Shared<H>,
    queue: &str,
    stop: &CancellationToken,
    failures: &mut u32,
) -> Result<SessionEnd, BrokerError> {
    let name = format!("{} {queue}", shared.config.connection_name);
    let conn = connect(&shared.url, &name).await?;
    let result = consume_on(shared, &conn, queue, stop, failures).await;
    conn.close().await;
    result
}

async fn consume_on<H: Handler>(
    shared: &Shared<H>,
    conn: &Connection,
    queue: &str,
    stop: &CancellationToken,
    failures: &mut u32,
) -> Result<SessionEnd, BrokerError> {
    let config = &shared.config;
    let channel = conn.channel().await?;
    channel
        .basic_qos(config.prefetch, BasicQosOptions::default())
        .await
        .map_err(BrokerError::amqp("basic.qos on", queue))?;
    let mut dead = Confirms::new(conn.channel().await?, 1000, config.confirm_timeout).await?;
    let probe = conn.channel().await?;
    let mut consumer = channel
        .basic_consume(
            queue.into(),
            "".into(), // the broker names it
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(BrokerError::amqp("basic.consume on", queue))?;
    // Two loops joined: gathering and preparing batch k+1 overlaps committing batch k. A
    // prepared batch waits in a channel of one; the commit loop commits and acks in order.
    let (ready, prepared) = tokio::sync::mpsc::channel::<Gathered>(1);
    let gather = gather_batches(shared, &channel, &mut consumer, &probe, queue, stop, ready);
    let commit = async {
        // owned here: when this loop ends, the gather loop's next send fails and it ends too
        let mut prepared = prepared;
        while let Some(next) = prepared.recv().await {
            let Gathered {
                mut deliveries,
                work,
            } = next;
            let (batch, mut work) = work.await.map_err(|join| BrokerError::Task {
                task: format!("prepare {queue}"),
                detail: join.to_string(),
            })?;
            match process(
                shared,
                queue,
                &mut deliveries,
                batch,
                &mut work,
                &mut dead,
                stop,
            )
            .await?
            {
                BatchEnd::Abandoned => return Ok(SessionEnd::Stopped),
                BatchEnd::Acked => *failures = 0,
            }
            if stop.is_cancelled() {
                // the batch in the handler was finished; one merely prepared is left unacked
                // and comes back, redelivered, when the channel closes
                return Ok(SessionEnd::Stopped);
            }
        }
        Ok(SessionEnd::Stopped)
    };
    // The gather loop ends first on a watchdog restart or an error; on stop both end after the
    // batch in the handler committed and was acked.
    let (gathered, committed) = tokio::try_join!(gather, commit)?;
    Ok(match (gathered, committed) {
        (SessionEnd::Restart, SessionEnd::Stopped) if !stop.is_cancelled() => SessionEnd::Restart,
        _ => SessionEnd::Stopped,
    })
}

/// A batch on its way from the gather loop to the commit loop: its deliveries (acked after
/// the commit) and the task preparing it.
struct Gathered {
    deliveries: Vec<Delivery>,
    work: tokio::task::JoinHandle<(Vec<Incoming>, Prepared)>,
}

/// Gathers batches (up to `batch_size_max`, or what arrived within `batch_linger` of the
/// first), starts each one's preparation on a task of its own and hands it to the commit loop.
/// Ends on stop, when the watchdog finds the consumer silent, or on an error.
async fn gather_batches<H: Handler>(
    shared: &Shared<H>,
    channel: &lapin::Channel,
    consumer: &mut lapin::Consumer,
    probe: &lapin::Channel,
    queue: &str,
    stop: &CancellationToken,
    ready: tokio::sync::mpsc::Sender<Gathered>,
) -> Result<SessionEnd, BrokerError> {
    let config = &shared.config;
    let cancelled = || BrokerError::ConsumerCancelled {
        queue: queue.to_owned(),
    };
    loop {
        let first = tokio::select! {
            biased;
            () = stop.cancelled() => {
                let _ = channel.basic_cancel(consumer.tag(), BasicCancelOptions::default()).await;
                return Ok(SessionEnd::Stopped);
            }
            next = consumer.next() => next,
            () = tokio::time::sleep(config.watchdog_idle) => {
                let state = probe
                    .queue_declare(queue.into(), QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() }, FieldTable::default())
                    .await
                    .map_err(BrokerError::amqp("queue.declare (passive)", queue))?;
                if state.message_count() > 0 {
                    return Ok(SessionEnd::Restart);
                }
                continue;
            }
        };
        let mut deliveries = match first {
            Some(Ok(delivery)) => vec![delivery],
            Some(Err(source)) => {
                return Err(BrokerError::Amqp {
                    operation: "consume",
                    target: queue.to_owned(),
                    source,
                });
            }
            None => return Err(cancelled()),
        };
        let linger_end = Instant::now() + config.batch_linger;
        while deliveries.len() < config.batch_size_max {
            match tokio::time::timeout_at(linger_end, consumer.next()).await {
                Err(_linger_over) => break,
                Ok(Some(Ok(delivery))) => deliveries.push(delivery),
                Ok(Some(Err(source))) => {
                    return Err(BrokerError::Amqp {
                        operation: "consume",
                        target: queue.to_owned(),
                        source,
                    });
                }
                Ok(None) => return Err(cancelled()),
            }
        }
        // The bodies move into the batch (no copy); dead letters take them back from there.
        let batch: Vec<Incoming> = deliveries.iter_mut().map(|d| incoming(queue, d)).collect();
        let handler = Arc::clone(&shared.handler);
        let work = tokio::spawn(async move {
            let prepared = handler.prepare(&batch).await;
            (batch, prepared)
        });
        if ready.send(Gathered { deliveries, work }).await.is_err() {
            // the commit loop ended (with an error it reports itself)
            return Ok(SessionEnd::Stopped);
        }
    }
}

/// Handler (with retries), dead letters (with confirms), then one multiple-ack.
async fn process<H: Handler>(
    shared: &Shared<H>,
    queue: &str,
    deliveries: &mut [Delivery],
    batch: Vec<Incoming>,
    prepared: &mut Prepared,
    dead: &mut Confirms<usize>,
    stop: &CancellationToken,
) -> Result<BatchEnd, BrokerError> {
    let config = &shared.config;
    let mut attempt = 0u32;
    let dispositions = loop {
        match shared.handler.commit(&batch, prepared).await {
            Ok(dispositions) => break dispositions,
            Err(transient) => {
                bump(&shared.metrics.transient_retries, 1);
                let delay = backoff(config.retry_initial, config.retry_max, attempt);
                tracing::warn!(queue, error = %transient, ?delay, size = batch.len(), "batch not committed; retrying");
                attempt = attempt.saturating_add(1);
                if sleep_or_stop(delay, stop).await {
                    return Ok(BatchEnd::Abandoned);
                }
            }
        }
    };
    if dispositions.len() != batch.len() {
        return Err(BrokerError::DispositionCount {
            queue: queue.to_owned(),
            expected: batch.len(),
            got: dispositions.len(),
        });
    }

    let (mut applied, mut duplicates, mut dead_letters) = (0usize, 0usize, 0usize);
    let mut published = 0usize;
    for (index, ((delivery, disposition), item)) in
        deliveries.iter().zip(&dispositions).zip(&batch).enumerate()
    {
        let (reason, detail) = match disposition {
            Disposition::Applied => {
                applied += 1;
                continue;
            }
            Disposition::Duplicate => {
                duplicates += 1;
                continue;
            }
            Disposition::DeadLetter { reason, detail } => {
                dead_letters += 1;
                (reason, detail)
            }
            // no new effect: counted as a duplicate, but published to the dead queue again
            Disposition::DeadLetterAgain { reason, detail } => {
                duplicates += 1;
                (reason, detail)
            }
        };
        published += 1;
        let mut headers = delivery.properties.headers().clone().unwrap_or_default();
        let text = |s: &str| AMQPValue::LongString(s.into());
        headers.insert("x-clearway-reason".into(), text(reason.as_str()));
        headers.insert("x-clearway-detail".into(), text(detail));
        headers.insert("x-clearway-queue".into(), text(queue));
        let properties = delivery
            .properties
            .clone()
            .with_headers(headers)
            .with_delivery_mode(PERSISTENT);
        dead.publish(
            index,
            &shared.topology.dead_letter_exchange,
            delivery.routing_key.as_str(),
            properties,
            &item.body,
        )
        .await?;
    }
    if published > 0 {
        let drained = dead.drain().await;
        if drained.is_err() {
            dead.abandon();
        }
        drained?;
        for (_index, settled) in dead.take_settled() {
            if let Settled::Refused(reply) = settled {
                return Err(BrokerError::Refused {
                    target: shared.topology.dead_letter_exchange.clone(),
                    reply,
                });
            }
        }
    }

    // The handler committed and the dead letters are safe: now, and only now, ack the batch.
    let Some(last) = deliveries.last() else {
        return Ok(BatchEnd::Acked);
    };
    let acked = last
        .acker
        .ack(BasicAckOptions { multiple: true })
        .await
        .map_err(BrokerError::amqp("basic.ack on", queue))?;
    if !acked {
        // The channel is gone: the batch comes back as redeliveries, which the inbox absorbs.
        return Err(BrokerError::AckLost {
            queue: queue.to_owned(),
        });
    }
    let metrics = &shared.metrics;
    bump(&metrics.batches, 1);
    bump(&metrics.deliveries, deliveries.len());
    bump(
        &metrics.redelivered,
        deliveries.iter().filter(|d| d.redelivered).count(),
    );
    bump(&metrics.applied, applied);
    bump(&metrics.duplicates, duplicates);
    bump(&metrics.dead_letters, dead_letters);
    Ok(BatchEnd::Acked)
}

fn incoming(queue: &str, delivery: &mut Delivery) -> Incoming {
    let mut headers = BTreeMap::new();
    if let Some(table) = delivery.properties.headers() {
        for (key, value) in table {
            if let Some(text) = header_text(value) {
                headers.insert(key.as_str().to_owned(), text);
            }
        }
    }
    Incoming {
        queue: queue.to_owned(),
        routing_key: delivery.routing_key.as_str().to_owned(),
        message_id: delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str().to_owned()),
        headers,
        redelivered: delivery.redelivered,
        body: std::mem::take(&mut delivery.data),
    }
}

/// Strings as they are, numbers and booleans in decimal; tables, arrays and bytes are left out.
fn header_text(value: &AMQPValue) -> Option<String> {
    Some(match value {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.as_str().to_owned(),
        AMQPValue::Boolean(b) => b.to_string(),
        AMQPValue::ShortShortInt(n) => n.to_string(),
        AMQPValue::ShortShortUInt(n) => n.to_string(),
        AMQPValue::ShortInt(n) => n.to_string(),
        AMQPValue::ShortUInt(n) => n.to_string(),
        AMQPValue::LongInt(n) => n.to_string(),
        AMQPValue::LongUInt(n) => n.to_string(),
        AMQPValue::LongLongInt(n) => n.to_string(),
        AMQPValue::Timestamp(n) => n.to_string(),
        _ => return None,
    })
}
