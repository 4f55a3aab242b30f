//! The outbox relay: reads pending rows from a `flow::Outbox`, publishes them with publisher
//! confirms (pipelined, mandatory, persistent, `message_id` = the row's business id) and marks
//! published only the rows the broker confirmed. A row the broker refuses (its bank queue is
//! missing, or a nack) stays pending, and its destination is parked for a while so that the
//! other destinations keep flowing; a confirm that does not come in time drops the connection
//! and the row is retried later, never waited on forever.
//!
//! Order per ordering key: rows of one key are published in waves, the k-th row of every key in
//! wave k, and a wave starts only after the previous one was confirmed; a key whose row failed
//! publishes nothing more in this round. So a payment's messages leave in creation order, and
//! a retry after a failure re-sends from the first unconfirmed one.
//!
//! Two lanes overlap: while one round is published and confirmed, a task of its own marks the
//! round before and then claims the next one (mark first, so the claim already sees the rows
//! behind the marked ones). The claimed rows of the round in flight are leased, and a later
//! row of their ordering keys is blocked until they are marked, so the claim never returns a
//! row that could overtake one in flight; for an outbox that does not lease, rows of an
//! ordering key in flight are left for a later claim. Marking still follows the confirm.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::confirms::{Confirms, Settled, field_table, properties, target};
use super::{AmqpUrl, BrokerError, backoff, connect, sleep_or_stop};
use crate::flow::{Outbox, OutboxRow};

/// How the relay batches and backs off. `Default` gives the values of the issue.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Rows asked of the outbox per round.
    pub batch_size_max: usize,
    /// Publishes waiting for their confirm at once.
    pub in_flight_max: usize,
    /// A confirm later than this is an error; the row stays pending.
    pub confirm_timeout: Duration,
    /// Backoff while the outbox is empty (or every pending row is parked): first delay and cap.
    pub idle_initial: Duration,
    pub idle_max: Duration,
    /// Backoff for a destination the broker refused, and for reconnects: first delay and cap.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// Connection name shown by `rabbitmqctl list_connections`.
    pub connection_name: String,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            batch_size_max: 1000,
            in_flight_max: 1000,
            confirm_timeout: Duration::from_secs(5),
            idle_initial: Duration::from_millis(5),
            idle_max: Duration::from_millis(500),
            retry_initial: Duration::from_millis(200),
            retry_max: Duration::from_secs(30),
            connection_name: "clearway-relay".to_owned(),
        }
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct RelayMetrics {
    published: AtomicU64,
    refused: AtomicU64,
    reconnects: AtomicU64,
    outbox_errors: AtomicU64,
}

/// A copy of the relay counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelaySnapshot {
    /// Rows confirmed by the broker and marked published.
    pub published: u64,
    /// Publishes the broker returned or nacked (the rows stayed pending).
    pub refused: u64,
    pub reconnects: u64,
    /// `Transient` errors from the outbox.
    pub outbox_errors: u64,
}

impl RelayMetrics {
    pub fn snapshot(&self) -> RelaySnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RelaySnapshot {
            published: get(&self.published),
            refused: get(&self.refused),
            reconnects: get(&self.reconnects),
            outbox_errors: get(&self.outbox_errors),
        }
    }
}

