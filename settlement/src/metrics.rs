//! Prometheus metrics and the `/metrics` + `/health` endpoints of `clearway run`.
//!
//! Counters are labelled by what operations asks about each morning: messages in by queue
//! and type, messages out by type, duplicates absorbed, conflicts, dead letters by reason; the
//! histograms say how big the consumer's batches are and how long their commits take. Health
//! is a set of named checks (store, broker, each consumer) that the service flips; `/health`
//! answers 200 when all are up and 503 with the failing names otherwise.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// A queue label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabel {
    /// The queue name.
    pub queue: String,
}

/// A message-type label (`pacs.008.001.08`, `0100`, `transfer.requested`, …).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TypeLabel {
    /// The message or event type.
    pub r#type: String,
}

/// Messages in: queue and type.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InLabel {
    /// The queue it came from.
    pub queue: String,
    /// The event or message type, `unknown` when it did not decode.
    pub r#type: String,
}

/// A dead-letter reason label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// `decode`, `unmapped`, `conflict`, `invalid`.
    pub reason: String,
}

/// Every metric the service exports.
pub struct Metrics {
    registry: Registry,
    /// Deliveries consumed, by queue and type.
    pub messages_in: Family<InLabel, Counter>,
    /// Messages the relay published (confirmed), by type.
    pub messages_out: Family<TypeLabel, Counter>,
    /// Deliveries absorbed by the inbox (same key, same payload).
    pub duplicates: Counter,
    /// Deliveries that reused a key with a different payload.
    pub conflicts: Counter,
    /// Deliveries dead-lettered, by reason.
    pub dead_letters: Family<ReasonLabel, Counter>,
    /// Messages waiting in each consumed queue (from the last passive declare).
    pub consumer_lag: Family<QueueLabel, Gauge>,
    /// Outbox rows not yet confirmed by the broker.
    pub outbox_pending: Gauge,
    /// Deliveries per committed batch.
    pub batch_size: Histogram,
    /// Seconds from the start of a batch's transaction to its commit.
    pub commit_seconds: Histogram,
    health: Mutex<BTreeMap<String, bool>>,
}

impl Metrics {
    /// A registry with every metric registered under the `clearway_` prefix.
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("clearway");
        let messages_in = Family::<InLabel, Counter>::default();
        let messages_out = Family::<TypeLabel, Counter>::default();
        let duplicates = Counter::default();
        let conflicts = Counter::default();
        let dead_letters = Family::<ReasonLabel, Counter>::default();
        let consumer_lag = Family::<QueueLabel, Gauge>::default();
        let outbox_pending = Gauge::default();
        let batch_size = Histogram::new([1.0, 10.0, 50.0, 100.0, 200.0, 300.0, 500.0]);
        let commit_seconds =
            Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0]);
        registry.register("messages_in", "Deliveries consumed", messages_in.clone());
        registry.register(
            "messages_out",
            "Messages published and confirmed",
            messages_out.clone(),
        );
        registry.register(
            "duplicates_absorbed",
            "Deliveries with a known key and the same payload: no effect",
            duplicates.clone(),
        );
        registry.register(
            "conflicts",
            "Deliveries reusing a key with a different payload: dead-lettered",
            conflicts.clone(),
        );
        registry.register(
            "dead_letters",
            "Deliveries dead-lettered, by reason",
            dead_letters.clone(),
        );
        registry.register(
            "consumer_lag",
            "Messages ready in a consumed queue",
            consumer_lag.clone(),
        );
        registry.register(
            "outbox_pending",
            "Outbox rows not yet confirmed",
            outbox_pending.clone(),
        );
        registry.register(
            "batch_size",
            "Deliveries per committed batch",
            batch_size.clone(),
        );
        registry.register(
            "commit_seconds",
            "Time to commit one batch",
            commit_seconds.clone(),
        );
        Arc::new(Metrics {
            registry,
            messages_in,
            messages_out,
            duplicates,
            conflicts,
            dead_letters,
            consumer_lag,
            outbox_pending,
            batch_size,
            commit_seconds,
            health: Mutex::new(BTreeMap::new()),
        })
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // writing into a String cannot fail
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Sets one named health check.
    pub fn set_health(&self, check: &str, up: bool) {
        self.health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(check.to_owned(), up);
    }

    /// The failing checks (empty when healthy), and every check with its state.
    pub fn health(&self) -> (Vec<String>, BTreeMap<String, bool>) {
        let checks = self
            .health
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let failing = checks
            .iter()
            .filter(|(_, up)| !**up)
            .map(|(name, _)| name.clone())
            .collect();
        (failing, checks)
    }
}

async fn metrics_endpoint(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.render(),
    )
}

async fn health_endpoint(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    let (failing, checks) = m.health();
    let body = checks
        .iter()
        .map(|(name, up)| format!("{name} {}\n", if *up { "up" } else { "down" }))
        .collect::<String>();
    let code = if failing.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, body)
}

/// Serves `/metrics` and `/health` on `addr` until `stop` resolves. Returns the bound address
/// (port 0 picks a free one).
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let app = Router::new()
        .route("/metrics", get(metrics_endpoint))
        .route("/health", get(health_endpoint))
        .with_state(metrics);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
    });
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_metric_with_the_prefix() {
        let m = Metrics::new();
        m.messages_in
            .get_or_create(&InLabel {
                queue: "clearway.events".into(),
                r#type: "transfer.requested".into(),
            })
            .inc();
        m.duplicates.inc();
        let text = m.render();
        for name in [
            "clearway_messages_in_total{queue=\"clearway.events\",type=\"transfer.requested\"} 1",
            "clearway_duplicates_absorbed_total 1",
            "clearway_batch_size",
            "clearway_commit_seconds",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
    }

    #[test]
    fn health_lists_failing_checks() {
        let m = Metrics::new();
        m.set_health("store", true);
        m.set_health("broker", false);
        let (failing, all) = m.health();
        assert_eq!(failing, vec!["broker".to_owned()]);
        assert_eq!(all.len(), 2);
    }
}
