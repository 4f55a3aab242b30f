use std::collections::BTreeMap;
use std::future::Future;

/// One delivery as the broker saw it. The body is kept intact (dead letters carry it unchanged).
#[derive(Debug, Clone)]
pub struct Incoming {
    pub queue: String, // e.g. "clearway.events", "clearway.bank.sepa-bank.in"
    pub routing_key: String,
    pub message_id: Option<String>,        // AMQP message_id property
    pub headers: BTreeMap<String, String>, // string-valued AMQP headers
    pub redelivered: bool,
    pub body: Vec<u8>,
}

/// What became of one delivery after the batch committed. The broker acks every delivery of the
/// batch (one multiple-ack) after publishing the dead letters of this batch with confirms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Applied,                                           // first time seen: effects committed
    Duplicate, // same key, same payload hash: absorbed, no effect
    DeadLetter { reason: DeadReason, detail: String }, // recorded in the store; broker publishes body to clearway.dlx
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadReason {
    Decode,
    Unmapped,
    Conflict,
    Invalid,
}
impl DeadReason {
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

/// The consumer side: handle one batch of deliveries in ONE database transaction.
/// Returns one disposition per delivery, in order.
pub trait Handler: Send + Sync + 'static {
    fn handle(
        &self,
        batch: &[Incoming],
    ) -> impl Future<Output = Result<Vec<Disposition>, Transient>> + Send;
}

/// A row the relay must publish (written in the same transaction as the effect that caused it).
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,             // or String; the store decides; opaque to the broker
    pub exchange: String,    // "" for the default exchange
    pub routing_key: String, // e.g. "clearway.bank.sepa-bank.out"
    pub message_id: String, // deterministic business id (MsgId / MTI-STAN-RRN-acq), for receiver dedupe
    pub headers: BTreeMap<String, String>, // e.g. x-clearway-message-type, x-clearway-payment
    pub payload: Vec<u8>,
    pub ordering_key: String, // payment id: rows of one key leave in creation order
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
}
