//! The boundary between the store (inbox, lifecycle, outbox) and the broker (lapin): plain types
//! and two traits, no sqlx and no lapin. The broker calls a [`Handler`] with a batch of
//! deliveries and acks them after it returns; the relay drains an [`Outbox`].

use std::any::Any;
use std::collections::BTreeMap;
use std::future::Future;

/// One delivery as the broker saw it. The body is kept intact (dead letters carry it unchanged).
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The queue it was consumed from, e.g. `clearway.events`, `clearway.bank.sepa-bank.in`.
    pub queue: String,
    /// The routing key it was published with.
    pub routing_key: String,
    /// The AMQP `message_id` property.
    pub message_id: Option<String>,
    /// String-valued AMQP headers.
    pub headers: BTreeMap<String, String>,
    /// The broker's redelivered flag (informational: every delivery is deduplicated by its key).
    pub redelivered: bool,
    /// The body, unchanged.
    pub body: Vec<u8>,
}

/// What became of one delivery after the batch committed. The broker acks every delivery of the
/// batch (one multiple-ack) after publishing the dead letters of this batch with confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// First time seen: effects committed.
    Applied,
    /// Same key, same payload hash: absorbed, no effect.
    Duplicate,
    /// Recorded in the store; the broker publishes the body to `clearway.dlx`.
    DeadLetter {
        /// Why, as a small value to match on and count.
        reason: DeadReason,
        /// A sentence for the `x-clearway-detail` header (never card data).
        detail: String,
    },
    /// Dead-lettered before (recorded once, no new effect) and delivered again flagged
    /// `redelivered`: the attempt before may have died between its commit and the dead-letter
    /// publish, so the broker publishes the body to `clearway.dlx` again. The dead queue gets
    /// every dead letter at least once; the store records it once.
    DeadLetterAgain {
        /// The reason it was recorded for.
        reason: DeadReason,
        /// A sentence for the `x-clearway-detail` header.
        detail: String,
    },
}

/// Why a delivery was dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadReason {
    /// The body could not be decoded (bad JSON, bad ISO 8583, unknown queue).
    Decode,
    /// Decoded, but nothing maps it (no profile, no item, unsupported message).
    Unmapped,
    /// The key was seen before with a different payload.
    Conflict,
    /// Decoded, but refused by the mapping rules.
    Invalid,
}

impl DeadReason {
    /// The reason whose [`DeadReason::as_str`] is `text`.
    pub fn parse(text: &str) -> Option<DeadReason> {
        [
            DeadReason::Decode,
            DeadReason::Unmapped,
            DeadReason::Conflict,
            DeadReason::Invalid,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }

    /// The value of the `x-clearway-reason` header.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadReason::Decode => "decode",
            DeadReason::Unmapped => "unmapped",
            DeadReason::Conflict => "conflict",
            DeadReason::Invalid => "invalid",
        }
    }
}

/// Transient failure (database unavailable, serialization failure, …): nothing committed; the
/// broker retries the same batch with backoff (and never acks it).
#[derive(Debug, thiserror::Error)]
#[error("transient: {0}")]
pub struct Transient(pub String);

/// What a handler worked out for a batch before its transaction (decoding, hashing, mapping):
/// the consumer prepares the next batch while the previous one commits. Opaque to the broker;
/// only the handler that made it reads it.
#[derive(Default)]
pub struct Prepared(Option<Box<dyn Any + Send + Sync>>);

impl Prepared {
    /// Wraps a handler's own preparation.
    pub fn new<T: Any + Send + Sync>(work: T) -> Prepared {
        Prepared(Some(Box::new(work)))
    }

    /// The handler's preparation, when it is a `T`.
    pub fn get_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.0.as_mut().and_then(|b| b.downcast_mut::<T>())
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Prepared(..)"
        } else {
            "Prepared(none)"
        })
    }
}

/// The consumer side: handle one batch of deliveries in ONE database transaction.
/// Returns one disposition per delivery, in order.
///
/// The consumer calls [`Handler::prepare`] (no transaction, no effect) for a batch while the
/// batch before it is in [`Handler::commit`]; `commit` is called again with the same
/// preparation after a `Transient` error, so a preparation must stay valid however often the
/// commit is retried (it may only be a head start: the commit decides). A handler that
/// prepares nothing implements `handle` alone.
pub trait Handler: Send + Sync + 'static {
    /// Work outside the transaction (default: none).
    fn prepare(&self, batch: &[Incoming]) -> impl Future<Output = Prepared> + Send {
        let _ = batch;
        async { Prepared::default() }
    }

    /// Handles `batch` in one transaction with what `prepare` made of it; `Ok` means it
    /// committed. Default: [`Handler::handle`].
    fn commit(
        &self,
        batch: &[Incoming],
        prepared: &mut Prepared,
    ) -> impl Future<Output = Result<Vec<Disposition>, Transient>> + Send {
        let _ = prepared;
        self.handle(batch)
    }

    /// Handles `batch` in one transaction; `Ok` means it committed.
    fn handle(
        &self,
        batch: &[Incoming],
    ) -> impl Future<Output = Result<Vec<Disposition>, Transient>> + Send;
}

/// A row the relay must publish (written in the same transaction as the effect that caused it).
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// The store's id for the row; opaque to the broker.
    pub id: i64,
    /// `""` for the default exchange.
    pub exchange: String,
    /// E.g. `clearway.bank.sepa-bank.out`.
    pub routing_key: String,
    /// Deterministic business id (MsgId / MTI-STAN-RRN-acq), for receiver dedupe.
    pub message_id: String,
    /// E.g. `x-clearway-message-type`, `x-clearway-payment`.
    pub headers: BTreeMap<String, String>,
    /// The message bytes.
    pub payload: Vec<u8>,
    /// Payment id: rows of one key leave in creation order.
    pub ordering_key: String,
}

/// The relay side.
pub trait Outbox: Send + Sync + 'static {
    /// Up to `limit` unpublished rows, oldest first, at most the head rows per ordering key that
    /// are not blocked (a row whose earlier sibling of the same ordering key is unpublished is not
    /// returned before it). Multi-instance safe on PostgreSQL (claim with FOR UPDATE SKIP LOCKED or a lease).
    fn pending(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, Transient>> + Send;
    /// Marks rows published (only after the broker confirmed them).
    fn mark_published(&self, ids: &[i64]) -> impl Future<Output = Result<(), Transient>> + Send;
    /// `mark_published(ids)` then `pending(limit)`, which sees those marks. An outbox that can
    /// do both in one transaction (the store: one commit instead of two) overrides this; on an
    /// error nothing of it may be assumed done.
    fn mark_and_pending(
        &self,
        ids: &[i64],
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, Transient>> + Send {
        async move {
            self.mark_published(ids).await?;
            self.pending(limit).await
        }
    }
}