fn bump(counter: &AtomicU64, by: usize) {
    counter.fetch_add(u64::try_from(by).unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// Drains an `Outbox` to the broker. See the module documentation.
pub struct Relay<O: Outbox> {
    url: AmqpUrl,
    outbox: Arc<O>,
    config: RelayConfig,
    metrics: Arc<RelayMetrics>,
}

/// A destination the broker refused, and when to try it again.
struct Parked {
    until: Instant,
    strikes: u32,
}

impl<O: Outbox> Relay<O> {
    pub fn new(url: AmqpUrl, outbox: Arc<O>, config: RelayConfig) -> Relay<O> {
        Relay {
            url,
            outbox,
            config,
            metrics: Arc::default(),
        }
    }

    pub fn metrics(&self) -> Arc<RelayMetrics> {
        Arc::clone(&self.metrics)
    }

    /// Relays until `stop` is cancelled (the round under way finishes first). Broker and outbox
    /// trouble is retried with backoff; this returns `Ok` when stopped.
    pub async fn run(&self, stop: &CancellationToken) -> Result<(), BrokerError> {
        let mut parked: HashMap<String, Parked> = HashMap::new();
        let mut failures = 0u32;
        while !stop.is_cancelled() {
            let result = self.session(stop, &mut parked, &mut failures).await;
            if let Err(error) = result {
                bump(&self.metrics.reconnects, 1);
                let delay = backoff(self.config.retry_initial, self.config.retry_max, failures);
                tracing::warn!(%error, ?delay, "relay session ended; reconnecting");
                failures = failures.saturating_add(1);
                if sleep_or_stop(delay, stop).await {
                    break;
                }
            }
        }
        Ok(())
    }

    async fn session(
        &self,
        stop: &CancellationToken,
        parked: &mut HashMap<String, Parked>,
        failures: &mut u32,
    ) -> Result<(), BrokerError> {
        let conn = connect(&self.url, &self.config.connection_name).await?;
        let result = async {
            let mut confirms = Confirms::new(
                conn.channel().await?,
                self.config.in_flight_max,
                self.config.confirm_timeout,
            )
            .await?;
            let mut idle = 0u32;
            // The round being published, and the rows the broker confirmed in the round before.
            let mut rows: Vec<OutboxRow> = Vec::new();
            let mut confirmed: Vec<i64> = Vec::new();
            loop {
                let claim = !stop.is_cancelled();
                if !claim && rows.is_empty() && confirmed.is_empty() {
                    break;
                }
                // The store lane marks the last round and claims the next one while this one
                // is published and confirmed.
                let in_flight: HashSet<String> =
                    rows.iter().map(|r| r.ordering_key.clone()).collect();
                let store = tokio::spawn(self.lane().run(
                    std::mem::take(&mut confirmed),
                    claim,
                    in_flight,
                ));
                let (done, outcome) = self.publish_round(&mut confirms, parked, &rows).await;
                let (marked, next) = store.await.unwrap_or_else(|error| {
                    tracing::error!(%error, "relay store lane failed; its rows are retried later");
                    (0, Vec::new())
                });
                let published = !rows.is_empty() || marked > 0;
                rows = next;
                confirmed = done;
                if let Err(error) = outcome {
                    // Mark what the broker confirmed before the session ends; the rows claimed
                    // for the next round stay with their lease and are claimed again after it.
                    self.lane().mark(&confirmed).await;
                    return Err(error);
                }
                *failures = 0;
                if published || !rows.is_empty() || !confirmed.is_empty() {
                    idle = 0;
                    continue;
                }
                let delay = backoff(self.config.idle_initial, self.config.idle_max, idle);
                idle = idle.saturating_add(1);
                // stopped: the loop ends at its top, nothing being in hand
                sleep_or_stop(delay, stop).await;
            }
            Ok(())
        }
        .await;
        conn.close().await;
        result
    }

    fn lane(&self) -> StoreLane<O> {
        StoreLane {
            outbox: Arc::clone(&self.outbox),
            metrics: Arc::clone(&self.metrics),
            batch_size_max: self.config.batch_size_max,
            retry_initial: self.config.retry_initial,
            retry_max: self.config.retry_max,
        }
    }

    /// Publishes one round, wave by wave; returns the ids the broker confirmed (also when the
    /// round ended in an error: those are known) and whether the channel is still usable.
    async fn publish_round(
        &self,
        confirms: &mut Confirms<usize>,
        parked: &mut HashMap<String, Parked>,
        rows: &[OutboxRow],
    ) -> (Vec<i64>, Result<(), BrokerError>) {
        let mut confirmed: Vec<i64> = Vec::new();
        if rows.is_empty() {
            return (confirmed, Ok(()));
        }
        let now = Instant::now();
        parked.retain(|_, p| p.until > now || p.strikes > 0);
        let waves = waves(rows);
        let mut failed_keys: Vec<&str> = Vec::new();
        let mut outcome = Ok(());
        for wave in waves {
            let mut sent = 0usize;
            for index in wave {
                let Some(row) = rows.get(index) else { continue };
                let destination = target(&row.exchange, &row.routing_key);
                let is_parked = parked.get(&destination).is_some_and(|p| p.until > now);
                if is_parked || failed_keys.contains(&row.ordering_key.as_str()) {
                    failed_keys.push(&row.ordering_key);
                    continue;
                }
                let props = properties(&row.message_id, field_table(&row.headers));
                if let Err(error) = confirms
                    .publish(index, &row.exchange, &row.routing_key, props, &row.payload)
                    .await
                {
                    outcome = Err(error);
                    break;
                }
                sent += 1;
            }
            if outcome.is_ok() && sent > 0 {
                outcome = confirms.drain().await;
            }
            for (index, settled) in confirms.take_settled() {
                let Some(row) = rows.get(index) else { continue };
                let destination = target(&row.exchange, &row.routing_key);
                match settled {
                    Settled::Confirmed => {
                        confirmed.push(row.id);
                        if let Some(p) = parked.get_mut(&destination) {
                            p.strikes = 0;
                        }
                    }
                    Settled::Refused(reply) => {
                        bump(&self.metrics.refused, 1);
                        failed_keys.push(&row.ordering_key);
                        let p = parked.entry(destination.clone()).or_insert(Parked {
                            until: now,
                            strikes: 0,
                        });
                        // One strike per round, however many of its rows were refused.
                        if p.until <= now {
                            let delay = backoff(
                                self.config.retry_initial,
                                self.config.retry_max,
                                p.strikes,
                            );
                            p.until = Instant::now() + delay;
                            p.strikes = p.strikes.saturating_add(1);
                            tracing::warn!(%destination, %reply, ?delay, "destination refused a message; its rows wait");
                        }
                    }
                }
            }
            if outcome.is_err() {
                confirms.abandon();
                break;
            }
        }
        (confirmed, outcome)
    }
}

/// The relay's side of the outbox for one round, run as a task of its own so that the store's
/// work overlaps the broker's: mark the rows confirmed in the round before, then claim the next.
struct StoreLane<O: Outbox> {
    outbox: Arc<O>,
    metrics: Arc<RelayMetrics>,
    batch_size_max: usize,
    retry_initial: Duration,
    retry_max: Duration,
}

impl<O: Outbox> StoreLane<O> {
    /// Marks `confirmed`, then (when `claim`) claims the next round, in one call to the outbox
    /// (one transaction for the store); returns how many rows were marked and the rows claimed.
    ///
    /// The claim runs while the current round is still in flight. An outbox that leases (the
    /// store) never returns those rows, nor a later row of their ordering keys (it is blocked
    /// by its unpublished sibling); one that does not lease may, so rows of an ordering key in
    /// `in_flight` are left for a later claim. The mark comes first, so a row marked here
    /// unblocks its successor for this very claim.
    async fn run(
        self,
        confirmed: Vec<i64>,
        claim: bool,
        in_flight: HashSet<String>,
    ) -> (usize, Vec<OutboxRow>) {
        if !claim {
            return (self.mark(&confirmed).await, Vec::new());
        }
        let claimed = if confirmed.is_empty() {
            self.outbox.pending(self.batch_size_max).await
        } else {
            self.outbox
                .mark_and_pending(&confirmed, self.batch_size_max)
                .await
        };
        let (marked, mut rows) = match claimed {
            Ok(rows) => {
                bump(&self.metrics.published, confirmed.len());
                (confirmed.len(), rows)
            }
            Err(transient) => {
                bump(&self.metrics.outbox_errors, 1);
                tracing::warn!(error = %transient, "outbox pending failed");
                // nothing of it is done: mark on its own (retried), claim in the next round
                (self.mark(&confirmed).await, Vec::new())
            }
        };
        if !in_flight.is_empty() {
            rows.retain(|r| !in_flight.contains(&r.ordering_key));
        }
        (marked, rows)
    }

    /// `mark_published`, retried a few times: if it keeps failing the rows are sent again later,
    /// which the receiver absorbs by `message_id`. Returns how many rows were marked.
    async fn mark(&self, ids: &[i64]) -> usize {
        if ids.is_empty() {
            return 0;
        }
        for attempt in 0..5 {
            match self.outbox.mark_published(ids).await {
                Ok(()) => {
                    bump(&self.metrics.published, ids.len());
                    return ids.len();
                }
                Err(transient) => {
                    bump(&self.metrics.outbox_errors, 1);
                    tracing::warn!(error = %transient, rows = ids.len(), "mark_published failed");
                    tokio::time::sleep(backoff(self.retry_initial, self.retry_max, attempt)).await;
                }
            }
        }
        0
    }
}

/// Row indexes by wave: wave k holds the k-th row of every ordering key, in the outbox's order.
fn waves(rows: &[OutboxRow]) -> Vec<Vec<usize>> {
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    let mut waves: Vec<Vec<usize>> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let k = depth.entry(&row.ordering_key).or_insert(0);
        if waves.len() <= *k {
            waves.push(Vec::new());
        }
        if let Some(wave) = waves.get_mut(*k) {
            wave.push(index);
        }
        *k += 1;
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, key: &str) -> OutboxRow {
        OutboxRow {
            id,
            exchange: String::new(),
            routing_key: "q".to_owned(),
            message_id: format!("m{id}"),
            headers: BTreeMap::new(),
            payload: Vec::new(),
            ordering_key: key.to_owned(),
        }
    }

    #[test]
    fn waves_keep_each_key_in_order() {
        let rows = [
            row(1, "a"),
            row(2, "b"),
            row(3, "a"),
            row(4, "c"),
            row(5, "a"),
            row(6, "b"),
        ];
        assert_eq!(waves(&rows), vec![vec![0, 1, 3], vec![2, 5], vec![4]]);
        assert!(waves(&[]).is_empty());
    }
}
