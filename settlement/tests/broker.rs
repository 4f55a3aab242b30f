//! The broker layer against the real RabbitMQ (`CLEARWAY_AMQP_URL`, default the local one). Each
//! test declares its own topology under a unique prefix and deletes it at the end. The handler
//! and outbox are test doubles of our own traits; the broker is real.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod broker_common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use broker_common::{Env, MemoryOutbox, Recorder, close_connections_named, eventually, outbox_row};
use settlement::broker::{
    self, BankId, CancellationToken, Consumer, ConsumerConfig, Relay, RelayConfig,
};
use settlement::flow::{DeadReason, Disposition};

const WAIT: Duration = Duration::from_secs(20);

fn quick() -> ConsumerConfig {
    ConsumerConfig {
        retry_initial: Duration::from_millis(10),
        retry_max: Duration::from_millis(50),
        reconnect_initial: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(500),
        ..ConsumerConfig::default()
    }
}

/// Runs a consumer on `queues` in a task; returns the stop token and the task.
fn spawn_consumer(
    env: &Env,
    handler: Arc<Recorder>,
    config: ConsumerConfig,
    queues: Vec<String>,
) -> (
    CancellationToken,
    tokio::task::JoinHandle<Result<(), broker::BrokerError>>,
    Arc<broker::ConsumerMetrics>,
) {
    let consumer = Consumer::new(env.url.clone(), env.topology.clone(), handler, config);
    let metrics = consumer.metrics();
    let stop = CancellationToken::new();
    let task_stop = stop.clone();
    let task = tokio::spawn(async move { consumer.run(&queues, &task_stop).await });
    (stop, task, metrics)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_handled_once_and_acked_with_one_multiple_ack() {
    let env = Env::start().await;
    // Through `publish_events`, as `clearway publish` does: routing key = type, id = event_id.
    let mut jsonl = String::new();
    for i in 0..1000 {
        jsonl.push_str(&format!(
            "{{\"event_id\":\"m{i}\",\"type\":\"transfer.requested\",\"n\":{i}}}\n"
        ));
    }
    let report = broker::publish_events(&env.url, &env.topology, jsonl.as_bytes())
        .await
        .unwrap();
    assert_eq!(report.published, 1000);
    env.wait_depth(&env.topology.events_queue, 1000).await;

    let handler = Arc::new(Recorder::default());
    let queues = env
        .topology
        .consumed_queues(std::slice::from_ref(&env.bank));
    let (stop, task, metrics) = spawn_consumer(&env, Arc::clone(&handler), quick(), queues);
    eventually(WAIT, || async { metrics.snapshot().deliveries == 1000 }).await;
    stop.cancel();
    task.await.unwrap().unwrap();

    let ids = handler.applied_ids();
    assert_eq!(ids.len(), 1000, "each message handled exactly once");
    assert_eq!(handler.distinct(), 1000);
    let batches = handler.batches.lock().unwrap().clone();
    assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 200));
    assert!(
        batches.len() < 1000,
        "deliveries were batched ({} batches)",
        batches.len()
    );
    let first = &batches[0][0];
    assert_eq!(first.queue, env.topology.events_queue);
    assert_eq!(first.routing_key, "transfer.requested");
    assert!(first.body.starts_with(b"{\"event_id\":\"m"));
    let snapshot = metrics.snapshot();
    assert_eq!(
        (snapshot.applied, snapshot.redelivered, snapshot.reconnects),
        (1000, 0, 0)
    );
    assert_eq!(env.depth(&env.topology.events_queue).await, Some(0));
    env.cleanup(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_reach_the_dead_queue_intact_with_headers() {
    let env = Env::start().await;
    env.publish_n(&env.bank_in(), 10).await;
    let handler = Arc::new(Recorder {
        dead: |incoming| {
            let n: usize = incoming
                .message_id
                .as_deref()?
                .strip_prefix('m')?
                .parse()
                .ok()?;
            n.is_multiple_of(2).then(|| Disposition::DeadLetter {
                reason: DeadReason::Conflict,
                detail: format!("same key, other payload (n={n})"),
            })
        },
        ..Recorder::default()
    });
    let (stop, task, metrics) =
        spawn_consumer(&env, Arc::clone(&handler), quick(), vec![env.bank_in()]);
    eventually(WAIT, || async { metrics.snapshot().deliveries == 10 }).await;
    stop.cancel();
    task.await.unwrap().unwrap();

    let dead = env.drain(&env.topology.dead_queue).await;
    let mut ids: Vec<&str> = dead.iter().map(|(id, _, _)| id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["m0", "m2", "m4", "m6", "m8"]);
    for (id, headers, body) in &dead {
        let n = &id[1..];
        assert_eq!(body, format!("{{\"n\":{n}}}").as_bytes(), "body intact");
        assert_eq!(headers["x-clearway-reason"], "conflict");
        assert_eq!(
            headers["x-clearway-detail"],
            format!("same key, other payload (n={n})")
        );
        assert_eq!(headers["x-clearway-queue"], env.bank_in());
        assert_eq!(headers["x-test"], format!("h{n}"), "original headers kept");
    }
    assert_eq!(metrics.snapshot().dead_letters, 5);
    assert_eq!(env.depth(&env.bank_in()).await, Some(0));
    env.cleanup(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_error_retries_the_same_batch() {
    let env = Env::start().await;
    env.publish_n(&env.bank_in(), 50).await;
    env.wait_depth(&env.bank_in(), 50).await;
    let handler = Arc::new(Recorder {
        fail_first: 3,
        ..Recorder::default()
    });
    let (stop, task, metrics) =
        spawn_consumer(&env, Arc::clone(&handler), quick(), vec![env.bank_in()]);
    eventually(WAIT, || async { metrics.snapshot().deliveries == 50 }).await;
    stop.cancel();
    task.await.unwrap().unwrap();

    assert_eq!(metrics.snapshot().transient_retries, 3);
    assert_eq!(
        handler.applied_ids().len(),
        50,
        "after the retries, each handled once"
    );
    assert_eq!(handler.distinct(), 50);
    assert_eq!(
        metrics.snapshot().redelivered,
        0,
        "retried in place, not redelivered"
    );
    env.cleanup(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_acked_until_the_handler_succeeds() {
    let env = Env::start().await;
    env.publish_n(&env.bank_in(), 40).await;
    env.wait_depth(&env.bank_in(), 40).await;
    // A handler that always fails: the consumer must never ack.
    let failing = Arc::new(Recorder {
        fail_first: u64::MAX,
        ..Recorder::default()
    });
    let (_stop, task, _) = spawn_consumer(&env, Arc::clone(&failing), quick(), vec![env.bank_in()]);
    eventually(WAIT, || async { failing.calls.load(Ordering::SeqCst) >= 3 }).await;
    task.abort(); // a crash: connections dropped with the deliveries unacked
    let _ = task.await;
    env.wait_depth(&env.bank_in(), 40).await; // all back in the queue

    let handler = Arc::new(Recorder::default());
    let (stop, task, metrics) =
        spawn_consumer(&env, Arc::clone(&handler), quick(), vec![env.bank_in()]);
    eventually(WAIT, || async { metrics.snapshot().deliveries == 40 }).await;
    stop.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(handler.distinct(), 40);
    assert!(metrics.snapshot().redelivered > 0);
    env.cleanup(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_dropped_mid_batch_gets_its_batch_redelivered() {
    let env = Env::start().await;
    env.publish_n(&env.bank_in(), 30).await;
    env.wait_depth(&env.bank_in(), 30).await;
    let stuck = Arc::new(Recorder {
        hold_first: Some(tokio::sync::Semaphore::new(0)), // never released
        ..Recorder::default()
    });
    let (_stop, task, _) = spawn_consumer(&env, Arc::clone(&stuck), quick(), vec![env.bank_in()]);
    eventually(WAIT, || async { stuck.calls.load(Ordering::SeqCst) == 1 }).await;
    task.abort(); // dropped before `handle` returned
    let _ = task.await;
    assert!(stuck.applied_ids().is_empty());
    env.wait_depth(&env.bank_in(), 30).await;

    let handler = Arc::new(Recorder::default());
    let (stop, task, metrics) =
        spawn_consumer(&env, Arc::clone(&handler), quick(), vec![env.bank_in()]);
    eventually(WAIT, || async { metrics.snapshot().deliveries == 30 }).await;
    stop.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(handler.applied_ids().len(), 30);
    let redelivered = handler
        .batches
        .lock()
        .unwrap()
        .iter()
        .flatten()
        .filter(|i| i.redelivered)
        .count();
    assert!(
        redelivered > 0,
        "the interrupted batch came back flagged redelivered"
    );
    env.cleanup(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_finishes_the_current_batch_then_returns() {
    stop_while_a_batch_is_in_the_handler(quick(), 200).await;
}

/// Small batches: while the first is held in the handler, the next one waits prepared and the
/// one after it is gathered and waits to be handed over. Stop must still end both loops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_with_batches_waiting_behind_the_handler() {
    let config = ConsumerConfig {
        batch_size_max: 50,
        ..quick()
    };
    stop_while_a_batch_is_in_the_handler(config, 50).await;
}

async fn stop_while_a_batch_is_in_the_handler(config: ConsumerConfig, batch_max: usize) {
    let env = Env::start().await;
    env.publish_n(&env.bank_in(), 500).await;
    env.wait_depth(&env.bank_in(), 500).await;
    let handler = Arc::new(Recorder {
        hold_first: Some(tokio::sync::Semaphore::new(0)),
        ..Recorder::default()
    });
    let (stop, task, metrics) =
        spawn_consumer(&env, Arc::clone(&handler), config, vec![env.bank_in()]);
    eventually(WAIT, || async { handler.calls.load(Ordering::SeqCst) == 1 }).await;
    // the consumer holds every delivery its prefetch allows: the batches behind are formed
    env.wait_depth(&env.bank_in(), 200).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.cancel(); // while the first batch is in the handler
    handler.hold_first.as_ref().unwrap().add_permits(1);
    tokio::time::timeout(WAIT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    let done = handler.applied_ids().len();
    assert_eq!(
        handler.calls.load(Ordering::SeqCst),
        1,
        "no batch after stop"
    );
    assert!(done > 0 && done <= batch_max);
    assert_eq!(
        metrics.snapshot().deliveries,
        done as u64,
        "the finished batch was acked"
    );
    // The rest is back in the queue (prefetched but unacked deliveries are requeued on close).
    env.wait_depth(&env.bank_in(), 500 - done as u32).await;
    env.cleanup(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closed_by_the_broker_reconnects_and_finishes() {
    let env = Env::start().await;
    env.publish_n(&env.bank_in(), 600).await;
    env.wait_depth(&env.bank_in(), 600).await;
    let handler = Arc::new(Recorder {
        delay: Duration::from_millis(30),
        ..Recorder::default()
    });
    let name = format!("{} consumer", env.prefix);
    let config = ConsumerConfig {
        batch_size_max: 50,
        connection_name: name.clone(),
        ..quick()
    };
    let (stop, task, metrics) =
        spawn_consumer(&env, Arc::clone(&handler), config, vec![env.bank_in()]);
    eventually(WAIT, || async { metrics.snapshot().deliveries >= 100 }).await;
    let closed = tokio::task::spawn_blocking(move || close_connections_named(&name))
        .await
        .unwrap();
    assert_eq!(closed, 1, "our consumer's connection, and only it");
    eventually(WAIT, || async { handler.distinct() == 600 }).await;
    eventually(WAIT, || async { metrics.snapshot().reconnects >= 1 }).await;
    stop.cancel();
    task.await.unwrap().unwrap();
    assert_eq!(env.depth(&env.bank_in()).await, Some(0));
    // At most the batch under way when the connection closed is seen twice (the inbox absorbs it).
    assert!(handler.applied_ids().len() <= 600 + 50);
    env.cleanup(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_publishes_every_row_once_in_order_per_key() {
    let env = Env::start().await;
    let out = env.bank_out();
    // 30 payments, 8 messages each, interleaved as an outbox fills up.
    let mut rows = Vec::new();
    for seq in 0..8 {
        for key in 0..30 {
            let id = rows.len() as i64 + 1;
            rows.push(outbox_row(id, &out, &format!("pay-{key}"), seq));
        }
    }
    let outbox = Arc::new(MemoryOutbox::with_rows(rows));
    let relay = Relay::new(env.url.clone(), Arc::clone(&outbox), RelayConfig::default());
    let metrics = relay.metrics();
    let stop = CancellationToken::new();
    let task = {
        let stop = stop.clone();
        tokio::spawn(async move { relay.run(&stop).await })
    };
    eventually(WAIT, || async { outbox.unpublished() == 0 }).await;
    stop.cancel();
    task.await.unwrap().unwrap();

    let marked = outbox.marked.lock().unwrap().clone();
    assert_eq!(marked.len(), 240);
    assert_eq!(
        marked.iter().collect::<HashSet<_>>().len(),
        240,
        "each row marked once"
    );
    assert_eq!(metrics.snapshot().published, 240);
    let messages = env.drain(&out).await;
    assert_eq!(messages.len(), 240, "each row published once");
    let mut last_seq: BTreeMap<String, i64> = BTreeMap::new();
    for (id, headers, body) in &messages {
        assert!(id.starts_with("msg-"));
        let seq: i64 = headers["x-seq"].parse().unwrap();
        let key = headers["x-clearway-payment"].clone();
        assert!(String::from_utf8_lossy(body).contains(&format!("key=\"{key}\"")));
        let previous = last_seq.insert(key.clone(), seq).unwrap_or(-1);
        assert_eq!(seq, previous + 1, "{key}: out of order");
    }
    env.cleanup(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_for_a_missing_bank_queue_wait_while_others_flow() {
    let env = Env::start().await;
    let late = BankId::parse("late-bank").unwrap();
    let late_out = env.topology.bank_out(&late);
    let mut rows = Vec::new();
    for seq in 0..3 {
        rows.push(outbox_row(
            rows.len() as i64 + 1,
            &late_out,
            "pay-late",
            seq,
        ));
        rows.push(outbox_row(
            rows.len() as i64 + 1,
            &env.bank_out(),
            "pay-ok",
            seq,
        ));
    }
    let outbox = Arc::new(MemoryOutbox::with_rows(rows));
    let config = RelayConfig {
        retry_initial: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
        ..RelayConfig::default()
    };
    let relay = Relay::new(env.url.clone(), Arc::clone(&outbox), config);
    let metrics = relay.metrics();
    let stop = CancellationToken::new();
    let task = {
        let stop = stop.clone();
        tokio::spawn(async move { relay.run(&stop).await })
    };
    eventually(WAIT, || async { outbox.unpublished() == 3 }).await;
    eventually(WAIT, || async { metrics.snapshot().refused >= 2 }).await;
    assert_eq!(outbox.unpublished(), 3, "the late bank's rows wait");
    // The bank's queue appears: its rows go out, in order.
    env.topology
        .declare(&env.conn, std::slice::from_ref(&late))
        .await
        .unwrap();
    eventually(WAIT, || async { outbox.unpublished() == 0 }).await;
    stop.cancel();
    task.await.unwrap().unwrap();

    let seqs: Vec<String> = env
        .drain(&late_out)
        .await
        .into_iter()
        .map(|(_, h, _)| h["x-seq"].clone())
        .collect();
    assert_eq!(seqs, ["0", "1", "2"]);
    assert_eq!(env.drain(&env.bank_out()).await.len(), 3);
    env.cleanup(&[late]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_depths_report_missing_queues_as_none() {
    let env = Env::start().await;
    env.publish_n(&env.bank_out(), 3).await;
    let mut queues = env.topology.all_queues(std::slice::from_ref(&env.bank));
    queues.push(format!("{}.no-such-queue", env.prefix));
    let mut depths = Vec::new();
    for _ in 0..50 {
        depths = broker::queue_depths(&env.conn, &queues).await.unwrap();
        if depths[1].messages == Some(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let summary: Vec<(String, Option<u32>)> = depths
        .iter()
        .map(|d| {
            (
                d.queue.trim_start_matches(&env.prefix).to_owned(),
                d.messages,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (".events".to_owned(), Some(0)),
            (".bank.b1.out".to_owned(), Some(3)),
            (".bank.b1.in".to_owned(), Some(0)),
            (".dead".to_owned(), Some(0)),
            (".no-such-queue".to_owned(), None),
        ]
    );
    env.cleanup(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_errors_name_the_url_without_its_password() {
    // Nothing listens on port 1: refused at once.
    let url = broker::AmqpUrl::parse("amqp://clearing:hunter2@127.0.0.1:1/%2f").unwrap();
    let err = broker::connect(&url, "test").await.unwrap_err().to_string();
    assert!(
        err.starts_with("connecting to amqp://clearing:***@127.0.0.1:1/%2f"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    // Wrong credentials: the broker refuses the handshake.
    let url = broker::AmqpUrl::parse("amqp://guest:wrong-password@127.0.0.1:5672/%2f").unwrap();
    let err = broker::connect(&url, "test").await.unwrap_err().to_string();
    assert!(!err.contains("wrong-password"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_while_the_handler_keeps_failing_acks_nothing() {
    let env = Env::start().await;
    env.publish_n(&env.bank_in(), 20).await;
    env.wait_depth(&env.bank_in(), 20).await;
    let failing = Arc::new(Recorder {
        fail_first: u64::MAX,
        ..Recorder::default()
    });
    let (stop, task, metrics) =
        spawn_consumer(&env, Arc::clone(&failing), quick(), vec![env.bank_in()]);
    eventually(WAIT, || async { failing.calls.load(Ordering::SeqCst) >= 2 }).await;
    stop.cancel();
    tokio::time::timeout(WAIT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(metrics.snapshot().deliveries, 0);
    env.wait_depth(&env.bank_in(), 20).await; // the abandoned batch is back
    env.cleanup(&[]).await;
}

/// A handler with a bug: one disposition short.
struct ShortHandler;

impl settlement::flow::Handler for ShortHandler {
    fn handle(
        &self,
        batch: &[settlement::flow::Incoming],
    ) -> impl std::future::Future<Output = Result<Vec<Disposition>, settlement::flow::Transient>> + Send
    {
        let out = vec![Disposition::Applied; batch.len().saturating_sub(1)];
        async move { Ok(out) }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_breaks_its_contract_stops_the_run_and_acks_nothing() {
    let env = Env::start().await;
    env.publish_n(&env.bank_in(), 5).await;
    env.wait_depth(&env.bank_in(), 5).await;
    let consumer = Consumer::new(
        env.url.clone(),
        env.topology.clone(),
        Arc::new(ShortHandler),
        quick(),
    );
    let stop = CancellationToken::new();
    let queues = env
        .topology
        .consumed_queues(std::slice::from_ref(&env.bank));
    let err = tokio::time::timeout(WAIT, consumer.run(&queues, &stop))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, broker::BrokerError::DispositionCount { got, expected, .. } if got + 1 == expected),
        "{err}"
    );
    assert_eq!(consumer.metrics().snapshot().deliveries, 0);
    env.wait_depth(&env.bank_in(), 5).await;
    env.cleanup(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_recreates_a_consumer_that_is_silent_while_its_queue_has_messages() {
    use futures_lite::StreamExt;
    use lapin::options::{
        BasicConsumeOptions, BasicQosOptions, QueueDeclareOptions, QueueDeleteOptions,
    };
    use lapin::types::{AMQPValue, FieldTable};

    let env = Env::start().await;
    // A single-active-consumer queue makes a registered consumer receive nothing while another
    // one is active: exactly what a silently stuck consumer looks like from our side.
    let queue = format!("{}.sac", env.prefix);
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    args.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
    let channel = env.raw().create_channel().await.unwrap();
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.as_str().into(), durable, args)
        .await
        .unwrap();
    channel
        .basic_qos(1, BasicQosOptions::default())
        .await
        .unwrap();
    let mut blocker = channel
        .basic_consume(
            queue.as_str().into(),
            "blocker".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    env.publish_n(&queue, 20).await;
    let _held = blocker.next().await.unwrap().unwrap(); // never acked: the blocker is stuck

    let handler = Arc::new(Recorder::default());
    let config = ConsumerConfig {
        watchdog_idle: Duration::from_millis(300),
        ..quick()
    };
    let (stop, task, metrics) =
        spawn_consumer(&env, Arc::clone(&handler), config, vec![queue.clone()]);
    eventually(WAIT, || async { metrics.snapshot().watchdog_restarts >= 1 }).await;
    assert_eq!(metrics.snapshot().deliveries, 0);
    // The stuck consumer goes away; ours becomes the active one and drains the queue.
    channel.close(200, "blocker gone".into()).await.unwrap();
    eventually(WAIT, || async { handler.distinct() == 20 }).await;
    stop.cancel();
    task.await.unwrap().unwrap();

    let cleanup = env.raw().create_channel().await.unwrap();
    cleanup
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    env.cleanup(&[]).await;
}
