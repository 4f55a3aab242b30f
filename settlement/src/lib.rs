//! The store, inbox/outbox, clearing lifecycle, RabbitMQ consumers and relay, batches and
//! reconciliation. This is the only crate that depends on tokio, sqlx and lapin.

pub mod flow;
pub mod ingest;
pub mod lifecycle;
pub mod store;
