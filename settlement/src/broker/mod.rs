//! RabbitMQ, through lapin: the topology, the batch consumer that feeds a `flow::Handler`, the
//! outbox relay that drains a `flow::Outbox`, `clearway publish` and the queue depths of
//! `clearway status`. This is the only module that imports lapin; it decides nothing about
//! clearing (the handler does) and keeps no state of its own beyond counters.
//!
//! The rules it keeps: a delivery is acked only after its batch's handler call returned `Ok`
//! (one multiple-ack per batch, after the batch's dead letters were confirmed by the broker); a
//! row is marked published only after its publisher confirm; every wait on the broker has a
//! timeout; topology declarations run on a channel of their own, since a failed declare closes
//! its channel.

mod banksim;
mod confirms;
mod consumer;
mod depth;
mod publish;
mod relay;
mod topology;
mod url;

use std::time::Duration;

use lapin::ConnectionProperties;

pub use banksim::{
    BankSimConfig, BankSimError, BankSimReport, bank_topology, cancel_on_signals, run_bank_sim,
};
pub use consumer::{Consumer, ConsumerConfig, ConsumerMetrics, MetricsSnapshot};
pub use depth::{QueueDepth, queue_depths};
pub use publish::{LineProblem, PublishError, PublishReport, publish_events};
pub use relay::{Relay, RelayConfig, RelayMetrics, RelaySnapshot};
pub use tokio_util::sync::CancellationToken;
pub use topology::{BankId, Topology};
pub use url::{AmqpUrl, DEFAULT_AMQP_URL, redact};

/// What can go wrong talking to RabbitMQ. Each variant names the queue, exchange or URL
/// (password redacted) it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// The AMQP URL does not parse.
    #[error("AMQP URL {url}: {problem}")]
    Url { url: String, problem: String },
    /// The TCP/TLS connection or the AMQP handshake failed.
    #[error("connecting to {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: lapin::Error,
    },
    /// No answer from the broker within the connect timeout (host down, firewall, TLS stall).
    #[error("connecting to {url}: no answer within {timeout:?}")]
    ConnectTimeout { url: String, timeout: Duration },
    /// A broker operation failed (channel or connection closed, access refused, …).
    #[error("{operation} {target}: {source}")]
    Amqp {
        operation: &'static str,
        target: String,
        #[source]
        source: lapin::Error,
    },
    /// The broker did not confirm a publish within the timeout; the message counts as unsent.
    #[error("{target}: no publisher confirm within {timeout:?}")]
    ConfirmTimeout { target: String, timeout: Duration },
    /// The broker returned (mandatory, unroutable) or nacked a message we had to deliver.
    #[error("{target}: the broker refused the message: {reply}")]
    Refused { target: String, reply: String },
    /// The broker cancelled our consumer (queue deleted, or a node went down).
    #[error("{queue}: the broker cancelled the consumer")]
    ConsumerCancelled { queue: String },
    /// The channel closed between the commit and the ack: the batch will be redelivered and the
    /// handler's inbox will absorb it.
    #[error("{queue}: the channel closed before the batch was acked")]
    AckLost { queue: String },
    /// The handler broke its contract: one disposition per delivery, in order. A bug, not input.
    #[error("{queue}: the handler returned {got} dispositions for a batch of {expected}")]
    DispositionCount {
        queue: String,
        expected: usize,
        got: usize,
    },
    /// A profile id that cannot be part of a queue name.
    #[error("bank id {id:?}: {problem}")]
    BankId { id: String, problem: &'static str },
    /// A consumer or relay task ended abnormally (a bug in a handler or in this module).
    #[error("{task}: the task failed: {detail}")]
    Task { task: String, detail: String },
    /// The tokio runtime for a blocking call could not start.
    #[error("starting the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl BrokerError {
    pub(crate) fn amqp(
        operation: &'static str,
        target: impl Into<String>,
    ) -> impl FnOnce(lapin::Error) -> BrokerError {
        let target = target.into();
        move |source| BrokerError::Amqp {
            operation,
            target,
            source,
        }
    }
}

/// An open connection to the broker. Channels are opened per use by this module.
pub struct Connection {
    inner: lapin::Connection,
    url: AmqpUrl,
}

/// How long `connect` waits for the TCP, TLS and AMQP handshakes together.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a connection: credentials, vhost and TLS (`amqps://`, rustls with the platform's roots)
/// come from the URL. `name` shows in `rabbitmqctl list_connections client_properties` and lets
/// an operator (or a test) close this one connection.
pub async fn connect(url: &AmqpUrl, name: &str) -> Result<Connection, BrokerError> {
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    let connecting = lapin::Connection::connect(url.expose(), properties);
    let inner = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_elapsed| BrokerError::ConnectTimeout {
            url: url.to_string(),
            timeout: CONNECT_TIMEOUT,
        })?
        .map_err(|source| BrokerError::Connect {
            url: url.to_string(),
            source,
        })?;
    Ok(Connection {
        inner,
        url: url.clone(),
    })
}

impl Connection {
    /// The URL this connection was opened with (prints without its password).
    pub fn url(&self) -> &AmqpUrl {
        &self.url
    }

    pub(crate) async fn channel(&self) -> Result<lapin::Channel, BrokerError> {
        self.inner
            .create_channel()
            .await
            .map_err(BrokerError::amqp("channel.open on", self.url.to_string()))
    }

    /// Whether the connection is still usable.
    pub fn is_connected(&self) -> bool {
        self.inner.status().connected()
    }

    /// Closes the connection (code 200). Errors are ignored: the point is to let go.
    pub async fn close(&self) {
        if self.inner.status().connected() {
            let _ = self.inner.close(200, "clearway: closing".into()).await;
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Connection({})", self.url)
    }
}

/// Runs `future` to completion on a runtime of its own, for synchronous callers such as the
/// CLI (`clearway publish`, `clearway status`), which thereby need no tokio of their own.
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, BrokerError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BrokerError::Runtime)?;
    Ok(runtime.block_on(future))
}

/// Exponential backoff with a cap: 1×, 2×, 4×… the initial delay, never above `max`.
pub(crate) fn backoff(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX);
    initial.saturating_mul(factor).min(max)
}

/// Sleeps `delay` unless `stop` fires first; returns whether it was stopped.
pub(crate) async fn sleep_or_stop(delay: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => true,
        () = tokio::time::sleep(delay) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let (i, m) = (Duration::from_millis(50), Duration::from_secs(2));
        let delays: Vec<_> = (0..8).map(|a| backoff(i, m, a).as_millis()).collect();
        assert_eq!(delays, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(backoff(i, m, u32::MAX), m);
    }
}
